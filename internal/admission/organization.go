package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/tenancy"
	"github.com/orgplane/orgplane/internal/usage"
)

// guard knows the manager's own username and asks who is a platform admin.
type guard struct {
	self   string
	admins *tenancy.PlatformAdmins
}

// requester is who sent the admission request in ctx.
func requester(ctx context.Context) (user.Info, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, err
	}
	return tenancy.UserFromAdmission(req.UserInfo), nil
}

// isSelf says whether u is the manager (the reconcilers, or the REST API
// writing for its caller).
func (g guard) isSelf(u user.Info) bool { return u.GetName() == g.self }

// keepFinalizers refuses the removal of an orgplane.io/ finalizer by
// anyone but the manager: a finalizer removed by hand lets an Account or
// Organization go while its workspace, RBAC and usage stay behind.
func (g guard) keepFinalizers(ctx context.Context, old, obj client.Object) error {
	removed := slices.DeleteFunc(slices.Clone(old.GetFinalizers()), func(f string) bool {
		return !strings.HasPrefix(f, v1alpha1.FinalizerPrefix) || slices.Contains(obj.GetFinalizers(), f)
	})
	if len(removed) == 0 {
		return nil
	}
	u, err := requester(ctx)
	if err != nil || g.isSelf(u) {
		return err
	}
	return apierrors.NewForbidden(groupResourceOf(obj), obj.GetName(), fmt.Errorf(
		"only orgplane may remove its finalizer %s: it removes it once the workspace, bindings and usage are cleaned up; delete the object and orgplane finishes", removed[0]))
}

func groupResourceOf(obj client.Object) (gr schema.GroupResource) {
	if _, ok := obj.(*v1alpha1.Organization); ok {
		return organizationsResource
	}
	return accountsResource
}

// +kubebuilder:webhook:path=/mutate-orgplane-io-v1alpha1-organization,mutating=true,failurePolicy=fail,sideEffects=None,groups=orgplane.io,resources=organizations,verbs=create,versions=v1alpha1,name=organizations.mutate.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// OrganizationDefaulter records who created an Organization in the
// orgplane.io/created-by annotation, from the request, not from the client:
// the requester, or, when the manager writes for the REST API, the REST
// caller the manager named. It also adds orgplane's finalizer, so that the
// reconciler need not write it (finalizerAtCreate).
type OrganizationDefaulter struct{ guard }

var _ admission.Defaulter[*v1alpha1.Organization] = &OrganizationDefaulter{}

// Default sets orgplane.io/created-by to the requester's username.
func (d *OrganizationDefaulter) Default(ctx context.Context, o *v1alpha1.Organization) error {
	u, err := requester(ctx)
	if err != nil {
		return err
	}
	controllerutil.AddFinalizer(o, v1alpha1.Finalizer)
	if d.isSelf(u) && o.Annotations[v1alpha1.AnnotationCreatedBy] != "" {
		return nil
	}
	if o.Annotations == nil {
		o.Annotations = map[string]string{}
	}
	o.Annotations[v1alpha1.AnnotationCreatedBy] = u.GetName()
	return nil
}

// +kubebuilder:webhook:path=/mutate-orgplane-io-v1alpha1-account,mutating=true,failurePolicy=fail,sideEffects=None,groups=orgplane.io,resources=accounts,verbs=create,versions=v1alpha1,name=accounts.mutate.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// AccountDefaulter adds orgplane's finalizer to a new Account. Organizations
// and Accounts are made with it, so that provisioning one costs no write
// to add it (the reconcilers still add it to one made while the webhook was
// away, or before it was registered).
type AccountDefaulter struct{}

var _ admission.Defaulter[*v1alpha1.Account] = AccountDefaulter{}

// Default adds the finalizer.
func (AccountDefaulter) Default(_ context.Context, a *v1alpha1.Account) error {
	controllerutil.AddFinalizer(a, v1alpha1.Finalizer)
	return nil
}

