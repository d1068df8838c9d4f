package license

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RevocationKind is the kind claim of every revocation list; license keys
// have none.
const RevocationKind = "orgplane-revocation-list"

// Reasons a revocation list is refused, besides those of license keys.
var (
	ErrNotRevocationList = errors.New("the token is not a revocation list (a license key, perhaps?)")
	ErrSequence          = errors.New("the revocation list's sequence must be greater than zero")
)

// Revocations is a signed list of revoked license ids, for installations
// that cannot reach the vendor. A list with a higher sequence replaces one
// with a lower; an empty list un-revokes everything.
type Revocations struct {
	jwt.RegisteredClaims
	// Kind is always RevocationKind.
	Kind string `json:"kind"`
	// Sequence orders lists: the highest one applies.
	Sequence int64 `json:"sequence"`
	// Revoked holds license ids (the jti of license keys), sorted.
	Revoked []string `json:"revoked"`
}

// IssueRevocations signs r with priv; the header carries priv's key id. It
// sets the kind, sorts and de-duplicates the ids, sets the issue time when
// unset, and refuses a sequence that is not positive.
func IssueRevocations(priv ed25519.PrivateKey, r Revocations) (string, error) {
	if r.Sequence <= 0 {
		return "", fmt.Errorf("%w (got %d)", ErrSequence, r.Sequence)
	}
	r.Kind = RevocationKind
	if r.IssuedAt == nil {
		r.IssuedAt = jwt.NewNumericDate(time.Now())
	}
	r.Revoked = slices.Compact(slices.Sorted(slices.Values(r.Revoked)))
	if r.Revoked == nil {
		r.Revoked = []string{}
	}
	token := jwt.NewWithClaims(jwt.SigningMethodEdDSA, r)
	token.Header["kid"] = KeyID(priv.Public().(ed25519.PublicKey))
	return token.SignedString(priv)
}

// VerifyRevocations decodes token and checks its algorithm, signature, kind
// and sequence, with the same rules as Verify.
func (v *Verifier) VerifyRevocations(token string) (*Revocations, error) {
	if err := checkAlgorithm(token); err != nil {
		return nil, err
	}
	r := &Revocations{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(token, r, v.keyFor); err != nil {
		return nil, classify(err)
	}
	switch {
	case r.Kind != RevocationKind:
		return nil, ErrNotRevocationList
	case r.Sequence <= 0:
		return nil, fmt.Errorf("%w (got %d)", ErrSequence, r.Sequence)
	}
	return r, nil
}

// Revokes says whether the license with this id is on the list; no list
// (nil) revokes nothing.
func (r *Revocations) Revokes(id string) bool {
	return r != nil && slices.Contains(r.Revoked, id)
}

// Newer says whether a replaces b: b is nil, or a has a higher sequence.
// A list never replaces one with the same sequence.
func Newer(a, b *Revocations) bool {
	return a != nil && (b == nil || a.Sequence > b.Sequence)
}
