package rest_test

import (
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

var _ = Describe("The viewer role, through kube-apiserver", func() {
	It("an admin adds a viewer, who reads the organization and is refused every write", func() {
		admin, viewer := tenant("ada@viewers.example"), tenant("vic@viewers.example")
		org := createOrg(admin, "Viewers Guild")

		out, err := throughAPIServerDo("POST", admin, "/organizations/"+org+"/members", `{"email":"vic@viewers.example","role":"viewer"}`)
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(decodeJSON(out)).To(HaveKeyWithValue("role", "viewer"))

		out, err = throughAPIServer(admin, "/organizations/"+org+"/members")
		Expect(err).NotTo(HaveOccurred(), string(out))
		var members struct{ Members []struct{ Name, Role string } }
		Expect(json.Unmarshal(out, &members)).To(Succeed())
		Expect(members.Members).To(ContainElement(And(HaveField("Name", viewer), HaveField("Role", "viewer"))))

		out, err = throughAPIServer(viewer, "/organizations/"+org)
		Expect(err).NotTo(HaveOccurred(), string(out))

		out, err = throughAPIServerDo("POST", viewer, "/organizations/"+org+"/members", `{"email":"friend@viewers.example"}`)
		Expect(statusCode(err)).To(Equal(http.StatusForbidden))
		Expect(statusMessage(out)).To(ContainSubstring("Only admins of organization " + org + " may do this; you are a viewer"))
		out, err = throughAPIServerDo("PATCH", viewer, "/organizations/"+org+"/metadata", `{"name":"Taken Over"}`)
		Expect(statusCode(err)).To(Equal(http.StatusForbidden), string(out))
	})

	It("a role that does not exist is refused with 400 naming the roles, and nothing is written", func() {
		admin := tenant("ada@roles.example")
		org := createOrg(admin, "Role Players")
		out, err := throughAPIServerDo("POST", admin, "/organizations/"+org+"/members", `{"email":"own@roles.example","role":"owner"}`)
		Expect(statusCode(err)).To(Equal(http.StatusBadRequest))
		Expect(statusMessage(out)).To(ContainSubstring(`Field "role" must be admin, member or viewer, not "owner"`))
		out, err = throughAPIServer(admin, "/organizations/"+org+"/members")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).NotTo(ContainSubstring("own@roles.example"))
	})
})

var _ = Describe("Account members, through kube-apiserver", func() {
	It("are listed with their account", func() {
		admin := tenant("ada@acctmembers.example")
		org := createOrg(admin, "Account Members Co")
		acct := &v1alpha1.Account{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: v1alpha1.OrganizationNamespace(org)},
			Spec: v1alpha1.AccountSpec{Members: []v1alpha1.Member{
				{Kind: v1alpha1.SubjectUser, Name: "vic@acctmembers.example", Role: v1alpha1.RoleViewer},
			}},
		}
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())

		var all struct {
			OrganizationAccounts []struct {
				Accounts []struct {
					Metadata struct{ Name string } `json:"metadata"`
					Spec     struct {
						Members []struct{ Kind, Name, Role string } `json:"members"`
					} `json:"spec"`
				} `json:"accounts"`
			} `json:"organizationAccounts"`
		}
		Eventually(func(g Gomega) {
			out, err := throughAPIServer(admin, "/organizations/accounts/all")
			g.Expect(err).NotTo(HaveOccurred(), string(out))
			g.Expect(json.Unmarshal(out, &all)).To(Succeed())
			g.Expect(all.OrganizationAccounts).To(HaveLen(1))
			g.Expect(all.OrganizationAccounts[0].Accounts).To(HaveLen(1))
		}).Should(Succeed())
		Expect(all.OrganizationAccounts[0].Accounts[0].Spec.Members).To(ConsistOf(And(
			HaveField("Kind", "User"), HaveField("Name", "vic@acctmembers.example"), HaveField("Role", "viewer"))))
	})
})
