// Package oidctest is a small OpenID Connect issuer for the console's
// sign-in test: discovery, keys, an authorization endpoint that signs in
// one person without asking, and a token endpoint that checks the PKCE
// verifier against the challenge, as a real issuer does. kube-apiserver
// trusts it (--oidc-issuer-url) and verifies its ID tokens itself.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"time"
)

// Issuer is a running issuer.
type Issuer struct {
	// URL is the issuer identifier (https://127.0.0.1:<port>).
	URL string
	// ClientID is the one client it knows: a public client (no secret).
	ClientID string
	// Email is the person it signs in.
	Email string
	// redirects are where it may send the browser back to (Register).
	redirects []string

	exchanged int
	srv       *httptest.Server
	key       *rsa.PrivateKey
	mu        sync.Mutex
	codes     map[string]grant
}

type grant struct{ challenge, redirect string }

const rs256 = "RS256"

// Start starts an issuer signing in email for clientID.
func Start(clientID, email string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	is := &Issuer{ClientID: clientID, Email: email, key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", is.discovery)
	mux.HandleFunc("GET /keys", is.keys)
	mux.HandleFunc("GET /authorize", is.authorize)
	mux.HandleFunc("POST /token", is.token)
	mux.HandleFunc("OPTIONS /", cors(func(http.ResponseWriter, *http.Request) {}))
	is.srv = httptest.NewTLSServer(mux)
	is.URL = is.srv.URL
	return is, nil
}

// Register allows redirectURI (the client's registration).
func (is *Issuer) Register(redirectURI string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.redirects = append(is.redirects, redirectURI)
}

// registered is the registered redirect URI equal to uri, or "".
func (is *Issuer) registered(uri string) string {
	is.mu.Lock()
	defer is.mu.Unlock()
	for _, r := range is.redirects {
		if r == uri {
			return r
		}
	}
	return ""
}

// Exchanged counts the codes exchanged for a verifier matching their challenge.
func (is *Issuer) Exchanged() int {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.exchanged
}

// Close stops the issuer.
func (is *Issuer) Close() { is.srv.Close() }

// WriteCA writes the issuer's CA certificate (PEM) to path, for
// kube-apiserver's --oidc-ca-file.
func (is *Issuer) WriteCA(path string) error {
	block := &pem.Block{Type: "CERTIFICATE", Bytes: is.srv.Certificate().Raw}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

func cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		h(w, r)
	}
}

func (is *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	cors(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": is.URL, "authorization_endpoint": is.URL + "/authorize", "token_endpoint": is.URL + "/token",
			"jwks_uri": is.URL + "/keys", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{rs256},
			"code_challenge_methods_supported": []string{"S256"},
		})
	})(w, r)
}

func (is *Issuer) keys(w http.ResponseWriter, _ *http.Request) {
	pub := is.key.PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": rs256,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize signs the person in at once and sends the browser back with a
// code, keeping the PKCE challenge for the exchange.
func (is *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != is.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" {
		http.Error(w, "unknown client, or no S256 code challenge", http.StatusBadRequest)
		return
	}
	code := b64(random(16))
	is.mu.Lock()
	is.codes[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	is.mu.Unlock()
	back, err := url.Parse(is.registered(q.Get("redirect_uri")))
	if err != nil || back.Scheme == "" {
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token exchanges a code once, for the verifier whose S256 is its challenge.
func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	cors(func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		g, ok := is.codes[r.FormValue("code")]
		delete(is.codes, r.FormValue("code"))
		is.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if !ok || b64(sum[:]) != g.challenge || r.FormValue("redirect_uri") != g.redirect ||
			r.FormValue("client_id") != is.ClientID {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		is.mu.Lock()
		is.exchanged++
		is.mu.Unlock()
		writeJSON(w, map[string]any{"id_token": is.idToken(), "token_type": "Bearer", "expires_in": 3600})
	})(w, r)
}

// idToken is an RS256 JWT for the person.
func (is *Issuer) idToken() string {
	now := time.Now()
	header, _ := json.Marshal(map[string]string{"alg": rs256, "kid": "k1", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"iss": is.URL, "aud": is.ClientID, "sub": is.Email, "email": is.Email,
		"email_verified": true, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	signed := b64(header) + "." + b64(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, is.key, crypto.SHA256, sum[:])
	return signed + "." + b64(sig)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
