package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// targets says, for each target of the benchmark, whether this run met it.
func targets(r *Result) map[string]string {
	c, a, m := r.Convergence, r.Admission, r.Memory
	t := map[string]string{}
	t["convergence within 1.1x the write floor (the same writes, replayed)"] =
		verdict(c.ReplayRatio <= 1.1, "%.2fx", c.ReplayRatio)
	t["at most 8 writes per organization or account"] = verdict(c.APIWritesPerObject <= 8, "%.2f", c.APIWritesPerObject)
	t["at most 2 reconciles per object"] = verdict(c.ReconcilesPerObject <= 2, "%.2f", c.ReconcilesPerObject)
	t["no writes after convergence"] =
		verdict(c.WritesAfterConvergence == 0, "%.0f writes in 5 s", c.WritesAfterConvergence)
	t["restart writes nothing"] = verdict(r.Restart.Writes == 0, "%.0f writes", r.Restart.Writes)
	t["exactly the limit admitted"] = verdict(a.Admitted == a.Limit, "%d of %d", a.Admitted, a.Limit)
	t["at most 2 KiB of heap per cached object"] =
		verdict(m.HeapPerObjectByte <= 2048, "%.0f bytes", m.HeapPerObjectByte)
	const accountsAll = "GET /v1/organizations/accounts/all"
	direct, naive := find(r.REST, accountsAll, "REST direct"), find(r.REST, accountsAll, "naive")
	if direct != nil && naive != nil && naive.RPS > 0 {
		ratio := direct.RPS / naive.RPS
		t["accounts/all at least 20x the LIST throughput"] = verdict(ratio >= 20, "%.1fx", ratio)
	}
	for _, via := range []string{"REST direct", "REST direct, 1 client"} {
		if worst := worstP99(r.REST, via); worst != nil {
			t["direct REST p99 under 5 ms ("+via+")"] = verdict(worst.P99ms < 5, "%.2f ms (%s)", worst.P99ms, worst.Route)
		}
	}
	return t
}

// worstP99 is the read with the highest p99 among those made via exactly via.
func worstP99(rs []Reads, via string) *Reads {
	var worst *Reads
	for i := range rs {
		if rs[i].Via == via && (worst == nil || rs[i].P99ms > worst.P99ms) {
			worst = &rs[i]
		}
	}
	return worst
}

func verdict(ok bool, format string, args ...any) string {
	v := "MISSED"
	if ok {
		v = "met"
	}
	return v + ": " + fmt.Sprintf(format, args...)
}

func find(rs []Reads, route, via string) *Reads {
	for i := range rs {
		if rs[i].Route == route && strings.HasPrefix(rs[i].Via, via) {
			return &rs[i]
		}
	}
	return nil
}

