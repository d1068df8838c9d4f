package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/usage"
)

// OrganizationReconciler provisions an organization's namespace, RBAC and
// Users, and reports its plan, limits and usage.
type OrganizationReconciler struct {
	client.Client
	// APIReader reads objects the cache does not hold (namespaces orgplane
	// did not label).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// Plan has the installation's free plan and lifecycle settings: the
	// reconciler decides each organization's plan (internal/plan) and is
	// the only writer of status.plan.
	Plan plan.Settings
	// Verifier checks the organization's license keys.
	Verifier *license.Verifier
	// Workers is how many organizations are reconciled at once.
	Workers int
}

// +kubebuilder:rbac:groups=orgplane.io,resources=organizations,verbs=get;list;watch;update;patch
// The organization admin Role grants these; the manager must hold them to grant them.
// +kubebuilder:rbac:groups=orgplane.io,resources=invitations;domains;joinrequests,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=orgplane.io,resources=invitations/status;domains/status;joinrequests/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=orgplane.io,resources=organizations/status;organizations/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=core,resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete,namespace=orgplane-system

// Reconcile brings an organization's namespace, RBAC and Users to what its
// spec says, or tears them down in order when it is deleted.
func (r *OrganizationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	org := &v1alpha1.Organization{}
	if err := r.Get(ctx, req.NamespacedName, org); apierrors.IsNotFound(err) {
		// Gone without its finalizer (deleted before it was added): its
		// display-name claim must not stay behind.
		wait, err := r.claims().ReleaseOrphans(ctx, req.Name)
		return ctrl.Result{RequeueAfter: wait}, err
	} else if err != nil {
		return ctrl.Result{}, err
	}
	if !org.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, org)
	}
	if err := addFinalizer(ctx, r.Client, org); err != nil {
		return ctrl.Result{}, err
	}

	before := org.DeepCopy()
	err := r.reconcileNormal(ctx, org)
	next := r.setStatus(ctx, org, err)
	if perr := patchStatus(ctx, r.Client, before, org); perr != nil {
		return ctrl.Result{}, perr
	}
	recordTransition(r.Recorder, org, before.Status.Conditions, org.Status.Conditions)
	return ctrl.Result{RequeueAfter: until(next, time.Now())}, resultError(err)
}

func (r *OrganizationReconciler) reconcileNormal(ctx context.Context, org *v1alpha1.Organization) error {
	phases := []func(context.Context, *v1alpha1.Organization) error{
		r.reconcileNamespace,
		r.reconcileNamespaceRBAC,
		r.reconcileClusterRBAC,
		r.reconcileUsers,
		r.reconcileDisplayNameClaim,
		r.reconcileSuspension,
	}
	for _, phase := range phases {
		if err := phase(ctx, org); err != nil {
			return err
		}
	}
	return nil
}

// reconcileSuspension labels the organization's namespace and its
// workspaces orgplane.io/suspended=true while it is suspended, which the
// policy orgplane-suspension freezes for every writer, and removes the
// label once it is resumed.
func (r *OrganizationReconciler) reconcileSuspension(ctx context.Context, org *v1alpha1.Organization) error {
	namespaces, err := usage.Workspaces(ctx, r.Client, org.Name)
	if err != nil {
		return err
	}
	own := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: org.NamespaceName()}, own); err != nil {
		return fmt.Errorf("failed to read namespace %s: %w", org.NamespaceName(), err)
	}
	namespaces = append(namespaces, *own)
	for i := range namespaces {
		ns := &namespaces[i]
		if (ns.Labels[v1alpha1.LabelSuspended] == "true") == org.Spec.Suspended {
			continue
		}
		patch := client.MergeFrom(ns.DeepCopy())
		if org.Spec.Suspended {
			ns.Labels[v1alpha1.LabelSuspended] = "true"
		} else {
			delete(ns.Labels, v1alpha1.LabelSuspended)
		}
		if err := r.Patch(ctx, ns, patch); err != nil {
			return fmt.Errorf("failed to label namespace %s as suspended: %w", ns.Name, err)
		}
	}
	return nil
}

