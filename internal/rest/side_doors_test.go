package rest_test

// Issue 19, the regression first: a ServiceAccount (CI pipelines,
// in-cluster automation) creates organizations through every create route,
// and becomes a member of kind ServiceAccount, not a User named system:….

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// serviceAccount registers a caller authenticated as ServiceAccount ns/name
// (the username and groups kube-apiserver gives its tokens).
func serviceAccount(ns, name string) string {
	username := "system:serviceaccount:" + ns + ":" + name
	if users[username] == nil {
		cfg, _, err := cp.AddUser(username, "system:serviceaccounts", "system:serviceaccounts:"+ns)
		Expect(err).NotTo(HaveOccurred())
		users[username] = cfg
	}
	return username
}

// expectServiceAccountAdmin waits for the organization displayed as
// displayName and checks that ns/name administers it as a ServiceAccount.
func expectServiceAccountAdmin(displayName, ns, name string) {
	Eventually(func(g Gomega) {
		list := &v1alpha1.OrganizationList{}
		g.Expect(k8sClient.List(ctx, list)).To(Succeed())
		var found *v1alpha1.Organization
		for i := range list.Items {
			if list.Items[i].Spec.DisplayName == displayName {
				found = &list.Items[i]
			}
		}
		g.Expect(found).NotTo(BeNil(), "no organization %q", displayName)
		g.Expect(found.Spec.Members).To(ConsistOf(v1alpha1.Member{
			Kind: v1alpha1.SubjectServiceAccount, Namespace: ns, Name: name, Role: v1alpha1.RoleAdmin}))
	}).Should(Succeed())
}

var _ = Describe("Issue 19, break 0: a ServiceAccount creates organizations", func() {
	creates := []struct{ route, path, body string }{
		{"002 JSON", "/v1/organizations", `{"organizationName":%q,"accountName":"Main"}`},
		{"000 form", "/v1/organizations", "name=%s"},
		{"001 identity", "/v1/identity/organizations", `{"name":%q}`},
		{"004", "/organizations", `{"name":%q}`},
	}
	for i, c := range creates {
		It("through "+c.route+", directly", func() {
			sa := serviceAccount("ci", fmt.Sprintf("direct-%d", i))
			name := fmt.Sprintf("Pipeline Direct %d", i)
			var headers map[string]string
			body := fmt.Sprintf(c.body, name)
			if strings.HasPrefix(c.body, "name=") {
				headers, body = form, "name="+strings.ReplaceAll(name, " ", "+")
			}
			code, out := direct("POST", sa, c.path, body, headers)
			Expect(code).To(BeElementOf(http.StatusOK, http.StatusCreated), string(out))
			expectServiceAccountAdmin(name, "ci", fmt.Sprintf("direct-%d", i))
		})
	}

	It("through kube-apiserver, and it may then read and manage what it made", func() {
		sa := serviceAccount("ci", "aggregated")
		created := createThroughAPIServer(sa, `{"organizationName":"Pipeline Aggregated","accountName":"Main"}`)
		expectServiceAccountAdmin("Pipeline Aggregated", "ci", "aggregated")
		Eventually(func() error {
			_, err := throughAPIServer(sa, "/organizations/"+created.Organization.Metadata.Name)
			return err
		}).Should(Succeed())
	})

	It("a ServiceAccount of a workspace cannot create one: it would be worth more than the people who can mint its token", func() {
		sa := serviceAccount("ws-acme--web", "ci")
		code, out := direct("POST", sa, "/v1/identity/organizations", `{"name":"Ladder Inc"}`, nil)
		Expect(code).To(Equal(http.StatusUnprocessableEntity), string(out))
		Expect(string(out)).To(ContainSubstring("cannot be a member"))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "ladder-inc"}, &v1alpha1.Organization{})).NotTo(Succeed())
	})
})

var _ = Describe("Issue 19, break 6: a trial is no way around the free plan's guardrails", func() {
	It("an organization created with a self-issued trial keeps the free plan's network isolation, and a second trial is refused", func() {
		user := tenant("trial-seeker@trials.example")
		created := createThroughAPIServer(user, `{"organizationName":"Trial Seeker","accountName":"Main","licenseType":"trial"}`)
		org := created.Organization.Metadata.Name
		Eventually(func() string { return planOf(org) }).Should(Equal("trial"))
		ws := v1alpha1.WorkspaceNamespace(org, created.Account.Metadata.Name)
		policy := &networkingv1.NetworkPolicy{}
		Consistently(func() error {
			return k8sClient.Get(ctx, types.NamespacedName{Namespace: ws, Name: "orgplane-network"}, policy)
		}, "3s").Should(Succeed(), "the trial left the workspace unisolated")

		By("one trial per person, however many organizations they make")
		out, err := throughAPIServerDo("POST", user, "/organizations",
			`{"organizationName":"Trial Seeker Again","accountName":"Main","licenseType":"trial"}`)
		Expect(err).To(HaveOccurred(), "a second trial was issued: %s", out)
		Expect(statusMessage(out)).To(ContainSubstring("has taken 1 self-issued licenses"), string(out))
	})
})
