package orgs

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/index"
)

// AnnotationRequestedBy records who asked the REST API for a write.
const AnnotationRequestedBy = "orgplane.io/requested-by"

// MaxDescription is the longest description an organization may have.
const MaxDescription = 1024

// CheckDisplayName refuses a display name that breaks the rule admission
// enforces for every writer (surrounding white space aside: it is trimmed).
func CheckDisplayName(field, name string) error {
	if errs := displayname.Validate(strings.TrimSpace(name)); len(errs) > 0 {
		return invalid(field, map[string]any{"errors": errs},
			"Field %q is not a valid display name: it %s", field, strings.Join(errs, "; it "))
	}
	return nil
}

// CheckDescription refuses a description over MaxDescription characters.
func CheckDescription(description string) error {
	if len(description) > MaxDescription {
		return invalid("description", nil, "Field \"description\" is longer than %d characters", MaxDescription)
	}
	return nil
}

// CheckEmail refuses what is not a bare email address.
func CheckEmail(email string) error {
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return invalid("email", nil, "Field \"email\" must be an email address such as name@example.com")
	}
	return nil
}

// Update is a change to an organization; nil fields stay as they are.
type Update struct {
	// Name is the new display name; admission claims it (409 when another
	// organization has it, however written) and the old claim lapses.
	Name        *string
	Description *string
	// Active false suspends the organization, true resumes it (platform
	// admins only).
	Active *bool
	// Slug is the organization's object name (seed 000), which cannot change.
	Slug *string
}

// validate refuses, before any lookup, what no organization takes.
func (c Update) validate() error {
	if c.Name != nil {
		if err := CheckDisplayName("name", *c.Name); err != nil {
			return err
		}
	}
	if c.Description != nil {
		return CheckDescription(*c.Description)
	}
	return nil
}

// Update applies change to organization id, which the caller administers,
// and returns it as written.
func (s *Service) Update(ctx context.Context, u user.Info, id string, change Update) (*v1alpha1.Organization, error) {
	if err := change.validate(); err != nil {
		return nil, err
	}
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if change.Slug != nil && *change.Slug != org.Name {
		return nil, invalid("slug", nil, "slug is the organization's name (%s) and cannot change", org.Name)
	}
	if change.Active != nil && *change.Active == org.Spec.Suspended {
		if err := s.mayChangeSuspension(ctx, u, org); err != nil {
			return nil, err
		}
	}
	before, old := org.DeepCopy(), org.Spec.DisplayName
	if change.Name != nil {
		org.Spec.DisplayName = strings.TrimSpace(*change.Name)
	}
	if change.Description != nil {
		org.Spec.Description = *change.Description
	}
	if change.Active != nil {
		org.Spec.Suspended = !*change.Active
	}
	if equality.Semantic.DeepEqual(before.Spec, org.Spec) {
		return org, nil // nothing to write
	}
	setAnnotation(org, AnnotationRequestedBy, u.GetName())
	if err := s.PatchAndWait(ctx, org, client.MergeFrom(before)); err != nil {
		return nil, err
	}
	if org.Spec.DisplayName != old {
		s.Record(org, u, fmt.Sprintf("Renamed organization from %q to %q", old, org.Spec.DisplayName))
	}
	return org, nil
}

// mayChangeSuspension refuses suspending or resuming by anyone but a
// platform admin; admission refuses it for kubectl too.
func (s *Service) mayChangeSuspension(ctx context.Context, u user.Info, org *v1alpha1.Organization) error {
	if admin, err := s.Admins.Is(ctx, u); err != nil || admin {
		return err
	}
	return refuse(Forbidden, "Only platform admins may suspend or resume organization %s (\"active\")", org.Name)
}

// AddMember adds the user email to organization id, which the caller
// administers, with role (member when empty), and returns the role given;
// admission applies the users limit.
func (s *Service) AddMember(ctx context.Context, u user.Info, id, email string, role v1alpha1.Role) (v1alpha1.Role, error) {
	if role == "" {
		role = v1alpha1.RoleMember
	}
	if err := CheckEmail(email); err != nil {
		return "", err
	}
	if err := CheckRole(role); err != nil {
		return "", err
	}
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return "", err
	}
	err = s.updateMembers(ctx, org, func(org *v1alpha1.Organization) error {
		for _, m := range org.Spec.Members {
			if m.Kind == v1alpha1.SubjectUser && strings.EqualFold(m.Name, email) {
				return refuse(Conflict, "%s is already a member of %s", email, org.Name)
			}
		}
		org.Spec.Members = append(org.Spec.Members, v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: email, Role: role})
		return nil
	})
	if err != nil {
		return "", err
	}
	s.Record(org, u, fmt.Sprintf("Added %s %s", role, email))
	return role, nil
}

// SetMemberRole gives role to the members of organization id, which the
// caller administers, that member names (as RemoveMember takes it), and
// returns the first of them as written. Admission keeps the last admin.
func (s *Service) SetMemberRole(ctx context.Context, u user.Info, id, member string, role v1alpha1.Role) (v1alpha1.Member, error) {
	if err := CheckRole(role); err != nil {
		return v1alpha1.Member{}, err
	}
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return v1alpha1.Member{}, err
	}
	var changed v1alpha1.Member
	err = s.updateMembers(ctx, org, func(org *v1alpha1.Organization) error {
		found := false
		for i, m := range org.Spec.Members {
			if s.memberIs(ctx, m, member) {
				org.Spec.Members[i].Role = role
				if !found {
					changed, found = org.Spec.Members[i], true
				}
			}
		}
		if !found {
			return refuse(NotFound, "%q is not a member of %s: give a member's User id, username or member id, as its members list shows them", member, org.Name)
		}
		return nil
	})
	if err != nil {
		return v1alpha1.Member{}, err
	}
	s.Record(org, u, fmt.Sprintf("Made %s %s", member, role))
	return changed, nil
}

