package rest

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/orgs"
)

// readyTimeout bounds how long a create waits for what it asked for.
const readyTimeout = 60 * time.Second

// CreateRequest is the body of POST /v1/organizations.
type CreateRequest struct {
	AccountName      string `json:"accountName"`
	EulaAccepted     bool   `json:"eulaAccepted"`
	LicenseType      string `json:"licenseType"`
	OrganizationName string `json:"organizationName"`
	LicenseKey       string `json:"licenseKey"`
}

// createOrganization creates an organization with the caller as admin, its
// first account and the bindings, makes that account the caller's active
// one, and returns once they exist. A failure part-way deletes what it made.
func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var req CreateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := validateCreate(&req); err != nil {
		return err
	}
	if err := s.checkLicenseType(req.LicenseType); err != nil {
		return err
	}
	ctx := r.Context()
	org, err := s.newOrganization(ctx, &req, u)
	if err != nil {
		return err
	}
	acct, err := s.provision(ctx, org, &req, u)
	if err != nil {
		s.rollback(org)
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": s.renderOrganization(ctx, org, v1alpha1.RoleAdmin),
		"account": renderAccount(acct, s.waitAPIKeys(ctx, acct), s.parameterValues(ctx, acct.Namespace, v1alpha1.RoleAdmin))})
	return nil
}

// checkLicenseType refuses, before anything is written, a licenseType that
// is neither free (no license) nor a type this installation issues itself.
func (s *Server) checkLicenseType(typ string) error {
	if typ == "" || typ == v1alpha1.PlanFree {
		return nil
	}
	offered := []string{v1alpha1.PlanFree}
	if s.opts.Issuer != nil {
		if s.opts.Issuer.Issues(typ) {
			return nil
		}
		offered = append(offered, s.opts.Issuer.Offered()...)
	}
	return httpError(http.StatusBadRequest, fmt.Sprintf("licenseType %q is not offered here: send one of %s, or a licenseKey",
		typ, strings.Join(offered, ", ")), map[string]any{"offered": offered})
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

var invalidName = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a display name into an object name of at most max characters.
func slug(s string, max int) string {
	out := strings.Trim(invalidName.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(out) > max {
		out = strings.Trim(out[:max], "-")
	}
	return out
}

func validateCreate(req *CreateRequest) error {
	missing := []string{}
	if strings.TrimSpace(req.OrganizationName) == "" {
		missing = append(missing, "organizationName")
	}
	if strings.TrimSpace(req.AccountName) == "" {
		missing = append(missing, "accountName")
	}
	if len(missing) > 0 {
		return httpError(http.StatusBadRequest, "Missing required fields: "+strings.Join(missing, ", "), map[string]any{"missing": missing})
	}
	if errs := displayname.Validate(strings.TrimSpace(req.OrganizationName)); len(errs) > 0 {
		return httpError(http.StatusBadRequest, "organizationName is not a valid display name: it "+strings.Join(errs, "; it "), map[string]any{"errors": errs})
	}
	orgName, accountName := slug(displayname.Normalize(req.OrganizationName), 30), slug(req.AccountName, 32)
	if orgName == "" || accountName == "" {
		return httpError(http.StatusBadRequest, "organizationName and accountName need at least one letter a-z or digit", nil)
	}
	if err := v1alpha1.CheckWorkspaceName(orgName, accountName); err != nil {
		return httpError(http.StatusBadRequest, "organizationName and accountName are too long together: "+err.Error(), nil)
	}
	return nil
}

// newOrganization creates the Organization, and waits until the cache has
// it: the caller may read or change it next. Admission claims the display
// name (409 when another organization has it, however written).
func (s *Server) newOrganization(ctx context.Context, req *CreateRequest, u user.Info) (*v1alpha1.Organization, error) {
	displayName := strings.TrimSpace(req.OrganizationName)
	if err := s.mayCreate(ctx, u); err != nil {
		return nil, err
	}
	org := &v1alpha1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: slug(displayname.Normalize(displayName), 30), Annotations: map[string]string{
			orgs.AnnotationRequestedBy: u.GetName(), v1alpha1.AnnotationCreatedBy: u.GetName()},
			// Born with the finalizer: however soon it is deleted, the
			// reconciler cleans up after it.
			Finalizers: []string{v1alpha1.Finalizer}},
		Spec: v1alpha1.OrganizationSpec{DisplayName: displayName, EulaAccepted: req.EulaAccepted,
			Members: []v1alpha1.Member{{Kind: v1alpha1.SubjectUser, Name: u.GetName(), Role: v1alpha1.RoleAdmin}}},
	}
	if err := s.writer.Create(ctx, org); err != nil {
		return nil, err
	}
	s.orgs.WaitCached(ctx, org)
	s.orgs.Record(org, u, "Created organization through the REST API")
	return org, nil
}

