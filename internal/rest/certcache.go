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

// cacheable says whether req's identity can only come from its client
// certificate.
func (c *certCache) cacheable(req *http.Request) bool {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 || req.Header.Get("Authorization") != "" {
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
	for _, prefix := range values(rh.ExtraHeaderPrefixes) {
		for name := range req.Header {
			if strings.HasPrefix(strings.ToLower(name), strings.ToLower(prefix)) {
				return false
			}
		}
	}
	return true
}

func values(p headerrequest.StringSliceProvider) []string {
	if p == nil {
		return nil
	}
	return p.Value()
}
