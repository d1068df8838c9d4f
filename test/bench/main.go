// Command bench starts the local stack and measures orgplane: convergence
// against kube-apiserver's write floor, REST reads against the LIST a naive
// implementation would make, admission under load, and memory. It reports
// the figures; it does not fail on noise.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// Result is everything one run measured.
type Result struct {
	Date        string            `json:"date"`
	Machine     string            `json:"machine"`
	Params      Params            `json:"params"`
	Convergence Convergence       `json:"convergence"`
	REST        []Reads           `json:"rest"`
	Admission   Admission         `json:"admission"`
	Memory      Memory            `json:"memory"`
	Restart     Restart           `json:"restart"`
	Views       Views             `json:"views"`
	Targets     map[string]string `json:"targets"`
}

// Params are the sizes of the run.
type Params struct {
	Organizations int `json:"organizations"`
	Accounts      int `json:"accountsPerOrganization"`
	Members       int `json:"membersPerOrganization"`
	Clients       int `json:"clients"`
	ReadSeconds   int `json:"readSeconds"`
	// Watchers is how many watches of my.orgplane.io organizations are open
	// while the views' fan-out is measured.
	Watchers int `json:"watchers"`
	// APIServerProfile, when set, is where to write kube-apiserver's CPU
	// profile during convergence.
	APIServerProfile string `json:"-"`
	// ManagerProfile, when set, is where to write this process's CPU profile
	// (manager, webhooks, the bench's clients) during convergence.
	ManagerProfile string `json:"-"`
	// ReadsProfile, when set, is where to write this process's CPU profile
	// during the REST reads.
	ReadsProfile string `json:"-"`
}

func main() {
	var p Params
	out := flag.String("out", "docs/benchmarks.json", "where to write the results as JSON")
	flag.IntVar(&p.Organizations, "n", 500, "organizations")
	flag.IntVar(&p.Accounts, "m", 3, "accounts per organization")
	flag.IntVar(&p.Members, "k", 3, "members per organization")
	flag.IntVar(&p.Clients, "clients", 16, "concurrent REST clients")
	flag.IntVar(&p.ReadSeconds, "read-seconds", 5, "seconds per REST read measurement")
	flag.IntVar(&p.Watchers, "watchers", 100, "concurrent watchers of my.orgplane.io organizations")
	flag.StringVar(&p.APIServerProfile, "apiserver-cpuprofile", "",
		"write a CPU profile of kube-apiserver during the first 60 s of convergence to this file")
	flag.StringVar(&p.ManagerProfile, "manager-cpuprofile", "",
		"write a CPU profile of this process (manager, webhooks and the bench's clients) during convergence to this file")
	flag.StringVar(&p.ReadsProfile, "reads-cpuprofile", "",
		"write a CPU profile of this process (manager, REST server and clients) during the REST reads to this file")
	flag.StringVar(&heapProfile, "heapprofile", "",
		"write this process's heap profile, right after convergence and a GC, to this file")
	flag.IntVar(&floorClients, "floor-clients", floorClients, "concurrent clients of the floors")
	flood := flag.Bool("flood", false,
		"measure only another tenant's create latency while one tenant floods dry-run creates (writes no JSON)")
	fp := floodParams{}
	flag.IntVar(&fp.orgs, "flood-orgs", 4, "organizations of the flooding tenant")
	flag.IntVar(&fp.workspaces, "flood-workspaces", 10, "workspaces of each organization of the flooding tenant")
	flag.IntVar(&fp.clients, "flood-clients", 16, "concurrent clients of the flooding tenant")
	flag.IntVar(&fp.creates, "flood-creates", 100, "Deployment creates of the other tenant, quiet and during the flood")
	flag.DurationVar(&fp.interval, "flood-interval", 100*time.Millisecond, "time between the other tenant's creates")
	cacheFlood := flag.Int("cache-flood", 0,
		"measure only the manager's heap before and after this many labelled 1 MiB Secrets (writes no JSON)")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(discard{})))
	klog.SetLogger(ctrl.Log)
	if *cacheFlood > 0 {
		if err := runCacheFlood(*cacheFlood); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *flood {
		if err := runFlood(fp); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(p, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func run(p Params, out string) error {
	// Ctrl-C stops the run and still tears the control planes down.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	env, err := startStack(ctx)
	if err != nil {
		return err
	}
	defer env.stop()
	res := Result{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Params: p}
	// Memory right after convergence, then a cold restart of the manager
	// (before anything else is written); the capture for the replayed floor
	// after it (it holds every object) and before admission adds its own;
	// the views' membership writes after both, before the replay stops the
	// stack.
	steps := []func() error{
		func() (err error) { res.Convergence, err = env.convergence(ctx, p); return },
		func() (err error) { res.Memory, err = env.memory(ctx); return },
		func() (err error) { res.Restart, err = env.restart(ctx, res.Convergence); return },
		func() (err error) { res.REST, err = env.reads(ctx, p); return },
		func() (err error) { env.captured, err = env.capture(ctx, res.Convergence.Requests); return },
		func() (err error) { res.Admission, err = env.admission(ctx); return },
		func() (err error) { res.Views, err = env.views(ctx, p); return },
		func() error { return env.replay(ctx, &res.Convergence) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	res.Targets = targets(&res)
	printTable(&res)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}
