package orgs

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
)

func ptr[T any](v T) *T { return &v }

func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// expectInvalidField fails t unless err is nil (field "") or an Invalid
// refusal of field.
func expectInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	var e *Error
	switch {
	case field == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case field != "" && (!errors.As(err, &e) || e.Reason != Invalid || e.Field != field):
		t.Fatalf("want Invalid %s, got %#v", field, err)
	}
}

func TestUpdateValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change Update
		field  string
	}{
		{"nothing", Update{}, ""},
		{"a display name", Update{Name: ptr("Acme Corp")}, ""},
		{"surrounding space is trimmed", Update{Name: ptr("  Acme  ")}, ""},
		{"an empty name", Update{Name: ptr("  ")}, "name"},
		{"a control character", Update{Name: ptr("Acme\u0007")}, "name"},
		{"a description at the limit", Update{Description: ptr(strings.Repeat("d", MaxDescription))}, ""},
		{"a description over the limit", Update{Description: ptr(strings.Repeat("d", MaxDescription+1))}, "description"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectInvalidField(t, tc.change.validate(), tc.field) })
	}
}

func TestCheckEmail(t *testing.T) {
	for email, ok := range map[string]bool{
		"ann@example.com": true, "Ann <ann@example.com>": false, "ann": false, "": false, "ann@example.com ": false,
	} {
		if err := CheckEmail(email); (err == nil) != ok {
			t.Errorf("CheckEmail(%q) = %v, want ok=%v", email, err, ok)
		}
	}
}

// platform is a PlatformAdmins that knows its answer.
type platform map[string]bool

func (p platform) Is(_ context.Context, u user.Info) (bool, error) { return p[u.GetName()], nil }

func organization(name string, suspended bool, members ...v1alpha1.Member) *v1alpha1.Organization {
	return &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: name, UID: k8stypes.UID("uid-" + name)},
		Spec: v1alpha1.OrganizationSpec{DisplayName: name, Suspended: suspended, Members: members}}
}

func member(kind, name string, role v1alpha1.Role) v1alpha1.Member {
	return v1alpha1.Member{Kind: kind, Name: name, Role: role}
}

// service is a Service over a fake cache with the member and uid indexes.
func service(t *testing.T, objs ...client.Object) *Service {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithIndex(&v1alpha1.Organization{}, index.MemberSubject, index.MemberSubjects).
		WithIndex(&v1alpha1.Organization{}, index.UID, func(o client.Object) []string { return []string{string(o.GetUID())} }).
		WithIndex(&v1alpha1.User{}, index.Username, func(o client.Object) []string { return []string{o.(*v1alpha1.User).Spec.Username} }).
		Build()
	return &Service{Cache: c, Live: c, Writer: c, Admins: platform{"root@platform.example": true}}
}

