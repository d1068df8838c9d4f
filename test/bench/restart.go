package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Restart is a cold restart of the manager once everything is Ready: how
// long the new one takes to serve, to reconcile every object once, and
// what it writes doing so (nothing, if it leaves what is right alone).
type Restart struct {
	ReadySeconds float64 `json:"readySeconds"`
	// SettledSeconds is until the last reconcile of the restart, once every
	// object has been reconciled at least once and 3 s passed without one.
	SettledSeconds float64 `json:"settledSeconds"`
	// Writes are this process's successful writes from the new manager's
	// start to 5 s after it settled.
	Writes     float64            `json:"writes"`
	Reconciles map[string]float64 `json:"reconciles"`
	// ServerWrites are the writes kube-apiserver served meanwhile, from
	// every client, keyed "VERB resource code".
	ServerWrites map[string]float64 `json:"serverWrites"`
}

const (
	// quiet is how long reconciles must stay unchanged for the restart to
	// have settled.
	quiet = 3 * time.Second
	// settleCap bounds the wait for the restart to settle.
	settleCap = 10 * time.Minute
)

// restart stops the manager and starts a new one on the same identity and
// ports; the new one is the stack's manager for the steps after.
func (s *stack) restart(ctx context.Context, c Convergence) (Restart, error) {
	r := Restart{}
	if err := s.stopManager(); err != nil {
		return r, err
	}
	mgr, err := s.newManager()
	if err != nil {
		return r, err
	}
	// Counted from the new manager's start: building it creates a
	// SelfSubjectReview (admission learns its own username), which
	// kube-apiserver answers and stores nothing of.
	c0, err := s.counts(ctx)
	if err != nil {
		return r, err
	}
	before, start := reconciles(), time.Now()
	s.runManager(ctx, mgr)
	if err := waitServing(ctx, mgr); err != nil {
		return r, err
	}
	r.ReadySeconds = time.Since(start).Seconds()
	settled, err := waitSettled(ctx, before, float64(c.Organizations+2*c.Accounts+c.Users))
	if err != nil {
		return r, err
	}
	r.SettledSeconds = settled.Sub(start).Seconds()
	// As convergence does: 5 s more for the writes a late requeue makes.
	time.Sleep(time.Until(settled.Add(5 * time.Second)))
	c1, err := s.counts(ctx)
	if err != nil {
		return r, err
	}
	r.Writes, r.Reconciles = c1.writes-c0.writes, diff(reconciles(), before)
	r.ServerWrites = writesOnly(diff(c1.requests, c0.requests))
	return r, nil
}

// stopManager stops the running manager and waits for it; stop() then has
// no manager to stop until runManager starts one.
func (s *stack) stopManager() error {
	s.stopMgr()
	err := <-s.mgrDone
	s.stopMgr = nil
	if err != nil {
		return fmt.Errorf("the manager stopped with an error: %w", err)
	}
	return nil
}

// waitServing polls until mgr's caches have synced and its webhook server
// completes a TLS handshake: what its readiness probe checks.
func waitServing(ctx context.Context, mgr ctrl.Manager) error {
	webhooks := mgr.GetWebhookServer().StartedChecker()
	serving := func(ctx context.Context) (bool, error) {
		// WaitForCacheSync blocks until synced: give it a moment only.
		sctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		return mgr.GetCache().WaitForCacheSync(sctx) && webhooks(&http.Request{}) == nil, nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, settleCap, true, serving); err != nil {
		return fmt.Errorf("the restarted manager did not become ready: %w", err)
	}
	return nil
}

// waitSettled waits until reconciles have grown by at least objects since
// before and then stayed unchanged for quiet, and returns when they last
// grew.
func waitSettled(ctx context.Context, before map[string]float64, objects float64) (time.Time, error) {
	base, last, lastAt := sum(before), sum(before), time.Now()
	settled := func(context.Context) (bool, error) {
		if n := sum(reconciles()); n != last {
			last, lastAt = n, time.Now()
		}
		return last-base >= objects && time.Since(lastAt) >= quiet, nil
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, settleCap, true, settled)
	if errors.Is(err, context.DeadlineExceeded) {
		return lastAt, fmt.Errorf("the restarted manager did not settle in %s (%.0f of %.0f reconciles)",
			settleCap, last-base, objects)
	}
	return lastAt, err
}

// writesOnly keeps the requests kube-apiserver counts that are not reads.
func writesOnly(reqs map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range reqs {
		verb, _, _ := strings.Cut(k, " ")
		if verb != "GET" && verb != "LIST" && verb != "WATCH" {
			out[k] = v
		}
	}
	return out
}
