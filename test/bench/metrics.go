package main

import (
	"context"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// counter is one series of a counter in controller-runtime's registry.
type counter struct {
	labels map[string]string
	value  float64
}

// counters returns the series of the counter named name.
func counters(name string) ([]counter, error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	var out []counter
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			c := counter{labels: map[string]string{}, value: m.GetCounter().GetValue()}
			for _, l := range m.GetLabel() {
				c.labels[l.GetName()] = l.GetValue()
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// reconciles is the manager's total reconciles, per controller and result.
func reconciles() map[string]float64 {
	out := map[string]float64{}
	series, _ := counters("controller_runtime_reconcile_total")
	for _, c := range series {
		out[c.labels["controller"]+"/"+c.labels["result"]] += c.value
	}
	return out
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

// apiWrites counts the successful mutating requests this process — the
// manager and the bench's own client — has made to kube-apiserver, from
// client-go's metrics in controller-runtime's registry.
func (s *stack) apiWrites(context.Context) (float64, error) {
	series, err := counters("rest_client_requests_total")
	writes := []string{"POST", "PUT", "PATCH", "DELETE"}
	total := 0.0
	for _, c := range series {
		if slices.Contains(writes, c.labels["method"]) && strings.HasPrefix(c.labels["code"], "2") {
			total += c.value
		}
	}
	return total, err
}

// counts are this process's successful writes and kube-apiserver's
// requests (by "VERB resource code") at one moment: what a step diffs.
type counts struct {
	writes   float64
	requests map[string]float64
}

func (s *stack) counts(ctx context.Context) (counts, error) {
	w, err := s.apiWrites(ctx)
	if err != nil {
		return counts{}, err
	}
	r, err := s.apiserverRequests(ctx)
	return counts{writes: w, requests: r}, err
}
