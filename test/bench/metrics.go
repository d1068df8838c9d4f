package main

import (
	"context"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// reconciles is the manager's total reconciles, per controller and result.
func reconciles() map[string]float64 {
	out := map[string]float64{}
	families, err := metrics.Registry.Gather()
	if err != nil {
		return out
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["controller"]+"/"+labels["result"]] += m.GetCounter().GetValue()
		}
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
	families, err := metrics.Registry.Gather()
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "rest_client_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if containsAny(labels["method"], "POST", "PUT", "PATCH", "DELETE") && strings.HasPrefix(labels["code"], "2") {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total, nil
}

func containsAny(s string, values ...string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}
