// Package usage counts what an organization has: its accounts, its members
// and the Deployments in its accounts' workspace namespaces. The reconciler
// counts from its cache; admission counts from the API server.
package usage

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// Resources limited by a license.
const (
	Accounts    = "accounts"
	Users       = "users"
	Deployments = "deployments"
)

var deploymentListGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DeploymentList"}

// Inventory names what an organization has, per resource: account names,
// member subjects, and namespace/name of Deployments.
type Inventory map[string][]string

// Usage is the count of each resource.
func (inv Inventory) Usage() *v1alpha1.Usage {
	return &v1alpha1.Usage{
		Accounts:    int64(len(inv[Accounts])),
		Users:       int64(len(inv[Users])),
		Deployments: int64(len(inv[Deployments])),
	}
}

// Take lists what org has through r.
func Take(ctx context.Context, r client.Reader, org *v1alpha1.Organization) (Inventory, error) {
	return TakeOnly(ctx, r, org, Deployments)
}

// TakeOnly lists what org has through r, skipping the per-account
// Deployment lists unless deployments are asked for.
func TakeOnly(ctx context.Context, r client.Reader, org *v1alpha1.Organization, resource string) (Inventory, error) {
	inv := Inventory{}
	accounts := &v1alpha1.AccountList{}
	if err := r.List(ctx, accounts, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, fmt.Errorf("failed to list accounts: %w", err)
	}
	for _, a := range accounts.Items {
		inv[Accounts] = append(inv[Accounts], a.Name)
	}
	inv[Users] = Subjects(org, accounts.Items)
	invitees, err := PendingInvitees(ctx, r, org, inv[Users], time.Now())
	if err != nil {
		return nil, err
	}
	inv[Invitees] = invitees
	if resource != Deployments {
		return inv, nil
	}
	workspaces, err := Workspaces(ctx, r, org.Name)
	if err != nil {
		return nil, err
	}
	for _, ws := range workspaces {
		deployments := &metav1.PartialObjectMetadataList{}
		deployments.SetGroupVersionKind(deploymentListGVK)
		if err := r.List(ctx, deployments, client.InNamespace(ws.Name)); err != nil {
			return nil, fmt.Errorf("failed to list deployments in %s: %w", ws.Name, err)
		}
		for _, d := range deployments.Items {
			inv[Deployments] = append(inv[Deployments], ws.Name+"/"+d.Name)
		}
	}
	return inv, nil
}

// Subjects are the distinct members of the organization and of its
// accounts, the users its limit counts.
func Subjects(org *v1alpha1.Organization, accounts []v1alpha1.Account) []string {
	seen := map[string]bool{}
	var out []string
	add := func(members []v1alpha1.Member) {
		for _, m := range members {
			if key := index.SubjectKey(m); !seen[key] {
				seen[key] = true
				out = append(out, key)
			}
		}
	}
	add(org.Spec.Members)
	for i := range accounts {
		add(accounts[i].Spec.Members)
	}
	return out
}

// Workspaces lists the workspace namespaces organization org really owns:
// those orgplane labelled with its name and an Account's UID, whatever
// their names, and whether or not their Account still exists (a workspace
// counts until it is removed). From the manager's cache it is a lookup in
// the index of workspaces by organization (a label selector would scan
// every namespace of the cluster, per organization reconciled); from the
// API server, which has no such index (admission's live recounts), the
// label selector.
func Workspaces(ctx context.Context, r client.Reader, org string) ([]corev1.Namespace, error) {
	list := &corev1.NamespaceList{}
	err := r.List(ctx, list, client.MatchingFields{index.WorkspaceOrganization: org})
	if apierrors.IsBadRequest(err) {
		err = r.List(ctx, list, client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelOrganization: org},
			client.HasLabels{v1alpha1.LabelAccountUID})
	}
	if err != nil {
		return nil, fmt.Errorf("failed to list the workspaces of %s: %w", org, err)
	}
	return list.Items, nil
}

// Of returns the count of resource in u.
func Of(u *v1alpha1.Usage, resource string) int64 {
	switch resource {
	case Accounts:
		return u.Accounts
	case Users:
		return u.Users
	}
	return u.Deployments
}

// LimitOf returns the limit of resource in l.
func LimitOf(l *v1alpha1.Limits, resource string) int64 {
	switch resource {
	case Accounts:
		return l.Accounts
	case Users:
		return l.Users
	}
	return l.Deployments
}

// Violation is a resource whose usage exceeds its limit.
type Violation struct {
	Resource string `json:"resource"`
	Used     int64  `json:"used"`
	Limit    int64  `json:"limit"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %d used, limit %d", v.Resource, v.Used, v.Limit)
}

// Violations lists the resources of u over l.
func Violations(u *v1alpha1.Usage, l *v1alpha1.Limits) []Violation {
	var out []Violation
	for _, r := range []string{Accounts, Users, Deployments} {
		if used, limit := Of(u, r), LimitOf(l, r); used > limit {
			out = append(out, Violation{Resource: r, Used: used, Limit: limit})
		}
	}
	return out
}
