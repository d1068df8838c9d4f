package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	myv1 "github.com/orgplane/orgplane/api/my/v1"
	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Views measures my.orgplane.io/v1 (internal/views), each caller's own
// organizations: listing them, directly on the REST server and through
// kube-apiserver's aggregation layer, as a member of a few organizations
// and as a platform admin; what open watches cost the process's heap; and
// how long one membership change takes to reach every watcher.
type Views struct {
	Lists    []ViewList   `json:"lists"`
	Watchers ViewWatchers `json:"watchers"`
	FanOut   []FanOut     `json:"fanOut"`
}

// ViewList is the latency of one caller's list of organizations.
type ViewList struct {
	Caller string `json:"caller"`
	// Items is how many organizations one list of the caller's returned.
	Items int `json:"items"`
	Reads
}

// ViewWatchers is what the watches of organizations cost while open. The
// heap is this process's after a GC (memory.go): the manager's side of the
// watches and the watching clients' side both.
type ViewWatchers struct {
	Watchers int `json:"watchers"`
	// Members is how many watchers are members of one of the bench's
	// organizations (the others, users made for this, see none at first).
	Members     int     `json:"members"`
	OpenSeconds float64 `json:"openSeconds"`
	// HeapBeforeBytes is before the watches open, HeapOpenBytes while they
	// are, HeapClosedBytes after they and their connections are closed.
	HeapBeforeBytes uint64 `json:"heapBeforeBytes"`
	HeapOpenBytes   uint64 `json:"heapOpenBytes"`
	HeapClosedBytes uint64 `json:"heapClosedBytes"`
	// HeapPerWatcherBytes is (open - before) / watchers;
	// HeapReleasedPerWatcherBytes (open - closed) / watchers.
	HeapPerWatcherBytes         float64 `json:"heapPerWatcherBytes"`
	HeapReleasedPerWatcherBytes float64 `json:"heapReleasedPerWatcherBytes"`
	RSSBeforeBytes              int64   `json:"rssBeforeBytes"`
	RSSOpenBytes                int64   `json:"rssOpenBytes"`
	GoroutinesPerWatcher        float64 `json:"goroutinesPerWatcher"`
	// GoroutinesLeftAfterClose is how many more goroutines there were after
	// the watches closed than before they opened.
	GoroutinesLeftAfterClose int `json:"goroutinesLeftAfterClose"`
	// Ended counts watches that ended, or had an error event, before the
	// bench stopped them; EndedBecause is the first one's reason.
	Ended        int    `json:"ended"`
	EndedBecause string `json:"endedBecause,omitempty"`
}

// FanOut is the time from one membership write (a Group member added to,
// or removed from, one organization) to each watcher's ADDED or DELETED
// event of that organization, over every watcher and repetition.
type FanOut struct {
	Event        string `json:"event"`
	Organization string `json:"organization"`
	Repetitions  int    `json:"repetitions"`
	// Expected is watchers × repetitions; Received the events that came
	// within a minute of their write.
	Expected int     `json:"expected"`
	Received int     `json:"received"`
	P50ms    float64 `json:"p50ms"`
	P99ms    float64 `json:"p99ms"`
	// LastMs is, per repetition, the time to the last watcher's event.
	LastMs []float64 `json:"lastMs"`
	// CPUSeconds is the CPU time each process used from the writes to their
	// last events, summed over the repetitions: the write, the manager
	// reconciling the organization, the fan-out, and the watching clients
	// (which run in the bench process with the manager).
	CPUSeconds map[string]float64 `json:"cpuSeconds"`
}

const (
	// viewsPath is the caller's organizations.
	viewsPath = "/apis/my.orgplane.io/v1/organizations"
	// watcherGroup is every watcher's group: one Group member added to an
	// organization adds every watcher.
	watcherGroup = "bench-watchers"
	// fanOutRepetitions is how many times the Group member is added and
	// removed.
	fanOutRepetitions = 5
	// fanOutWait is how long a write's events may take before the bench
	// stops waiting for them.
	fanOutWait = time.Minute
)

var myOrganizations = schema.GroupVersionResource{Group: myv1.GroupVersion.Group, Version: myv1.GroupVersion.Version,
	Resource: "organizations"}

