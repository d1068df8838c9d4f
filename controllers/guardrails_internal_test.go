package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func list(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func TestContainerDefaults(t *testing.T) {
	tests := map[string]struct {
		quota                     corev1.ResourceList
		ok                        bool
		wantDefault, wantRequests corev1.ResourceList
	}{
		"no compute":             {list("pods", "10", "requests.storage", "10Gi"), false, nil, nil},
		"requests only":          {list("requests.cpu", "4", "requests.memory", "8Gi"), true, nil, list("cpu", "100m", "memory", "128Mi")},
		"limits only":            {list("limits.cpu", "4", "limits.memory", "8Gi"), true, list("cpu", "500m", "memory", "512Mi"), list("cpu", "100m", "memory", "128Mi")},
		"small limits lower all": {list("limits.cpu", "50m", "limits.memory", "64Mi"), true, list("cpu", "50m", "memory", "64Mi"), list("cpu", "50m", "memory", "64Mi")},
		"small requests":         {list("requests.cpu", "10m", "limits.cpu", "2"), true, list("cpu", "500m"), list("cpu", "10m")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			item, ok := containerDefaults(tc.quota)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			same(t, "default", item.Default, tc.wantDefault)
			same(t, "defaultRequest", item.DefaultRequest, tc.wantRequests)
			if item.Type != corev1.LimitTypeContainer {
				t.Errorf("type %s", item.Type)
			}
		})
	}
}

func same(t *testing.T, what string, got, want corev1.ResourceList) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for name, q := range want {
		if v := got[name]; v.Cmp(q) != 0 {
			t.Errorf("%s %s: got %s, want %s", what, name, v.String(), q.String())
		}
	}
}
