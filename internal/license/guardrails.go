package license

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Guardrails shape every workspace of the organization the license is
// assigned to. A key without them (every key issued before they existed)
// means no guardrails.
type Guardrails struct {
	// Workspace is the quota of each workspace: a resource name of
	// WorkspaceResources to a Kubernetes quantity ("4", "500m", "8Gi").
	Workspace map[string]string `json:"workspace,omitempty"`
	// Organization is the total of all the organization's workspaces, in
	// the same resources as Workspace.
	Organization map[string]string `json:"organization,omitempty"`
	// Network is the network isolation mode; empty means none.
	Network NetworkMode `json:"network,omitempty"`
}

// NetworkMode says which Pods may reach a workspace's Pods.
type NetworkMode string

// Network modes.
const (
	// NetworkIsolated: the same workspace only, and the cluster DNS.
	NetworkIsolated NetworkMode = "isolated"
	// NetworkOrganization: every workspace of the organization, and the cluster DNS.
	NetworkOrganization NetworkMode = "organization"
)

// WorkspaceResources are the resources a per-workspace quota may name.
var WorkspaceResources = []corev1.ResourceName{
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
	corev1.ResourcePods, corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage,
}

// ErrGuardrails is returned for guardrails that cannot be applied.
var ErrGuardrails = errors.New("the key's guardrails are invalid")

// Quota is the per-workspace quota as a ResourceList, after Validate.
func (g *Guardrails) Quota() (corev1.ResourceList, error) {
	if g == nil {
		return nil, nil
	}
	return resourceList("workspace", g.Workspace)
}

// Total is the organization-wide total as a ResourceList, after Validate.
func (g *Guardrails) Total() (corev1.ResourceList, error) {
	if g == nil {
		return nil, nil
	}
	return resourceList("organization", g.Organization)
}

func resourceList(what string, quantities map[string]string) (corev1.ResourceList, error) {
	if len(quantities) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	var problems []string
	for _, name := range sortedKeys(quantities) {
		q, err := parseQuantity(name, quantities[name])
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out[corev1.ResourceName(name)] = q
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s: %s", ErrGuardrails, what, strings.Join(problems, "; "))
	}
	return out, nil
}

// Validate says what is wrong with the guardrails, if anything.
func (g *Guardrails) Validate() error {
	if g == nil {
		return nil
	}
	if _, err := g.Quota(); err != nil {
		return err
	}
	if _, err := g.Total(); err != nil {
		return err
	}
	switch g.Network {
	case "", NetworkIsolated, NetworkOrganization:
		return nil
	}
	return fmt.Errorf("%w: network mode %q is unknown (use %q or %q)", ErrGuardrails, g.Network, NetworkIsolated, NetworkOrganization)
}

func parseQuantity(name, value string) (resource.Quantity, error) {
	if !knownResource(name) {
		return resource.Quantity{}, fmt.Errorf("%q is not a workspace resource (use %s)", name, resourceNames())
	}
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return q, fmt.Errorf("%s: %q is not a quantity (e.g. 4, 500m, 8Gi)", name, value)
	}
	if q.Sign() < 0 {
		return q, fmt.Errorf("%s: %q is negative", name, value)
	}
	return q, nil
}

func knownResource(name string) bool {
	for _, r := range WorkspaceResources {
		if string(r) == name {
			return true
		}
	}
	return false
}

func resourceNames() string {
	names := make([]string, len(WorkspaceResources))
	for i, r := range WorkspaceResources {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseQuota reads "name=quantity,..." (the CLI's and the manager's form)
// into a per-workspace quota, checked like a key's.
func ParseQuota(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%q is not name=quantity (e.g. requests.cpu=4,limits.memory=8Gi)", part)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	g := &Guardrails{Workspace: out}
	return out, g.Validate()
}
