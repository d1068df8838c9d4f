package quota

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

func TestShare(t *testing.T) {
	tests := map[string]struct {
		total      corev1.ResourceList
		workspaces []Workspace
		want       map[string]corev1.ResourceList
	}{
		"an even split, the remainder to the first by name": {
			list("pods", "10"),
			[]Workspace{{Name: "a"}, {Name: "b"}, {Name: "c"}},
			map[string]corev1.ResourceList{"a": list("pods", "4"), "b": list("pods", "3"), "c": list("pods", "3")},
		},
		"each keeps its usage and the rest is split": {
			list("pods", "10"),
			[]Workspace{{Name: "a", Used: list("pods", "6")}, {Name: "b"}, {Name: "c"}},
			map[string]corev1.ResourceList{"a": list("pods", "8"), "b": list("pods", "1"), "c": list("pods", "1")},
		},
		"the remainder goes to the workspace using the most": {
			list("pods", "10"),
			[]Workspace{{Name: "a"}, {Name: "b", Used: list("pods", "8")}, {Name: "c"}},
			map[string]corev1.ResourceList{"a": list("pods", "1"), "b": list("pods", "9"), "c": list("pods", "0")},
		},
		"usage over the total keeps the usage, nothing more": {
			list("pods", "4"),
			[]Workspace{{Name: "a", Used: list("pods", "3")}, {Name: "b", Used: list("pods", "3")}},
			map[string]corev1.ResourceList{"a": list("pods", "3"), "b": list("pods", "3")},
		},
		"a capped workspace leaves its part to the others": {
			list("pods", "10"),
			[]Workspace{{Name: "a", Cap: list("pods", "2")}, {Name: "b"}, {Name: "c"}},
			map[string]corev1.ResourceList{"a": list("pods", "2"), "b": list("pods", "4"), "c": list("pods", "4")},
		},
		"every workspace capped leaves the rest unshared": {
			list("pods", "10"),
			[]Workspace{{Name: "a", Cap: list("pods", "2")}, {Name: "b", Cap: list("pods", "3")}},
			map[string]corev1.ResourceList{"a": list("pods", "2"), "b": list("pods", "3")},
		},
		"cpu in millicores and memory in bytes": {
			list("requests.cpu", "1", "requests.memory", "3Gi"),
			[]Workspace{{Name: "a"}, {Name: "b"}, {Name: "c"}},
			map[string]corev1.ResourceList{
				"a": list("requests.cpu", "334m", "requests.memory", "1Gi"),
				"b": list("requests.cpu", "333m", "requests.memory", "1Gi"),
				"c": list("requests.cpu", "333m", "requests.memory", "1Gi"),
			},
		},
		"no workspaces": {list("pods", "10"), nil, map[string]corev1.ResourceList{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Share(tc.total, tc.workspaces)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d workspaces, want %d: %v", len(got), len(tc.want), got)
			}
			sums := make([]corev1.ResourceList, 0, len(tc.want))
			for ws, want := range tc.want {
				sums = append(sums, got[ws])
				for res, q := range want {
					if g := got[ws][res]; g.Cmp(q) != 0 {
						t.Errorf("%s %s = %s, want %s", ws, res, g.String(), q.String())
					}
				}
			}
			used := make([]corev1.ResourceList, 0, len(tc.workspaces))
			for _, w := range tc.workspaces {
				used = append(used, w.Used)
			}
			for res, q := range Sum(sums...) {
				if limit := maxQ(tc.total[res], Sum(used...)[res]); q.Cmp(limit) > 0 {
					t.Errorf("shares of %s add up to %s, over the total %s", res, q.String(), limit.String())
				}
			}
		})
	}
}

func maxQ(a, b resource.Quantity) resource.Quantity {
	if a.Cmp(b) < 0 {
		return b
	}
	return a
}

func TestOver(t *testing.T) {
	got := Over("ws-acme--web", list("requests.cpu", "2", "pods", "5", "limits.memory", "1Gi"), list("requests.cpu", "3", "pods", "5"))
	if len(got) != 1 || got[0].String() != "ws-acme--web: requests.cpu 3 used, quota 2" {
		t.Fatalf("Over = %v, want only requests.cpu over", got)
	}
}

func TestSummary(t *testing.T) {
	tests := map[string]struct {
		hard, used corev1.ResourceList
		want       string
	}{
		"cpu and pods":               {list("requests.cpu", "4", "pods", "10"), list("requests.cpu", "2", "pods", "3"), "2/4 cpu, 3/10 pods"},
		"requests stand for limits":  {list("limits.cpu", "8", "requests.cpu", "4"), list("requests.cpu", "500m"), "500m/4 cpu"},
		"limits alone are labelled":  {list("limits.memory", "8Gi"), list("limits.memory", "1Gi"), "1Gi/8Gi memory limits"},
		"no usage reported yet":      {list("pods", "10"), nil, "0/10 pods"},
		"storage after the compute":  {list("requests.storage", "10Gi", "requests.memory", "1Gi"), nil, "0/1Gi memory, 0/10Gi requests.storage"},
		"nothing hard, nothing said": {nil, nil, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Summary(tc.hard, tc.used); got != tc.want {
				t.Errorf("Summary = %q, want %q", got, tc.want)
			}
		})
	}
}