// printTable prints the results as the Markdown tables of docs/benchmarks.md.
func printTable(r *Result) {
	c := r.Convergence
	fmt.Printf("Run %s on %s, N=%d M=%d K=%d\n\n",
		r.Date, r.Machine, r.Params.Organizations, r.Params.Accounts, r.Params.Members)
	fmt.Println("| convergence | value |\n|---|---|")
	fmt.Printf("| organizations + accounts (+ users made for members) | %d + %d (+ %d) |\n"+
		"| time to all Ready | %.1f s |\n",
		c.Organizations, c.Accounts, c.Users, c.Seconds)
	fmt.Printf("| API writes (all clients) | %.0f |\n"+
		"| floor: as many ConfigMap creates | %.1f s |\n"+
		"| ratio | %.2fx |\n",
		c.APIWrites, c.FloorSeconds, c.Ratio)
	fmt.Printf("| floor: the same writes replayed (%d writes, %d retried) | %.1f s |\n"+
		"| ratio | %.2fx |\n",
		c.ReplayWrites, c.ReplayRetries, c.ReplayFloorSeconds, c.ReplayRatio)
	fmt.Printf("| reconciles per object (organizations, accounts, users, workspaces) | %.2f |\n"+
		"| orgplane's API writes per organization or account | %.2f |\n"+
		"| writes in 5 s after convergence | %.0f |\n\n",
		c.ReconcilesPerObject, c.APIWritesPerObject, c.WritesAfterConvergence)
	fmt.Printf("Reconciles by controller/result: %v\n\n", c.Reconciles)
	printCPU(c)
	printRequests(c.Requests)
	fmt.Println("| route | via | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
	for _, x := range r.REST {
		fmt.Printf("| %s | %s | %.0f | %.2f | %.2f | %d |\n", x.Route, x.Via, x.RPS, x.P50ms, x.P99ms, x.Errors)
	}
	a, m := r.Admission, r.Memory
	fmt.Printf("\n| admission | value |\n|---|---|\n"+
		"| concurrent creates | %d |\n"+
		"| limit | %d |\n"+
		"| admitted | %d |\n"+
		"| refused naming the limit | %d |\n"+
		"| other errors | %d |\n"+
		"| time | %.2f s |\n",
		a.Attempts, a.Limit, a.Admitted, a.Refused, a.Other, a.Seconds)
	fmt.Printf("\n| memory | value |\n|---|---|\n"+
		"| RSS | %.1f MiB |\n"+
		"| Go heap after GC | %.1f MiB |\n"+
		"| cached objects | %d |\n"+
		"| heap per cached object | %.0f bytes |\n\n",
		float64(m.RSSBytes)/(1<<20), float64(m.HeapBytes)/(1<<20), m.CachedObjects, m.HeapPerObjectByte)
	fmt.Println("| cached kind | objects | heap per object (a copy, as cached) |\n|---|---|---|")
	for _, k := range m.Kinds {
		fmt.Printf("| %s | %d | %.0f bytes |\n", k.Kind, k.Objects, k.BytesPerObject)
	}
	fmt.Println()
	printRestart(r.Restart)
	printViews(r.Views)
	fmt.Println("| target | result |\n|---|---|")
	for _, k := range slices.Sorted(maps.Keys(r.Targets)) {
		fmt.Printf("| %s | %s |\n", k, r.Targets[k])
	}
}

// printRestart prints the cold restart: time to serve and to settle, and
// what it wrote.
func printRestart(x Restart) {
	fmt.Printf("| cold restart | value |\n|---|---|\n"+
		"| time to ready (caches synced, webhooks serving) | %.2f s |\n"+
		"| time to settled (every object reconciled once) | %.2f s |\n"+
		"| reconciles | %.0f |\n"+
		"| this process's writes, until 5 s after settled | %.0f |\n",
		x.ReadySeconds, x.SettledSeconds, sum(x.Reconciles), x.Writes)
	for _, k := range slices.Sorted(maps.Keys(x.ServerWrites)) {
		fmt.Printf("| kube-apiserver served %s | %.0f |\n", k, x.ServerWrites[k])
	}
	fmt.Printf("\nRestart reconciles by controller/result: %v\n\n", x.Reconciles)
}

// printCPU prints where the CPU time went, during convergence and during
// the floor.
func printCPU(c Convergence) {
	fmt.Println("| process | CPU s, convergence | CPU s, ConfigMap floor | CPU s, replayed floor |\n|---|---|---|---|")
	for _, p := range slices.Sorted(maps.Keys(c.CPUSeconds)) {
		fmt.Printf("| %s | %.1f | %.1f | %.1f |\n", p, c.CPUSeconds[p], c.FloorCPUSeconds[p], c.ReplayFloorCPUSeconds[p])
	}
	fmt.Printf("| total | %.1f | %.1f | %.1f |\n\n",
		sum(c.CPUSeconds), sum(c.FloorCPUSeconds), sum(c.ReplayFloorCPUSeconds))
}

// printRequests prints what kube-apiserver served during convergence, most
// frequent first.
func printRequests(reqs map[string]float64) {
	keys := slices.SortedFunc(maps.Keys(reqs), func(a, b string) int { return cmp.Compare(reqs[b], reqs[a]) })
	fmt.Println("| kube-apiserver requests during convergence (verb resource code) | count |\n|---|---|")
	for _, k := range keys {
		fmt.Printf("| %s | %.0f |\n", k, reqs[k])
	}
	fmt.Println()
}

// printViews prints the my.orgplane.io figures: lists, open watches, and
// the fan-out of one membership change.
func printViews(v Views) {
	fmt.Println("| my.orgplane.io list | caller (organizations seen) | via | req/s | p50 ms | p99 ms | errors |\n" +
		"|---|---|---|---|---|---|---|")
	for _, x := range v.Lists {
		fmt.Printf("| %s | %s (%d) | %s | %.0f | %.2f | %.2f | %d |\n",
			x.Route, x.Caller, x.Items, x.Via, x.RPS, x.P50ms, x.P99ms, x.Errors)
	}
	w := v.Watchers
	fmt.Printf("\n| my.orgplane.io watches, direct | value |\n|---|---|\n"+
		"| watchers (members of a bench organization) | %d (%d) |\n"+
		"| time to open them | %.2f s |\n"+
		"| Go heap after GC (manager + clients): before, open, closed | %.1f MiB, %.1f MiB, %.1f MiB |\n"+
		"| heap per watcher: opened, released when closed | %.0f bytes, %.0f bytes |\n"+
		"| goroutines per watcher (left after closing) | %.1f (%d) |\n"+
		"| watches that ended early | %d %s |\n\n",
		w.Watchers, w.Members, w.OpenSeconds,
		float64(w.HeapBeforeBytes)/(1<<20), float64(w.HeapOpenBytes)/(1<<20), float64(w.HeapClosedBytes)/(1<<20),
		w.HeapPerWatcherBytes, w.HeapReleasedPerWatcherBytes, w.GoroutinesPerWatcher, w.GoroutinesLeftAfterClose,
		w.Ended, w.EndedBecause)
	fmt.Println("| fan-out: one Group member written | events received | p50 ms | p99 ms | last watcher, ms | CPU s |\n" +
		"|---|---|---|---|---|---|")
	for _, f := range v.FanOut {
		last := make([]string, 0, len(f.LastMs))
		for _, l := range f.LastMs {
			last = append(last, fmt.Sprintf("%.0f", l))
		}
		cpu := make([]string, 0, len(f.CPUSeconds))
		for _, p := range slices.Sorted(maps.Keys(f.CPUSeconds)) {
			cpu = append(cpu, fmt.Sprintf("%s %.2f", p, f.CPUSeconds[p]))
		}
		fmt.Printf("| %s of %s, %d times | %d of %d | %.1f | %.1f | %s | %s |\n", f.Event, f.Organization, f.Repetitions,
			f.Received, f.Expected, f.P50ms, f.P99ms, strings.Join(last, ", "), strings.Join(cpu, ", "))
	}
	fmt.Println()
}
