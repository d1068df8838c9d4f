package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Inherit is g with free's guardrails wherever g leaves one out: a
// resource g's per-workspace quota or organization total does not name,
// and the network mode when g has none. A license that says nothing of a
// guardrail keeps the free plan's (a self-issued trial carries none, and
// would otherwise make every workspace unquoted and unisolated); one that
// names a value sets it. Either may be nil; the result never is.
func (g *Guardrails) Inherit(free *Guardrails) *Guardrails {
	out := &Guardrails{}
	if g != nil {
		out = g.DeepCopy()
	}
	if free == nil {
		return out
	}
	out.Workspace = withDefaults(out.Workspace, free.Workspace)
	out.Organization = withDefaults(out.Organization, free.Organization)
	if out.Network == "" {
		out.Network = free.Network
	}
	return out
}

// withDefaults is l with every resource of defaults it does not name.
func withDefaults(l, defaults corev1.ResourceList) corev1.ResourceList {
	if len(defaults) == 0 {
		return l
	}
	if l == nil {
		l = corev1.ResourceList{}
	}
	for name, q := range defaults {
		if _, ok := l[name]; !ok {
			l[name] = q.DeepCopy()
		}
	}
	return l
}
