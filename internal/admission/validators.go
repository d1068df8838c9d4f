package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/custody"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/usage"
)

// +kubebuilder:webhook:path=/validate-orgplane-io-v1alpha1-account,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=orgplane.io,resources=accounts,verbs=create;update,versions=v1alpha1,name=accounts.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30,patch=`{"matchConditions":[{"name":"creates-or-changes-finalizers","expression":"request.operation == 'CREATE' || object.metadata.?finalizers.orValue([]) != oldObject.metadata.?finalizers.orValue([]) || object.spec.?members.orValue([]) != oldObject.spec.?members.orValue([])"}]}`

// AccountValidator refuses an account whose workspace namespace cannot be
// made, in a suspended organization, or over its organization's limit of
// accounts or, with its members, of users; and the removal of orgplane's
// finalizer by anyone but orgplane.
type AccountValidator struct {
	reserver
	guard
}

var _ admission.Validator[*v1alpha1.Account] = &AccountValidator{}

// ValidateCreate checks the workspace name and reserves one account in the
// organization whose namespace holds it.
func (v *AccountValidator) ValidateCreate(ctx context.Context, a *v1alpha1.Account) (admission.Warnings, error) {
	org, err := v.namespaces.organization(ctx, a.Namespace, v1alpha1.OrganizationNamespacePrefix)
	if err != nil || org == "" {
		return nil, err
	}
	if err := v.checkWorkspace(ctx, org, a); err != nil {
		return nil, err
	}
	if err := v.limiter.Reserve(ctx, org, usage.Accounts, a.Name, isDryRun(ctx)); err != nil {
		return nil, err
	}
	return nil, v.reserveMembers(ctx, org, nil, a.Spec.Members)
}

// reserveMembers reserves one user for each member of added not in old and
// not already counted in the organization (a subject counts once).
func (v *AccountValidator) reserveMembers(ctx context.Context, org string, old, added []v1alpha1.Member) error {
	for _, m := range added {
		if slices.ContainsFunc(old, func(o v1alpha1.Member) bool { return index.SubjectKey(o) == index.SubjectKey(m) }) {
			continue
		}
		if err := v.limiter.Reserve(ctx, org, usage.Users, index.SubjectKey(m), isDryRun(ctx)); err != nil {
			return err
		}
	}
	return nil
}

// checkWorkspace refuses an account whose workspace namespace would be
// invalid or exists already: orgplane never adopts a namespace.
func (v *AccountValidator) checkWorkspace(ctx context.Context, org string, a *v1alpha1.Account) error {
	if err := v1alpha1.CheckWorkspaceName(org, a.Name); err != nil {
		return apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("Account").GroupKind(), a.Name,
			field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), a.Name, err.Error())})
	}
	return v.namespaces.mustBeFree(ctx, accountsResource, a.Name, v1alpha1.WorkspaceNamespace(org, a.Name))
}

// ValidateUpdate refuses the removal of orgplane's finalizer by anyone but
// orgplane, and new members over the users limit or in a suspended
// organization.
func (v *AccountValidator) ValidateUpdate(ctx context.Context, old, a *v1alpha1.Account) (admission.Warnings, error) {
	if err := v.keepFinalizers(ctx, old, a); err != nil {
		return nil, err
	}
	org, err := v.namespaces.organization(ctx, a.Namespace, v1alpha1.OrganizationNamespacePrefix)
	if err != nil || org == "" {
		return nil, err
	}
	return nil, v.reserveMembers(ctx, org, old.Spec.Members, a.Spec.Members)
}

// ValidateDelete allows every delete.
func (v *AccountValidator) ValidateDelete(context.Context, *v1alpha1.Account) (admission.Warnings, error) {
	return nil, nil
}

var accountsResource = schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "accounts"}

// +kubebuilder:webhook:path=/validate-apps-v1-deployment,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=apps,resources=deployments,verbs=create,versions=v1,name=deployments.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30,patch=`{"namespaceSelector":{"matchExpressions":[{"key":"orgplane.io/account","operator":"Exists"}]}}`

// DeploymentValidator refuses a Deployment in an account's workspace over
// its organization's limit. It is registered only for namespaces labelled
// orgplane.io/account, so nothing else depends on orgplane being up.
type DeploymentValidator struct{ reserver }

var _ admission.Validator[*appsv1.Deployment] = &DeploymentValidator{}