// reconcileNamespace creates the organization's namespace, and refuses to
// take over one of that name that orgplane did not create for it.
func (r *OrganizationReconciler) reconcileNamespace(ctx context.Context, org *v1alpha1.Organization) error {
	name := org.NamespaceName()
	want := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: managedLabels(org.Name)}}
	if err := controllerutil.SetControllerReference(org, want, r.Scheme()); err != nil {
		return err
	}
	ns, created, err := getOrCreateNamespace(ctx, r.Client, r.APIReader, want)
	switch {
	case err != nil:
		return err
	case created:
	case !metav1.IsControlledBy(ns, org):
		return stalled(v1alpha1.ReasonNamespaceConflict,
			"Namespace %s already exists and was not created by orgplane for this organization; delete or rename it, or rename the organization", name)
	case !ns.DeletionTimestamp.IsZero():
		return waiting("Namespace %s is terminating; it will be created again", name)
	}
	org.Status.Namespace = name
	return nil
}

// reconcileNamespaceRBAC binds the organization's admins and members, in
// its namespace, to the ClusterRoles every organization shares
// (config/rbac/organization_roles.yaml, shipped with the install): two
// writes fewer for each organization than a pair of Roles of its own.
func (r *OrganizationReconciler) reconcileNamespaceRBAC(ctx context.Context, org *v1alpha1.Organization) error {
	ns := org.NamespaceName()
	for _, role := range []v1alpha1.Role{v1alpha1.RoleAdmin, v1alpha1.RoleMember} {
		name, members := orgMemberRole, org.Spec.Members
		if role == v1alpha1.RoleAdmin {
			name, members = orgAdminRole, org.MembersWithRole(v1alpha1.RoleAdmin)
		}
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		if err := r.dropRoleKindBinding(ctx, binding); err != nil {
			return err
		}
		if _, err := ensure(ctx, r.Client, r.APIReader, binding, func() error {
			mergeLabels(binding, managedLabels(org.Name))
			binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: name}
			binding.Subjects = subjects(members)
			return controllerutil.SetControllerReference(org, binding, r.Scheme())
		}); err != nil {
			return err
		}
	}
	return nil
}

// dropRoleKindBinding deletes a binding made, before the roles were
// shared, to a Role of the organization's namespace (a binding's roleRef
// cannot change), and that Role, once, on the upgrade.
func (r *OrganizationReconciler) dropRoleKindBinding(ctx context.Context, binding *rbacv1.RoleBinding) error {
	old := &rbacv1.RoleBinding{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(binding), old); err != nil || old.RoleRef.Kind != "Role" {
		return client.IgnoreNotFound(err)
	}
	if err := r.Delete(ctx, old); client.IgnoreNotFound(err) != nil {
		return err
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: old.RoleRef.Name, Namespace: old.Namespace}}
	return client.IgnoreNotFound(r.Delete(ctx, role))
}

// reconcileClusterRBAC lets admins get and patch the Organization. Members
// read it through my.orgplane.io (kubectl get myorgs), which needs no
// object per organization: every ClusterRoleBinding is visited by
// kube-apiserver's RBAC authorizer on every request it authorizes, so
// each one an organization adds slows every request in the cluster.
func (r *OrganizationReconciler) reconcileClusterRBAC(ctx context.Context, org *v1alpha1.Organization) error {
	name := orgClusterRoleName(org.Name, v1alpha1.RoleAdmin)
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := ensure(ctx, r.Client, r.APIReader, cr, func() error {
		mergeLabels(cr, managedLabels(org.Name))
		cr.Rules = orgObjectRules(org.Name)
		return controllerutil.SetControllerReference(org, cr, r.Scheme())
	}); err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := ensure(ctx, r.Client, r.APIReader, crb, func() error {
		mergeLabels(crb, managedLabels(org.Name))
		crb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kindClusterRole, Name: name}
		crb.Subjects = subjects(org.MembersWithRole(v1alpha1.RoleAdmin))
		return controllerutil.SetControllerReference(org, crb, r.Scheme())
	}); err != nil {
		return err
	}
	// The members' ClusterRole and binding an earlier orgplane made.
	return r.deleteOrgClusterRBAC(ctx, org, v1alpha1.RoleMember)
}

// reconcileUsers creates a User for every User member that has none.
func (r *OrganizationReconciler) reconcileUsers(ctx context.Context, org *v1alpha1.Organization) error {
	for _, username := range index.MemberUsernames(org) {
		users := &v1alpha1.UserList{}
		if err := r.List(ctx, users, client.MatchingFields{index.Username: username}); err != nil {
			return fmt.Errorf("failed to list users named %s: %w", username, err)
		}
		if len(users.Items) > 0 {
			continue
		}
		user := &v1alpha1.User{
			ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.UserObjectName(username),
				Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}},
			Spec: v1alpha1.UserSpec{Username: username},
		}
		if looksLikeEmail(username) {
			user.Spec.Email = username
		}
		if err := r.Create(ctx, user); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("failed to create user %s: %w", username, err)
		}
	}
	return nil
}