func TestRoles(t *testing.T) {
	s := service(t,
		organization("acme", false, member(v1alpha1.SubjectUser, "ann@acme.example", v1alpha1.RoleAdmin),
			member(v1alpha1.SubjectUser, "bob@acme.example", v1alpha1.RoleMember),
			member(v1alpha1.SubjectGroup, "acme-admins", v1alpha1.RoleAdmin),
			member(v1alpha1.SubjectUser, "root@platform.example", v1alpha1.RoleMember),
			member(v1alpha1.SubjectUser, "vic@acme.example", v1alpha1.RoleViewer),
			member(v1alpha1.SubjectGroup, "acme-staff", v1alpha1.RoleMember)),
		organization("globex", true, member(v1alpha1.SubjectUser, "gil@globex.example", v1alpha1.RoleAdmin)))
	for _, tc := range []struct {
		name   string
		caller user.Info
		id     string
		role   v1alpha1.Role
		admin  Reason // AdminOf's refusal, "" when allowed
	}{
		{"an admin", &user.DefaultInfo{Name: "ann@acme.example"}, "acme", v1alpha1.RoleAdmin, ""},
		{"by uid", &user.DefaultInfo{Name: "ann@acme.example"}, "uid-acme", v1alpha1.RoleAdmin, ""},
		{"a member", &user.DefaultInfo{Name: "bob@acme.example"}, "acme", v1alpha1.RoleMember, Forbidden},
		{"a member who is in an admin group", &user.DefaultInfo{Name: "bob@acme.example", Groups: []string{"acme-admins"}}, "acme", v1alpha1.RoleAdmin, ""},
		{"a viewer", &user.DefaultInfo{Name: "vic@acme.example"}, "acme", v1alpha1.RoleViewer, Forbidden},
		{"a viewer who is in a member group", &user.DefaultInfo{Name: "vic@acme.example", Groups: []string{"acme-staff"}}, "acme", v1alpha1.RoleMember, Forbidden},
		{"a user named like the admin group", &user.DefaultInfo{Name: "group:acme-admins"}, "acme", "", NotFound},
		{"an outsider", &user.DefaultInfo{Name: "eve@evil.example"}, "acme", "", NotFound},
		{"an unknown organization", &user.DefaultInfo{Name: "ann@acme.example"}, "initech", "", NotFound},
		{"a platform admin who is a plain member", &user.DefaultInfo{Name: "root@platform.example"}, "acme", v1alpha1.RoleAdmin, ""},
		{"a platform admin elsewhere", &user.DefaultInfo{Name: "root@platform.example"}, "globex", v1alpha1.RoleAdmin, ""},
		{"an admin of a suspended organization", &user.DefaultInfo{Name: "gil@globex.example"}, "globex", v1alpha1.RoleAdmin, Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, role, err := s.MemberOf(context.Background(), tc.caller, tc.id)
			if role != tc.role || (tc.role == "") != (reasonOf(err) == NotFound) {
				t.Fatalf("MemberOf = %q, %v; want %q", role, err, tc.role)
			}
			if _, err := s.AdminOf(context.Background(), tc.caller, tc.id); reasonOf(err) != tc.admin {
				t.Fatalf("AdminOf refused with %q (%v); want %q", reasonOf(err), err, tc.admin)
			}
		})
	}
}

func TestMembers(t *testing.T) {
	ann := &user.DefaultInfo{Name: "ann@acme.example"}
	s := service(t, organization("acme", false, member(v1alpha1.SubjectUser, "ann@acme.example", v1alpha1.RoleAdmin),
		member(v1alpha1.SubjectGroup, "ops", v1alpha1.RoleMember)))
	ctx := context.Background()
	add := func(email string, role v1alpha1.Role) error {
		_, err := s.AddMember(ctx, ann, "acme", email, role)
		return err
	}
	for _, tc := range []struct {
		name   string
		op     func() error
		reason Reason
	}{
		{"add a member", func() error { return add("bob@acme.example", "") }, ""},
		{"add them again, in other case", func() error { return add("BOB@acme.example", v1alpha1.RoleViewer) }, Conflict},
		{"add what is not an email", func() error { return add("bob", "") }, Invalid},
		{"add with a role that does not exist", func() error { return add("cy@acme.example", "owner") }, Invalid},
		{"add a viewer", func() error { return add("vi@acme.example", v1alpha1.RoleViewer) }, ""},
		{"remove the viewer", func() error { return s.RemoveMember(ctx, ann, "acme", "vi@acme.example") }, ""},
		{"remove by username", func() error { return s.RemoveMember(ctx, ann, "acme", "bob@acme.example") }, ""},
		{"remove them again", func() error { return s.RemoveMember(ctx, ann, "acme", "bob@acme.example") }, NotFound},
		{"remove a group by member id", func() error { return s.RemoveMember(ctx, ann, "acme", "group:ops") }, ""},
		{"an outsider adds", func() error {
			_, err := s.AddMember(ctx, &user.DefaultInfo{Name: "eve@evil.example"}, "acme", "eve@evil.example", "")
			return err
		}, NotFound},
	} {
		if err := tc.op(); reasonOf(err) != tc.reason || (tc.reason == "" && err != nil) {
			t.Fatalf("%s: got %v, want %q", tc.name, err, tc.reason)
		}
	}
	org := &v1alpha1.Organization{}
	if err := s.Cache.Get(ctx, client.ObjectKey{Name: "acme"}, org); err != nil {
		t.Fatal(err)
	}
	if len(org.Spec.Members) != 1 || org.Spec.Members[0].Name != "ann@acme.example" {
		t.Fatalf("members = %+v, want ann alone", org.Spec.Members)
	}
}

