package rest

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
)

// inviteRequest is the body of POST /v1/organizations/{id}/invitations.
type inviteRequest struct {
	Email         string        `json:"email" required:"true" format:"email" limit:"invitationEmail" desc:"The invitee's e-mail: only the user authenticated with this address may accept"`
	Role          v1alpha1.Role `json:"role" desc:"admin, member (the default) or viewer; never above the inviter's own role"`
	Account       string        `json:"account" limit:"accountName" desc:"An account of the organization to invite to, instead of the organization"`
	ExpiresInDays float64       `json:"expiresInDays" desc:"Days the invitation stays open: 1 to 30, 7 by default"`
}

// invitationResource is an invitation as consoles show it.
type invitationResource struct {
	ID           string                     `json:"id" desc:"The invitation's id (uid)"`
	Organization string                     `json:"organization"`
	OrgDisplay   string                     `json:"organizationDisplayName" desc:"The organization's display name, for the person invited"`
	Email        string                     `json:"email"`
	Role         v1alpha1.Role              `json:"role"`
	Account      string                     `json:"account" desc:"The account invited to; empty for the organization"`
	Phase        v1alpha1.InvitationPhase   `json:"phase" desc:"Pending, Accepted, Declined, Revoked or Expired"`
	InvitedBy    string                     `json:"invitedBy"`
	ExpiresAt    *metav1.Time               `json:"expiresAt"`
	History      []v1alpha1.InvitationEvent `json:"history"`
}

type invitationList struct {
	Invitations []invitationResource `json:"invitations"`
}

func (s *Server) renderInvitation(ctx context.Context, inv *v1alpha1.Invitation) invitationResource {
	phase := inv.Status.Phase
	if phase == "" {
		phase = v1alpha1.InvitationPending
	}
	history := inv.Status.History
	if history == nil {
		history = []v1alpha1.InvitationEvent{}
	}
	org := &v1alpha1.Organization{}
	org.Name = inv.Namespace[len(v1alpha1.OrganizationNamespacePrefix):]
	_ = s.cache.Get(ctx, client.ObjectKeyFromObject(org), org)
	return invitationResource{ID: string(inv.UID), Organization: org.Name, OrgDisplay: org.Spec.DisplayName,
		Email: inv.Spec.Email, Role: inv.Spec.Role, Account: inv.Spec.Account, Phase: phase,
		InvitedBy: inv.Annotations[v1alpha1.AnnotationCreatedBy], ExpiresAt: inv.Status.ExpiresAt, History: history}
}

func (s *Server) renderInvitations(ctx context.Context, list []v1alpha1.Invitation) invitationList {
	out := invitationList{Invitations: make([]invitationResource, 0, len(list))}
	for i := range list {
		out.Invitations = append(out.Invitations, s.renderInvitation(ctx, &list[i]))
	}
	return out
}

// listInvitations lists an organization's invitations (its admins and members).
func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, u user.Info) error {
	list, err := s.orgs.Invitations(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderInvitations(r.Context(), list))
	return nil
}

// invite creates an invitation (admins and members, with their own role at most).
func (s *Server) invite(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body inviteRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	inv, err := s.orgs.Invite(r.Context(), u, r.PathValue("id"),
		orgs.Invite{Email: body.Email, Role: body.Role, Account: body.Account, ExpiresInDays: body.ExpiresInDays})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.renderInvitation(r.Context(), inv))
	return nil
}

// resendInvitation sends an invitation again (admins): its expiry starts over.
func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request, u user.Info) error {
	inv, err := s.orgs.Resend(r.Context(), u, r.PathValue("id"), r.PathValue("invitation_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderInvitation(r.Context(), inv))
	return nil
}

// revokeInvitation withdraws an invitation (admins); its history stays.
func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if _, err := s.orgs.Revoke(r.Context(), u, r.PathValue("id"), r.PathValue("invitation_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// myInvitations lists the invitations waiting for the caller's answer.
func (s *Server) myInvitations(w http.ResponseWriter, r *http.Request, u user.Info) error {
	list, err := s.orgs.MyInvitations(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderInvitations(r.Context(), list))
	return nil
}

// acceptInvitation accepts an invitation to the caller's own address.
func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, u user.Info) error {
	return s.answer(w, r, u, v1alpha1.ResponseAccepted)
}

// declineInvitation declines an invitation to the caller's own address.
func (s *Server) declineInvitation(w http.ResponseWriter, r *http.Request, u user.Info) error {
	return s.answer(w, r, u, v1alpha1.ResponseDeclined)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, u user.Info, answer v1alpha1.InvitationResponse) error {
	inv, err := s.orgs.Answer(r.Context(), u, r.PathValue("invitation_id"), answer)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderInvitation(r.Context(), inv))
	return nil
}
