package domains_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/orgplane/orgplane/internal/domains"
)

const (
	servfailName = "_orgplane-challenge.servfail.example."
	silentName   = "_orgplane-challenge.silent.example."
)

// zone is an in-memory TXT zone: absolute name → records → strings of each record.
type zone struct {
	mu  sync.Mutex
	txt map[string][][]string
}

func (z *zone) set(name string, records ...[]string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[dns.Fqdn(strings.ToLower(name))] = records
}

func (z *zone) remove(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.txt, dns.Fqdn(strings.ToLower(name)))
}

func (z *zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if name == silentName {
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	z.mu.Lock()
	records, ok := z.txt[name]
	z.mu.Unlock()
	switch {
	case name == servfailName:
		m.Rcode = dns.RcodeServerFailure
	case !ok:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeTXT:
		for _, r := range records {
			hdr := dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: r})
		}
	}
	_ = w.WriteMsg(m)
}

// startServer serves a fresh zone on a random UDP port of 127.0.0.1 until the test ends.
func startServer(t *testing.T) (*zone, string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z := &zone{txt: map[string][][]string{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: z, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return z, pc.LocalAddr().String()
}

var secret = []byte("test-secret")

func TestCheck(t *testing.T) {
	z, addr := startServer(t)
	r := domains.Resolver{Server: addr, Timeout: 2 * time.Second}
	want := domains.Token("org-1", "acme.example", secret)
	other := domains.Token("org-2", "acme.example", secret)
	z.set(domains.TXTName("acme.example"), []string{want})
	z.set(domains.TXTName("wrong.example"), []string{other}, []string{"v=spf1 -all"})
	z.set(domains.TXTName("split.example"), []string{want[:10], want[10:20], want[20:]})
	z.set(domains.TXTName("empty.example"))

	tests := []struct {
		name, domain string
		verified     bool
		found        []string
		reason       []string
	}{
		{"present and right", "acme.example", true, []string{want}, []string{"verified"}},
		{"upper-case domain", "ACME.Example.", true, []string{want}, nil},
		{"absent", "absent.example", false, nil,
			[]string{"no TXT record at _orgplane-challenge.absent.example", "add one", want}},
		{"name without TXT", "empty.example", false, nil, []string{"no TXT record"}},
		{"wrong value", "wrong.example", false, []string{other, "v=spf1 -all"},
			[]string{"holds", other, "v=spf1 -all", "not", want}},
		{"split strings joined", "split.example", true, []string{want}, nil},
		{"invalid domain", "localhost", false, nil, []string{"local name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Check(context.Background(), tc.domain, want)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res.Verified != tc.verified || !equal(res.Found, tc.found) {
				t.Fatalf("got %+v, want verified=%v found=%q", res, tc.verified, tc.found)
			}
			for _, s := range tc.reason {
				if !strings.Contains(res.Reason, s) {
					t.Errorf("reason %q does not mention %q", res.Reason, s)
				}
			}
		})
	}
}

func TestCheckRecordChanges(t *testing.T) {
	z, addr := startServer(t)
	r := domains.Resolver{Server: addr, Timeout: 2 * time.Second}
	want := domains.Token("org-1", "acme.example", secret)
	name := domains.TXTName("acme.example")

	z.set(name, []string{want})
	if res, err := r.Check(context.Background(), "acme.example", want); err != nil || !res.Verified {
		t.Fatalf("first check: %+v, %v; want verified", res, err)
	}
	z.remove(name)
	res, err := r.Check(context.Background(), "acme.example", want)
	if err != nil || res.Verified || !strings.Contains(res.Reason, "no TXT record") {
		t.Fatalf("after removal: %+v, %v; want not verified, no record", res, err)
	}
}

func TestCheckTransientErrors(t *testing.T) {
	_, addr := startServer(t)
	r := domains.Resolver{Server: addr, Timeout: 500 * time.Millisecond}
	for _, d := range []string{"servfail.example", "silent.example"} {
		t.Run(d, func(t *testing.T) {
			res, err := r.Check(context.Background(), d, "orgplane-verification=x")
			if err == nil {
				t.Fatalf("got %+v and no error; want a transient error", res)
			}
		})
	}
}

func TestCheckFoundIsClipped(t *testing.T) {
	z, addr := startServer(t)
	// One long record split in two strings, then 11 short ones: 12 records, small enough for one UDP reply.
	records := [][]string{{strings.Repeat("a", 200), strings.Repeat("b", 100)}}
	for i := 0; i < 11; i++ {
		records = append(records, []string{strings.Repeat(string(rune('c'+i)), 255)[:i+1]})
	}
	z.set(domains.TXTName("many.example"), records...)
	res, err := domains.Resolver{Server: addr, Timeout: 2 * time.Second}.Check(context.Background(),
		"many.example", "orgplane-verification=x")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Found) != 10 {
		t.Fatalf("found %d values, want 10", len(res.Found))
	}
	if len(res.Found[0]) != 255 || !strings.HasSuffix(res.Found[0], "bbb") {
		t.Fatalf("first value has %d chars, want the joined record cut to 255", len(res.Found[0]))
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want, errHas string
	}{
		{"Acme.Example", "acme.example", ""},
		{"acme.example.", "acme.example", ""},
		{"  mail.ACME.example. ", "mail.acme.example", ""},
		{"bücher.example", "xn--bcher-kva.example", ""},
		{"192.0.2.1", "", "IP address"},
		{"2001:db8::1", "", "IP address"},
		{"localhost", "", "local name"},
		{"acme", "", "single label"},
		{"*.acme.example", "", "wildcard"},
		{strings.Repeat("a", 64) + ".example", "", "at most 63"},
		{strings.Repeat("abcdefghi.", 26) + "example", "", "at most 253"},
		{"-acme.example", "", "'-'"},
		{"acme_corp.example", "", ""},
		{"acme..example", "", "empty label"},
		{"", "", "empty"},
		{"1.2.3", "", "numeric"},
	}
	for _, tc := range tests {
		got, err := domains.Normalize(tc.in)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("Normalize(%q) = %q, %v; want an error mentioning %q", tc.in, got, err, tc.errHas)
		}
	}
}

