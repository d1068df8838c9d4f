package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// WorkspaceReconciler removes a workspace namespace whose Account is gone
// (found by the Account UID label, not by a computed name): an Account
// that left without its finalizer, or whose organization went, leaves no
// namespace, bindings or uncounted Deployments behind.
type WorkspaceReconciler struct {
	client.Client
	// APIReader confirms an Account is gone before its workspace is removed.
	APIReader client.Reader
	Recorder  recorder.EventRecorder
}

// Reconcile deletes the workspace namespace when its Account is gone.
func (r *WorkspaceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, req.NamespacedName, ns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ns.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	gone, err := r.accountGone(ctx, ns)
	if err != nil || !gone {
		return ctrl.Result{}, err
	}
	if err := client.IgnoreNotFound(r.Delete(ctx, ns)); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to delete orphaned workspace %s: %w", ns.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Deleted workspace namespace whose Account is gone", "account", ns.Labels[v1alpha1.LabelAccount])
	return ctrl.Result{}, nil
}

// accountGone says whether no Account with the namespace's account UID
// exists: absent from the cache, and confirmed absent by the API server.
func (r *WorkspaceReconciler) accountGone(ctx context.Context, ns *corev1.Namespace) (bool, error) {
	key := types.NamespacedName{Namespace: v1alpha1.OrganizationNamespace(ns.Labels[v1alpha1.LabelOrganization]),
		Name: ns.Labels[v1alpha1.LabelAccount]}
	for _, reader := range []client.Reader{r.Client, r.APIReader} {
		acct := &v1alpha1.Account{}
		err := reader.Get(ctx, key, acct)
		if client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("failed to get account %s: %w", key, err)
		}
		if err == nil && string(acct.UID) == ns.Labels[v1alpha1.LabelAccountUID] {
			return false, nil
		}
	}
	return true, nil
}

// isWorkspace passes orgplane's workspace namespaces.
var isWorkspace = predicate.NewPredicateFuncs(func(o client.Object) bool {
	l := o.GetLabels()
	return l[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue && l[v1alpha1.LabelAccountUID] != ""
})

// SetupWithManager watches workspace namespaces, and Account deletions.
func (r *WorkspaceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Namespace{}, builder.WithPredicates(isWorkspace)).
		Watches(&v1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.accountToWorkspaces), builder.WithPredicates(deleted)).
		Named("workspace").
		Complete(r)
}

// accountToWorkspaces maps a deleted Account to the namespaces labelled with its UID.
func (r *WorkspaceReconciler) accountToWorkspaces(ctx context.Context, o client.Object) []reconcile.Request {
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list, client.MatchingFields{index.WorkspaceAccount: string(o.GetUID())}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ns := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: ns.Name}})
	}
	return reqs
}
