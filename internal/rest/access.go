package rest

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// membership is an organization the caller belongs to, with their role.
type membership struct {
	// org is the cache's own object, not a copy: read it, never change it.
	org  *v1alpha1.Organization
	role v1alpha1.Role
}

// memberships lists, from the cache's member index, the organizations the
// caller belongs to as a user, service account or group member, sorted by name.
func (s *Server) memberships(ctx context.Context, u user.Info) ([]membership, error) {
	byName := map[string]*membership{}
	for _, key := range index.CallerKeys(u.GetName(), u.GetGroups()) {
		orgs := &v1alpha1.OrganizationList{}
		if err := s.cache.List(ctx, orgs, client.MatchingFields{index.MemberSubject: key}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("failed to list organizations: %w", err)
		}
		for i := range orgs.Items {
			addMembership(byName, &orgs.Items[i], key)
		}
	}
	out := make([]membership, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].org.Name < out[j].org.Name })
	return out, nil
}

// asPlatformAdmin raises to admin the roles of a caller who is a platform
// admin, in the organizations where they are a plain member: platform-admin
// rights hold everywhere. It asks (once) only when some role is below admin.
func (s *Server) asPlatformAdmin(ctx context.Context, u user.Info, ms []membership) {
	for i := range ms {
		if ms[i].role == v1alpha1.RoleAdmin {
			continue
		}
		// Should the review fail, the caller sees what their memberships show.
		if platform, err := s.admins.Is(ctx, u); err != nil || !platform {
			return
		}
		for j := range ms {
			ms[j].role = v1alpha1.RoleAdmin
		}
		return
	}
}

// addMembership records org with the highest role that key holds in it.
func addMembership(byName map[string]*membership, org *v1alpha1.Organization, key string) {
	if !org.DeletionTimestamp.IsZero() {
		return
	}
	for _, m := range org.Spec.Members {
		if index.SubjectKey(m) != key {
			continue
		}
		cur, ok := byName[org.Name]
		if !ok {
			byName[org.Name] = &membership{org: org, role: m.Role}
		} else if m.Role == v1alpha1.RoleAdmin {
			cur.role = v1alpha1.RoleAdmin
		}
	}
}

// roleIn is the caller's role in org: admin or member, admin for platform
// admins (who may update organizations cluster-wide) even when they are
// also a plain member, or "" for none.
func (s *Server) roleIn(ctx context.Context, u user.Info, org *v1alpha1.Organization) (v1alpha1.Role, error) {
	ms, err := s.memberships(ctx, u)
	if err != nil {
		return "", err
	}
	var role v1alpha1.Role
	for _, m := range ms {
		if m.org.Name == org.Name {
			role = m.role
		}
	}
	if role == v1alpha1.RoleAdmin {
		return role, nil
	}
	platform, err := s.admins.Is(ctx, u)
	switch {
	case err != nil && role == "":
		return "", err
	case err == nil && platform:
		return v1alpha1.RoleAdmin, nil
	}
	return role, nil
}
