package rest

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
)

// createOrganizationAny serves POST /v1/organizations: a form-encoded body
// is seed 000's create (name); JSON is seed 002's (organization and first
// account). Where the two disagree, 002 wins.
func (s *Server) createOrganizationAny(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if isForm(r) {
		return s.createOrganizationForm(w, r, u)
	}
	return s.createOrganization(w, r, u)
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// crossOrigin tells a browser's cross-site request from others: a request
// whose Sec-Fetch-Site is same-origin or none is the server's own page's
// or typed by its user; one with another Sec-Fetch-Site (cross-site,
// same-site) came from another site's page; without Sec-Fetch-Site (older
// browsers), one with an Origin whose host is not the request's came from
// another site too. A request with neither header is no browser's (curl,
// kubectl, programs), and goes through. Browsers set both headers
// themselves: a page cannot forge or remove them.
var crossOrigin = http.NewCrossOriginProtection()

// parseForm reads a form body; bad input is 422 as seed 000 says. A form
// is the one body a page on another site can make a browser send here
// without asking first (no CORS preflight), with the browser's client
// certificate: a form posted cross-site is refused (403), before anything
// is read or written.
func parseForm(r *http.Request, allowed ...string) error {
	if !isForm(r) {
		return httpError(http.StatusUnprocessableEntity, "Send a form-encoded body (application/x-www-form-urlencoded)", nil)
	}
	if err := crossOrigin.Check(r); err != nil {
		return httpError(http.StatusForbidden, fmt.Sprintf(
			"Cross-site form post refused: the browser says a page on another site sent it (Sec-Fetch-Site %q, Origin %q), which could make you act without knowing; "+
				"post from this server's own origin, or send the request from a program (curl, kubectl) or as JSON", r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")), nil)
	}
	if err := r.ParseForm(); err != nil {
		return httpError(http.StatusUnprocessableEntity, fmt.Sprintf("Invalid form body: %v", err), nil)
	}
	for k := range r.PostForm {
		if !contains(allowed, k) {
			return httpError(http.StatusUnprocessableEntity, fmt.Sprintf("Unknown field %q; allowed: %v", k, allowed), nil)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// wrapped is seed 000's response envelope.
func wrapped(u user.Info, obj any) map[string]any {
	return map[string]any{"response": obj, "client": map[string]any{"user": u.GetName()}}
}

// createOrganizationForm creates an organization named by the form's name,
// with the caller as admin.
func (s *Server) createOrganizationForm(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if err := parseForm(r, "name"); err != nil {
		return err
	}
	org, err := s.orgs.CreateNamed(r.Context(), u, r.PostForm.Get("name"), "")
	if err != nil {
		return unprocessable(err)
	}
	writeJSON(w, http.StatusOK, wrapped(u, s.renderOrganization(r.Context(), org, v1alpha1.RoleAdmin)))
	return nil
}

// updateOrganizationForm updates the display name (name); slug is the
// organization's object name, which cannot change.
func (s *Server) updateOrganizationForm(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if err := parseForm(r, "name", "slug"); err != nil {
		return err
	}
	var change orgs.Update
	if name := r.PostForm.Get("name"); name != "" {
		change.Name = &name
	}
	if slug := r.PostForm.Get("slug"); slug != "" {
		change.Slug = &slug
	}
	org, err := s.orgs.Update(r.Context(), u, r.PathValue("id"), change)
	if err != nil {
		return unprocessable(err)
	}
	writeJSON(w, http.StatusOK, wrapped(u, s.renderOrganization(r.Context(), org, v1alpha1.RoleAdmin)))
	return nil
}

// unprocessable is how seed 000 answers invalid input: 422.
func unprocessable(err error) error {
	var refusal *orgs.Error
	if errors.As(err, &refusal) && refusal.Reason == orgs.Invalid {
		return httpError(http.StatusUnprocessableEntity, refusal.Message, refusal.Details)
	}
	return err
}