// +kubebuilder:webhook:path=/validate-orgplane-io-v1alpha1-organization,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=orgplane.io,resources=organizations,verbs=create;update,versions=v1alpha1,name=organizations.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30,patch=`{"matchConditions":[{"name":"guarded-change","expression":"request.operation == 'CREATE' || object.spec.members != oldObject.spec.members || object.spec.displayName != oldObject.spec.displayName || object.metadata.?finalizers.orValue([]) != oldObject.metadata.?finalizers.orValue([]) || object.spec.?suspended.orValue(false) != oldObject.spec.?suspended.orValue(false) || object.metadata.?annotations[?'orgplane.io/created-by'].orValue('') != oldObject.metadata.?annotations[?'orgplane.io/created-by'].orValue('') || object.spec.?auth0.?id.orValue('') != oldObject.spec.?auth0.?id.orValue('')"}]}`

// OrganizationValidator refuses: an organization whose creator may not
// create one (group, per-user cap) or whose namespace exists already; a
// display name that is invalid or that another organization holds however
// written (one claim per normalized name, for every writer);
// members over the users limit or added to a suspended organization;
// suspending or resuming by anyone but a platform admin; a changed
// creator; and the removal of orgplane's finalizer by anyone but orgplane.
// The members live in the Organization itself, so the API server's own
// optimistic concurrency on it makes the users limit atomic. The match
// condition spares the call for every other update (labels, descriptions).
type OrganizationValidator struct {
	// Plan answers for organizations with no plan recorded yet.
	Plan plan.Settings
	guard
	creators   *tenancy.Creators
	namespaces namespaceReader
	claims     *displayname.Claims
}

var _ admission.Validator[*v1alpha1.Organization] = &OrganizationValidator{}

// ValidateCreate checks the creator, the display name, the namespace and
// the members, then claims the display name.
func (v *OrganizationValidator) ValidateCreate(ctx context.Context, o *v1alpha1.Organization) (admission.Warnings, error) {
	u, err := requester(ctx)
	if err != nil {
		return nil, err
	}
	capped, err := v.checkCreator(ctx, u)
	if err != nil {
		return nil, err
	}
	if err := checkDisplayName(o); err != nil {
		return nil, err
	}
	if err := v.checkAuth0ID(ctx, o); err != nil {
		return nil, err
	}
	// A display name another organization holds is the refusal that says
	// most (its slug usually names the same namespace): check it first,
	// without claiming, and claim last, once nothing else can refuse.
	if err := v.claims.Take(ctx, o, true); err != nil {
		return nil, err
	}
	if err := v.namespaces.mustBeFree(ctx, organizationsResource, o.Name, o.NamespaceName()); err != nil {
		return nil, err
	}
	if err := v.checkSSO(o, nil, v.Plan.Of(o)); err != nil {
		return nil, err
	}
	if err := v.checkMembers(o, 0, v.Plan.Of(o)); err != nil {
		return nil, err
	}
	// The cap exactly, once nothing else refuses (a refusal after it would
	// hold a unit of it for the ledger's TTL).
	if capped {
		if err := v.creators.Reserve(ctx, o.Annotations[v1alpha1.AnnotationCreatedBy], o.Name, isDryRun(ctx)); err != nil {
			return nil, err
		}
	}
	return nil, v.claims.Take(ctx, o, isDryRun(ctx))
}

