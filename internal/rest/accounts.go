package rest

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/orgs"
)

// createAccountRequest is the body of POST /v1/organizations/{id}/accounts.
type createAccountRequest struct {
	DisplayName string `json:"displayName" required:"true" limit:"accountDisplayName" desc:"The account's name as people read it"`
	Name        string `json:"name" limit:"accountName" desc:"The account's object name (lower-case letters, digits and '-'); made from displayName when empty"`
}

// renameAccountRequest is the body of PATCH /v1/organizations/{id}/accounts/{account_id}.
type renameAccountRequest struct {
	DisplayName string `json:"displayName" required:"true" limit:"accountDisplayName" desc:"The account's new name as people read it"`
}

// roleRequest is the body of PUT /v1/organizations/{id}/members/{user_id}.
type roleRequest struct {
	Role v1alpha1.Role `json:"role" required:"true" desc:"The member's new role: admin, member or viewer"`
}

// listOrganizationAccounts lists the accounts of organization id (any
// member), with their API keys for admins only.
func (s *Server) listOrganizationAccounts(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, role, err := s.orgs.MemberOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := s.accounts(r.Context(), orgs.Membership{Org: org, Role: role})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
	return nil
}

// createAccount creates an account (admins) and answers, once it is
// Ready, with the account and its API keys.
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body createAccountRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	acct, err := s.orgs.CreateAccount(r.Context(), u, r.PathValue("id"), orgs.NewAccount{DisplayName: body.DisplayName, Name: body.Name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.adminView(r.Context(), acct, s.waitAPIKeys(r.Context(), acct)))
	return nil
}

// renameAccount changes an account's display name (admins).
func (s *Server) renameAccount(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body renameAccountRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	acct, err := s.orgs.RenameAccount(r.Context(), u, r.PathValue("id"), r.PathValue("account_id"), body.DisplayName)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.adminView(r.Context(), acct, nil))
	return nil
}

// deleteAccount deletes an account (admins).
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if err := s.orgs.DeleteAccount(r.Context(), u, r.PathValue("id"), r.PathValue("account_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateKey rotates an account's API key (admins) and answers with the
// account and its new keys.
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request, u user.Info) error {
	acct, err := s.orgs.RotateKey(r.Context(), u, r.PathValue("id"), r.PathValue("account_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.adminView(r.Context(), acct, s.apiKeys(r.Context(), acct, v1alpha1.RoleAdmin)))
	return nil
}

// adminView renders acct as an admin sees it, with keys (nil for none).
func (s *Server) adminView(ctx context.Context, acct *v1alpha1.Account, keys *corev1.Secret) Resource {
	return renderAccount(acct, keys, s.parameterValues(ctx, acct.Namespace, v1alpha1.RoleAdmin))
}

// setMemberRole changes a member's role (admins).
func (s *Server) setMemberRole(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body roleRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	m, err := s.orgs.SetMemberRole(r.Context(), u, r.PathValue("id"), r.PathValue("user_id"), body.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderMember(r.Context(), m))
	return nil
}

// renderMember renders m as the members list shows it: id is the User's
// uid when m is a known User.
func (s *Server) renderMember(ctx context.Context, m v1alpha1.Member) Member {
	out := Member{ID: index.SubjectKey(m), Kind: m.Kind, Name: m.Name, Role: m.Role}
	if found, err := s.orgs.UserNamed(ctx, m.Name); err == nil && found != nil && m.Kind == v1alpha1.SubjectUser {
		out.ID, out.Email = string(found.UID), found.Spec.Email
	}
	return out
}
