package v1alpha1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
)

func resources(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestInheritKeepsTheFreePlansGuardrailsALicenseLeavesOut(t *testing.T) {
	free := &Guardrails{Workspace: resources("pods", "4", "requests.cpu", "1"), Organization: resources("pods", "6"), Network: "isolated"}
	for _, tc := range []struct {
		name    string
		license *Guardrails
		want    *Guardrails
	}{
		{"no license guardrails (a trial): the free plan's", nil, free},
		{"empty guardrails: the free plan's", &Guardrails{}, free},
		{"a named value wins, the rest is the free plan's",
			&Guardrails{Workspace: resources("pods", "40")},
			&Guardrails{Workspace: resources("pods", "40", "requests.cpu", "1"), Organization: resources("pods", "6"), Network: "isolated"}},
		{"a network mode of its own",
			&Guardrails{Network: "organization"},
			&Guardrails{Workspace: free.Workspace, Organization: free.Organization, Network: "organization"}},
		{"a resource the free plan does not name is kept",
			&Guardrails{Workspace: resources("requests.storage", "10Gi")},
			&Guardrails{Workspace: resources("pods", "4", "requests.cpu", "1", "requests.storage", "10Gi"), Organization: free.Organization, Network: "isolated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.license.Inherit(free)
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("Inherit = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := (*Guardrails)(nil).Inherit(nil); got == nil || len(got.Workspace) != 0 || got.Network != "" {
		t.Errorf("nil.Inherit(nil) = %+v, want empty guardrails", got)
	}
}
