package orgs

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/index"
)

// ReadyTimeout bounds how long a create waits for each thing it asked for.
const ReadyTimeout = 60 * time.Second

// Create is a new organization with its first account (seeds 002/003).
type Create struct {
	OrganizationName string
	AccountName      string
	EulaAccepted     bool
	// LicenseType is free or empty (no license) or a self-issued type.
	LicenseType string
	// LicenseKey is a signed key to assign instead.
	LicenseKey string
}

// validate refuses, before anything is written, what cannot be created.
func (c Create) validate() error {
	var missing []string
	if strings.TrimSpace(c.OrganizationName) == "" {
		missing = append(missing, "organizationName")
	}
	if strings.TrimSpace(c.AccountName) == "" {
		missing = append(missing, "accountName")
	}
	if len(missing) > 0 {
		return invalid(missing[0], map[string]any{"missing": missing}, "Missing required fields: %s", strings.Join(missing, ", "))
	}
	if err := CheckDisplayName("organizationName", c.OrganizationName); err != nil {
		return err
	}
	org, account := OrganizationName(c.OrganizationName), slug(c.AccountName, 32)
	if org == "" || account == "" {
		return invalid("organizationName", nil, "organizationName and accountName need at least one letter a-z or digit")
	}
	if err := v1alpha1.CheckWorkspaceName(org, account); err != nil {
		return invalid("accountName", nil, "organizationName and accountName are too long together: %v", err)
	}
	return nil
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

// OrganizationName is the object name an organization with displayName
// gets: its normalized form, as a DNS label of at most 30 characters.
func OrganizationName(displayName string) string {
	return slug(displayname.Normalize(displayName), 30)
}

// Create creates an organization with the caller as admin, its first
// account and the bindings, applies the license asked for, makes that
// account the caller's active one, and returns once they exist. A failure
// part-way deletes what it made.
func (s *Service) Create(ctx context.Context, u user.Info, c Create) (*v1alpha1.Organization, *v1alpha1.Account, error) {
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	if err := s.CheckLicenseType(c.LicenseType); err != nil {
		return nil, nil, err
	}
	org, err := s.newOrganization(ctx, u, c.OrganizationName, c.EulaAccepted)
	if err != nil {
		return nil, nil, err
	}
	acct, err := s.provision(ctx, u, org, c)
	if err != nil {
		s.rollback(org)
		return nil, nil, err
	}
	return org, acct, nil
}

// CreateNamed creates an organization with display name name, the caller
// as admin, and no account (seeds 000, 001, 004).
func (s *Service) CreateNamed(ctx context.Context, u user.Info, name, description string) (*v1alpha1.Organization, error) {
	if err := CheckDisplayName("name", name); err != nil {
		return nil, err
	}
	if OrganizationName(name) == "" {
		return nil, invalid("name", nil, "Field \"name\" needs at least one letter a-z or digit, to name the organization's object")
	}
	if err := CheckDescription(description); err != nil {
		return nil, err
	}
	org, err := s.newOrganization(ctx, u, name, false)
	if err != nil || description == "" {
		return org, err
	}
	before := org.DeepCopy()
	org.Spec.Description = description
	return org, s.PatchAndWait(ctx, org, client.MergeFrom(before))
}

// newOrganization creates the Organization, and waits until the cache has
// it: the caller may read or change it next. Admission claims the display
// name (409 when another organization has it, however written).
func (s *Service) newOrganization(ctx context.Context, u user.Info, displayName string, eula bool) (*v1alpha1.Organization, error) {
	displayName = strings.TrimSpace(displayName)
	if err := s.mayCreate(ctx, u); err != nil {
		return nil, err
	}
	org := &v1alpha1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: OrganizationName(displayName), Annotations: map[string]string{
			AnnotationRequestedBy: u.GetName(), v1alpha1.AnnotationCreatedBy: u.GetName()},
			// Born with the finalizer: however soon it is deleted, the
			// reconciler cleans up after it.
			Finalizers: []string{v1alpha1.Finalizer}},
		Spec: v1alpha1.OrganizationSpec{DisplayName: displayName, EulaAccepted: eula,
			Members: []v1alpha1.Member{index.MemberFor(u.GetName(), v1alpha1.RoleAdmin)}},
	}
	if err := s.Writer.Create(ctx, org); err != nil {
		return nil, err
	}
	s.WaitCached(ctx, org)
	s.Record(org, u, "Created organization through the REST API")
	return org, nil
}

