package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	now  = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
)

func init() {
	var err error
	pub, priv, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
}

func claims(mutate func(*Claims)) Claims {
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        "lic-1",
			IssuedAt:  jwt.NewNumericDate(now.Add(-time.Hour)),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Hour)),
			ExpiresAt: jwt.NewNumericDate(now.Add(24 * time.Hour)),
		},
		Type: "team", Licensee: "Acme Corporation", Organization: "acme",
		Limits: Limits{Accounts: 10, Users: 20, Deployments: 50},
	}
	if mutate != nil {
		mutate(&c)
	}
	return c
}

func issue(t *testing.T, key ed25519.PrivateKey, c Claims) string {
	t.Helper()
	s, err := Issue(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forge builds a token with any header and payload, signed with priv or not at all.
func forge(header, payload string, sign bool) string {
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if !sign {
		return unsigned + "."
	}
	return unsigned + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(unsigned)))
}

func TestVerifyValid(t *testing.T) {
	got, phase, err := NewVerifier(pub).Verify(issue(t, priv, claims(nil)), now)
	if err != nil || phase != Valid {
		t.Fatalf("phase %s, err %v", phase, err)
	}
	if got.Limits != (Limits{Accounts: 10, Users: 20, Deployments: 50}) || got.Organization != "acme" || got.Type != "team" {
		t.Errorf("claims not decoded: %+v", got)
	}
}

func TestVerifyRefusals(t *testing.T) {
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	good := issue(t, priv, claims(nil))
	parts := strings.Split(good, ".")
	tampered := claims(func(c *Claims) { c.Limits.Accounts = 1000 })
	tamperedPayload := strings.Split(issue(t, otherPriv, tampered), ".")[1]
	kid := KeyID(pub)

	tests := map[string]struct {
		key      string
		verifier *Verifier
		phase    Phase
		want     error
	}{
		"tampered payload": {parts[0] + "." + tamperedPayload + "." + parts[2], NewVerifier(pub), Invalid, ErrSignature},
		"signed by another key with a trusted kid": {
			forge(`{"alg":"EdDSA","typ":"JWT","kid":"`+kid+`"}`, `{"jti":"x"}`, false) + "AAAA", NewVerifier(pub), Invalid, ErrSignature},
		"unknown key id":   {issue(t, otherPriv, claims(nil)), NewVerifier(pub), Invalid, ErrUnknownKeyID},
		"no key id":        {forge(`{"alg":"EdDSA","typ":"JWT"}`, `{"jti":"x"}`, true), NewVerifier(pub), Invalid, ErrMissingKeyID},
		"expired":          {issue(t, priv, claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })), NewVerifier(pub), Expired, ErrExpired},
		"not yet valid":    {issue(t, priv, claims(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) })), NewVerifier(pub), NotYetValid, ErrNotYetValid},
		"malformed base64": {"!!!." + parts[1] + "." + parts[2], NewVerifier(pub), Invalid, ErrMalformed},
		"malformed JSON":   {forge(`{"alg":"EdDSA",`, `{}`, true), NewVerifier(pub), Invalid, ErrMalformed},
		"two parts only":   {parts[0] + "." + parts[1], NewVerifier(pub), Invalid, ErrMalformed},
		"alg none":         {forge(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`, `{"jti":"x","type":"team","licensee":"a","exp":9999999999}`, false), NewVerifier(pub), Invalid, ErrAlgorithm},
		"alg HS256":        {forge(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`, `{"jti":"x"}`, true), NewVerifier(pub), Invalid, ErrAlgorithm},
		"alg unknown":      {forge(`{"alg":"XYZ","typ":"JWT","kid":"`+kid+`"}`, `{"jti":"x"}`, true), NewVerifier(pub), Invalid, ErrAlgorithm},
		"missing claims":   {forge(`{"alg":"EdDSA","typ":"JWT","kid":"`+kid+`"}`, `{"jti":"x"}`, true), NewVerifier(pub), Invalid, ErrMissingClaims},
		"no trusted keys":  {good, NewVerifier(), Invalid, ErrUnknownKeyID},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, phase, err := tc.verifier.Verify(tc.key, now)
			if phase != tc.phase || !errors.Is(err, tc.want) {
				t.Errorf("got phase %s, err %v; want %s, %v", phase, err, tc.phase, tc.want)
			}
		})
	}
}

func TestVerifyChoosesKeyByID(t *testing.T) {
	pub2, priv2, _ := ed25519.GenerateKey(rand.Reader)
	v := NewVerifier(pub, pub2)
	for _, key := range []ed25519.PrivateKey{priv, priv2} {
		if _, phase, err := v.Verify(issue(t, key, claims(nil)), now); phase != Valid {
			t.Errorf("key %s: %s %v", KeyID(key.Public().(ed25519.PublicKey)), phase, err)
		}
	}
}

func TestIssueRefusesIncompleteClaims(t *testing.T) {
	if _, err := Issue(priv, claims(func(c *Claims) { c.ExpiresAt = nil })); !errors.Is(err, ErrMissingClaims) {
		t.Errorf("err %v, want ErrMissingClaims", err)
	}
}

func TestPEMRoundTrip(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePublicKeys(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, phase, err := NewVerifier(keys...).Verify(issue(t, k, claims(nil)), now); phase != Valid {
		t.Errorf("%s %v", phase, err)
	}
}

// FuzzVerify checks the decoder never panics and never calls a key valid
// that the trusted key did not sign.
func FuzzVerify(f *testing.F) {
	f.Add(forge(`{"alg":"EdDSA","kid":"x"}`, `{}`, true))
	f.Add(forge(`{"alg":"none"}`, `{"exp":1}`, false))
	f.Add("a.b.c")
	good, _ := Issue(priv, claims(nil))
	f.Add(good)
	v := NewVerifier(pub)
	f.Fuzz(func(t *testing.T, key string) {
		c, phase, err := v.Verify(key, now)
		if phase == Valid && (err != nil || c == nil) {
			t.Fatalf("valid with err %v", err)
		}
		if phase == Valid && key != good {
			parts := strings.Split(key, ".")
			if len(parts) != 3 || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), mustDecode(parts[2])) {
				t.Fatalf("accepted a key whose signature does not verify: %q", key)
			}
		}
	})
}

func mustDecode(s string) []byte {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return b
}
