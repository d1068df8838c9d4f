package rest

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"time"

	utilcache "k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
)

// certTTL is how long a client certificate's identity is remembered, as
// long as kube-apiserver's webhook token authenticator caches a TokenReview.
const certTTL = 10 * time.Second

// certCache remembers for a while whom a client certificate authenticated
// as. k8s.io/apiserver verifies the certificate chain on every request, an
// ECDSA verification that is most of the cost of a read served from the
// cache; a console presents the same certificate on every request. Only
// requests whose identity depends on the certificate alone are cached: with
// an Authorization header or a front-proxy header the delegating
// authenticator decides every time.
type certCache struct {
	auth          authenticator.Request
	requestHeader *authenticatorfactory.RequestHeaderConfig
	cache         *utilcache.LRUExpireCache
	clock         utilcache.Clock
}

func newCertCache(auth authenticator.Request, rh *authenticatorfactory.RequestHeaderConfig, clock utilcache.Clock) *certCache {
	return &certCache{auth: auth, requestHeader: rh, cache: utilcache.NewLRUExpireCacheWithClock(4096, clock), clock: clock}
}

// AuthenticateRequest implements authenticator.Request.
func (c *certCache) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	if !c.cacheable(req) {
		return c.auth.AuthenticateRequest(req)
	}
	certs := req.TLS.PeerCertificates
	h := sha256.New()
	for _, cert := range certs {
		h.Write(cert.Raw)
	}
	key := string(h.Sum(nil))
	if resp, ok := c.cache.Get(key); ok {
		return resp.(*authenticator.Response), true, nil
	}
	resp, ok, err := c.auth.AuthenticateRequest(req)
	if ok && err == nil {
		ttl := min(certTTL, certs[0].NotAfter.Sub(c.clock.Now()))
		c.cache.Add(key, resp, ttl)
	}
	return resp, ok, err
}

// credentialHeaders carry credentials other than a client certificate:
// bearer tokens, and front-proxy identities under their usual names (the
// configured names are checked as well).
var credentialHeaders = []string{"Authorization", "X-Remote-User", "X-Remote-Uid", "X-Remote-Group"}

// credentialPrefixes start headers that carry credentials.
var credentialPrefixes = []string{"X-Remote-Extra-", "Impersonate-"}

// cacheable says whether req carries no credential but its client
// certificate: a request with a bearer token (also as a WebSocket
// subprotocol), front-proxy or impersonation headers is authenticated
// every time and never stored.
func (c *certCache) cacheable(req *http.Request) bool {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return false
	}
	for _, name := range credentialHeaders {
		if req.Header.Get(name) != "" {
			return false
		}
	}
	for _, p := range req.Header.Values("Sec-WebSocket-Protocol") {
		if strings.Contains(strings.ToLower(p), "bearer.authorization.k8s.io") {
			return false
		}
	}
	if hasPrefixedHeader(req, credentialPrefixes) {
		return false
	}
	rh := c.requestHeader
	if rh == nil {
		return true
	}
	for _, names := range []headerrequest.StringSliceProvider{rh.UsernameHeaders, rh.UIDHeaders, rh.GroupHeaders} {
		for _, name := range values(names) {
			if req.Header.Get(name) != "" {
				return false
			}
		}
	}
	return !hasPrefixedHeader(req, values(rh.ExtraHeaderPrefixes))
}

func hasPrefixedHeader(req *http.Request, prefixes []string) bool {
	for _, prefix := range prefixes {
		for name := range req.Header {
			if strings.HasPrefix(strings.ToLower(name), strings.ToLower(prefix)) {
				return true
			}
		}
	}
	return false
}

func values(p headerrequest.StringSliceProvider) []string {
	if p == nil {
		return nil
	}
	return p.Value()
}