// checkCreator applies the creator groups and says whether the per-creator
// cap binds (ValidateCreate reserves a unit of it, exactly, last). Platform
// admins (and GitOps pipelines given their rights) are bound by neither.
// When the manager writes for the REST API, the REST API has checked its
// caller's groups, and the cap applies to the caller it recorded.
func (v *OrganizationValidator) checkCreator(ctx context.Context, u user.Info) (capped bool, err error) {
	if !v.isSelf(u) {
		admin, err := v.admins.Is(ctx, u)
		if err != nil || admin {
			return false, err
		}
		if err := v.creators.MayCreate(u); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ValidateUpdate checks finalizers, suspension, the creator, a new display
// name and added members, then moves the display-name claim.
func (v *OrganizationValidator) ValidateUpdate(ctx context.Context, old, o *v1alpha1.Organization) (admission.Warnings, error) {
	if err := v.keepFinalizers(ctx, old, o); err != nil {
		return nil, err
	}
	if old.Annotations[v1alpha1.AnnotationCreatedBy] != o.Annotations[v1alpha1.AnnotationCreatedBy] {
		return nil, apierrors.NewForbidden(organizationsResource, o.Name, fmt.Errorf(
			"annotation %s records who created the organization and cannot be changed", v1alpha1.AnnotationCreatedBy))
	}
	if err := v.checkSuspension(ctx, old, o); err != nil {
		return nil, err
	}
	if old.Spec.DisplayName != o.Spec.DisplayName {
		if err := checkDisplayName(o); err != nil {
			return nil, err
		}
	}
	if auth0ID(old) != auth0ID(o) {
		if err := v.checkAuth0ID(ctx, o); err != nil {
			return nil, err
		}
	}
	if err := v.checkSSO(o, old, v.Plan.Of(old)); err != nil {
		return nil, err
	}
	if err := v.checkAddedMembers(ctx, old, o, v.Plan.Of(old)); err != nil {
		return nil, err
	}
	return nil, v.moveClaim(ctx, old, o)
}

// checkAddedMembers counts the seats as the limiter does: the distinct
// subjects of the organization and of its accounts, the people pending
// invitations hold seats for, and the users admissions have reserved but
// not yet shown, read from the API server; each person once.
func (v *OrganizationValidator) checkAddedMembers(ctx context.Context, old, o *v1alpha1.Organization, p *v1alpha1.Plan) error {
	if !addsMember(old, o) {
		return nil
	}
	accounts := &v1alpha1.AccountList{}
	if err := v.namespaces.live.List(ctx, accounts, client.InNamespace(o.NamespaceName())); err != nil {
		return fmt.Errorf("failed to list the accounts of %s: %w", o.Name, err)
	}
	now := time.Now()
	held, err := usage.PendingInvitees(ctx, v.namespaces.live, o, nil, now)
	if err != nil {
		return err
	}
	for _, r := range unexpired(old.Status.Reservations, now) {
		if r.Resource == usage.Users {
			held = append(held, r.Name)
		}
	}
	before, after := seats(usage.Subjects(old, accounts.Items), held), seats(usage.Subjects(o, accounts.Items), held)
	if after <= before || int64(after) <= p.Limits.Users {
		return nil
	}
	return overLimit(o, p, usage.Users, int64(before), p.Limits.Users)
}

// seats counts members and held seats, each person once.
func seats(members, held []string) int {
	set := map[string]bool{}
	for _, n := range append(slices.Clone(members), held...) {
		set[n] = true
	}
	return len(set)
}

// moveClaim claims a renamed organization's new display name and releases
// the old one (nothing to do when both normalize alike).
func (v *OrganizationValidator) moveClaim(ctx context.Context, old, o *v1alpha1.Organization) error {
	if displayname.ClaimName(old.Spec.DisplayName) == displayname.ClaimName(o.Spec.DisplayName) {
		return nil
	}
	if err := v.claims.Take(ctx, o, isDryRun(ctx)); err != nil || isDryRun(ctx) {
		return err
	}
	return v.claims.Drop(ctx, old, old.Spec.DisplayName)
}

func checkDisplayName(o *v1alpha1.Organization) error {
	msgs := displayname.Validate(o.Spec.DisplayName)
	errs := make(field.ErrorList, 0, len(msgs))
	path := field.NewPath("spec", "displayName")
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(path, o.Spec.DisplayName, msg))
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("Organization").GroupKind(), o.Name, errs)
}

// auth0ID is the SSO organization o is linked to, or "".
func auth0ID(o *v1alpha1.Organization) string {
	if o.Spec.Auth0 == nil {
		return ""
	}
	return o.Spec.Auth0.ID
}

