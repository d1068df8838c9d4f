package rest

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
)

// CreateRequest is the body of POST /v1/organizations.
type CreateRequest struct {
	AccountName      string `json:"accountName"`
	EulaAccepted     bool   `json:"eulaAccepted"`
	LicenseType      string `json:"licenseType"`
	OrganizationName string `json:"organizationName"`
	LicenseKey       string `json:"licenseKey"`
}

// createOrganization creates an organization with the caller as admin and
// its first account (seeds 002/003), and answers with both, the account's
// API keys included.
func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var req CreateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	org, acct, err := s.orgs.Create(ctx, u, orgs.Create{OrganizationName: req.OrganizationName, AccountName: req.AccountName,
		EulaAccepted: req.EulaAccepted, LicenseType: req.LicenseType, LicenseKey: req.LicenseKey})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": s.renderOrganization(ctx, org, v1alpha1.RoleAdmin),
		"account": s.adminView(ctx, acct, s.waitAPIKeys(ctx, acct))})
	return nil
}

// waitAPIKeys waits (briefly) for the cache to hold the API-key Secret of
// acct, which is Ready, so that its creator gets the keys in the response.
func (s *Server) waitAPIKeys(ctx context.Context, acct *v1alpha1.Account) *corev1.Secret {
	var keys *corev1.Secret
	_ = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		keys = s.apiKeys(ctx, acct, v1alpha1.RoleAdmin)
		return keys != nil, nil
	})
	return keys
}