// ValidateCreate reserves one deployment in the workspace's organization.
func (v *DeploymentValidator) ValidateCreate(ctx context.Context, d *appsv1.Deployment) (admission.Warnings, error) {
	return nil, v.reserve(ctx, d.Namespace, usage.Deployments, d.Namespace+"/"+d.Name)
}

// ValidateUpdate allows every update.
func (v *DeploymentValidator) ValidateUpdate(context.Context, *appsv1.Deployment, *appsv1.Deployment) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete allows every delete.
func (v *DeploymentValidator) ValidateDelete(context.Context, *appsv1.Deployment) (admission.Warnings, error) {
	return nil, nil
}

// reserver reserves one more of a resource in the organization whose
// namespace holds it; objects in other namespaces are not limited. Its
// reads come from the manager's cache (the Limiter says why that stays
// exact): a real create reads its Organization live once, a dry-run
// reads nothing live but a namespace the cache has not seen.
type reserver struct {
	limiter    *Limiter
	namespaces namespaceReader
}

func (r reserver) reserve(ctx context.Context, namespace, resource, name string) error {
	org, err := r.namespaces.organization(ctx, namespace, "")
	if err != nil || org == "" {
		return err
	}
	return r.limiter.Reserve(ctx, org, resource, name, isDryRun(ctx))
}

// organization is the organization orgplane labelled namespace with; with a
// prefix, only a namespace named prefix+organization counts.
func (r namespaceReader) organization(ctx context.Context, namespace, prefix string) (string, error) {
	ns, err := r.get(ctx, namespace)
	if err != nil {
		return "", client.IgnoreNotFound(err)
	}
	org := ns.Labels[v1alpha1.LabelOrganization]
	if ns.Labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue || (prefix != "" && namespace != prefix+org) {
		return "", nil
	}
	return org, nil
}

// namespaceReader reads namespaces from the cache, and from the API server
// when the cache has not seen one yet: an object created the instant the
// reconciler made its namespace must not escape the limits.
type namespaceReader struct {
	cached, live client.Reader
}

func (r namespaceReader) get(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	err := r.cached.Get(ctx, types.NamespacedName{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		err = r.live.Get(ctx, types.NamespacedName{Name: name}, ns)
	}
	return ns, err
}

// mustBeFree refuses (409) a create whose namespace exists already.
func (r namespaceReader) mustBeFree(ctx context.Context, gr schema.GroupResource, name, namespace string) error {
	ns, err := r.get(ctx, namespace)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("failed to read namespace %s: %w", namespace, err)
	case !ns.DeletionTimestamp.IsZero():
		return apierrors.NewConflict(gr, name, fmt.Errorf("namespace %s is still being deleted; retry once it is gone", namespace))
	}
	return apierrors.NewConflict(gr, name, fmt.Errorf(
		"namespace %s already exists and orgplane does not adopt namespaces it did not create for this object; choose another name", namespace))
}

func isDryRun(ctx context.Context) bool {
	req, err := admission.RequestFromContext(ctx)
	return err == nil && req.DryRun != nil && *req.DryRun
}

// +kubebuilder:webhook:path=/validate-orgplane-io-v1alpha1-license,mutating=false,failurePolicy=fail,sideEffects=None,groups=orgplane.io,resources=licenses,verbs=create;update,versions=v1alpha1,name=licenses.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// LicenseValidator refuses keys that fail verification, assignments by
// anyone but the organization's admins or platform admins (as
// ResourceQuota judges the requester), keys bound to another organization,
// a license id already active in another organization, and licenses whose
// limits are below the organization's current usage.
type LicenseValidator struct {
	Verifier *license.Verifier
	// Reader reads from the API server; Cached lists Licenses by id.
	Reader, Cached client.Reader
	Admins         custody.PlatformAdmins
	// Plan says what a key grants: its limits and guardrails, never less
	// than the free plan's.
	Plan plan.Settings
}

var _ admission.Validator[*v1alpha1.License] = &LicenseValidator{}

// ValidateCreate checks the key and the assignment.
func (v *LicenseValidator) ValidateCreate(ctx context.Context, l *v1alpha1.License) (admission.Warnings, error) {
	return v.validate(ctx, nil, l)
}

