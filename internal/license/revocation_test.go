package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func revocations(seq int64, ids ...string) Revocations {
	return Revocations{RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(now)}, Sequence: seq, Revoked: ids}
}

func issueRevocations(t *testing.T, key ed25519.PrivateKey, r Revocations) string {
	t.Helper()
	s, err := IssueRevocations(key, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRevocationsRoundTrip(t *testing.T) {
	tests := map[string]struct {
		ids  []string
		want []string
	}{
		"two ids":            {[]string{"lic-2", "lic-1"}, []string{"lic-1", "lic-2"}},
		"duplicates dropped": {[]string{"b", "a", "b", "a", "c"}, []string{"a", "b", "c"}},
		"empty list":         {nil, []string{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewVerifier(pub).VerifyRevocations(issueRevocations(t, priv, revocations(7, tc.ids...)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != RevocationKind || r.Sequence != 7 || !r.IssuedAt.Equal(now) || !slices.Equal(r.Revoked, tc.want) {
				t.Errorf("got %+v, want ids %v", r, tc.want)
			}
			for _, id := range tc.want {
				if !r.Revokes(id) {
					t.Errorf("does not revoke %q", id)
				}
			}
			if r.Revokes("lic-other") {
				t.Error("revokes an id not on the list")
			}
		})
	}
}

func TestIssueRevocationsKeepsCallerSlice(t *testing.T) {
	ids := []string{"b", "a", "b"}
	issueRevocations(t, priv, revocations(1, ids...))
	if !slices.Equal(ids, []string{"b", "a", "b"}) {
		t.Errorf("caller's ids changed: %v", ids)
	}
}

func TestIssueRevocationsRefusesSequence(t *testing.T) {
	for _, seq := range []int64{0, -1} {
		if _, err := IssueRevocations(priv, revocations(seq, "lic-1")); !errors.Is(err, ErrSequence) {
			t.Errorf("sequence %d: err %v, want ErrSequence", seq, err)
		}
	}
}

func TestVerifyRevocationsRefusals(t *testing.T) {
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	parts := strings.Split(issueRevocations(t, priv, revocations(5, "lic-1")), ".")
	tamperedPayload := strings.Split(issueRevocations(t, otherPriv, revocations(5, "lic-2")), ".")[1]
	kid := KeyID(pub)
	header := `{"alg":"EdDSA","typ":"JWT","kid":"` + kid + `"}`

	tests := map[string]struct {
		token string
		want  error
	}{
		"tampered payload":  {parts[0] + "." + tamperedPayload + "." + parts[2], ErrSignature},
		"unknown key id":    {issueRevocations(t, otherPriv, revocations(5, "lic-1")), ErrUnknownKeyID},
		"no key id":         {forge(`{"alg":"EdDSA","typ":"JWT"}`, `{"kind":"`+RevocationKind+`","sequence":1}`, true), ErrMissingKeyID},
		"alg none":          {forge(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`, `{"kind":"`+RevocationKind+`","sequence":1}`, false), ErrAlgorithm},
		"alg HS256":         {forge(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`, `{"kind":"`+RevocationKind+`","sequence":1}`, true), ErrAlgorithm},
		"malformed":         {parts[0] + "." + parts[1], ErrMalformed},
		"license key":       {issue(t, priv, claims(nil)), ErrNotRevocationList},
		"wrong kind":        {forge(header, `{"kind":"something-else","sequence":1}`, true), ErrNotRevocationList},
		"sequence zero":     {forge(header, `{"kind":"`+RevocationKind+`","sequence":0,"revoked":[]}`, true), ErrSequence},
		"sequence negative": {forge(header, `{"kind":"`+RevocationKind+`","sequence":-3,"revoked":["a"]}`, true), ErrSequence},
		"sequence missing":  {forge(header, `{"kind":"`+RevocationKind+`","revoked":["a"]}`, true), ErrSequence},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewVerifier(pub).VerifyRevocations(tc.token)
			if r != nil || !errors.Is(err, tc.want) {
				t.Errorf("got %+v, err %v; want %v", r, err, tc.want)
			}
		})
	}
}

func TestVerifyRefusesRevocationList(t *testing.T) {
	c, phase, err := NewVerifier(pub).Verify(issueRevocations(t, priv, revocations(5, "lic-1")), now)
	if c != nil || phase != Invalid || !errors.Is(err, ErrMissingClaims) {
		t.Errorf("got %+v, phase %s, err %v; want Invalid, ErrMissingClaims", c, phase, err)
	}
}

func TestNewer(t *testing.T) {
	five, six := &Revocations{Sequence: 5}, &Revocations{Sequence: 6}
	tests := map[string]struct {
		a, b *Revocations
		want bool
	}{
		"higher":      {six, five, true},
		"equal":       {five, &Revocations{Sequence: 5}, false},
		"lower":       {five, six, false},
		"over nil":    {five, nil, true},
		"nil over":    {nil, five, false},
		"nil and nil": {nil, nil, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Newer(tc.a, tc.b); got != tc.want {
				t.Errorf("Newer = %v, want %v", got, tc.want)
			}
		})
	}
}
