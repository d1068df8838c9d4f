package admission

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/usage"
)

var invitationsResource = schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "invitations"}

// +kubebuilder:webhook:path=/mutate-orgplane-io-v1alpha1-invitation,mutating=true,failurePolicy=fail,sideEffects=None,groups=orgplane.io,resources=invitations,verbs=create,versions=v1alpha1,name=invitations.mutate.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// InvitationDefaulter records the inviter: orgplane.io/created-by is the
// requester, or, for the REST API writing for its caller, the caller.
type InvitationDefaulter struct{ guard }

// Default sets orgplane.io/created-by.
func (d *InvitationDefaulter) Default(ctx context.Context, i *v1alpha1.Invitation) error {
	u, err := requester(ctx)
	if err != nil || (d.isSelf(u) && i.Annotations[v1alpha1.AnnotationCreatedBy] != "") {
		return err
	}
	if i.Annotations == nil {
		i.Annotations = map[string]string{}
	}
	i.Annotations[v1alpha1.AnnotationCreatedBy] = u.GetName()
	return nil
}

// +kubebuilder:webhook:path=/validate-orgplane-io-v1alpha1-invitation,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=orgplane.io,resources=invitations,verbs=create;update,versions=v1alpha1,name=invitations.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// InvitationValidator holds every invitation to the seat ledger and the
// rules of who may invite whom, and who may answer.
type InvitationValidator struct {
	guard
	limiter    *Limiter
	namespaces namespaceReader
	// MinExpiry is the shortest expiry allowed (1 day unless configured).
	MinExpiry time.Duration
}

var _ admission.Validator[*v1alpha1.Invitation] = &InvitationValidator{}

// ValidateCreate checks the inviter, the invitee, the expiry and the rate,
// and reserves the invitee's seat.
func (v *InvitationValidator) ValidateCreate(ctx context.Context, i *v1alpha1.Invitation) (admission.Warnings, error) {
	org, err := v.organization(ctx, i)
	if err != nil {
		return nil, err
	}
	if err := refuseNew(org, v.limiter.Plan.Of(org), invitationsResource, i.Name, "new invitations"); err != nil {
		return nil, err
	}
	if err := v.checkInviter(ctx, org, i); err != nil {
		return nil, err
	}
	if err := v.checkInvitee(ctx, org, i); err != nil {
		return nil, err
	}
	if err := v.checkRate(ctx, i, v.limiter.Plan.Of(org).Limits.InvitationsPerHour); err != nil {
		return nil, err
	}
	return nil, v.limiter.Reserve(ctx, org.Name, usage.Users, usage.InviteeKey(i.Spec.Email), isDryRun(ctx))
}

// ValidateUpdate checks an answer, a resend and the inviter record.
func (v *InvitationValidator) ValidateUpdate(ctx context.Context, old, i *v1alpha1.Invitation) (admission.Warnings, error) {
	if old.Annotations[v1alpha1.AnnotationCreatedBy] != i.Annotations[v1alpha1.AnnotationCreatedBy] {
		return nil, apierrors.NewForbidden(invitationsResource, i.Name, fmt.Errorf("the inviter (annotation %s) cannot change", v1alpha1.AnnotationCreatedBy))
	}
	if old.Spec.Response == "" && i.Spec.Response != "" {
		return nil, v.checkAnswer(ctx, old, i)
	}
	if i.Spec.Resend != old.Spec.Resend {
		return nil, v.checkResend(ctx, old, i)
	}
	return nil, nil
}

// ValidateDelete allows every delete: the seat is freed.
func (v *InvitationValidator) ValidateDelete(context.Context, *v1alpha1.Invitation) (admission.Warnings, error) {
	return nil, nil
}

func (v *InvitationValidator) organization(ctx context.Context, i *v1alpha1.Invitation) (*v1alpha1.Organization, error) {
	name, err := v.namespaces.organization(ctx, i.Namespace, v1alpha1.OrganizationNamespacePrefix)
	if err != nil {
		return nil, err
	}
	org := &v1alpha1.Organization{}
	if name != "" {
		err = v.namespaces.live.Get(ctx, types.NamespacedName{Name: name}, org)
	}
	if name == "" || apierrors.IsNotFound(err) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf(
			"Invitation %s refused: namespace %s is not an organization's; create invitations in org-<organization>", i.Name, i.Namespace))
	}
	return org, err
}

// checkInviter refuses a role above the inviter's own. The REST API
// checks its caller with InviterRole before it writes, so its writes are
// not checked again.
func (v *InvitationValidator) checkInviter(ctx context.Context, org *v1alpha1.Organization, i *v1alpha1.Invitation) error {
	u, err := requester(ctx)
	if err != nil || v.isSelf(u) {
		return err
	}
	platform, err := v.admins.Is(ctx, u)
	if err != nil || platform {
		return err
	}
	role := InviterRole(org, u)
	if role == v1alpha1.RoleViewer {
		return apierrors.NewForbidden(invitationsResource, i.Name, fmt.Errorf(
			"%s is a viewer of organization %s: viewers change nothing, invitations included; ask an admin or a member", u.GetName(), org.Name))
	}
	if i.Spec.Role.Outranks(role) {
		return apierrors.NewForbidden(invitationsResource, i.Name, fmt.Errorf(
			"%s may invite with role %s at most (their own role in organization %s), not %s", u.GetName(), role, org.Name, i.Spec.Role))
	}
	return nil
}

// InviterRole is the highest role u has in org, through their username
// or their groups: the most an invitation from them may grant.
func InviterRole(org *v1alpha1.Organization, u user.Info) v1alpha1.Role {
	return index.RoleOf(org, index.CallerKeys(u.GetName(), u.GetGroups()))
}

