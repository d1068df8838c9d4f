package orgs

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/usage"
)

// Invite is what an invitation asks for.
type Invite struct {
	Email         string
	Role          v1alpha1.Role
	Account       string
	ExpiresInDays float64
}

// Invite creates an invitation to organization id from u: its admins and
// members invite, with their own role at most (admission checks the same
// for kubectl), viewers do not. Admission holds the invitee's seat.
func (s *Service) Invite(ctx context.Context, u user.Info, id string, in Invite) (*v1alpha1.Invitation, error) {
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if in.Role == "" {
		in.Role = v1alpha1.RoleMember
	}
	if err := CheckEmail(in.Email); err != nil {
		return nil, err
	}
	if err := CheckRole(in.Role); err != nil {
		return nil, err
	}
	if in.ExpiresInDays == 0 {
		in.ExpiresInDays = 7
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 30 {
		return nil, invalid("expiresInDays", nil, "Field \"expiresInDays\" must be 1 to 30 days, not %g", in.ExpiresInDays)
	}
	org, role, err := s.MemberOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if role == v1alpha1.RoleViewer || in.Role.Outranks(role) {
		return nil, refuse(Forbidden, "As %s of %s you may invite with role %s at most (viewers invite nobody)", role, org.Name, maxInvite(role))
	}
	inv := &v1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "inv-", Namespace: org.NamespaceName(),
			Annotations: map[string]string{v1alpha1.AnnotationCreatedBy: u.GetName()}},
		Spec: v1alpha1.InvitationSpec{Email: in.Email, Role: in.Role, Account: in.Account, ExpiresInDays: in.ExpiresInDays},
	}
	if err := s.Writer.Create(ctx, inv); apierrors.IsTooManyRequests(err) {
		return nil, s.retryLater(ctx, org, err)
	} else if err != nil {
		return nil, err
	}
	s.Record(org, u, fmt.Sprintf("Invited %s as %s", in.Email, in.Role))
	return inv, nil
}

// retryLater is admission's refusal of one invitation too many, with the
// seconds until one may be sent again as a Retry-After.
func (s *Service) retryLater(ctx context.Context, org *v1alpha1.Organization, refusal error) error {
	list := &v1alpha1.InvitationList{}
	if err := s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return err
	}
	p := org.Status.Plan
	if p == nil {
		return refusal
	}
	if _, after := usage.InvitationWindow(list.Items, p.Limits.InvitationsPerHour, time.Now()); after > 0 {
		msg := refusal.Error()
		if st, ok := refusal.(apierrors.APIStatus); ok {
			msg = st.Status().Message
		}
		return apierrors.NewTooManyRequests(msg, after)
	}
	return refusal
}

func maxInvite(role v1alpha1.Role) string {
	if role == v1alpha1.RoleViewer {
		return "none"
	}
	return string(role)
}

// Invitations lists organization id's invitations, for its admins and members.
func (s *Service) Invitations(ctx context.Context, u user.Info, id string) ([]v1alpha1.Invitation, error) {
	org, _, err := s.MemberOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	list := &v1alpha1.InvitationList{}
	if err := s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// Resend sends invitation invID of organization id again (admins): its
// expiry starts over.
func (s *Service) Resend(ctx context.Context, u user.Info, id, invID string) (*v1alpha1.Invitation, error) {
	return s.changeInvitation(ctx, u, id, invID, func(inv *v1alpha1.Invitation) { inv.Spec.Resend++ })
}

// Revoke withdraws invitation invID of organization id (admins); its seat
// is freed and its history kept.
func (s *Service) Revoke(ctx context.Context, u user.Info, id, invID string) (*v1alpha1.Invitation, error) {
	return s.changeInvitation(ctx, u, id, invID, func(inv *v1alpha1.Invitation) { inv.Spec.Revoked = true })
}

func (s *Service) changeInvitation(ctx context.Context, u user.Info, id, invID string, change func(*v1alpha1.Invitation)) (
	*v1alpha1.Invitation, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	list := &v1alpha1.InvitationList{}
	if err := s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if inv := &list.Items[i]; string(inv.UID) == invID || inv.Name == invID {
			return inv, s.writeInvitation(ctx, inv, change)
		}
	}
	return nil, refuse(NotFound, "Organization %s has no invitation %s", org.Name, invID)
}

// writeInvitation changes inv as read from the API server and writes it,
// conditional on the version read; a write that lost a race with the
// reconciler's status is made again from a fresh read.
func (s *Service) writeInvitation(ctx context.Context, inv *v1alpha1.Invitation, change func(*v1alpha1.Invitation)) error {
	return s.patchFresh(ctx, inv, func() error { change(inv); return nil })
}

// MyInvitations are the invitations to u's own address (their username,
// case-folded) that wait for an answer, in every organization.
func (s *Service) MyInvitations(ctx context.Context, u user.Info) ([]v1alpha1.Invitation, error) {
	list := &v1alpha1.InvitationList{}
	if err := s.Cache.List(ctx, list, client.MatchingFields{index.InvitationEmail: strings.ToLower(u.GetName())}); err != nil {
		return nil, err
	}
	out := []v1alpha1.Invitation{}
	for _, inv := range list.Items {
		if inv.Spec.Response == "" && inv.Holds(time.Now()) {
			out = append(out, inv)
		}
	}
	return out, nil
}

// Answer records u's answer to invitation invID. Only the invitee sees
// it: for anyone else it does not exist (404, no oracle). Accepting makes
// them a member exactly as a direct add would (the reconciler adds them).
func (s *Service) Answer(ctx context.Context, u user.Info, invID string, answer v1alpha1.InvitationResponse) (
	*v1alpha1.Invitation, error) {
	mine, err := s.MyInvitations(ctx, u)
	if err != nil {
		return nil, err
	}
	for i := range mine {
		if inv := &mine[i]; string(inv.UID) == invID {
			err := s.writeInvitation(ctx, inv, func(inv *v1alpha1.Invitation) {
				inv.Spec.Response, inv.Spec.RespondedBy = answer, u.GetName()
			})
			return inv, err
		}
	}
	return nil, refuse(NotFound, "No invitation %s waits for an answer from %s", invID, u.GetName())
}