// CheckRole refuses a role that is not admin, member or viewer.
func CheckRole(role v1alpha1.Role) error {
	switch role {
	case v1alpha1.RoleAdmin, v1alpha1.RoleMember, v1alpha1.RoleViewer:
		return nil
	}
	return invalid("role", nil, "Field \"role\" must be admin, member or viewer, not %q", role)
}

// RemoveMember removes from organization id, which the caller administers,
// the members that member names: a User's id (uid), a username or a member
// id (index.SubjectKey). Admission keeps the last admin.
func (s *Service) RemoveMember(ctx context.Context, u user.Info, id, member string) error {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return err
	}
	err = s.updateMembers(ctx, org, func(org *v1alpha1.Organization) error {
		kept := org.Spec.Members[:0:0]
		for _, m := range org.Spec.Members {
			if !s.memberIs(ctx, m, member) {
				kept = append(kept, m)
			}
		}
		if len(kept) == len(org.Spec.Members) {
			return refuse(NotFound, "%q is not a member of %s", member, org.Name)
		}
		org.Spec.Members = kept
		return nil
	})
	if err == nil {
		s.Record(org, u, "Removed member "+member)
	}
	return err
}

// Delete deletes organization id, which the caller administers; its
// finalizer removes what it owns.
func (s *Service) Delete(ctx context.Context, u user.Info, id string) error {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return err
	}
	s.Record(org, u, "Deleting organization")
	return client.IgnoreNotFound(s.Writer.Delete(ctx, org))
}

// memberIs says whether id names member m.
func (s *Service) memberIs(ctx context.Context, m v1alpha1.Member, id string) bool {
	if index.SubjectKey(m) == id || m.Name == id {
		return true
	}
	found, err := s.UserNamed(ctx, m.Name)
	return err == nil && found != nil && string(found.UID) == id
}

// conflictRetry paces the re-reads of an organization whose write lost a
// race: enough rounds for many concurrent member changes to all land.
var conflictRetry = wait.Backoff{Steps: 15, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 0.5, Cap: time.Second}

// updateMembers applies change to org's member list and writes it,
// conditional on the version read (the list is replaced whole). When the
// controller or another request wrote first, it reads org again and applies
// change again: a caller never sees an optimistic-lock conflict, and a
// refusal by admission (such as the users limit) reaches them as it is.
func (s *Service) updateMembers(ctx context.Context, org *v1alpha1.Organization, change func(*v1alpha1.Organization) error) error {
	reread := false
	err := retry.OnError(conflictRetry, IsStaleWrite, func() error {
		if reread {
			if err := s.Live.Get(ctx, client.ObjectKeyFromObject(org), org); err != nil {
				return err
			}
		}
		reread = true
		before := org.DeepCopy()
		if err := change(org); err != nil {
			return err
		}
		return s.PatchAndWait(ctx, org, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if IsStaleWrite(err) {
		return refuse(Conflict, "Organization %s kept changing while your request was applied; send it again", org.Name)
	}
	return err
}

// patchFresh reads obj from the API server, changes it and patches it,
// conditional on the version read; a write that lost a race (with a
// reconciler's status, say) is made again from a fresh read. change
// returning an error ends it with that error.
func (s *Service) patchFresh(ctx context.Context, obj client.Object, change func() error) error {
	err := retry.OnError(conflictRetry, IsStaleWrite, func() error {
		if err := s.Live.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		before := obj.DeepCopyObject().(client.Object)
		if err := change(); err != nil {
			return err
		}
		return s.Writer.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if IsStaleWrite(err) {
		return refuse(Conflict, "%s kept changing while your request was applied; send it again", obj.GetName())
	}
	return err
}

// IsStaleWrite says whether err is an optimistic-lock conflict (the object
// changed since it was read), not a refusal by admission.
func IsStaleWrite(err error) bool {
	return apierrors.IsConflict(err) && strings.Contains(err.Error(), "the object has been modified")
}

// PatchAndWait patches obj's spec and waits (briefly) until the cache holds
// that generation or a later one, so that the caller's next read shows what
// they wrote.
func (s *Service) PatchAndWait(ctx context.Context, obj client.Object, patch client.Patch) error {
	if err := s.Writer.Patch(ctx, obj, patch); err != nil {
		return err
	}
	s.WaitCached(ctx, obj)
	return nil
}

// WaitCached waits (briefly) until the cache holds obj, just written, at its
// generation or a later one, so that the caller's next read shows it.
func (s *Service) WaitCached(ctx context.Context, obj client.Object) {
	cached := obj.DeepCopyObject().(client.Object)
	_ = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		err := s.Cache.Get(ctx, client.ObjectKeyFromObject(obj), cached)
		return err == nil && cached.GetGeneration() >= obj.GetGeneration(), nil
	})
}

func setAnnotation(obj client.Object, k, v string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	obj.SetAnnotations(a)
}
