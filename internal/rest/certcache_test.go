package rest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/authentication/user"
	clocktesting "k8s.io/utils/clock/testing"
)

// countingAuth authenticates every request carrying a client certificate as
// its common name, and counts the calls.
type countingAuth struct{ calls int }

func (a *countingAuth) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	a.calls++
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: req.TLS.PeerCertificates[0].Subject.CommonName}}, true, nil
}

func TestCertCache(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Now())
	inner := &countingAuth{}
	rh := &authenticatorfactory.RequestHeaderConfig{
		UsernameHeaders:     headerrequest.StaticStringSlice{"X-Remote-User"},
		GroupHeaders:        headerrequest.StaticStringSlice{"X-Remote-Group"},
		ExtraHeaderPrefixes: headerrequest.StaticStringSlice{"X-Remote-Extra-"},
	}
	c := newCertCache(inner, rh, clock)
	alice, bob := newCert(t, "alice", clock.Now().Add(time.Hour)), newCert(t, "bob", clock.Now().Add(time.Hour))

	expectUser(t, c, certRequest(alice, nil), "alice")
	expectUser(t, c, certRequest(alice, nil), "alice")
	if inner.calls != 1 {
		t.Fatalf("the second request with the same certificate called the authenticator: %d calls", inner.calls)
	}
	expectUser(t, c, certRequest(bob, nil), "bob")
	if inner.calls != 2 {
		t.Fatalf("another certificate was not authenticated: %d calls", inner.calls)
	}
	for _, h := range []http.Header{{"Authorization": {"Bearer x"}}, {"X-Remote-User": {"mallory"}}, {"X-Remote-Extra-Scopes": {"x"}}} {
		before := inner.calls
		expectUser(t, c, certRequest(alice, h), "alice")
		if inner.calls != before+1 {
			t.Fatalf("a request with %v was answered from the cache", h)
		}
	}
	clock.Step(certTTL + time.Second)
	before := inner.calls
	expectUser(t, c, certRequest(alice, nil), "alice")
	if inner.calls != before+1 {
		t.Fatalf("an identity was remembered longer than %s", certTTL)
	}
}

// An attacker who presents a victim's client certificate together with
// another credential must not leave an entry that later requests trust.
func TestCertCacheNeverStoresARequestThatCarriedAnotherCredential(t *testing.T) {
	others := map[string]http.Header{
		"bearer token":                 {"Authorization": {"Bearer x"}},
		"websocket bearer subprotocol": {"Sec-Websocket-Protocol": {"base64url.bearer.authorization.k8s.io.eA"}},
		"default front-proxy user":     {"X-Remote-User": {"mallory"}},
		"default front-proxy group":    {"X-Remote-Group": {"system:masters"}},
		"impersonation":                {"Impersonate-User": {"mallory"}},
	}
	for name, h := range others {
		t.Run(name, func(t *testing.T) {
			clock := clocktesting.NewFakeClock(time.Now())
			inner := &countingAuth{}
			c := newCertCache(inner, nil, clock)
			alice := newCert(t, "alice", clock.Now().Add(time.Hour))
			expectUser(t, c, certRequest(alice, h), "alice")
			expectUser(t, c, certRequest(alice, nil), "alice")
			if inner.calls != 2 {
				t.Fatalf("a request carrying %v was stored in the cache: %d calls", h, inner.calls)
			}
		})
	}
}

func TestCertCacheStopsAtExpiry(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Now())
	inner := &countingAuth{}
	c := newCertCache(inner, nil, clock)
	soon := newCert(t, "carol", clock.Now().Add(2*time.Second))
	expectUser(t, c, certRequest(soon, nil), "carol")
	clock.Step(3 * time.Second)
	expectUser(t, c, certRequest(soon, nil), "carol")
	if inner.calls != 2 {
		t.Fatalf("an identity outlived its certificate: %d calls", inner.calls)
	}
}

func expectUser(t *testing.T, a authenticator.Request, req *http.Request, name string) {
	t.Helper()
	resp, ok, err := a.AuthenticateRequest(req)
	if err != nil || !ok || resp.User.GetName() != name {
		t.Fatalf("want %s, got %v %v %v", name, resp, ok, err)
	}
}

func certRequest(cert *x509.Certificate, h http.Header) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/v1/organizations", nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	for k, v := range h {
		req.Header[k] = v
	}
	return req
}

func newCert(t *testing.T, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.Add(-2 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
