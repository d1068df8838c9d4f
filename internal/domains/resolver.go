package domains

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

const (
	// DefaultTimeout bounds a Check when Resolver.Timeout is zero.
	DefaultTimeout = 5 * time.Second
	maxFound       = 10
	maxFoundLen    = 255
)

// Resolver looks up challenge records. Server "" uses the system resolver (net.DefaultResolver);
// otherwise it is the "host:port" of a DNS server queried directly over UDP (TCP only if a reply is
// truncated). Timeout bounds one Check; zero means DefaultTimeout.
type Resolver struct {
	Server  string
	Timeout time.Duration
}

// Result is the verdict of one Check.
type Result struct {
	// Verified is true when a TXT record at TXTName(domain) holds exactly the wanted value.
	Verified bool
	// Found holds the TXT values seen (strings of one record joined), at most 10, each at most 255 chars.
	Found []string
	// Reason is a sentence a person can act on.
	Reason string
}

// Check looks up the TXT records at TXTName(domain) and reports whether one of them equals want.
// A missing record (NXDOMAIN or no TXT data) and an invalid domain are a Result with Verified false and
// a nil error. A timeout, SERVFAIL or other failure to get an answer is an error: the failure is
// transient and the caller should keep its last verdict.
func (r Resolver) Check(ctx context.Context, domain, want string) (Result, error) {
	if want == "" {
		return Result{}, errors.New("domains: empty wanted value; pass the value from Token")
	}
	d, err := Normalize(domain)
	if err != nil {
		return Result{Reason: err.Error()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	name := TXTName(d)
	// The trailing dot makes the name absolute, so the resolver's search list is never appended.
	values, err := r.resolver().LookupTXT(ctx, name+".")
	if err != nil {
		return r.lookupFailure(name, want, err)
	}
	return verdict(name, want, values), nil
}

func (r Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

// resolver returns the system resolver, or a pure-Go resolver that sends every query to r.Server.
func (r Resolver) resolver() *net.Resolver {
	if r.Server == "" {
		return net.DefaultResolver
	}
	server := r.Server
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
}

// lookupFailure turns a lookup error into a not-found Result, or a transient error.
// When Server is set, the error names it: the net package reports the system resolver's address instead.
func (r Resolver) lookupFailure(name, want string, err error) (Result, error) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return Result{Reason: notFoundReason(name, want)}, nil
	}
	via := ""
	if r.Server != "" {
		via = " via DNS server " + r.Server
	}
	return Result{}, fmt.Errorf("domains: looking up TXT %s%s failed, try again later: %w", name, via, err)
}

// verdict compares the TXT values seen with want. The resolver already joins the strings of one record.
func verdict(name, want string, values []string) Result {
	res := Result{Found: clip(values)}
	if len(values) == 0 {
		res.Reason = notFoundReason(name, want)
		return res
	}
	for _, v := range values {
		if strings.TrimSpace(v) == want {
			res.Verified = true
			res.Reason = fmt.Sprintf("TXT record at %s holds the expected value; the domain is verified", name)
			return res
		}
	}
	res.Reason = fmt.Sprintf("TXT record found at %s but it holds %s, not %q; change it to %q",
		name, quoteAll(res.Found), want, want)
	return res
}

func notFoundReason(name, want string) string {
	return fmt.Sprintf("no TXT record at %s; add one with the value %q", name, want)
}

// clip keeps at most maxFound values, each cut to maxFoundLen bytes.
func clip(values []string) []string {
	out := make([]string, 0, min(len(values), maxFound))
	for _, v := range values[:min(len(values), maxFound)] {
		if len(v) > maxFoundLen {
			v = v[:maxFoundLen]
		}
		out = append(out, v)
	}
	return out
}

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