// mayCreate applies the creator groups and the per-user cap to the caller
// (admission, which sees the manager write, applies the cap again).
func (s *Server) mayCreate(ctx context.Context, u user.Info) error {
	if s.opts.Creators == nil {
		return nil
	}
	if admin, err := s.admins.Is(ctx, u); err != nil || admin {
		return err
	}
	if err := s.opts.Creators.MayCreate(u); err != nil {
		return err
	}
	return s.opts.Creators.WithinCap(ctx, u.GetName())
}

// provision waits for the organization's namespace, creates the first
// account, waits for it, applies the license asked for, and sets the
// caller's active account.
func (s *Server) provision(ctx context.Context, org *v1alpha1.Organization, req *CreateRequest, u user.Info) (*v1alpha1.Account, error) {
	if err := s.waitReady(ctx, org); err != nil {
		return nil, err
	}
	acct := &v1alpha1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: slug(req.AccountName, 32), Namespace: org.NamespaceName(),
			Annotations: map[string]string{orgs.AnnotationRequestedBy: u.GetName()}},
		Spec: v1alpha1.AccountSpec{DisplayName: req.AccountName},
	}
	if err := s.writer.Create(ctx, acct); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, acct); err != nil {
		return nil, err
	}
	typ := req.LicenseType
	if typ == v1alpha1.PlanFree {
		typ = "" // the free plan is having no license
	}
	if err := s.applyRequestedLicense(ctx, org, req.LicenseKey, typ); err != nil {
		return nil, err
	}
	return acct, s.setActiveAccount(ctx, u, org.Name+"/"+acct.Name)
}

// waitReady waits until obj, read from the cache, is Ready.
func (s *Server) waitReady(ctx context.Context, obj client.Object) error {
	var conds *[]metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.Organization:
		conds = &o.Status.Conditions
	case *v1alpha1.Account:
		conds = &o.Status.Conditions
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		if err := s.cache.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(*conds, v1alpha1.ConditionReady), nil
	})
	if err != nil {
		return fmt.Errorf("%T %s did not become ready: %w", obj, obj.GetName(), err)
	}
	return nil
}

// setActiveAccount makes account ("<org>/<account>") the caller's active
// one, and waits until the cache shows it so the caller's next read does.
func (s *Server) setActiveAccount(ctx context.Context, u user.Info, account string) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		found, err := s.orgs.UserNamed(ctx, u.GetName())
		if err != nil || found == nil || found.Spec.ActiveAccount == account {
			return found != nil, err
		}
		patch := client.MergeFrom(found.DeepCopy())
		found.Spec.ActiveAccount = account
		return true, s.orgs.PatchAndWait(ctx, found, patch)
	})
}

// rollback deletes an organization made part-way; its finalizer removes the
// accounts, namespaces, bindings and display-name claim.
func (s *Server) rollback(org *v1alpha1.Organization) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = client.IgnoreNotFound(s.writer.Delete(ctx, org))
}
