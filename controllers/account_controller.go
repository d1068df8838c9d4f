package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// LabelAccountUID marks a workspace namespace with the UID of its Account.
const LabelAccountUID = v1alpha1.LabelAccountUID

// AccountReconciler provisions an account's workspace namespace, the
// RoleBindings there for its organization's members, and its API key.
type AccountReconciler struct {
	client.Client
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// Workers is how many accounts are reconciled at once.
	Workers int
}

// +kubebuilder:rbac:groups=orgplane.io,resources=accounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=orgplane.io,resources=accounts/status;accounts/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=admin;edit;view;orgplane-organization-admin;orgplane-organization-member

// Reconcile brings an account's workspace, bindings and API key to what its
// organization and spec say, or removes them when it is deleted.
func (r *AccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	acct := &v1alpha1.Account{}
	if err := r.Get(ctx, req.NamespacedName, acct); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !acct.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, acct)
	}
	if err := addFinalizer(ctx, r.Client, acct); err != nil {
		return ctrl.Result{}, err
	}

	before := acct.DeepCopy()
	err := r.reconcileNormal(ctx, acct)
	if wait, ok := briefWait(acct, before.Status.Conditions, err); ok {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	acct.Status.ObservedGeneration = acct.Generation
	setKstatusConditions(&acct.Status.Conditions, acct.Generation, err, "Workspace, bindings and API key are provisioned")
	if perr := patchStatus(ctx, r.Client, before, acct); perr != nil {
		return ctrl.Result{}, perr
	}
	recordTransition(r.Recorder, acct, before.Status.Conditions, acct.Status.Conditions)
	return ctrl.Result{}, resultError(err)
}

func (r *AccountReconciler) reconcileNormal(ctx context.Context, acct *v1alpha1.Account) error {
	org, err := r.organization(ctx, acct)
	if err != nil {
		return err
	}
	acct.Status.Organization = org.Name
	if err := r.reconcileWorkspace(ctx, org, acct); err != nil {
		return err
	}
	if err := r.awaitGuardrails(ctx, org, acct.Status.Namespace); err != nil {
		return err
	}
	if err := r.reconcileBindings(ctx, org, acct); err != nil {
		return err
	}
	return r.reconcileAPIKey(ctx, org, acct)
}

// organization finds the organization whose namespace holds the account.
func (r *AccountReconciler) organization(ctx context.Context, acct *v1alpha1.Account) (*v1alpha1.Organization, error) {
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: acct.Namespace}, ns)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("failed to get namespace %s: %w", acct.Namespace, err)
	}
	name := ns.Labels[v1alpha1.LabelOrganization]
	if name == "" || ns.Name != v1alpha1.OrganizationNamespace(name) {
		return nil, stalled(v1alpha1.ReasonOrganizationNotFound,
			"Namespace %s is not an organization's namespace; create accounts in org-<organization>", acct.Namespace)
	}
	org := &v1alpha1.Organization{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, org); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, stalled(v1alpha1.ReasonOrganizationNotFound, "Organization %s does not exist", name)
		}
		return nil, fmt.Errorf("failed to get organization %s: %w", name, err)
	}
	if !org.DeletionTimestamp.IsZero() {
		return nil, waiting("Organization %s is being deleted", name)
	}
	return org, nil
}

// reconcileWorkspace creates the account's workspace namespace, and refuses
// to take over a namespace of that name created for anything else.
func (r *AccountReconciler) reconcileWorkspace(ctx context.Context, org *v1alpha1.Organization, acct *v1alpha1.Account) error {
	name := acct.WorkspaceName(org.Name)
	want := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: workspaceLabels(org, acct)}}
	ns, created, err := getOrCreateNamespace(ctx, r.Client, r.APIReader, want)
	switch {
	case err != nil:
		return err
	case created:
	case ns.Labels[LabelAccountUID] != string(acct.UID):
		return stalled(v1alpha1.ReasonNamespaceConflict,
			"Namespace %s already exists and was not created by orgplane for this account; delete it or choose another account name", name)
	case !ns.DeletionTimestamp.IsZero():
		return waiting("Namespace %s is terminating; it will be created again", name)
	}
	acct.Status.Namespace = name
	return nil
}

func workspaceLabels(org *v1alpha1.Organization, acct *v1alpha1.Account) map[string]string {
	labels := managedLabels(org.Name)
	labels[v1alpha1.LabelAccount] = acct.Name
	labels[LabelAccountUID] = string(acct.UID)
	return labels
}

