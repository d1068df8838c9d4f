package orgs

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/index"
)

// Domains lists organization id's domains (admins).
func (s *Service) Domains(ctx context.Context, u user.Info, id string) ([]v1alpha1.Domain, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	list := &v1alpha1.DomainList{}
	return list.Items, s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName()))
}

// AddDomain claims an e-mail domain for organization id (admins); the
// domain reconciler shows the TXT record that proves it.
func (s *Service) AddDomain(ctx context.Context, u user.Info, id string, want v1alpha1.DomainSpec) (*v1alpha1.Domain, error) {
	name, err := domains.Normalize(want.Domain)
	if err != nil {
		return nil, invalid("domain", nil, "%s", err.Error())
	}
	if s.Consumer.Is(name) {
		return nil, invalid("domain", nil, "%s is a consumer e-mail domain: anyone can have an address there, so no organization may claim it", name)
	}
	if err := checkEnrollment(want); err != nil {
		return nil, err
	}
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	want.Domain = name
	d := &v1alpha1.Domain{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: org.NamespaceName()}, Spec: want}
	err = s.Writer.Create(ctx, d)
	if apierrors.IsAlreadyExists(err) {
		return nil, refuse(Conflict, "Organization %s claims %s already", org.Name, name)
	}
	if err != nil {
		return nil, err
	}
	s.Record(org, u, "Claimed domain "+name)
	return d, nil
}

func checkEnrollment(d v1alpha1.DomainSpec) error {
	if !slices.Contains([]v1alpha1.Enrollment{"", v1alpha1.EnrollmentOff, v1alpha1.EnrollmentSuggest, v1alpha1.EnrollmentAuto}, d.Enrollment) {
		return invalid("enrollment", nil, "Field \"enrollment\" must be off, suggest or auto, not %q", d.Enrollment)
	}
	if d.DefaultRole != "" && d.DefaultRole != v1alpha1.RoleMember && d.DefaultRole != v1alpha1.RoleViewer {
		return invalid("defaultRole", nil, "Field \"defaultRole\" must be member or viewer: a domain never makes anyone an admin")
	}
	return nil
}

// VerifyDomain looks domain domID of organization id up again now (admins).
func (s *Service) VerifyDomain(ctx context.Context, u user.Info, id, domID string) (*v1alpha1.Domain, error) {
	return s.changeDomain(ctx, u, id, domID, func(d *v1alpha1.Domain) { d.Spec.Reverify++ })
}

// SetEnrollment sets what domain domID lets people do (admins).
func (s *Service) SetEnrollment(ctx context.Context, u user.Info, id, domID string, want v1alpha1.DomainSpec) (*v1alpha1.Domain, error) {
	if err := checkEnrollment(want); err != nil {
		return nil, err
	}
	return s.changeDomain(ctx, u, id, domID, func(d *v1alpha1.Domain) {
		if want.Enrollment != "" {
			d.Spec.Enrollment = want.Enrollment
		}
		if want.DefaultRole != "" {
			d.Spec.DefaultRole = want.DefaultRole
		}
	})
}

func (s *Service) changeDomain(ctx context.Context, u user.Info, id, domID string, change func(*v1alpha1.Domain)) (*v1alpha1.Domain, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	d := &v1alpha1.Domain{ObjectMeta: metav1.ObjectMeta{Namespace: org.NamespaceName(), Name: domID}}
	err = s.patchFresh(ctx, d, func() error { change(d); return nil })
	if apierrors.IsNotFound(err) {
		return nil, refuse(NotFound, "Organization %s claims no domain %s", org.Name, domID)
	}
	return d, err
}

// JoinRequests lists organization id's join requests (admins).
func (s *Service) JoinRequests(ctx context.Context, u user.Info, id string) ([]v1alpha1.JoinRequest, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	list := &v1alpha1.JoinRequestList{}
	return list.Items, s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName()))
}

// Decide approves or denies join request reqID of organization id
// (admins); approving adds the person through the seat ledger.
func (s *Service) Decide(ctx context.Context, u user.Info, id, reqID string, decision v1alpha1.JoinRequestPhase) (*v1alpha1.JoinRequest, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	list := &v1alpha1.JoinRequestList{}
	if err := s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, err
	}
	for i := range list.Items {
		jr := &list.Items[i]
		if string(jr.UID) != reqID && jr.Name != reqID {
			continue
		}
		return jr, s.decide(ctx, jr, decision, u.GetName())
	}
	return nil, refuse(NotFound, "Organization %s has no join request %s", org.Name, reqID)
}

