package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// restPath is what the load asks for: a REST API list, through
// kube-apiserver's aggregation layer, the Service and a manager replica.
const restPath = "/apis/api.orgplane.io/v1/organizations"

// apiServices are orgplane's APIServices, both served by the manager's REST
// server: the REST API and the per-user views.
var apiServices = []string{"v1.api.orgplane.io", "v1.my.orgplane.io"}

// Figures of one disruption under load.
type Figures struct {
	Name        string
	Sent        int64
	Failed      int64
	Unavailable time.Duration // an APIService not Available (sampled every 100 ms)
	Took        time.Duration
	FirstError  string
}

// load sends GETs from clients goroutines until stop is called, and watches
// the APIServices' Available conditions meanwhile.
type load struct {
	sent, failed atomic.Int64
	unavailable  atomic.Int64 // nanoseconds
	firstErr     atomic.Value
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	started      time.Time
}

func startLoad(kubeconfig string, clients int) (*load, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, started: time.Now()}
	rc := cs.Discovery().RESTClient()
	for i := 0; i < clients; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				err := rc.Get().AbsPath(restPath).Do(rctx).Error()
				rcancel()
				if ctx.Err() != nil {
					return // stopped mid-request: not counted
				}
				l.sent.Add(1)
				if err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if !apiServicesAvailable(ctx, cs) {
					l.unavailable.Add(int64(100 * time.Millisecond))
				}
			}
		}
	}()
	return l, nil
}

// apiServicesAvailable says whether every one of apiServices is Available.
func apiServicesAvailable(ctx context.Context, cs *kubernetes.Clientset) bool {
	for _, name := range apiServices {
		if !apiServiceAvailable(ctx, cs, name) {
			return false
		}
	}
	return true
}

func apiServiceAvailable(ctx context.Context, cs *kubernetes.Clientset, name string) bool {
	var svc struct {
		Status struct {
			Conditions []struct{ Type, Status string }
		}
	}
	raw, err := cs.Discovery().RESTClient().Get().
		AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/" + name).DoRaw(ctx)
	if err != nil {
		return ctx.Err() != nil
	}
	if err := jsonUnmarshal(raw, &svc); err != nil {
		return false
	}
	for _, c := range svc.Status.Conditions {
		if c.Type == "Available" {
			return c.Status == "True"
		}
	}
	return false
}

func (l *load) stop(name string) Figures {
	l.cancel()
	l.wg.Wait()
	f := Figures{Name: name, Sent: l.sent.Load(), Failed: l.failed.Load(),
		Unavailable: time.Duration(l.unavailable.Load()), Took: time.Since(l.started)}
	if e, ok := l.firstErr.Load().(string); ok {
		f.FirstError = e
	}
	return f
}

// discoveryFreshness returns the freshness kube-apiserver's aggregated
// discovery gives api.orgplane.io/v1 ("Current", "Stale", or "" when it is
// not listed): the namespace controller is blocked by a Stale group.
func discoveryFreshness(kubeconfig string) string {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return ""
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return ""
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis").
		SetHeader("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList").
		DoRaw(context.Background())
	if err != nil {
		return ""
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name string }
			Versions []struct{ Version, Freshness string }
		}
	}
	if err := jsonUnmarshal(raw, &list); err != nil {
		return ""
	}
	for _, g := range list.Items {
		if g.Metadata.Name != "api.orgplane.io" {
			continue
		}
		for _, v := range g.Versions {
			if v.Version == "v1" {
				if v.Freshness == "" {
					return "Current"
				}
				return v.Freshness
			}
		}
	}
	return ""
}