// reconcileBindings binds the organization's admins to the admin ClusterRole,
// its members to edit and its viewers to view (which reads no Secrets) in
// the workspace.
func (r *AccountReconciler) reconcileBindings(ctx context.Context, org *v1alpha1.Organization, acct *v1alpha1.Account) error {
	ns := acct.WorkspaceName(org.Name)
	bindings := map[string]struct {
		role    string
		members []v1alpha1.Member
	}{
		workspaceAdmins:  {workspaceAdminRole, workspaceMembersWithRole(org, acct, v1alpha1.RoleAdmin)},
		workspaceMembers: {workspaceEditRole, workspaceMembersWithRole(org, acct, v1alpha1.RoleMember)},
		workspaceViewers: {workspaceViewRole, workspaceMembersWithRole(org, acct, v1alpha1.RoleViewer)},
	}
	for name, b := range bindings {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if _, err := ensure(ctx, r.Client, r.APIReader, rb, func() error {
			mergeLabels(rb, workspaceLabels(org, acct))
			rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: b.role}
			rb.Subjects = subjects(b.members)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// workspaceMembersWithRole are the organization's and the account's own
// members with role: both are bound in the account's workspace.
func workspaceMembersWithRole(org *v1alpha1.Organization, acct *v1alpha1.Account, role v1alpha1.Role) []v1alpha1.Member {
	return append(org.MembersWithRole(role), acct.MembersWithRole(role)...)
}

// awaitGuardrails holds the workspace's bindings back until kube-apiserver
// enforces the quotas of its organization's plan there (they exist and
// have a status.hard): a tenant bound before then could create Pods that no
// quota counts, beyond the workspace quota and the organization's total.
func (r *AccountReconciler) awaitGuardrails(ctx context.Context, org *v1alpha1.Organization, namespace string) error {
	if org.Status.Plan == nil {
		return waiting("Waiting for organization %s's plan before binding members in workspace %s", org.Name, namespace)
	}
	g := org.Status.Plan.Guardrails.Inherit(nil)
	for _, q := range []struct {
		name   string
		wanted bool
	}{{QuotaName, len(g.Workspace) > 0}, {ShareQuotaName, len(g.Organization) > 0}} {
		if !q.wanted {
			continue
		}
		quota := &corev1.ResourceQuota{}
		err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: q.name}, quota)
		if apierrors.IsNotFound(err) || (err == nil && !quotaEnforced(quota)) {
			return waiting("Waiting for ResourceQuota %s in workspace %s to be enforced before binding members there", q.name, namespace)
		}
		if err != nil {
			return fmt.Errorf("failed to read ResourceQuota %s/%s: %w", namespace, q.name, err)
		}
	}
	return nil
}

// SetupWithManager watches accounts, their API-key Secrets, their workspace
// namespaces and bindings, and their organization's members.
func (r *AccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Account{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.Secret{}, builder.WithPredicates(notCreated)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(workspaceToAccount), builder.WithPredicates(notCreated)).
		Watches(&rbacv1.RoleBinding{}, handler.EnqueueRequestsFromMapFunc(workspaceToAccount), builder.WithPredicates(notCreated)).
		Watches(&corev1.ResourceQuota{}, handler.EnqueueRequestsFromMapFunc(workspaceToAccount),
			builder.WithPredicates(isManaged, predicate.Or(createdOrDeleted, quotaEnforcedNow))).
		Watches(&v1alpha1.Organization{}, handler.EnqueueRequestsFromMapFunc(r.organizationToAccounts),
			builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, planChanged))).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Workers}).
		Named("account").
		Complete(r)
}

// workspaceToAccount maps a workspace namespace, or an object in one, to
// its Account by the labels orgplane put on it.
func workspaceToAccount(_ context.Context, o client.Object) []reconcile.Request {
	org, acct := o.GetLabels()[v1alpha1.LabelOrganization], o.GetLabels()[v1alpha1.LabelAccount]
	if org == "" || acct == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: v1alpha1.OrganizationNamespace(org), Name: acct}}}
}

func (r *AccountReconciler) organizationToAccounts(ctx context.Context, o client.Object) []reconcile.Request {
	org := o.(*v1alpha1.Organization)
	accounts := &v1alpha1.AccountList{}
	if err := r.List(ctx, accounts, client.InNamespace(org.NamespaceName())); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(accounts.Items))
	for _, a := range accounts.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&a)})
	}
	return reqs
}