func TestUpdateRefusesSuspensionByTenantsAndSlugChanges(t *testing.T) {
	ann := &user.DefaultInfo{Name: "ann@acme.example"}
	s := service(t, organization("acme", false, member(v1alpha1.SubjectUser, "ann@acme.example", v1alpha1.RoleAdmin)))
	ctx := context.Background()
	if _, err := s.Update(ctx, ann, "acme", Update{Active: ptr(false)}); reasonOf(err) != Forbidden {
		t.Fatalf("a tenant admin suspended their organization: %v", err)
	}
	if _, err := s.Update(ctx, ann, "acme", Update{Slug: ptr("acme2")}); reasonOf(err) != Invalid {
		t.Fatalf("slug changed: %v", err)
	}
	org, err := s.Update(ctx, ann, "acme", Update{Name: ptr(" Acme Corp "), Description: ptr("Rockets")})
	if err != nil || org.Spec.DisplayName != "Acme Corp" || org.Spec.Description != "Rockets" {
		t.Fatalf("Update = %+v, %v", org, err)
	}
	if org.Annotations[AnnotationRequestedBy] != ann.Name {
		t.Fatalf("requested-by = %q", org.Annotations[AnnotationRequestedBy])
	}
	root := &user.DefaultInfo{Name: "root@platform.example"}
	if org, err := s.Update(ctx, root, "acme", Update{Active: ptr(false)}); err != nil || !org.Spec.Suspended {
		t.Fatalf("a platform admin could not suspend: %v", err)
	}
	if _, err := s.AddMember(ctx, ann, "acme", "bob@acme.example", ""); reasonOf(err) != Forbidden {
		t.Fatalf("a suspended organization took a member from its admin: %v", err)
	}
}

func TestCreateValidation(t *testing.T) {
	long := strings.Repeat("a", 30)
	for _, tc := range []struct {
		name  string
		c     Create
		field string
	}{
		{"organization and account", Create{OrganizationName: "Acme Corp", AccountName: "Web Shop"}, ""},
		{"no organization name", Create{AccountName: "web"}, "organizationName"},
		{"no account name", Create{OrganizationName: "Acme"}, "accountName"},
		{"an invalid display name", Create{OrganizationName: "Acme\u0007", AccountName: "web"}, "organizationName"},
		{"no letter or digit in the account", Create{OrganizationName: "Acme", AccountName: "!!!"}, "organizationName"},
		{"a workspace name over 63 characters", Create{OrganizationName: long, AccountName: long}, "accountName"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectInvalidField(t, tc.c.validate(), tc.field) })
	}
}

func TestOrganizationName(t *testing.T) {
	for display, want := range map[string]string{
		"Acme Corp": "acme-corp", "  ACME   corp ": "acme-corp", "Ａｃｍｅ": "acme", "!!!": "",
		strings.Repeat("ab ", 20): "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab",
	} {
		if got := OrganizationName(display); got != want {
			t.Errorf("OrganizationName(%q) = %q, want %q", display, got, want)
		}
	}
}

func TestCheckLicenseType(t *testing.T) {
	offering := &Service{Issuer: &license.SelfIssuer{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), Offers: license.DefaultOffers}}
	closed := &Service{}
	for _, tc := range []struct {
		s   *Service
		typ string
		ok  bool
	}{
		{offering, "", true}, {offering, "free", true}, {offering, "trial", true}, {offering, "platinum", false},
		{closed, "free", true}, {closed, "trial", false},
	} {
		err := tc.s.CheckLicenseType(tc.typ)
		if (err == nil) != tc.ok || (err != nil && reasonOf(err) != Invalid) {
			t.Errorf("CheckLicenseType(%q) = %v, want ok=%v", tc.typ, err, tc.ok)
		}
	}
}