func (s *stack) views(ctx context.Context, p Params) (Views, error) {
	var v Views
	// Admission just created 50 accounts; measure on a quiet machine.
	settle(60 * time.Second)
	lists, err := s.viewLists(ctx, p)
	if err != nil {
		return v, err
	}
	v.Lists = lists
	v.Watchers, v.FanOut, err = s.viewWatchers(ctx, p)
	return v, err
}

// viewLists measures the list of organizations of benchUser, a member of
// 5 of the bench's organizations, and of a platform admin, who sees all.
func (s *stack) viewLists(ctx context.Context, p Params) ([]ViewList, error) {
	admin, _, err := s.cp.AddUser("platform-admin@bench.example", user.SystemPrivilegedGroup)
	if err != nil {
		return nil, err
	}
	admin.QPS, admin.Burst = 2000, 4000
	callers := []struct {
		name string
		cfg  *rest.Config
	}{
		{"member (" + benchUser + ")", s.reader},
		{"platform admin (" + user.SystemPrivilegedGroup + ")", admin},
	}
	d := time.Duration(p.ReadSeconds) * time.Second
	direct := fmt.Sprintf("https://127.0.0.1:%d%s", s.restPort, viewsPath)
	var out []ViewList
	for _, c := range callers {
		hc, err := s.certClient(c.cfg)
		if err != nil {
			return nil, err
		}
		agg, err := kubernetes.NewForConfig(c.cfg)
		if err != nil {
			return nil, err
		}
		b, err := getURL(ctx, hc, direct)
		if err != nil {
			return nil, err
		}
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, err
		}
		viaDirect := measure(viewsPath, "REST direct", p.Clients, d, func() error {
			_, err := getURL(ctx, hc, direct)
			return err
		})
		viaAgg := measure(viewsPath, "REST via kube-apiserver aggregation", p.Clients, d, func() error {
			_, err := agg.RESTClient().Get().AbsPath(viewsPath).DoRaw(ctx)
			return err
		})
		hc.CloseIdleConnections()
		for _, r := range []Reads{viaDirect, viaAgg} {
			r.Route = "GET " + viewsPath
			out = append(out, ViewList{Caller: c.name, Items: len(list.Items), Reads: r})
		}
	}
	return out, nil
}

// certClient calls the REST server directly with cfg's client certificate,
// as directClient does with benchUser's.
func (s *stack) certClient(cfg *rest.Config) (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.cp.Aggregation.CABundle)
	cert, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 64,
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}},
	}}, nil
}

// getURL GETs address and returns the body of a 200.
func getURL(ctx context.Context, hc *http.Client, address string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d", address, resp.StatusCode)
	}
	return b, err
}

// directConfig is u's client configuration for the REST server itself.
func (s *stack) directConfig(u *rest.Config) *rest.Config {
	return &rest.Config{Host: fmt.Sprintf("https://127.0.0.1:%d", s.restPort), QPS: 2000, Burst: 4000,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.cp.Aggregation.CABundle, ServerName: "localhost",
			CertData: u.CertData, KeyData: u.KeyData}}
}

// viewEvent is one watcher seeing the fan-out's organization come or go.
type viewEvent struct {
	watcher int
	typ     watch.EventType
	at      time.Time
}

// watchers are the open watches and what they saw.
type watchers struct {
	events chan viewEvent
	ended  atomic.Int64
	mu     sync.Mutex
	reason string
}

