package orgs

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// InContext is the caller's organization in context: the one of
// their User's activeAccount, or their only organization.
func (s *Service) InContext(ctx context.Context, u user.Info) (Membership, error) {
	ms, err := s.Memberships(ctx, u)
	if err != nil {
		return Membership{}, err
	}
	s.AsPlatformAdmin(ctx, u, ms)
	if len(ms) == 0 {
		return Membership{}, refuse(Forbidden, "You are not a member of any organization")
	}
	org, _, err := s.activeAccount(ctx, u)
	if err != nil {
		return Membership{}, err
	}
	for _, m := range ms {
		if m.Org.Name == org {
			return m, nil
		}
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return Membership{}, refuse(Forbidden,
		"You belong to %d organizations and have no active account: set spec.activeAccount (\"<organization>/<account>\") on your User", len(ms))
}

// activeAccount splits the caller's User's activeAccount.
func (s *Service) activeAccount(ctx context.Context, u user.Info) (org, account string, err error) {
	found, err := s.UserNamed(ctx, u.GetName())
	if err != nil || found == nil {
		return "", "", err
	}
	org, account, _ = strings.Cut(found.Spec.ActiveAccount, "/")
	return org, account, nil
}

// ActiveAccountID is the id (uid) of the caller's active account, or "".
func (s *Service) ActiveAccountID(ctx context.Context, u user.Info) (string, error) {
	org, account, err := s.activeAccount(ctx, u)
	if err != nil || account == "" {
		return "", err
	}
	a := &v1alpha1.Account{}
	err = s.Cache.Get(ctx, types.NamespacedName{Namespace: v1alpha1.OrganizationNamespace(org), Name: account}, a)
	if err != nil {
		return "", client.IgnoreNotFound(err)
	}
	return string(a.UID), nil
}
