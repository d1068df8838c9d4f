package rest_test

import (
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var _ = Describe("Through kube-apiserver", func() {
	It("shows each user exactly their own organizations", func() {
		body, err := throughAPIServer(alice, "/organizations")
		Expect(err).NotTo(HaveOccurred())
		Expect(organizationNames(body)).To(Equal([]string{"acme"}))
		body, err = throughAPIServer(bob, "/organizations")
		Expect(err).NotTo(HaveOccurred())
		Expect(organizationNames(body)).To(Equal([]string{"acme", "globex"}))
		body, err = throughAPIServer("frank@nowhere.example", "/organizations")
		Expect(err).NotTo(HaveOccurred())
		Expect(organizationNames(body)).To(BeEmpty())
	})

	It("lists every organization with its accounts, keys for admins only", func() {
		body, err := throughAPIServer(bob, "/organizations/accounts/all")
		Expect(err).NotTo(HaveOccurred())
		var all struct {
			ActiveAccountID      string `json:"activeAccountId"`
			OrganizationAccounts []struct {
				Accounts []struct {
					Spec struct {
						SecretKey string `json:"secretKey"`
					} `json:"spec"`
				} `json:"accounts"`
				Organization struct {
					Metadata struct{ Name string } `json:"metadata"`
				} `json:"organization"`
				SSOEnabled bool `json:"ssoEnabled"`
			} `json:"organizationAccounts"`
		}
		Expect(json.Unmarshal(body, &all)).To(Succeed())
		Expect(all.OrganizationAccounts).To(HaveLen(2))
		acme, globex := all.OrganizationAccounts[0], all.OrganizationAccounts[1]
		Expect(acme.Organization.Metadata.Name).To(Equal("acme"))
		Expect(acme.Accounts).To(HaveLen(1))
		Expect(acme.Accounts[0].Spec.SecretKey).To(BeEmpty(), "bob is only a member of acme")
		Expect(globex.Accounts[0].Spec.SecretKey).To(HavePrefix("opk_"), "bob is an admin of globex")
	})

	It("hides organizations the caller does not belong to", func() {
		body, err := throughAPIServer(alice, "/organizations/globex")
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
		Expect(string(body)).To(ContainSubstring(`"message":"Organization \"globex\" not found among yours"`))
		body, err = throughAPIServer(bob, "/organizations/globex")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(ContainSubstring(`"organization":{"apiVersion":"orgplane.io/v1alpha1","kind":"Organization"`))
	})
})

var _ = Describe("Platform admins", func() {
	It("act on any organization without being a member, as SubjectAccessReview decides", func() {
		body, err := throughAPIServer("platform-admin", "/organizations/globex")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(ContainSubstring(`"name":"globex"`))
		body, err = throughAPIServer("platform-admin", "/organizations")
		Expect(err).NotTo(HaveOccurred())
		Expect(organizationNames(body)).To(BeEmpty(), "list routes show the caller's own organizations")
	})

	It("are whoever RBAC lets update every organization", func() {
		code, _ := direct("GET", "frank@nowhere.example", "/v1/organizations/globex", "", nil)
		Expect(code).To(Equal(http.StatusNotFound), "neither a member nor a platform admin")
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "platform-ops"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"orgplane.io"}, Resources: []string{"organizations"}, Verbs: []string{"get", "update"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "platform-ops"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "platform-ops"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "ops@platform.example"}}}
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		// kube-apiserver's authorizer sees the binding within moments.
		Eventually(func() int {
			code, _ := direct("GET", "ops@platform.example", "/v1/organizations/globex", "", nil)
			return code
		}).Should(Equal(http.StatusOK))
	})
})

var _ = Describe("Directly", func() {
	It("refuses an unauthenticated request with 401 and a JSON error", func() {
		code, body := direct("GET", "", "/v1/organizations", "", nil)
		Expect(code).To(Equal(http.StatusUnauthorized))
		Expect(string(body)).To(ContainSubstring(`"code":401`))
	})

	It("does not trust X-Remote-User without the front proxy's certificate", func() {
		code, _ := direct("GET", "", "/v1/organizations", "", map[string]string{"X-Remote-User": "admin", "X-Remote-Group": "system:masters"})
		Expect(code).To(Equal(http.StatusUnauthorized))
		code, body := direct("GET", alice, "/v1/organizations", "", map[string]string{"X-Remote-User": bob})
		Expect(code).To(Equal(http.StatusOK))
		Expect(organizationNames(body)).To(Equal([]string{"acme"}), "alice's certificate decides, not the header")
	})

	It("accepts a client certificate of the cluster", func() {
		code, body := direct("GET", bob, "/v1/organizations", "", nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(organizationNames(body)).To(Equal([]string{"acme", "globex"}))
	})

	It("answers whether a display name is free, ignoring case", func() {
		code, body := direct("PUT", alice, "/v1/organizations/verify", `{"name":"ACME corporation"}`, nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(string(body)).To(MatchJSON(`{"valid":false}`))
		_, body = direct("PUT", alice, "/v1/organizations/verify", `{"name":"Initech"}`, nil)
		Expect(string(body)).To(MatchJSON(`{"valid":true}`))
		code, body = direct("PUT", alice, "/v1/organizations/verify", `{"name":"x","extra":1}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(string(body)).To(ContainSubstring(`unknown field \"extra\"`))
	})
})
