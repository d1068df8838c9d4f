package v1alpha1

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// How orgplane names the namespaces it creates. An organization's namespace
// is org-<organization>; an account's workspace is
// ws-<organization>--<account>. Organization and account names may not
// contain "--", so the first "--" after "ws-" splits a workspace name back
// into its organization and account: no two (organization, account) pairs
// share a workspace, and no workspace equals an organization's namespace
// (their prefixes differ). Names other software installs into
// (cert-manager, istio-system, kube-system, …) start with neither prefix.
const (
	// OrganizationNamespacePrefix starts every organization's namespace.
	OrganizationNamespacePrefix = "org-"
	// WorkspacePrefix starts every workspace namespace made since the
	// ws-<organization>--<account> scheme.
	WorkspacePrefix = "ws-"
	// NameSeparator separates organization and account in a workspace name;
	// neither name may contain it.
	NameSeparator = "--"
)

// OrganizationNamespace is the namespace orgplane creates for organization org.
func OrganizationNamespace(org string) string { return OrganizationNamespacePrefix + org }

// WorkspaceNamespace is the workspace namespace orgplane creates for
// account in organization org.
func WorkspaceNamespace(org, account string) string {
	return WorkspacePrefix + org + NameSeparator + account
}

// CheckWorkspaceName says why the workspace of account in organization org
// cannot be made, or returns nil: a name with the separator, or a
// namespace name Kubernetes refuses (longer than 63 characters).
func CheckWorkspaceName(org, account string) error {
	for _, n := range [][2]string{{"organization", org}, {"account", account}} {
		if strings.Contains(n[1], NameSeparator) {
			return fmt.Errorf("%s name %q contains %q, which orgplane keeps to separate organization and account in workspace names; choose a name without it", n[0], n[1], NameSeparator)
		}
	}
	ws := WorkspaceNamespace(org, account)
	if len(ws) > validation.DNS1123LabelMaxLength {
		return fmt.Errorf("workspace namespace %s would be %d characters, over Kubernetes' %d; shorten the account name to at most %d characters",
			ws, len(ws), validation.DNS1123LabelMaxLength, validation.DNS1123LabelMaxLength-len(WorkspaceNamespace(org, "")))
	}
	return nil
}

// TenantNamespace says whether ns is named like a namespace orgplane makes
// for tenants (an organization's or a workspace). Its ServiceAccounts'
// tokens can be minted by the people who work there, so they are never
// members: CRD validation refuses them, and the reconcilers bind none.
func TenantNamespace(ns string) bool {
	return strings.HasPrefix(ns, WorkspacePrefix) || strings.HasPrefix(ns, OrganizationNamespacePrefix)
}