// viewWatchers opens p.Watchers watches of organizations, each a different
// user in watcherGroup, directly on the REST server, measures the heap
// they hold, then adds the group to one organization and removes it again.
// The heap is measured before the watches open, while they are open and
// after they are closed (and their connections too): the first difference
// is what opening them cost, the second what closing them gave back.
func (s *stack) viewWatchers(ctx context.Context, p Params) (ViewWatchers, []FanOut, error) {
	target := fmt.Sprintf("bench-%d", p.Organizations-1)
	names, members, err := s.watcherNames(ctx, p.Watchers, target)
	if err != nil {
		return ViewWatchers{}, nil, err
	}
	w := ViewWatchers{Watchers: len(names), Members: members}
	clients := make([]dynamic.Interface, 0, len(names))
	transports := make([]http.RoundTripper, 0, len(names))
	for _, name := range names {
		cfg, _, err := s.cp.AddUser(name, watcherGroup)
		if err != nil {
			return w, nil, err
		}
		cfg = s.directConfig(cfg)
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return w, nil, err
		}
		dc, err := dynamic.NewForConfigAndClient(cfg, hc)
		if err != nil {
			return w, nil, err
		}
		clients, transports = append(clients, dc), append(transports, hc.Transport)
	}
	settle(30 * time.Second)
	before, err := s.heap(ctx)
	if err != nil {
		return w, nil, err
	}
	goroutines := runtime.NumGoroutine()
	ws := &watchers{events: make(chan viewEvent, 4*len(clients))}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	closeIdle := func() {
		for _, t := range transports {
			utilnet.CloseIdleConnectionsFor(t)
		}
	}
	closeAll := func() { stop(); wg.Wait(); closeIdle() }
	defer closeAll()
	start := time.Now()
	for i, dc := range clients {
		wi, err := dc.Resource(myOrganizations).Watch(wctx, metav1.ListOptions{AllowWatchBookmarks: true})
		if err != nil {
			return w, nil, fmt.Errorf("watcher %s: %w", names[i], err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); ws.follow(wctx, wi, i, target) }()
	}
	w.OpenSeconds = time.Since(start).Seconds()
	// Each watch starts with its caller's organizations: let them be read.
	settle(30 * time.Second)
	open, err := s.heap(ctx)
	if err != nil {
		return w, nil, err
	}
	n := float64(len(clients))
	w.GoroutinesPerWatcher = float64(runtime.NumGoroutine()-goroutines) / n
	fan, err := s.fanOut(ctx, ws, target, len(clients))
	if err != nil {
		return w, fan, err
	}
	w.Ended = int(ws.ended.Load())
	ws.mu.Lock()
	w.EndedBecause = ws.reason
	ws.mu.Unlock()
	closeAll()
	// A connection is idle, and closed, once its watch's stream is gone;
	// the server's side of each watch ends when it sees that.
	gone := func(context.Context) (bool, error) { closeIdle(); return runtime.NumGoroutine() <= goroutines, nil }
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, gone)
	settle(30 * time.Second)
	closed, err := s.heap(ctx)
	if err != nil {
		return w, fan, err
	}
	w.HeapBeforeBytes, w.HeapOpenBytes, w.HeapClosedBytes = before.HeapBytes, open.HeapBytes, closed.HeapBytes
	w.RSSBeforeBytes, w.RSSOpenBytes = before.RSSBytes, open.RSSBytes
	w.HeapPerWatcherBytes = (float64(open.HeapBytes) - float64(before.HeapBytes)) / n
	w.HeapReleasedPerWatcherBytes = (float64(open.HeapBytes) - float64(closed.HeapBytes)) / n
	w.GoroutinesLeftAfterClose = runtime.NumGoroutine() - goroutines
	return w, fan, nil
}

// heap is memory (memory.go) after a second GC: the first one runs the
// finalizers of connections closed, the second frees what they held.
func (s *stack) heap(ctx context.Context) (Memory, error) {
	runtime.GC()
	return s.memory(ctx)
}

