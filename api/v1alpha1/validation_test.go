package v1alpha1_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

var (
	ctx       = context.Background()
	cp        *localcp.ControlPlane
	k8sClient client.Client
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "API validation suite")
}

var _ = BeforeSuite(func() {
	var err error
	cp, err = localcp.Start(localcp.Options{CRDDir: filepath.Join("..", "..", "config", "crd", "bases")})
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
})

func org(name string, mutate func(*v1alpha1.Organization)) *v1alpha1.Organization {
	o := &v1alpha1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.OrganizationSpec{
			DisplayName: "Valid " + name,
			Members:     []v1alpha1.Member{{Kind: "User", Name: "ann@example.com", Role: v1alpha1.RoleAdmin}},
		},
	}
	if mutate != nil {
		mutate(o)
	}
	return o
}

func user(name, username, email string) *v1alpha1.User {
	return &v1alpha1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.UserSpec{Username: username, Email: email},
	}
}

var _ = Describe("The CRDs", func() {
	It("install, with short names and the orgplane category", func() {
		for _, plural := range []string{"organizations", "accounts", "licenses", "users"} {
			crd := &unstructured.Unstructured{}
			crd.SetAPIVersion("apiextensions.k8s.io/v1")
			crd.SetKind("CustomResourceDefinition")
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: plural + ".orgplane.io"}, crd)).To(Succeed())
			categories, _, _ := unstructured.NestedStringSlice(crd.Object, "spec", "names", "categories")
			Expect(categories).To(ContainElement("orgplane"))
		}
	})

	It("accept every sample in config/samples", func() {
		for _, ns := range []string{"org-acme", "org-globex"} {
			Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		objs, err := devenv.ReadManifests(filepath.Join("..", "..", "config", "samples"))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(objs)).To(BeNumerically(">=", 7))
		for _, obj := range objs {
			Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
		}
	})

	DescribeTable("refuse invalid objects with a message a person can act on",
		func(obj client.Object, message string) {
			err := k8sClient.Create(ctx, obj)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("an organization with no admin", org("no-admin", func(o *v1alpha1.Organization) {
			o.Spec.Members[0].Role = v1alpha1.RoleMember
		}), "an organization needs at least one member with role admin"),
		Entry("a role of owner", org("owner-role", func(o *v1alpha1.Organization) {
			o.Spec.Members[0].Role = "owner"
		}), `Unsupported value: "owner": supported values: "admin", "member"`),
		Entry("an organization with no members", org("no-members", func(o *v1alpha1.Organization) {
			o.Spec.Members = nil
		}), "spec.members: Required value"),
		Entry("an organization named verify", org("verify", nil),
			"organization name is reserved: accounts, projects, users, verify and all are REST API routes"),
		Entry("an organization named accounts", org("accounts", nil), "organization name is reserved"),
		Entry("an organization name with capitals", org("Acme", nil),
			"organization name must be at most 30 characters of lowercase letters"),
		Entry("an organization name over 30 characters", org(strings.Repeat("a", 31), nil),
			"organization name must be at most 30 characters"),
		Entry("a display name over 100 characters", org("long-display", func(o *v1alpha1.Organization) {
			o.Spec.DisplayName = strings.Repeat("x", 101)
		}), "spec.displayName: Too long: may not be more than 100"),
		Entry("an empty display name", org("empty-display", func(o *v1alpha1.Organization) {
			o.Spec.DisplayName = ""
		}), "spec.displayName"),
		Entry("the same member twice", org("twice", func(o *v1alpha1.Organization) {
			o.Spec.Members = append(o.Spec.Members, o.Spec.Members[0])
		}), "Duplicate value"),
		Entry("a ServiceAccount member with no namespace", org("sa-no-ns", func(o *v1alpha1.Organization) {
			o.Spec.Members = append(o.Spec.Members, v1alpha1.Member{Kind: "ServiceAccount", Name: "ci", Role: v1alpha1.RoleMember})
		}), "namespace is required for a ServiceAccount member"),
		Entry("a member of an unknown kind", org("robot", func(o *v1alpha1.Organization) {
			o.Spec.Members = append(o.Spec.Members, v1alpha1.Member{Kind: "Robot", Name: "r2", Role: v1alpha1.RoleMember})
		}), `Unsupported value: "Robot"`),
		Entry("a sensitive parameter with its value in the spec", org("leaky", func(o *v1alpha1.Organization) {
			v := "hunter2"
			o.Spec.Parameters = []v1alpha1.Parameter{{Name: "token", Sensitive: true, Value: &v}}
		}), "a sensitive parameter must not carry its value in the spec"),
		Entry("a user with a malformed email", user("bad-email", "bad@example.com", "not-an-email"),
			"email must look like name@example.com"),
		Entry("a user with no username", user("no-username", "", ""), "spec.username"),
		Entry("an account name over 32 characters", &v1alpha1.Account{
			ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("b", 33), Namespace: "default"},
		}, "account name must be at most 32 characters"),
		Entry("a license with no key", &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "empty"}},
			"spec.key"),
		Entry("a license bound to an organization uid with no organization named", &v1alpha1.License{
			ObjectMeta: metav1.ObjectMeta{Name: "uid-only"}, Spec: v1alpha1.LicenseSpec{Key: "k", OrganizationUID: "1234"}},
			"spec.organizationUID needs spec.organization"),
	)

	It("refuses changing a User's username", func() {
		u := user("renamed", "first@example.com", "")
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		u.Spec.Username = "second@example.com"
		Expect(k8sClient.Update(ctx, u)).To(MatchError(ContainSubstring("username is immutable")))
	})
})
