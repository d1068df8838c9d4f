// Package quota holds the arithmetic of the guardrails: how an
// organization-wide total is shared among its workspaces, which workspaces
// a plan would put over its quota, and how usage reads in a column. It
// reads nothing from the cluster.
package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Units is q in the unit a share is counted in: millicores for cpu,
// whole units (bytes, objects) for everything else.
func Units(name corev1.ResourceName, q resource.Quantity) int64 {
	if isCPU(name) {
		return q.MilliValue()
	}
	return q.Value()
}

// Quantity is the inverse of Units.
func Quantity(name corev1.ResourceName, units int64) resource.Quantity {
	switch {
	case isCPU(name):
		return *resource.NewMilliQuantity(units, resource.DecimalSI)
	case strings.Contains(string(name), "memory") || strings.Contains(string(name), "storage"):
		return *resource.NewQuantity(units, resource.BinarySI)
	}
	return *resource.NewQuantity(units, resource.DecimalSI)
}

func isCPU(name corev1.ResourceName) bool {
	return strings.HasSuffix(string(name), "cpu")
}

// Workspace is what one workspace uses and may use at most (its own
// quota; a resource absent from Cap is not capped).
type Workspace struct {
	Name string
	Used corev1.ResourceList
	Cap  corev1.ResourceList
}

// Share divides total among the workspaces: each keeps what it uses, and
// what is left of the total is split evenly among those below their cap
// (the remainder, a unit at a time, to the workspaces using the most, then
// by name). The shares never add up to more than the total, or to more
// than the usage when the usage is already over it.
func Share(total corev1.ResourceList, workspaces []Workspace) map[string]corev1.ResourceList {
	out := make(map[string]corev1.ResourceList, len(workspaces))
	for _, w := range workspaces {
		out[w.Name] = corev1.ResourceList{}
	}
	for name, q := range total {
		for ws, units := range shareOne(name, Units(name, q), workspaces) {
			out[ws][name] = Quantity(name, units)
		}
	}
	return out
}

// shareOne splits one resource: water-filling above the usage, a unit at
// a time for the remainder.
func shareOne(name corev1.ResourceName, total int64, workspaces []Workspace) map[string]int64 {
	share, room := map[string]int64{}, map[string]int64{}
	left, order := total, ordered(name, workspaces)
	for _, w := range order {
		used := unitsOf(w.Used, name)
		share[w.Name] = used
		left -= used
		room[w.Name] = -1 // no cap
		if c, ok := w.Cap[name]; ok {
			room[w.Name] = max(Units(name, c)-used, 0)
		}
	}
	for left > 0 {
		open := withRoom(order, room)
		if len(open) == 0 {
			break
		}
		each, extra := left/int64(len(open)), left%int64(len(open))
		for i, ws := range open {
			give := each
			if int64(i) < extra {
				give++
			}
			if room[ws] >= 0 {
				give = min(give, room[ws])
				room[ws] -= give
			}
			share[ws] += give
			left -= give
		}
	}
	return share
}

// ordered sorts workspaces by their use of name, most first, then by name.
func ordered(name corev1.ResourceName, workspaces []Workspace) []Workspace {
	out := append([]Workspace(nil), workspaces...)
	sort.SliceStable(out, func(i, j int) bool {
		ui, uj := unitsOf(out[i].Used, name), unitsOf(out[j].Used, name)
		if ui != uj {
			return ui > uj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func withRoom(order []Workspace, room map[string]int64) []string {
	var open []string
	for _, w := range order {
		if room[w.Name] != 0 {
			open = append(open, w.Name)
		}
	}
	return open
}

func unitsOf(l corev1.ResourceList, name corev1.ResourceName) int64 {
	q, ok := l[name]
	if !ok {
		return 0
	}
	return Units(name, q)
}

// Sum adds lists.
func Sum(lists ...corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, l := range lists {
		for name, q := range l {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
	}
	return out
}

// Violation is a resource whose usage is over its quota.
type Violation struct {
	// Scope is the workspace namespace, or "organization total".
	Scope    string `json:"scope"`
	Resource string `json:"resource"`
	Used     string `json:"used"`
	Quota    string `json:"quota"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s %s used, quota %s", v.Scope, v.Resource, v.Used, v.Quota)
}

// Over lists the resources of used above hard, by name.
func Over(scope string, hard, used corev1.ResourceList) []Violation {
	var out []Violation
	for _, name := range names(hard) {
		u, ok := used[name]
		if h := hard[name]; ok && u.Cmp(h) > 0 {
			out = append(out, Violation{Scope: scope, Resource: string(name), Used: u.String(), Quota: h.String()})
		}
	}
	return out
}

// Summary reads "2/4 cpu, 3/10 pods": the usage of each resource hard
// names, in the order of WorkspaceResources' kinds (cpu, memory, pods,
// then the rest by name). Requests stand for cpu and memory when hard
// names both requests and limits.
func Summary(hard, used corev1.ResourceList) string {
	parts := []string{}
	for _, name := range names(hard) {
		if label, ok := shown(name, hard); ok {
			u := used[name]
			h := hard[name]
			parts = append(parts, fmt.Sprintf("%s/%s %s", u.String(), h.String(), label))
		}
	}
	return strings.Join(parts, ", ")
}

// shown is the column label of name, false when another resource of hard
// already stands for it.
func shown(name corev1.ResourceName, hard corev1.ResourceList) (string, bool) {
	s := string(name)
	for _, kind := range []string{"cpu", "memory"} {
		if s == "limits."+kind {
			_, hasRequests := hard[corev1.ResourceName("requests."+kind)]
			return kind + " limits", !hasRequests
		}
		if s == "requests."+kind {
			return kind, true
		}
	}
	return s, true
}

// names sorts a list's names: cpu, memory, pods first, then by name.
func names(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for name := range l {
		out = append(out, name)
	}
	rank := func(n corev1.ResourceName) int {
		for i, prefix := range []string{"requests.cpu", "limits.cpu", "requests.memory", "limits.memory", "pods"} {
			if string(n) == prefix {
				return i
			}
		}
		return 9
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}
