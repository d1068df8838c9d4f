// Package orgs is the organization service: every operation on
// organizations that the REST API's seed adapters offer (lookups and roles,
// rename, update, suspension, members, delete), once, with typed errors
// (Error) and no knowledge of HTTP. It reads from the manager's cache
// (indexed) and writes through the manager's client; admission decides
// what every writer may do, and the service refuses early what admission
// would refuse, so that a caller's mistake costs no write.
package orgs

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/tenancy"
)

// PlatformAdmins says whether a user is a platform admin (tenancy.PlatformAdmins).
type PlatformAdmins interface {
	Is(ctx context.Context, u user.Info) (bool, error)
}

// Service runs the operations on organizations.
type Service struct {
	// Cache is the manager's indexed cache: every read.
	Cache client.Reader
	// Live reads from the API server: the re-read after a lost race.
	Live client.Reader
	// Writer writes, as the manager.
	Writer client.Client
	// Admins says who is a platform admin.
	Admins PlatformAdmins
	// Recorder records who asked for each write; may be nil.
	Recorder events.EventRecorder
	// Creators says who may create organizations; nil lets everyone.
	Creators *tenancy.Creators
	// Verifier verifies license keys before they are assigned.
	Verifier *license.Verifier
	// Issuer issues self-issued licenses; nil when the manager has no issuer key.
	Issuer *license.SelfIssuer
	// Consumer lists the consumer e-mail domains no organization may claim.
	Consumer domains.Consumer
}

// Membership is an organization the caller belongs to, with their role.
type Membership struct {
	// Org is the cache's own object, not a copy: read it, never change it.
	Org  *v1alpha1.Organization
	Role v1alpha1.Role
}

// Memberships lists, from the cache's member index, the organizations the
// caller belongs to as a user, service account or group member, sorted by
// name, with the highest role they hold in each.
func (s *Service) Memberships(ctx context.Context, u user.Info) ([]Membership, error) {
	keys := index.CallerKeys(u.GetName(), u.GetGroups())
	byName := map[string]Membership{}
	for _, key := range keys {
		orgs := &v1alpha1.OrganizationList{}
		if err := s.Cache.List(ctx, orgs, client.MatchingFields{index.MemberSubject: key}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("failed to list organizations: %w", err)
		}
		for i := range orgs.Items {
			// An organization being deleted is no one's any more.
			if org := &orgs.Items[i]; org.DeletionTimestamp.IsZero() {
				byName[org.Name] = Membership{Org: org, Role: index.RoleOf(org, keys)}
			}
		}
	}
	out := make([]Membership, 0, len(byName))
	for _, m := range byName {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Org.Name < out[j].Org.Name })
	return out, nil
}

// AsPlatformAdmin raises to admin the roles of a caller who is a platform
// admin, in the organizations where they are a plain member: platform-admin
// rights hold everywhere. It asks (once) only when some role is below admin.
func (s *Service) AsPlatformAdmin(ctx context.Context, u user.Info, ms []Membership) {
	for i := range ms {
		if ms[i].Role == v1alpha1.RoleAdmin {
			continue
		}
		// Should the review fail, the caller sees what their memberships show.
		if platform, err := s.Admins.Is(ctx, u); err != nil || !platform {
			return
		}
		for j := range ms {
			ms[j].Role = v1alpha1.RoleAdmin
		}
		return
	}
}

// RoleIn is the caller's role in org: admin or member, admin for platform
// admins (who may update organizations cluster-wide) even when they are
// also a plain member, or "" for none.
func (s *Service) RoleIn(ctx context.Context, u user.Info, org *v1alpha1.Organization) (v1alpha1.Role, error) {
	ms, err := s.Memberships(ctx, u)
	if err != nil {
		return "", err
	}
	var role v1alpha1.Role
	for _, m := range ms {
		if m.Org.Name == org.Name {
			role = m.Role
		}
	}
	if role == v1alpha1.RoleAdmin {
		return role, nil
	}
	platform, err := s.Admins.Is(ctx, u)
	switch {
	case err != nil && role == "":
		return "", err
	case err == nil && platform:
		return v1alpha1.RoleAdmin, nil
	}
	return role, nil
}

// ByID finds an organization by name or by id (uid).
func (s *Service) ByID(ctx context.Context, id string) (*v1alpha1.Organization, error) {
	org := &v1alpha1.Organization{}
	err := s.Cache.Get(ctx, types.NamespacedName{Name: id}, org)
	if err == nil {
		return org, nil
	}
	orgs := &v1alpha1.OrganizationList{}
	if lerr := s.Cache.List(ctx, orgs, client.MatchingFields{index.UID: id}); lerr != nil {
		return nil, lerr
	}
	if len(orgs.Items) == 1 {
		return &orgs.Items[0], nil
	}
	return nil, notYours(id)
}

func notYours(id string) *Error {
	return refuse(NotFound, "Organization %q not found among yours", id)
}

// MemberOf finds organization id among the caller's, with their role. An
// organization they do not belong to is not found, as one that does not exist.
func (s *Service) MemberOf(ctx context.Context, u user.Info, id string) (*v1alpha1.Organization, v1alpha1.Role, error) {
	org, err := s.ByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	role, err := s.RoleIn(ctx, u, org)
	if err != nil {
		return nil, "", err
	}
	if role == "" {
		return nil, "", notYours(id)
	}
	return org, role, nil
}

// AdminOf finds organization id and checks that the caller administers it
// and that it takes changes.
func (s *Service) AdminOf(ctx context.Context, u user.Info, id string) (*v1alpha1.Organization, error) {
	org, role, err := s.MemberOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if role != v1alpha1.RoleAdmin {
		return nil, refuse(Forbidden, "Only admins of organization %s may do this; you are a %s", org.Name, role)
	}
	return org, s.writableBy(ctx, u, org)
}

// writableBy refuses every write to a suspended organization, except a
// platform admin's (who may resume it).
func (s *Service) writableBy(ctx context.Context, u user.Info, org *v1alpha1.Organization) error {
	if !org.Spec.Suspended {
		return nil
	}
	if admin, err := s.Admins.Is(ctx, u); err != nil || admin {
		return err
	}
	return refuse(Forbidden, "Organization %s is suspended: it keeps running but takes no changes until a platform admin resumes it", org.Name)
}

// UserNamed is the User of username from the cache, or nil.
func (s *Service) UserNamed(ctx context.Context, username string) (*v1alpha1.User, error) {
	users := &v1alpha1.UserList{}
	if err := s.Cache.List(ctx, users, client.MatchingFields{index.Username: username}); err != nil {
		return nil, err
	}
	if len(users.Items) == 0 {
		return nil, nil
	}
	return &users.Items[0], nil
}

// Record emits an Event on obj naming who asked.
func (s *Service) Record(obj client.Object, u user.Info, note string) {
	if s.Recorder != nil {
		s.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, "RequestedByUser", "REST", "%s (requested by %s)", note, u.GetName())
	}
}
