package orgs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// maxAccountName is the longest object name an account gets from its
// display name, as the first account does (provision).
const maxAccountName = 32

// NewAccount is an account to create in an organization.
type NewAccount struct {
	// DisplayName is the account's name as people read it (required).
	DisplayName string
	// Name is the account's object name; made from DisplayName when empty.
	Name string
}

// validate trims and checks a, and derives Name when it is empty.
func (a *NewAccount) validate() error {
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	if err := checkAccountDisplayName(a.DisplayName); err != nil {
		return err
	}
	if a.Name == "" {
		if a.Name = slug(a.DisplayName, maxAccountName); a.Name == "" {
			return invalid("name", nil, "Field \"displayName\" has no letter a-z or digit to make the account's name from: send \"name\" too, e.g. \"web\"")
		}
		return nil
	}
	if errs := validation.IsDNS1123Label(a.Name); len(errs) > 0 {
		return invalid("name", map[string]any{"errors": errs},
			"Field \"name\" must be lower-case letters a-z, digits and '-', starting and ending with a letter or digit (e.g. \"web-shop\"); leave it out to make it from displayName")
	}
	return nil
}

// checkAccountDisplayName refuses a missing or invalid account display name.
func checkAccountDisplayName(name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("displayName", map[string]any{"missing": []string{"displayName"}},
			"Field \"displayName\" is required: the account's name as people read it, e.g. \"Web shop\"")
	}
	return CheckDisplayName("displayName", name)
}

// CreateAccount creates account a in organization id, which the caller
// administers, and returns it once it is Ready. Admission applies the
// plan's accounts limit: its refusal (403 naming the limit) reaches the
// caller as it is.
func (s *Service) CreateAccount(ctx context.Context, u user.Info, id string, a NewAccount) (*v1alpha1.Account, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkAccountName(ctx, org, a.Name); err != nil {
		return nil, err
	}
	acct := &v1alpha1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: a.Name, Namespace: org.NamespaceName(),
			Annotations: map[string]string{AnnotationRequestedBy: u.GetName()}},
		Spec: v1alpha1.AccountSpec{DisplayName: a.DisplayName},
	}
	if err := s.Writer.Create(ctx, acct); err != nil {
		return nil, err
	}
	s.Record(org, u, fmt.Sprintf("Created account %s (%q)", acct.Name, acct.Spec.DisplayName))
	return acct, s.waitReady(ctx, acct)
}

// checkAccountName refuses, before anything is written, a name whose
// workspace namespace would be too long or that an account of org has.
func (s *Service) checkAccountName(ctx context.Context, org *v1alpha1.Organization, name string) error {
	if err := v1alpha1.CheckWorkspaceName(org.Name, name); err != nil {
		return invalid("name", nil, "Field \"name\" is too long for organization %s (%v): send a shorter \"name\"", org.Name, err)
	}
	existing := &v1alpha1.Account{}
	err := s.Cache.Get(ctx, client.ObjectKey{Namespace: org.NamespaceName(), Name: name}, existing)
	if err == nil {
		return refuse(Conflict, "Organization %s already has an account named %s: send another \"name\"", org.Name, name)
	}
	return client.IgnoreNotFound(err)
}

// RenameAccount sets the display name of account accountID (its name or
// uid) of organization id, which the caller administers.
func (s *Service) RenameAccount(ctx context.Context, u user.Info, id, accountID, displayName string) (*v1alpha1.Account, error) {
	displayName = strings.TrimSpace(displayName)
	if err := checkAccountDisplayName(displayName); err != nil {
		return nil, err
	}
	org, acct, err := s.adminAccount(ctx, u, id, accountID)
	if err != nil {
		return nil, err
	}
	old := acct.Spec.DisplayName
	if err := s.patchAccount(ctx, u, acct, func(a *v1alpha1.Account) { a.Spec.DisplayName = displayName }); err != nil {
		return nil, err
	}
	s.Record(org, u, fmt.Sprintf("Renamed account %s from %q to %q", acct.Name, old, displayName))
	return acct, nil
}

// DeleteAccount deletes account accountID (its name or uid) of
// organization id, which the caller administers; its finalizer removes its
// workspace.
func (s *Service) DeleteAccount(ctx context.Context, u user.Info, id, accountID string) error {
	org, acct, err := s.adminAccount(ctx, u, id, accountID)
	if err != nil {
		return err
	}
	s.Record(org, u, "Deleting account "+acct.Name)
	return client.IgnoreNotFound(s.Writer.Delete(ctx, acct))
}

// RotateKey raises spec.keyRotation of account accountID (its name or uid)
// of organization id, which the caller administers, and returns the
// account once the cache holds its API-key Secret with the new key (the
// old one stays accepted as the alternate).
func (s *Service) RotateKey(ctx context.Context, u user.Info, id, accountID string) (*v1alpha1.Account, error) {
	org, acct, err := s.adminAccount(ctx, u, id, accountID)
	if err != nil {
		return nil, err
	}
	if err := s.patchAccount(ctx, u, acct, func(a *v1alpha1.Account) { a.Spec.KeyRotation++ }); err != nil {
		return nil, err
	}
	s.Record(org, u, fmt.Sprintf("Rotating the API key of account %s (rotation %d)", acct.Name, acct.Spec.KeyRotation))
	return acct, s.waitRotated(ctx, acct)
}

// adminAccount finds organization id, which the caller administers, and
// its account accountID: its name or uid.
func (s *Service) adminAccount(ctx context.Context, u user.Info, id, accountID string) (*v1alpha1.Organization, *v1alpha1.Account, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	list := &v1alpha1.AccountList{}
	if err := s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, nil, err
	}
	for i := range list.Items {
		if a := &list.Items[i]; a.Name == accountID || string(a.UID) == accountID {
			return org, a, nil
		}
	}
	return nil, nil, refuse(NotFound, "Organization %s has no account %q: give an account's name or id, as its accounts list shows them", org.Name, accountID)
}

// patchAccount applies change to acct, read again from the API server,
// records who asked, and waits until the cache holds the result.
func (s *Service) patchAccount(ctx context.Context, u user.Info, acct *v1alpha1.Account, change func(*v1alpha1.Account)) error {
	err := s.patchFresh(ctx, acct, func() error {
		change(acct)
		setAnnotation(acct, AnnotationRequestedBy, u.GetName())
		return nil
	})
	if err != nil {
		return err
	}
	s.WaitCached(ctx, acct)
	return nil
}

// rotationTimeout bounds how long RotateKey waits for the reconciler's new key.
const rotationTimeout = 30 * time.Second

// waitRotated waits until the cache holds acct's API-key Secret with the
// keys of its spec.keyRotation (or a later one).
func (s *Service) waitRotated(ctx context.Context, acct *v1alpha1.Account) error {
	key := client.ObjectKey{Namespace: acct.Namespace, Name: acct.APIKeySecretName()}
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, rotationTimeout, true, func(ctx context.Context) (bool, error) {
		secret := &corev1.Secret{}
		if err := s.Cache.Get(ctx, key, secret); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		n, _ := strconv.ParseInt(secret.Annotations[v1alpha1.AnnotationKeyRotation], 10, 64)
		return n >= acct.Spec.KeyRotation, nil
	})
	if err != nil {
		return fmt.Errorf("the API key of account %s was not rotated to rotation %d: %w", acct.Name, acct.Spec.KeyRotation, err)
	}
	return nil
}
