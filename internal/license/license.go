// Package license issues and verifies orgplane license keys: JWTs signed
// with Ed25519 (EdDSA), with the signing key's id in the header. The format
// is documented in docs/licenses.md.
package license

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what a license key says.
type Claims struct {
	jwt.RegisteredClaims
	// Type of license: trial, team, enterprise, ...
	Type string `json:"type"`
	// Licensee the license was issued to.
	Licensee string `json:"licensee"`
	// Organization binds the license to one organization; empty means any.
	Organization string `json:"organization,omitempty"`
	// Limits the license grants.
	Limits Limits `json:"limits"`
	// Guardrails shape the organization's workspaces; nil means none.
	Guardrails *Guardrails `json:"guardrails,omitempty"`
	// Sequence orders the keys issued for one license id: a renewal has a
	// higher sequence (or, with equal sequences, a later iat) and replaces
	// the key before it. Keys without it have sequence 0.
	Sequence int64 `json:"sequence,omitempty"`
	// GraceDays is how many days (fractions allowed) after exp the license
	// keeps its plan (phase Grace); nil means the installation's default.
	GraceDays *float64 `json:"graceDays,omitempty"`
	// RestrictedDays is how many days after the grace period the plan is
	// kept but nothing new may be created (phase Restricted); nil means the
	// installation's default.
	RestrictedDays *float64 `json:"restrictedDays,omitempty"`
	// Entitlements are the feature codes the license switches on (e.g.
	// "sso"). Codes this installation does not know are kept and shown.
	Entitlements []string `json:"entitlements,omitempty"`
}

// Limits are the most of each resource an organization may have.
type Limits struct {
	Accounts    int64 `json:"accounts"`
	Users       int64 `json:"users"`
	Deployments int64 `json:"deployments"`
	// InvitationsPerHour bounds the invitations an organization sends in
	// an hour; 0 (absent) means the installation's default.
	InvitationsPerHour int64 `json:"invitationsPerHour,omitempty"`
}

// Phase is the validity of a key at a moment.
type Phase string

// Phases, as the License status reports them.
const (
	Valid       Phase = "Valid"
	Expired     Phase = "Expired"
	NotYetValid Phase = "NotYetValid"
	Invalid     Phase = "Invalid"
)

// Reasons a key is refused. Each is distinct so that a person can tell what
// to fix.
var (
	ErrMalformed     = errors.New("the key is not a well-formed license (three base64url parts of JSON)")
	ErrAlgorithm     = errors.New("the key is not signed with EdDSA (Ed25519); other algorithms, including none, are refused")
	ErrMissingKeyID  = errors.New("the key has no key id (kid) in its header")
	ErrUnknownKeyID  = errors.New("the key was signed by a key this installation does not trust")
	ErrSignature     = errors.New("the key's signature does not match its contents: it was altered or signed by another key")
	ErrMissingClaims = errors.New("the key lacks a required claim (jti, type, licensee, exp)")
	ErrWrongAudience = errors.New("the key is bound to another organization")
	ErrExpired       = errors.New("the license has expired")
	ErrNotYetValid   = errors.New("the license is not valid yet")
	ErrNegative      = errors.New("the key's sequence, graceDays or restrictedDays is negative")
)

func negative(n *float64) bool { return n != nil && !(*n >= 0) }

// KeyID names a public key: the first 16 characters of the base64url
// SHA-256 of the key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:])[:16]
}

// Issue signs claims with priv; the header carries priv's key id.
func Issue(priv ed25519.PrivateKey, c Claims) (string, error) {
	if err := checkClaims(&c); err != nil {
		return "", err
	}
	token := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	token.Header["kid"] = KeyID(priv.Public().(ed25519.PublicKey))
	return token.SignedString(priv)
}

func checkClaims(c *Claims) error {
	if c.ID == "" || c.Type == "" || c.Licensee == "" || c.ExpiresAt == nil {
		return ErrMissingClaims
	}
	if c.Sequence < 0 || negative(c.GraceDays) || negative(c.RestrictedDays) {
		return ErrNegative
	}
	return c.Guardrails.Validate()
}

// Verifier checks keys against a set of trusted public keys.
type Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewVerifier trusts the given public keys, chosen by key id.
func NewVerifier(keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{keys: map[string]ed25519.PublicKey{}}
	for _, k := range keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

// Verify decodes key and checks its signature, its claims (guardrails
// included), then its dates at now. It
// returns the claims whenever the signature is good (also for expired or
// not-yet-valid keys), the phase, and the reason for any phase but Valid.
func (v *Verifier) Verify(key string, now time.Time) (*Claims, Phase, error) {
	if err := checkAlgorithm(key); err != nil {
		return nil, Invalid, err
	}
	claims := &Claims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(key, claims, v.keyFor); err != nil {
		return nil, Invalid, classify(err)
	}
	if err := checkClaims(claims); err != nil {
		return nil, Invalid, err
	}
	switch {
	case claims.NotBefore != nil && now.Before(claims.NotBefore.Time):
		return claims, NotYetValid, fmt.Errorf("%w: it starts at %s", ErrNotYetValid, claims.NotBefore.UTC().Format(time.RFC3339))
	case !now.Before(claims.ExpiresAt.Time):
		return claims, Expired, fmt.Errorf("%w: it expired at %s", ErrExpired, claims.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return claims, Valid, nil
}

// checkAlgorithm refuses malformed keys and any algorithm but EdDSA before
// anything else is looked at.
func checkAlgorithm(key string) error {
	token, _, err := jwt.NewParser().ParseUnverified(key, &Claims{})
	switch {
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrAlgorithm
	case err != nil:
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	case token.Method.Alg() != jwt.SigningMethodEdDSA.Alg():
		return fmt.Errorf("%w (alg %q)", ErrAlgorithm, token.Method.Alg())
	}
	return nil
}

func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, ErrMissingKeyID
	}
	k, ok := v.keys[kid]
	if !ok {
		return nil, fmt.Errorf("%w (kid %q)", ErrUnknownKeyID, kid)
	}
	return k, nil
}

// classify maps the JWT library's errors to the reasons above.
func classify(err error) error {
	for _, known := range []error{ErrMissingKeyID, ErrUnknownKeyID} {
		if errors.Is(err, known) {
			return unwrapKeyfunc(err, known)
		}
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		return ErrSignature
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// unwrapKeyfunc keeps the key-id detail of a keyfunc error without the
// library's prefix.
func unwrapKeyfunc(err, known error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.Is(e, known) && e.Error() != err.Error() {
			return e
		}
	}
	return known
}

// Allows says whether a key with these claims may be assigned to the
// organization with this name and uid: an unbound key may, and a key bound
// to the organization by uid or by name.
func (c *Claims) Allows(name, uid string) bool {
	return c.Organization == "" || c.Organization == uid || c.Organization == name
}
