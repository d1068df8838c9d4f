package main

import (
	"bytes"
	"context"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// apiserverRequests is kube-apiserver's own count of the requests it has
// served (apiserver_request_total), keyed "VERB resource[/subresource] code",
// from every client.
func (s *stack) apiserverRequests(ctx context.Context) (map[string]float64, error) {
	b, err := s.adminCS.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range families["apiserver_request_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		resource := l["resource"]
		if l["subresource"] != "" {
			resource += "/" + l["subresource"]
		}
		if resource == "" {
			continue
		}
		out[l["verb"]+" "+resource+" "+l["code"]] += m.GetCounter().GetValue()
	}
	return out, nil
}
