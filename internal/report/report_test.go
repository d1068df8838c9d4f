package report

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/orgplane/orgplane/internal/license"
)

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func sample() Report {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	return Report{
		GeneratedAt: now,
		PeriodStart: now.AddDate(0, -1, 0),
		Organizations: []Organization{{
			Name: "acme", UID: "u-1", Plan: "team", LicenseID: "lic-1", Phase: "Active",
			Limits: Counts{Accounts: 10, Users: 25, Deployments: 50},
			Usage:  Counts{Accounts: 3, Users: 7, Deployments: 12},
			Peak:   Counts{Accounts: 4, Users: 9, Deployments: 20},
		}, {Name: "hobby", UID: "u-2", Plan: "free", Phase: "Free"}},
	}
}

// forge signs claims with any method and header, as an attacker could.
func forge(t *testing.T, m jwt.SigningMethod, key any, header map[string]any, c jwt.Claims) string {
	t.Helper()
	token := jwt.NewWithClaims(m, c)
	for k, v := range header {
		token.Header[k] = v
	}
	s, err := token.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignVerify(t *testing.T) {
	pub, priv := newKey(t)
	_, other := newKey(t)
	good, err := Sign(priv, sample())
	if err != nil {
		t.Fatal(err)
	}
	kid := license.KeyID(pub)
	header := map[string]any{"kid": kid, "typ": Type}
	body := claims{Report: sample()}
	body.Installation = kid
	licenseKey, err := license.Issue(priv, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: "l", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))},
		Type:             "team", Licensee: "Acme",
	})
	if err != nil {
		t.Fatal(err)
	}
	otherSigned, err := Sign(other, sample())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		token string
		want  error
	}{
		"round trip":              {good, nil},
		"other installation":      {otherSigned, ErrWrongKey},
		"other key, forged kid":   {forge(t, jwt.SigningMethodEdDSA, other, header, body), ErrSignature},
		"alg none":                {forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, header, body), ErrAlgorithm},
		"alg HS256, public key":   {forge(t, jwt.SigningMethodHS256, []byte(pub), header, body), ErrAlgorithm},
		"license key":             {licenseKey, ErrNotReport},
		"no typ":                  {forge(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": kid}, body), ErrNotReport},
		"no kid":                  {forge(t, jwt.SigningMethodEdDSA, priv, map[string]any{"typ": Type}, body), ErrWrongKey},
		"no installation":         {forge(t, jwt.SigningMethodEdDSA, priv, header, claims{Report: sample()}), ErrMissingClaims},
		"two parts":               {good[:strings.LastIndex(good, ".")], ErrMalformed},
		"signature cut":           {good[:len(good)-4], ErrSignature},
		"signature of other one":  {good[:strings.LastIndex(good, ".")] + otherSigned[strings.LastIndex(otherSigned, "."):], ErrSignature},
		"surrounding white space": {"\n " + good + "\n", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Verify(pub, tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			want := sample()
			want.Installation = kid
			if diff := cmp.Diff(want, *r); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyChangedByte changes each byte of a signed report in turn, in
// the header, the payload, the separators and the signature: every one is
// refused.
func TestVerifyChangedByte(t *testing.T) {
	pub, priv := newKey(t)
	token, err := Sign(priv, sample())
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int]int{}
	for i := range token {
		b := []byte(token)
		b[i] = 'A'
		if token[i] == 'A' {
			b[i] = 'B'
		}
		if _, err := Verify(pub, string(b)); err == nil {
			t.Fatalf("byte %d changed (%q to %q): verified", i, token[i], b[i])
		}
		parts[strings.Count(token[:i+1], ".")]++
	}
	if len(parts) != 3 {
		t.Fatalf("changed bytes in %d parts, want 3", len(parts))
	}
	// The last character also carries bits that base64url leaves unused.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := len(token) - 1
	for _, c := range []byte(alphabet) {
		changed := token[:last] + string(c)
		if _, err := Verify(pub, changed); c != token[last] && !errors.Is(err, ErrSignature) {
			t.Errorf("last byte %q changed to %q: err %v, want %v", token[last], c, err, ErrSignature)
		}
	}
}

func TestSignSetsInstallation(t *testing.T) {
	pub, priv := newKey(t)
	r := sample()
	r.Installation = "someone-else"
	r.GeneratedAt = time.Time{}
	token, err := Sign(priv, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(pub, token)
	if err != nil {
		t.Fatal(err)
	}
	if got.Installation != KeyID(priv) || got.GeneratedAt.IsZero() {
		t.Errorf("installation %q generated %v, want %q and now", got.Installation, got.GeneratedAt, KeyID(priv))
	}
	if _, err := Sign(priv[:10], r); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("short key: err %v, want %v", err, ErrInvalidKey)
	}
	if _, err := Verify(pub[:10], token); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("short public key: err %v, want %v", err, ErrInvalidKey)
	}
}

func TestPublicKeyPEM(t *testing.T) {
	pub, priv := newKey(t)
	data, err := PublicKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := license.ParsePublicKeys(data)
	if err != nil || len(keys) != 1 || !keys[0].Equal(pub) {
		t.Fatalf("keys %v, err %v; want the public key", keys, err)
	}
}