// reconcileDisplayNameClaim keeps the claim on the organization's display
// name, owned by the organization; reconcileDelete releases it.
func (r *OrganizationReconciler) reconcileDisplayNameClaim(ctx context.Context, org *v1alpha1.Organization) error {
	if err := r.claims().Keep(ctx, org); err != nil {
		return fmt.Errorf("failed to keep the display-name claim: %w", err)
	}
	return nil
}

func (r *OrganizationReconciler) claims() *displayname.Claims {
	return &displayname.Claims{Client: r.Client, Reader: r.APIReader, Cached: r.Client, IndexField: index.DisplayName}
}

// SetupWithManager watches organizations and everything they own.
func (r *OrganizationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	owned := builder.WithPredicates(notCreated)
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Organization{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.Namespace{}, owned).
		Owns(&rbacv1.RoleBinding{}, owned).
		Owns(&rbacv1.ClusterRole{}, owned).
		Owns(&rbacv1.ClusterRoleBinding{}, owned).
		Watches(&v1alpha1.Account{}, enqueueAfter(usageDelay, r.namespaceToOrganization),
			builder.WithPredicates(predicate.Or(createdOrDeleted, predicate.GenerationChangedPredicate{}))).
		Watches(&v1alpha1.User{}, handler.EnqueueRequestsFromMapFunc(r.userToOrganizations), builder.WithPredicates(deleted)).
		// Seats: a pending invitation holds one until it is answered or expires.
		Watches(&v1alpha1.Invitation{}, handler.EnqueueRequestsFromMapFunc(r.namespaceToOrganization)).
		Watches(&v1alpha1.License{}, handler.EnqueueRequestsFromMapFunc(r.licenseToOrganizations)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
			return r.licensedOrganizations(ctx)
		}), builder.WithPredicates(isRevocations)).
		Watches(&corev1.ResourceQuota{}, enqueueAfter(usageDelay, r.namespaceToOrganization),
			builder.WithPredicates(isManaged, quotaUsageChanged)).
		Watches(&appsv1.Deployment{}, enqueueAfter(usageDelay, r.namespaceToOrganization),
			builder.OnlyMetadata, builder.WithPredicates(createdOrDeleted)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Workers}).
		Named("organization").
		Complete(r)
}

// namespaceToOrganization maps an object to the organization whose
// namespace, or whose account's workspace namespace, holds it.
func (r *OrganizationReconciler) namespaceToOrganization(ctx context.Context, o client.Object) []reconcile.Request {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: o.GetNamespace()}, ns); err != nil {
		return nil
	}
	org := ns.Labels[v1alpha1.LabelOrganization]
	if org == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: org}}}
}

// licenseToOrganizations wakes the organization a License is assigned to
// (on a reassignment, the old and the new one), and those of the other
// Licenses with its license id, whose custody may move with it.
func (r *OrganizationReconciler) licenseToOrganizations(ctx context.Context, o client.Object) []reconcile.Request {
	l := o.(*v1alpha1.License)
	reqs := licenseToOrganization(ctx, l)
	if l.Status.LicenseID == "" {
		return reqs
	}
	return append(reqs, r.licensedOrganizations(ctx, client.MatchingFields{index.LicenseID: l.Status.LicenseID})...)
}

// licensedOrganizations wakes the organizations Licenses are assigned to:
// all of them when the revocation list in force changed.
func (r *OrganizationReconciler) licensedOrganizations(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &v1alpha1.LicenseList{}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil
	}
	seen := map[string]bool{}
	var reqs []reconcile.Request
	for _, l := range list.Items {
		if org := l.Spec.Organization; org != "" && !seen[org] {
			seen[org] = true
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: org}})
		}
	}
	return reqs
}

func (r *OrganizationReconciler) userToOrganizations(ctx context.Context, o client.Object) []reconcile.Request {
	orgs := &v1alpha1.OrganizationList{}
	if err := r.List(ctx, orgs, client.MatchingFields{index.MemberUser: o.(*v1alpha1.User).Spec.Username}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(orgs.Items))
	for _, org := range orgs.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: org.Name}})
	}
	return reqs
}