func TestConsumer(t *testing.T) {
	c := domains.NewConsumer([]string{"Freemail.Example."})
	tests := []struct {
		domain string
		want   bool
	}{
		{"gmail.com", true},
		{"GMAIL.COM.", true},
		{"mail.yahoo.com", true},
		{"freemail.example", true},
		{"eu.freemail.example", true},
		{"acme.example", false},
		{"notgmail.com", false},
	}
	for _, tc := range tests {
		if got := c.Is(tc.domain); got != tc.want {
			t.Errorf("Is(%q) = %v, want %v", tc.domain, got, tc.want)
		}
	}
	if (domains.Consumer{}).Is("freemail.example") || !(domains.Consumer{}).Is("outlook.com") {
		t.Error("zero Consumer should use the shipped list only")
	}
}

func TestTokenAndName(t *testing.T) {
	a := domains.Token("org-1", "acme.example", secret)
	if a != domains.Token("org-1", "acme.example", secret) {
		t.Error("Token is not deterministic")
	}
	if !strings.HasPrefix(a, "orgplane-verification=") || len(a) != len("orgplane-verification=")+32 {
		t.Errorf("Token = %q; want the prefix and 32 characters", a)
	}
	if strings.ToLower(a) != a || strings.Count(a, "=") != 1 {
		t.Errorf("Token = %q; want lower-case base32 without padding", a)
	}
	for _, b := range []string{
		domains.Token("org-2", "acme.example", secret),
		domains.Token("org-1", "other.example", secret),
		domains.Token("org-1", "acme.example", []byte("another-secret")),
	} {
		if a == b {
			t.Errorf("Token %q should differ", b)
		}
	}
	if got := domains.TXTName("acme.example"); got != "_orgplane-challenge.acme.example" {
		t.Errorf("TXTName = %q", got)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