func TestInContext(t *testing.T) {
	admin := func(name string) v1alpha1.Member { return member(v1alpha1.SubjectUser, name, v1alpha1.RoleAdmin) }
	userWithActive := func(username, active string) *v1alpha1.User {
		return &v1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "u-" + strings.ReplaceAll(username, "@", "-")},
			Spec: v1alpha1.UserSpec{Username: username, ActiveAccount: active}}
	}
	s := service(t,
		organization("acme", false, admin("ann@x.example"), admin("solo@x.example"), admin("lost@x.example")),
		organization("globex", false, admin("ann@x.example"), admin("bea@x.example"), admin("lost@x.example")),
		userWithActive("ann@x.example", "globex/web"),
		userWithActive("bea@x.example", "acme/web"),
		userWithActive("lost@x.example", "initech/web"))
	for _, tc := range []struct {
		caller string
		want   string // organization in context, or the refusal's start
	}{
		{"ann@x.example", "globex"}, // their active account's organization
		{"solo@x.example", "acme"},  // their only organization, no User needed
		{"bea@x.example", "globex"}, // active account elsewhere: their only organization
		{"lost@x.example", "You belong to 2 organizations and have no active account"},
		{"eve@x.example", "You are not a member of any organization"},
	} {
		m, err := s.InContext(context.Background(), &user.DefaultInfo{Name: tc.caller})
		got := ""
		if err != nil {
			got = err.Error()
			if reasonOf(err) != Forbidden {
				t.Errorf("%s: refusal %v is not Forbidden", tc.caller, err)
			}
		} else {
			got = m.Org.Name
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: in context %q, want %q", tc.caller, got, tc.want)
		}
	}
}

func TestPaging(t *testing.T) {
	for _, tc := range []struct {
		offset, limit string
		n             int
		start, end    int
		field         string
	}{
		{"", "", 45, 0, 20, ""},
		{"40", "", 45, 40, 45, ""},
		{"50", "10", 45, 45, 45, ""},
		{"0", "100", 3, 0, 3, ""},
		{"0", "101", 3, 0, 0, "limit"},
		{"0", "0", 3, 0, 0, "limit"},
		{"-1", "", 3, 0, 0, "offset"},
		{"ten", "", 3, 0, 0, "offset"},
	} {
		page, err := ParsePage(tc.offset, tc.limit)
		if tc.field != "" {
			var e *Error
			if !errors.As(err, &e) || e.Field != tc.field {
				t.Errorf("ParsePage(%q, %q) = %v, want Invalid %s", tc.offset, tc.limit, err, tc.field)
			}
			continue
		}
		if start, end := page.Bounds(tc.n); err != nil || start != tc.start || end != tc.end {
			t.Errorf("ParsePage(%q, %q) on %d items = [%d, %d) %v, want [%d, %d)", tc.offset, tc.limit, tc.n, start, end, err, tc.start, tc.end)
		}
	}
}

func TestCreateStopsWaitingForWhatIsStalled(t *testing.T) {
	org := organization("acme", false)
	org.Status.Conditions = []metav1.Condition{
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "NamespaceTaken", Message: "namespace org-acme belongs to someone else"},
		{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "NamespaceTaken", Message: "namespace org-acme belongs to someone else"}}
	s := service(t, org)
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout/2)
	defer cancel()
	err := s.waitReady(ctx, &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme"}})
	if reasonOf(err) != Conflict || !strings.Contains(err.Error(), "cannot become ready: namespace org-acme belongs to someone else") {
		t.Fatalf("waitReady = %v; want a Conflict naming why", err)
	}
	if ctx.Err() != nil {
		t.Fatal("waitReady waited for a stalled organization until the deadline")
	}
}

func TestUpdateWithoutAChangeWritesNothing(t *testing.T) {
	ann := &user.DefaultInfo{Name: "ann@acme.example"}
	s := service(t, organization("acme", false, member(v1alpha1.SubjectUser, "ann@acme.example", v1alpha1.RoleAdmin)))
	ctx := context.Background()
	before := &v1alpha1.Organization{}
	if err := s.Cache.Get(ctx, client.ObjectKey{Name: "acme"}, before); err != nil {
		t.Fatal(err)
	}
	org, err := s.Update(ctx, ann, "acme", Update{Name: ptr(" acme "), Active: ptr(true), Slug: ptr("acme")})
	if err != nil {
		t.Fatal(err)
	}
	if org.ResourceVersion != before.ResourceVersion || org.Annotations[AnnotationRequestedBy] != "" {
		t.Fatalf("an update that changes nothing wrote (resourceVersion %s → %s)", before.ResourceVersion, org.ResourceVersion)
	}
	if org, err = s.Update(ctx, ann, "acme", Update{Description: ptr("Rockets")}); err != nil || org.ResourceVersion == before.ResourceVersion {
		t.Fatalf("a real change was not written: %v", err)
	}
}