// mayCreate applies the creator groups and the per-user cap to the caller
// (admission, which sees the manager write, applies the cap again).
func (s *Service) mayCreate(ctx context.Context, u user.Info) error {
	if s.Creators == nil {
		return nil
	}
	if admin, err := s.Admins.Is(ctx, u); err != nil || admin {
		return err
	}
	if err := s.Creators.MayCreate(u); err != nil {
		return err
	}
	return s.Creators.WithinCap(ctx, u.GetName())
}

// provision waits for the organization's namespace, creates the first
// account, waits for it, applies the license asked for, and sets the
// caller's active account.
func (s *Service) provision(ctx context.Context, u user.Info, org *v1alpha1.Organization, c Create) (*v1alpha1.Account, error) {
	if err := s.waitReady(ctx, org); err != nil {
		return nil, err
	}
	acct := &v1alpha1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: slug(c.AccountName, 32), Namespace: org.NamespaceName(),
			Annotations: map[string]string{AnnotationRequestedBy: u.GetName()}},
		Spec: v1alpha1.AccountSpec{DisplayName: c.AccountName},
	}
	if err := s.Writer.Create(ctx, acct); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, acct); err != nil {
		return nil, err
	}
	typ := c.LicenseType
	if typ == v1alpha1.PlanFree {
		typ = "" // the free plan is having no license
	}
	if err := s.applyLicense(ctx, u, org, c.LicenseKey, typ); err != nil {
		return nil, err
	}
	return acct, s.setActiveAccount(ctx, u, org.Name+"/"+acct.Name)
}

// waitReady waits until obj, read from the cache, is Ready. It stops at
// once when the reconciler reports it Stalled (it needs a person, not
// time), and after ReadyTimeout otherwise.
func (s *Service) waitReady(ctx context.Context, obj client.Object) error {
	var conds *[]metav1.Condition
	kind := "Account"
	switch o := obj.(type) {
	case *v1alpha1.Organization:
		conds, kind = &o.Status.Conditions, "Organization"
	case *v1alpha1.Account:
		conds = &o.Status.Conditions
	}
	var stalled *Error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, ReadyTimeout, true, func(ctx context.Context) (bool, error) {
		if err := s.Cache.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if c := meta.FindStatusCondition(*conds, v1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
			stalled = refuse(Conflict, "%s %s cannot become ready: %s", kind, obj.GetName(), c.Message)
			return false, stalled
		}
		return meta.IsStatusConditionTrue(*conds, v1alpha1.ConditionReady), nil
	})
	switch {
	case stalled != nil:
		return stalled
	case err != nil:
		return fmt.Errorf("%s %s did not become ready: %w", kind, obj.GetName(), err)
	}
	return nil
}

// setActiveAccount makes account ("<org>/<account>") the caller's active
// one, and waits until the cache shows it so the caller's next read does.
func (s *Service) setActiveAccount(ctx context.Context, u user.Info, account string) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, ReadyTimeout, true, func(ctx context.Context) (bool, error) {
		found, err := s.UserNamed(ctx, u.GetName())
		if err != nil || found == nil || found.Spec.ActiveAccount == account {
			return found != nil, err
		}
		patch := client.MergeFrom(found.DeepCopy())
		found.Spec.ActiveAccount = account
		return true, s.PatchAndWait(ctx, found, patch)
	})
}

// rollback deletes an organization made part-way; its finalizer removes the
// accounts, namespaces, bindings and display-name claim.
func (s *Service) rollback(org *v1alpha1.Organization) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = client.IgnoreNotFound(s.Writer.Delete(ctx, org))
}
