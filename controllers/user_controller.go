package controllers

import (
	"context"
	"fmt"
	"sort"

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
	"github.com/orgplane/orgplane/internal/index"
)

// UserReconciler lists in each User's status the organizations it belongs
// to, and removes Users orgplane created once they belong to none.
type UserReconciler struct {
	client.Client
	Recorder recorder.EventRecorder
	// Workers is how many users are reconciled at once.
	Workers int
}

// +kubebuilder:rbac:groups=orgplane.io,resources=users,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=orgplane.io,resources=users/status,verbs=get;update;patch

// Reconcile sets a User's memberships from the organization index.
func (r *UserReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	user := &v1alpha1.User{}
	if err := r.Get(ctx, req.NamespacedName, user); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	memberships, err := r.memberships(ctx, user.Spec.Username)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(memberships) == 0 && user.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue {
		ctrl.LoggerFrom(ctx).Info("Deleting user that belongs to no organization any more")
		return ctrl.Result{}, client.IgnoreNotFound(r.Delete(ctx, user, client.Preconditions{UID: &user.UID}))
	}
	before := user.DeepCopy()
	user.Status.Organizations = memberships
	user.Status.ObservedGeneration = user.Generation
	setKstatusConditions(&user.Status.Conditions, user.Generation, nil, fmt.Sprintf("Member of %d organizations", len(memberships)))
	if err := patchStatus(ctx, r.Client, before, user); err != nil {
		return ctrl.Result{}, err
	}
	recordTransition(r.Recorder, user, before.Status.Conditions, user.Status.Conditions)
	return ctrl.Result{}, nil
}

// memberships lists the organizations with a User or ServiceAccount member
// authenticated as username,
// sorted by name, from the index. Deleting organizations are left out.
func (r *UserReconciler) memberships(ctx context.Context, username string) ([]v1alpha1.OrganizationMembership, error) {
	orgs := &v1alpha1.OrganizationList{}
	if err := r.List(ctx, orgs, client.MatchingFields{index.MemberUser: username}); err != nil {
		return nil, fmt.Errorf("failed to list organizations of %s: %w", username, err)
	}
	var out []v1alpha1.OrganizationMembership
	for _, org := range orgs.Items {
		if !org.DeletionTimestamp.IsZero() {
			continue
		}
		for _, m := range org.Spec.Members {
			if m.Kind != v1alpha1.SubjectGroup && index.MemberUsername(m) == username {
				out = append(out, v1alpha1.OrganizationMembership{Name: org.Name, Role: m.Role})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SetupWithManager watches Users and the organizations they belong to, or
// belonged to until a change.
func (r *UserReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.User{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.Organization{}, handler.EnqueueRequestsFromMapFunc(r.organizationToUsers),
			builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, deletionStarted))).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Workers}).
		Named("user").
		Complete(r)
}

// organizationToUsers maps an organization to the Users of its members and
// the Users whose status still lists it (members just removed).
func (r *UserReconciler) organizationToUsers(ctx context.Context, o client.Object) []reconcile.Request {
	seen := map[string]bool{}
	var reqs []reconcile.Request
	add := func(users *v1alpha1.UserList) {
		for _, u := range users.Items {
			if !seen[u.Name] {
				seen[u.Name] = true
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: u.Name}})
			}
		}
	}
	for _, username := range index.MemberUsernames(o) {
		users := &v1alpha1.UserList{}
		if r.List(ctx, users, client.MatchingFields{index.Username: username}) == nil {
			add(users)
		}
	}
	users := &v1alpha1.UserList{}
	if r.List(ctx, users, client.MatchingFields{index.UserOrganizations: o.GetName()}) == nil {
		add(users)
	}
	return reqs
}