// watcherNames are n usernames for the watchers: User members of the
// bench's organizations other than target (and benchUser), then users no
// organization has. members is how many are members.
func (s *stack) watcherNames(ctx context.Context, n int, target string) ([]string, int, error) {
	orgs := &v1alpha1.OrganizationList{}
	if err := s.admin.List(ctx, orgs); err != nil {
		return nil, 0, err
	}
	taken := map[string]bool{benchUser: true}
	for _, o := range orgs.Items {
		if o.Name == target {
			for _, m := range o.Spec.Members {
				taken[m.Name] = true
			}
		}
	}
	var names []string
	for _, o := range orgs.Items {
		if !strings.HasPrefix(o.Name, "bench-") || o.Name == target {
			continue
		}
		for _, m := range o.Spec.Members {
			if m.Kind == v1alpha1.SubjectUser && !taken[m.Name] && len(names) < n {
				taken[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	members := len(names)
	for i := 0; len(names) < n; i++ {
		names = append(names, fmt.Sprintf("watcher-%d@bench.example", i))
	}
	return names, members, nil
}

// follow reads watch w of watcher i until ctx ends, and reports target
// being added or deleted.
func (ws *watchers) follow(ctx context.Context, w watch.Interface, i int, target string) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.ResultChan():
			if !ok {
				ws.end(ctx, fmt.Errorf("the watch ended"))
				return
			}
			if e.Type == watch.Error {
				ws.end(ctx, apierrors.FromObject(e.Object))
				return
			}
			if e.Type != watch.Added && e.Type != watch.Deleted {
				continue
			}
			if m, err := meta.Accessor(e.Object); err != nil || m.GetName() != target {
				continue
			}
			select {
			case ws.events <- viewEvent{watcher: i, typ: e.Type, at: time.Now()}:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (ws *watchers) end(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	ws.ended.Add(1)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.reason == "" {
		ws.reason = err.Error()
	}
}

// fanOut adds watcherGroup to organization target and removes it again,
// fanOutRepetitions times, and times each watcher's ADDED and DELETED.
func (s *stack) fanOut(ctx context.Context, ws *watchers, target string, n int) ([]FanOut, error) {
	out := []FanOut{{Event: string(watch.Added)}, {Event: string(watch.Deleted)}}
	lat := make([][]time.Duration, len(out))
	for i := range out {
		out[i].Organization, out[i].Repetitions, out[i].CPUSeconds = target, fanOutRepetitions, map[string]float64{}
	}
	for range fanOutRepetitions {
		for i := range out {
			// The organization's reconcile of the last write is over.
			settle(10 * time.Second)
			d, last, cpu, err := s.fanOutOnce(ctx, ws, target, n, i == 0)
			if err != nil {
				return out, err
			}
			lat[i] = append(lat[i], d...)
			out[i].Expected += n
			out[i].Received += len(d)
			out[i].LastMs = append(out[i].LastMs, ms(last))
			for k, v := range cpu {
				out[i].CPUSeconds[k] += v
			}
		}
	}
	for i := range out {
		slices.Sort(lat[i])
		if l := lat[i]; len(l) > 0 {
			out[i].P50ms, out[i].P99ms = ms(l[len(l)/2]), ms(l[len(l)*99/100])
		}
	}
	return out, nil
}

// fanOutOnce adds (or removes) watcherGroup as a member of target and
// waits, at most fanOutWait, for each of n watchers to see it: the time
// each took, the last one's, and the CPU time spent meanwhile.
func (s *stack) fanOutOnce(ctx context.Context, ws *watchers, target string, n int, add bool,
) ([]time.Duration, time.Duration, map[string]float64, error) {
	for len(ws.events) > 0 {
		<-ws.events
	}
	org := &v1alpha1.Organization{}
	if err := s.admin.Get(ctx, client.ObjectKey{Name: target}, org); err != nil {
		return nil, 0, nil, err
	}
	orig := org.DeepCopy()
	group := v1alpha1.Member{Kind: v1alpha1.SubjectGroup, Name: watcherGroup, Role: v1alpha1.RoleViewer}
	want := watch.Deleted
	org.Spec.Members = slices.DeleteFunc(org.Spec.Members, func(m v1alpha1.Member) bool {
		return m.Kind == group.Kind && m.Name == group.Name
	})
	if add {
		want = watch.Added
		org.Spec.Members = append(org.Spec.Members, group)
	}
	cpu, start := cpuSeconds(), time.Now()
	if err := s.admin.Patch(ctx, org, client.MergeFrom(orig)); err != nil {
		return nil, 0, nil, err
	}
	seen := map[int]bool{}
	var lat []time.Duration
	var last time.Duration
	timeout := time.NewTimer(fanOutWait)
	defer timeout.Stop()
	for len(seen) < n {
		select {
		case e := <-ws.events:
			if e.typ != want || seen[e.watcher] {
				continue
			}
			seen[e.watcher] = true
			last = e.at.Sub(start)
			lat = append(lat, last)
		case <-timeout.C:
			return lat, last, diff(cpuSeconds(), cpu), nil
		case <-ctx.Done():
			return nil, 0, nil, ctx.Err()
		}
	}
	return lat, last, diff(cpuSeconds(), cpu), nil
}