// ValidateUpdate checks a changed key or assignment.
func (v *LicenseValidator) ValidateUpdate(ctx context.Context, old, l *v1alpha1.License) (admission.Warnings, error) {
	if old.Spec == l.Spec || (l.Spec.Organization == "" && l.Spec.Key == old.Spec.Key) {
		// Unassigning keeps nothing to check: a key no longer trusted
		// must not keep an organization from being deleted.
		return nil, nil
	}
	return v.validate(ctx, old, l)
}

// ValidateDelete allows every delete: the organization falls back to
// another license or the free plan, and nothing is deleted.
func (v *LicenseValidator) ValidateDelete(context.Context, *v1alpha1.License) (admission.Warnings, error) {
	return nil, nil
}

func (v *LicenseValidator) validate(ctx context.Context, old, l *v1alpha1.License) (admission.Warnings, error) {
	claims, phase, err := v.Verifier.Verify(l.Spec.Key, time.Now())
	if phase == license.Invalid {
		return nil, invalidLicense(l, fmt.Sprintf("spec.key: %v", err))
	}
	var warnings admission.Warnings
	if phase != license.Valid {
		warnings = append(warnings, fmt.Sprintf("license is %s: %v", phase, err))
	}
	if l.Spec.Organization == "" {
		return warnings, nil
	}
	org, err := custody.OrganizationOf(ctx, v.Reader, l)
	if err != nil {
		return nil, err
	}
	if !claims.Allows(org.Name, string(org.UID)) {
		return nil, invalidLicense(l, fmt.Sprintf("spec.organization: the key is bound to organization %q, not %q", claims.Organization, l.Spec.Organization))
	}
	if err := v.checkRequester(ctx, org); err != nil {
		return nil, err
	}
	if err := custody.ActiveElsewhere(ctx, v.Cached, assignment(old, l), claims.ID, org.UID); err != nil {
		return nil, err
	}
	if phase != license.Valid {
		return warnings, nil
	}
	return warnings, v.checkUsage(ctx, l, org, claims)
}

// checkRequester refuses an assignment by anyone but org's admins and
// platform admins (the manager is one: it writes for the REST API, which
// checks the caller with the same rule).
func (v *LicenseValidator) checkRequester(ctx context.Context, org *v1alpha1.Organization) error {
	u, err := requester(ctx)
	if err != nil {
		return err
	}
	return custody.MayAssign(ctx, v.Admins, u, org)
}

// Pods and PersistentVolumeClaims are counted, live, where no quota counts
// them yet (usage.UsedOrCounted), so that a plan below usage is refused
// even before its first quota exists.
// +kubebuilder:rbac:groups=core,resources=pods;persistentvolumeclaims,verbs=list

// checkUsage refuses the assignment when the organization already uses
// more than the license allows: more objects than its limits, or more
// compute than its per-workspace or organization-wide quota.
func (v *LicenseValidator) checkUsage(ctx context.Context, l *v1alpha1.License, org *v1alpha1.Organization, c *license.Claims) error {
	inv, err := usage.Take(ctx, v.Reader, org)
	if err != nil {
		return err
	}
	limits := v.Plan.LimitsOf(c)
	var parts []string
	for _, vi := range usage.Violations(inv.Usage(), &limits) {
		parts = append(parts, vi.String())
	}
	g := v.Plan.GuardrailsOf(c)
	quotas, _, err := usage.QuotaViolations(ctx, v.Reader, usage.UsedOrCounted, org.Name, g.Workspace, g.Organization)
	if err != nil {
		return err
	}
	for _, vi := range quotas {
		parts = append(parts, vi.String())
	}
	if len(parts) == 0 {
		return nil
	}
	return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "licenses"}, l.Name,
		fmt.Errorf("license limits are below the current usage of organization %s (%s); remove what exceeds them first or choose a larger license",
			org.Name, strings.Join(parts, "; ")))
}

// guardrailQuotas are a verified key's per-workspace and organization-wide
// quotas (Verify has checked that they parse).
// assignment is l as the custody rule sees it: a License that takes an
// assignment it did not have comes after every License holding its id.
func assignment(old, l *v1alpha1.License) *v1alpha1.License {
	if old == nil || old.Spec.Organization != l.Spec.Organization || old.Spec.OrganizationUID != l.Spec.OrganizationUID {
		return custody.NewAssignment(l.Name)
	}
	return l
}

func invalidLicense(l *v1alpha1.License, msg string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("License %s refused: %s", l.Name, msg))
}
