package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// Reads is the throughput and latency of one way of reading one route.
type Reads struct {
	Route    string  `json:"route"`
	Via      string  `json:"via"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50ms"`
	P99ms    float64 `json:"p99ms"`
}

func (s *stack) reads(ctx context.Context, p Params) ([]Reads, error) {
	direct, err := s.directClient()
	if err != nil {
		return nil, err
	}
	agg, err := kubernetes.NewForConfig(s.reader)
	if err != nil {
		return nil, err
	}
	d := time.Duration(p.ReadSeconds) * time.Second
	// The floor just wrote thousands of ConfigMaps; kube-controller-manager
	// and etcd are still digesting them. Measure reads on a quiet machine.
	settle(60 * time.Second)
	if p.ReadsProfile != "" {
		f, err := os.Create(p.ReadsProfile)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var out []Reads
	for _, route := range []string{"/organizations/accounts/all", "/organizations", "/organizations/bench-0"} {
		out = append(out,
			measure(route, "REST direct", p.Clients, d, func() error { return s.getDirect(ctx, direct, route) }),
			measure(route, "REST via kube-apiserver aggregation", p.Clients, d, func() error {
				_, err := agg.RESTClient().Get().AbsPath("/apis/api.orgplane.io/v1" + route).DoRaw(ctx)
				return err
			}),
			measure(route, "naive: kube-apiserver LIST/GET", p.Clients, d, func() error { return s.naive(ctx, route) }),
			// One client: a read's own latency, without the queue that 16
			// clients on 2 cores (clients and server in one process) make.
			measure(route, "REST direct, 1 client", 1, d, func() error { return s.getDirect(ctx, direct, route) }),
		)
	}
	return out, nil
}

func (s *stack) directClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.cp.Aggregation.CABundle)
	cert, err := tls.X509KeyPair(s.reader.CertData, s.reader.KeyData)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}},
		MaxIdleConnsPerHost: 64,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, nil
}

func (s *stack) getDirect(ctx context.Context, hc *http.Client, route string) error {
	address := fmt.Sprintf("https://127.0.0.1:%d/v1%s", s.restPort, route)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d", route, resp.StatusCode)
	}
	return nil
}

// naive fetches the same data from kube-apiserver, as an implementation
// without a cache would: LIST organizations and keep the caller's, then
// LIST each one's accounts; GET for a single organization.
func (s *stack) naive(ctx context.Context, route string) error {
	if route == "/organizations/bench-0" {
		return s.admin.Get(ctx, client.ObjectKey{Name: "bench-0"}, &v1alpha1.Organization{})
	}
	orgs := &v1alpha1.OrganizationList{}
	if err := s.admin.List(ctx, orgs); err != nil {
		return err
	}
	if route == "/organizations" {
		return nil
	}
	for _, o := range orgs.Items {
		if !isMember(&o) {
			continue
		}
		if err := s.admin.List(ctx, &v1alpha1.AccountList{}, client.InNamespace(o.NamespaceName())); err != nil {
			return err
		}
	}
	return nil
}

func isMember(o *v1alpha1.Organization) bool {
	for _, m := range o.Spec.Members {
		if index.SubjectKey(m) == index.UserKey(benchUser) {
			return true
		}
	}
	return false
}

// measure runs f from n clients for d and reports throughput and latency,
// after half a second of the same load unmeasured (connections, TLS
// handshakes, first authentications).
func measure(route, via string, n int, d time.Duration, f func() error) Reads {
	load(n, 500*time.Millisecond, func() { _ = f() })
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	load(n, d, func() {
		t := time.Now()
		err := f()
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, time.Since(t))
		if err != nil {
			errs++
		}
	})
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := Reads{Route: "GET /v1" + route, Via: via, Requests: len(lat), Errors: errs, RPS: float64(len(lat)) / d.Seconds()}
	if len(lat) > 0 {
		r.P50ms = ms(lat[len(lat)/2])
		r.P99ms = ms(lat[len(lat)*99/100])
	}
	return r
}

// load calls f in a loop from n goroutines for d.
func load(n int, d time.Duration, f func()) {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				f()
			}
		}()
	}
	wg.Wait()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
