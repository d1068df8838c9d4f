// Package dnstest serves an in-memory zone of TXT records over UDP on
// 127.0.0.1, for tests that prove domains (domains.Resolver with Server set
// to Zone.Addr()).
package dnstest

import (
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Zone is an in-memory zone of TXT records with authoritative replies: the
// records set at a name, NXDOMAIN for a name it does not hold, SERVFAIL for
// a name made to fail. Each value is one TXT record. Its methods are safe
// for concurrent use.
type Zone struct {
	addr    string
	srv     *dns.Server
	mu      sync.Mutex
	txt     map[string][]string
	failing map[string]bool
}

// Start serves an empty zone until Close.
func Start() (*Zone, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	z := &Zone{addr: pc.LocalAddr().String(), txt: map[string][]string{}, failing: map[string]bool{}}
	started := make(chan struct{})
	z.srv = &dns.Server{PacketConn: pc, Handler: z, NotifyStartedFunc: func() { close(started) }}
	served := make(chan error, 1)
	go func() { served <- z.srv.ActivateAndServe() }()
	select {
	case <-started:
		return z, nil
	case err := <-served:
		_ = pc.Close()
		return nil, err
	}
}

// Addr is the "host:port" the zone is served on.
func (z *Zone) Addr() string { return z.addr }

// Close stops serving.
func (z *Zone) Close() error { return z.srv.Shutdown() }

// Set makes values the TXT records at name.
func (z *Zone) Set(name string, values ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[key(name)] = values
}

// Delete removes the records at name.
func (z *Zone) Delete(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.txt, key(name))
}

// Fail makes lookups of name fail (SERVFAIL), or answer again.
func (z *Zone) Fail(name string, fail bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.failing[key(name)] = fail
}

func key(name string) string { return dns.Fqdn(strings.ToLower(name)) }

// ServeDNS answers from the zone: NXDOMAIN for a name it does not hold.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 0 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	z.mu.Lock()
	values, ok := z.txt[strings.ToLower(q.Name)]
	failing := z.failing[strings.ToLower(q.Name)]
	z.mu.Unlock()
	switch {
	case failing:
		m.Rcode = dns.RcodeServerFailure
	case !ok:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeTXT:
		for _, v := range values {
			hdr := dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: []string{v}})
		}
	}
	_ = w.WriteMsg(m)
}