// checkAuth0ID refuses (409) an SSO organization id another organization
// is linked to: an SSO organization links to one organization per
// installation, or its users would sign in to another tenant's. The
// refusal says only that the id is taken, nothing of who holds it. It reads
// the cache's index: two creates with one id at the same instant may both
// pass (docs/security.md).
func (v *OrganizationValidator) checkAuth0ID(ctx context.Context, o *v1alpha1.Organization) error {
	id := auth0ID(o)
	if id == "" {
		return nil
	}
	holders := &v1alpha1.OrganizationList{}
	if err := v.namespaces.cached.List(ctx, holders, client.MatchingFields{index.Auth0ID: id}); err != nil {
		return fmt.Errorf("failed to list organizations by SSO id: %w", err)
	}
	for _, h := range holders.Items {
		if h.Name != o.Name {
			return apierrors.NewConflict(organizationsResource, o.Name, fmt.Errorf(
				"spec.auth0.id %q is already linked to another organization: an SSO organization links to one organization only; use your own SSO organization's id", id))
		}
	}
	return nil
}

// checkSuspension lets only platform admins suspend or resume, and refuses
// new members while suspended.
func (v *OrganizationValidator) checkSuspension(ctx context.Context, old, o *v1alpha1.Organization) error {
	if old.Spec.Suspended != o.Spec.Suspended {
		u, err := requester(ctx)
		if err != nil {
			return err
		}
		admin, err := v.admins.Is(ctx, u)
		if err != nil || admin {
			return err
		}
		return apierrors.NewForbidden(organizationsResource, o.Name, fmt.Errorf(
			"only platform admins (who may update organizations.orgplane.io cluster-wide) may suspend or resume an organization"))
	}
	if addsMember(old, o) {
		if err := refuseNew(o, v.Plan.Of(old), organizationsResource, o.Name, "new members"); err != nil {
			return err
		}
	}
	if o.Spec.Suspended && old.Spec.DisplayName != o.Spec.DisplayName {
		return suspended(organizationsResource, o.Name, "new display name")
	}
	return nil
}

// checkSSO refuses linking an SSO organization (spec.auth0.id), on create
// or when it changes, unless the plan is entitled to sso. An organization
// linked before keeps its link.
func (v *OrganizationValidator) checkSSO(o, old *v1alpha1.Organization, p *v1alpha1.Plan) error {
	if auth0ID(o) == "" || (old != nil && auth0ID(old) == auth0ID(o)) || p.Entitled(v1alpha1.EntitlementSSO) {
		return nil
	}
	return apierrors.NewForbidden(organizationsResource, o.Name, fmt.Errorf(
		"spec.auth0: linking an SSO organization needs the %q entitlement, which the %s plan does not have; assign a license whose key grants it, or leave spec.auth0 out",
		v1alpha1.EntitlementSSO, p.Type))
}

func addsMember(old, o *v1alpha1.Organization) bool {
	for _, m := range o.Spec.Members {
		if !slices.ContainsFunc(old.Spec.Members, func(p v1alpha1.Member) bool {
			return p.Kind == m.Kind && p.Name == m.Name && p.Namespace == m.Namespace
		}) {
			return true
		}
	}
	return false
}

// ValidateDelete allows every delete.
func (v *OrganizationValidator) ValidateDelete(context.Context, *v1alpha1.Organization) (admission.Warnings, error) {
	return nil, nil
}

func (v *OrganizationValidator) checkMembers(o *v1alpha1.Organization, before int, p *v1alpha1.Plan) error {
	n := len(o.Spec.Members)
	if n <= before || int64(n) <= p.Limits.Users {
		return nil
	}
	return overLimit(o, p, usage.Users, int64(before), p.Limits.Users)
}

var organizationsResource = schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "organizations"}

// suspended refuses what a suspended organization may not get.
func suspended(gr schema.GroupResource, name, what string) error {
	return apierrors.NewForbidden(gr, name, fmt.Errorf(
		"the organization is suspended: it keeps running but gets no %s until a platform admin resumes it", what))
}
