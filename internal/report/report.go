// Package report signs and verifies usage reports for air-gapped sites. An
// installation signs a report of each organization's usage with its own
// Ed25519 key; the vendor verifies it offline with the installation's public
// key. A report is a compact JWS (EdDSA) whose header carries the key id
// (license.KeyID) and typ "orgplane-usage-report", and whose payload is the
// report as JSON.
package report

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/orgplane/orgplane/internal/license"
)

// Type is the "typ" header of a signed usage report.
const Type = "orgplane-usage-report"

// Counts are numbers of an organization's resources.
type Counts struct {
	Accounts    int64 `json:"accounts"`
	Users       int64 `json:"users"`
	Deployments int64 `json:"deployments"`
}

// Organization is one organization's plan and usage.
type Organization struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
	// Plan type: free, trial, team, enterprise, ...
	Plan      string `json:"plan"`
	LicenseID string `json:"licenseID,omitempty"`
	// Phase of the organization's license: Active, Grace, Restricted,
	// Expired, Free.
	Phase  string `json:"phase"`
	Limits Counts `json:"limits"`
	// Usage now.
	Usage Counts `json:"usage"`
	// Peak is the highest usage seen in the period.
	Peak Counts `json:"peak"`
}

// Report is the usage of every organization of an installation.
type Report struct {
	// Installation is the key id (license.KeyID) of the installation key.
	Installation  string         `json:"installation"`
	GeneratedAt   time.Time      `json:"generatedAt"`
	PeriodStart   time.Time      `json:"periodStart"`
	Organizations []Organization `json:"organizations"`
}

// Reasons a report is refused. Each is distinct so that a person can tell
// what to do.
var (
	ErrInvalidKey    = errors.New("not an Ed25519 key")
	ErrMalformed     = errors.New("the report is not a well-formed signed report (three base64url parts of JSON)")
	ErrAlgorithm     = errors.New("the report is not signed with EdDSA (Ed25519); other algorithms, including none, are refused")
	ErrNotReport     = errors.New("the token is not an orgplane usage report (is it a license key?)")
	ErrWrongKey      = errors.New("the report was not signed by the installation whose public key was given: use that installation's public key")
	ErrSignature     = errors.New("the report's signature does not match its contents: it was altered after signing")
	ErrMissingClaims = errors.New("the report lacks its installation or generation time")
)

// claims are the JWT payload: registered claims beside the report's fields.
type claims struct {
	jwt.RegisteredClaims
	Report
}

// Sign signs r with the installation key priv. It sets r.Installation to
// the key's id, and r.GeneratedAt to now when it is zero; the token's iat is
// GeneratedAt and its iss the key id.
func Sign(priv ed25519.PrivateKey, r Report) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", ErrInvalidKey
	}
	r.Installation = KeyID(priv)
	if r.GeneratedAt.IsZero() {
		r.GeneratedAt = time.Now()
	}
	if r.Organizations == nil {
		r.Organizations = []Organization{}
	}
	token := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: r.Installation, IssuedAt: jwt.NewNumericDate(r.GeneratedAt)},
		Report:           r,
	})
	token.Header["kid"] = r.Installation
	token.Header["typ"] = Type
	return token.SignedString(priv)
}

// Verify checks that token is a usage report signed by the installation
// whose public key is pub, and returns the report. Any alteration of the
// token is refused.
func Verify(pub ed25519.PublicKey, token string) (*Report, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, ErrInvalidKey
	}
	token = strings.TrimSpace(token)
	if err := checkHeader(token, license.KeyID(pub)); err != nil {
		return nil, err
	}
	c := &claims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithoutClaimsValidation())
	t, err := parser.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return pub, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, ErrSignature
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	case !canonical(token, t.Signature):
		return nil, ErrSignature
	case c.Installation != license.KeyID(pub) || c.GeneratedAt.IsZero():
		return nil, ErrMissingClaims
	}
	return &c.Report, nil
}

// checkHeader refuses, before the signature is looked at, a malformed
// token, any algorithm but EdDSA, a token of another type and one signed by
// another key than the one with id kid.
func checkHeader(token, kid string) error {
	t, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	switch {
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrAlgorithm
	case err != nil:
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	case t.Method.Alg() != jwt.SigningMethodEdDSA.Alg():
		return fmt.Errorf("%w (alg %q)", ErrAlgorithm, t.Method.Alg())
	case t.Header["typ"] != Type:
		return fmt.Errorf("%w (typ %v, want %q)", ErrNotReport, t.Header["typ"], Type)
	case t.Header["kid"] != kid:
		return fmt.Errorf("%w (report kid %v, public key id %q)", ErrWrongKey, t.Header["kid"], kid)
	}
	return nil
}

// canonical says whether the token's signature part is exactly the
// encoding of sig; base64url's spare bits could otherwise change unnoticed.
func canonical(token string, sig []byte) bool {
	return strings.HasSuffix(token, "."+base64.RawURLEncoding.EncodeToString(sig))
}