// decide records decision on jr as read from the API server, conditional
// on the version read; a write that lost a race with the reconciler's
// status is made again from a fresh read.
func (s *Service) decide(ctx context.Context, jr *v1alpha1.JoinRequest, decision v1alpha1.JoinRequestPhase, by string) error {
	return s.patchFresh(ctx, jr, func() error {
		if jr.Spec.Decision != "" {
			return refuse(Conflict, "Join request %s was %s already", jr.Name, jr.Spec.Decision)
		}
		jr.Spec.Decision, jr.Spec.DecidedBy = decision, by
		return nil
	})
}

// AskToJoin files u's request to join organization id through its
// verified domain (enrolment suggest or auto). Anyone else's request, or
// one through a domain the organization does not hold, is not found.
func (s *Service) AskToJoin(ctx context.Context, u user.Info, id string) (*v1alpha1.JoinRequest, error) {
	org, err := s.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	held, err := domains.HeldBy(ctx, s.Cache, org.Name, u.GetName())
	if err != nil {
		return nil, err
	}
	if held == nil || held.Spec.Enrollment == v1alpha1.EnrollmentOff {
		return nil, refuse(NotFound, "Organization %s takes no join requests from %s", id, u.GetName())
	}
	if index.RoleOf(org, index.CallerKeys(u.GetName(), nil)) != "" {
		return nil, refuse(Conflict, "%s is a member of %s already", u.GetName(), org.Name)
	}
	return s.fileJoinRequest(ctx, org, held, u.GetName())
}

// fileJoinRequest creates the join request of email through domain d, or
// returns the one pending.
func (s *Service) fileJoinRequest(ctx context.Context, org *v1alpha1.Organization, d *v1alpha1.Domain, email string) (*v1alpha1.JoinRequest, error) {
	list := &v1alpha1.JoinRequestList{}
	if err := s.Cache.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if jr := &list.Items[i]; jr.Spec.Email == email && jr.Spec.Decision == "" {
			return jr, nil
		}
	}
	jr := &v1alpha1.JoinRequest{ObjectMeta: metav1.ObjectMeta{GenerateName: "join-", Namespace: org.NamespaceName()},
		Spec: v1alpha1.JoinRequestSpec{Email: email, Domain: d.Spec.Domain, Role: d.Spec.DefaultRole}}
	if err := s.Writer.Create(ctx, jr); err != nil {
		return nil, err
	}
	s.Record(org, user.Info(&user.DefaultInfo{Name: email}), "Asked to join through "+d.Spec.Domain)
	return jr, nil
}

// AutoJoin makes u a member of every organization that holds u's e-mail
// domain, verified, with enrolment auto, through the seat ledger: at the
// users limit it files a join request instead. It returns what it did,
// for the caller's log.
func (s *Service) AutoJoin(ctx context.Context, u user.Info) ([]string, error) {
	held, err := domains.Verified(ctx, s.Cache, u.GetName())
	if err != nil {
		return nil, err
	}
	var done []string
	for i := range held {
		d := &held[i]
		if d.Spec.Enrollment != v1alpha1.EnrollmentAuto {
			continue
		}
		note, err := s.autoJoin(ctx, u, d)
		if err != nil {
			return done, err
		}
		if note != "" {
			done = append(done, note)
		}
	}
	return done, nil
}

func (s *Service) autoJoin(ctx context.Context, u user.Info, d *v1alpha1.Domain) (string, error) {
	org := &v1alpha1.Organization{}
	name := d.Namespace[len(v1alpha1.OrganizationNamespacePrefix):]
	if err := s.Cache.Get(ctx, types.NamespacedName{Name: name}, org); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	if index.RoleOf(org, index.CallerKeys(u.GetName(), nil)) != "" {
		return "", nil
	}
	m := v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: u.GetName(), Role: d.Spec.DefaultRole, JoinedVia: "domain"}
	err := s.updateMembers(ctx, org.DeepCopy(), func(o *v1alpha1.Organization) error {
		o.Spec.Members = append(o.Spec.Members, m)
		return nil
	})
	if apierrors.IsForbidden(err) {
		if _, jerr := s.fileJoinRequest(ctx, org, d, u.GetName()); jerr != nil {
			return "", jerr
		}
		return fmt.Sprintf("asked to join %s (no seat free)", org.Name), nil
	}
	if err != nil {
		return "", err
	}
	s.Record(org, u, "Joined through "+d.Spec.Domain)
	return "joined " + org.Name, nil
}