// checkInvitee refuses an expiry out of range, an invitation to someone
// who is a member already or invited already, and one to an account that
// does not exist.
func (v *InvitationValidator) checkInvitee(ctx context.Context, org *v1alpha1.Organization, i *v1alpha1.Invitation) error {
	days := i.Spec.ExpiresInDays
	if time.Duration(days*float64(plan.Day)) < v.MinExpiry {
		return invalidInvitation(i, "spec.expiresInDays: %g is shorter than this installation allows (%s); use 1 to 30", days, v.MinExpiry)
	}
	members := org.Spec.Members
	if i.Spec.Account != "" {
		acct := &v1alpha1.Account{}
		err := v.namespaces.live.Get(ctx, types.NamespacedName{Namespace: i.Namespace, Name: i.Spec.Account}, acct)
		if apierrors.IsNotFound(err) {
			return invalidInvitation(i, "spec.account: account %q does not exist in organization %s", i.Spec.Account, org.Name)
		}
		if err != nil {
			return err
		}
		members = acct.Spec.Members
	}
	for _, m := range members {
		if index.SubjectKey(m) == usage.InviteeKey(i.Spec.Email) {
			return apierrors.NewConflict(invitationsResource, i.Name, fmt.Errorf("%s is a member already", i.Spec.Email))
		}
	}
	return v.checkNotInvited(ctx, i)
}

// checkNotInvited reads the cache: a second pending invitation slipping
// through a race holds no second seat (seats count people once), so a
// live LIST on every create would buy nothing.
func (v *InvitationValidator) checkNotInvited(ctx context.Context, i *v1alpha1.Invitation) error {
	list := &v1alpha1.InvitationList{}
	if err := v.namespaces.cached.List(ctx, list, client.InNamespace(i.Namespace)); err != nil {
		return err
	}
	for _, o := range list.Items {
		if o.Name != i.Name && o.Spec.Email == i.Spec.Email && o.Spec.Account == i.Spec.Account && o.Holds(time.Now()) {
			return apierrors.NewConflict(invitationsResource, i.Name, fmt.Errorf(
				"%s has a pending invitation already (%s); resend it instead of sending another", i.Spec.Email, o.Name))
		}
	}
	return nil
}

// checkRate refuses more than perHour invitations (the plan's) in an
// organization in an hour. The refusal (429) says when to retry but sets
// no Retry-After: clients would wait up to an hour inside the request
// (client-go retries a 429 after its Retry-After). The REST API adds the
// header to its own answer.
func (v *InvitationValidator) checkRate(ctx context.Context, i *v1alpha1.Invitation, perHour int64) error {
	list := &v1alpha1.InvitationList{}
	if err := v.namespaces.cached.List(ctx, list, client.InNamespace(i.Namespace)); err != nil {
		return err
	}
	sent, retry := usage.InvitationWindow(list.Items, perHour, time.Now())
	if retry == 0 {
		return nil
	}
	return apierrors.NewTooManyRequests(fmt.Sprintf(
		"organization has sent %d invitations in the last hour, the most its plan allows; retry in %d seconds", sent, retry), 0)
}

// checkAnswer lets only the manager (the REST API, which checks that its
// caller is the invitee) or a platform admin answer, and checks an
// acceptance against the seats again.
func (v *InvitationValidator) checkAnswer(ctx context.Context, old, i *v1alpha1.Invitation) error {
	u, err := requester(ctx)
	if err != nil {
		return err
	}
	if !v.isSelf(u) {
		platform, err := v.admins.Is(ctx, u)
		if err != nil {
			return err
		}
		if !platform || i.Spec.RespondedBy != u.GetName() {
			return apierrors.NewForbidden(invitationsResource, i.Name, fmt.Errorf(
				"only the invitee answers an invitation, through the REST API (POST /v1/identity/invitations/{id}/accept); "+
					"a platform admin may answer for them with spec.respondedBy set to their own username"))
		}
	}
	if !old.Holds(time.Now()) {
		return apierrors.NewConflict(invitationsResource, i.Name, fmt.Errorf("the invitation is %s; ask for a new one", phaseOf(old)))
	}
	if i.Spec.Response != v1alpha1.ResponseAccepted {
		return nil
	}
	org, err := v.organization(ctx, i)
	if err != nil {
		return err
	}
	if err := refuseNew(org, v.limiter.Plan.Of(org), invitationsResource, i.Name, "new members"); err != nil {
		return err
	}
	return v.limiter.WithinSeats(ctx, org)
}

// checkResend lets a pending or expired invitation be sent again; an
// expired one takes a seat again.
func (v *InvitationValidator) checkResend(ctx context.Context, old, i *v1alpha1.Invitation) error {
	if old.Spec.Revoked || old.Spec.Response != "" {
		return apierrors.NewConflict(invitationsResource, i.Name, fmt.Errorf("the invitation is %s and cannot be resent; send a new one", phaseOf(old)))
	}
	if old.Holds(time.Now()) {
		return nil
	}
	org, err := v.organization(ctx, i)
	if err != nil {
		return err
	}
	return v.limiter.Reserve(ctx, org.Name, usage.Users, usage.InviteeKey(i.Spec.Email), isDryRun(ctx))
}

func phaseOf(i *v1alpha1.Invitation) string {
	switch {
	case i.Spec.Revoked:
		return "revoked"
	case i.Spec.Response == v1alpha1.ResponseAccepted:
		return "accepted"
	case i.Spec.Response == v1alpha1.ResponseDeclined:
		return "declined"
	}
	return "expired"
}

func invalidInvitation(i *v1alpha1.Invitation, format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf("Invitation %s refused: ", i.Name) + fmt.Sprintf(format, args...))
}
