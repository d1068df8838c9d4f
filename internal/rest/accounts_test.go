package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// accountBody is an account as the routes answer it.
type accountBody struct {
	Metadata struct{ ID, Name, DisplayName string }
	Spec     struct {
		SecretKey           string   `json:"secretKey"`
		AlternateSecretKeys []string `json:"alternateSecretKeys"`
	}
	Status struct{ Conditions []metav1.Condition }
}

func decodeAccount(body []byte) accountBody {
	var a accountBody
	ExpectWithOffset(1, json.Unmarshal(body, &a)).To(Succeed(), string(body))
	return a
}

// listAccounts is GET /v1/organizations/{org}/accounts as username.
func listAccounts(g Gomega, username, org string) map[string]accountBody {
	code, body := direct("GET", username, "/v1/organizations/"+org+"/accounts", "", nil)
	g.Expect(code).To(Equal(http.StatusOK), string(body))
	var list struct{ Accounts []accountBody }
	g.Expect(json.Unmarshal(body, &list)).To(Succeed())
	out := map[string]accountBody{}
	for _, a := range list.Accounts {
		out[a.Metadata.Name] = a
	}
	return out
}

// postAccount creates an account as username and expects 201.
func postAccount(username, org, body string) accountBody {
	code, out := direct("POST", username, "/v1/organizations/"+org+"/accounts", body, nil)
	ExpectWithOffset(1, code).To(Equal(http.StatusCreated), string(out))
	return decodeAccount(out)
}

// addWithRole adds email to org with role as its admin.
func addWithRole(admin, org, email, role string) {
	code, body := direct("POST", admin, "/v1/organizations/"+org+"/members", fmt.Sprintf(`{"email":%q,"role":%q}`, email, role), nil)
	ExpectWithOffset(1, code).To(Equal(http.StatusOK), string(body))
}

// orgAccounts are the Accounts of org, read from the API server.
func orgAccounts(org string) []v1alpha1.Account {
	list := &v1alpha1.AccountList{}
	ExpectWithOffset(1, k8sClient.List(ctx, list, client.InNamespace("org-"+org))).To(Succeed())
	return list.Items
}

func errorMessage(body []byte) string {
	var e struct{ Message string }
	_ = json.Unmarshal(body, &e)
	return e.Message
}

var _ = Describe("Accounts through REST", func() {
	It("an admin creates an account, gets its key in the answer, renames it, rotates its key and deletes it", func() {
		admin, member := tenant("ann@accounts.example"), tenant("max@accounts.example")
		org := createOrg(admin, "Account Works")
		addMember(admin, org, member)

		By("creating: 201 once Ready, with the API key")
		created := postAccount(admin, org, `{"displayName":"Web Shop"}`)
		Expect(created.Metadata.Name).To(Equal("web-shop"), "the name is made from the display name")
		Expect(created.Metadata.DisplayName).To(Equal("Web Shop"))
		Expect(created.Spec.SecretKey).To(HavePrefix("opk_"))
		Expect(meta.IsStatusConditionTrue(created.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
		acct := &v1alpha1.Account{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "org-" + org, Name: "web-shop"}, acct)).To(Succeed())
		Expect(acct.Annotations).To(HaveKeyWithValue("orgplane.io/requested-by", admin))
		Expect(string(acct.UID)).To(Equal(created.Metadata.ID))

		By("listing: the key for admins only")
		Eventually(func(g Gomega) {
			g.Expect(listAccounts(g, admin, org)).To(HaveKeyWithValue("web-shop", HaveField("Spec.SecretKey", created.Spec.SecretKey)))
			g.Expect(listAccounts(g, member, org)).To(HaveKeyWithValue("web-shop", HaveField("Spec.SecretKey", "")))
		}).Should(Succeed())

		By("renaming, by uid")
		code, body := direct("PATCH", admin, "/v1/organizations/"+org+"/accounts/"+created.Metadata.ID, `{"displayName":"Online Shop"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(decodeAccount(body).Metadata.DisplayName).To(Equal("Online Shop"))
		Expect(decodeAccount(body).Spec.SecretKey).To(BeEmpty(), "a rename answers without keys")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), acct)).To(Succeed())
		Expect(acct.Spec.DisplayName).To(Equal("Online Shop"))

		By("rotating the key: a new one, the old one the alternate")
		code, body = direct("POST", admin, "/v1/organizations/"+org+"/accounts/web-shop/rotate-key", "", nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		rotated := decodeAccount(body)
		Expect(rotated.Spec.SecretKey).To(HavePrefix("opk_"))
		Expect(rotated.Spec.SecretKey).NotTo(Equal(created.Spec.SecretKey))
		Expect(rotated.Spec.AlternateSecretKeys).To(Equal([]string{created.Spec.SecretKey}))
		keys := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: acct.Namespace, Name: acct.APIKeySecretName()}, keys)).To(Succeed())
		Expect(string(keys.Data["secretKey"])).To(Equal(rotated.Spec.SecretKey))

		By("deleting")
		code, body = direct("DELETE", admin, "/v1/organizations/"+org+"/accounts/web-shop", "", nil)
		Expect(code).To(Equal(http.StatusNoContent), string(body))
		Eventually(func(g Gomega) {
			g.Expect(listAccounts(g, admin, org)).NotTo(HaveKey("web-shop"))
		}).Should(Succeed())
	})

	It("refuses members and viewers every write with 403, and nothing changes", func() {
		admin, member, viewer := tenant("ada@acct-roles.example"), tenant("mo@acct-roles.example"), tenant("vi@acct-roles.example")
		org := createOrg(admin, "Account Roles")
		addMember(admin, org, member)
		addWithRole(admin, org, viewer, "viewer")
		postAccount(admin, org, `{"displayName":"Main"}`)
		before := orgAccounts(org)
		base := "/v1/organizations/" + org
		writes := []struct{ method, path, body string }{
			{"POST", base + "/accounts", `{"displayName":"Sneaky"}`},
			{"PATCH", base + "/accounts/main", `{"displayName":"Taken Over"}`},
			{"POST", base + "/accounts/main/rotate-key", ""},
			{"DELETE", base + "/accounts/main", ""},
			{"PUT", base + "/members/" + admin, `{"role":"viewer"}`},
		}
		for _, who := range []string{member, viewer} {
			Eventually(func(g Gomega) { listAccounts(g, who, org) }).Should(Succeed(), "%s reads the accounts", who)
			for _, w := range writes {
				code, body := direct(w.method, who, w.path, w.body, nil)
				Expect(code).To(Equal(http.StatusForbidden), "%s %s as %s: %s", w.method, w.path, who, body)
				Expect(errorMessage(body)).To(ContainSubstring("Only admins of organization " + org + " may do this"))
			}
		}
		after := orgAccounts(org)
		Expect(after).To(HaveLen(1))
		Expect(after[0].Spec).To(Equal(before[0].Spec))
		Expect(after[0].DeletionTimestamp).To(BeNil())
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
		Expect(o.Spec.Members).To(ContainElement(And(HaveField("Name", admin), HaveField("Role", v1alpha1.RoleAdmin))))
	})

	It("refuses bad input with 400 and unknown accounts or members with 404, saying what to fix, and writes nothing", func() {
		admin := tenant("bo@acct-input.example")
		org := createOrg(admin, "Account Input")
		postAccount(admin, org, `{"displayName":"Main"}`)
		before := orgAccounts(org)
		base := "/v1/organizations/" + org
		for _, c := range []struct {
			method, path, body string
			code               int
			message            string
		}{
			{"POST", base + "/accounts", `{}`, http.StatusBadRequest, `Field "displayName" is required`},
			{"POST", base + "/accounts", `{"displayName":"   "}`, http.StatusBadRequest, `Field "displayName" is required`},
			{"POST", base + "/accounts", `{"displayName":"Shop","name":"Not A Label"}`, http.StatusBadRequest, `Field "name" must be lower-case letters`},
			{"POST", base + "/accounts", `{"displayName":"日本"}`, http.StatusBadRequest, `send "name" too`},
			{"POST", base + "/accounts", `{"displayName":"Again","name":"main"}`, http.StatusConflict, "already has an account named main"},
			{"POST", base + "/accounts", `{"displayName":"Shop","color":"red"}`, http.StatusBadRequest, `unknown field "color"`},
			{"PATCH", base + "/accounts/main", `{"displayName":""}`, http.StatusBadRequest, `Field "displayName" is required`},
			{"PATCH", base + "/accounts/nope", `{"displayName":"Nope"}`, http.StatusNotFound, `has no account "nope"`},
			{"POST", base + "/accounts/nope/rotate-key", "", http.StatusNotFound, `has no account "nope"`},
			{"DELETE", base + "/accounts/nope", "", http.StatusNotFound, `has no account "nope"`},
			{"PUT", base + "/members/" + admin, `{"role":"owner"}`, http.StatusBadRequest, `Field "role" must be admin, member or viewer`},
			{"PUT", base + "/members/" + admin, `{}`, http.StatusBadRequest, `Field "role" must be admin, member or viewer`},
			{"PUT", base + "/members/nobody@acct-input.example", `{"role":"member"}`, http.StatusNotFound, "is not a member of " + org},
		} {
			code, body := direct(c.method, admin, c.path, c.body, nil)
			Expect(code).To(Equal(c.code), "%s %s %s: %s", c.method, c.path, c.body, body)
			Expect(errorMessage(body)).To(ContainSubstring(c.message), "%s %s %s", c.method, c.path, c.body)
		}
		after := orgAccounts(org)
		Expect(after).To(HaveLen(1))
		Expect(after[0].Spec).To(Equal(before[0].Spec))
	})

	It("refuses a create over the plan's accounts limit with admission's message naming the limit", func() {
		admin := tenant("lim@acct-limit.example")
		org := createOrg(admin, "Account Limit")
		var limit int64
		Eventually(func(g Gomega) {
			o := &v1alpha1.Organization{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
			g.Expect(o.Status.Plan).NotTo(BeNil())
			limit = o.Status.Plan.Limits.Accounts
		}).Should(Succeed())
		Expect(limit).To(BeNumerically(">", 0))
		for i := range limit {
			postAccount(admin, org, fmt.Sprintf(`{"displayName":"Team %d"}`, i))
		}
		Expect(orgAccounts(org)).To(HaveLen(int(limit)), "the accounts that fill the limit exist")

		code, body := direct("POST", admin, "/v1/organizations/"+org+"/accounts", `{"displayName":"One Too Many"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(errorMessage(body)).To(ContainSubstring(fmt.Sprintf("has reached its limit of %d accounts", limit)))
		Expect(orgAccounts(org)).To(HaveLen(int(limit)), "nothing was created")
	})

	It("changes a member's role, and refuses to demote the last admin", func() {
		admin, member := tenant("al@acct-member.example"), tenant("mi@acct-member.example")
		org := createOrg(admin, "Role Changes")
		addMember(admin, org, member)
		roleOf := func(name string) v1alpha1.Role {
			o := &v1alpha1.Organization{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
			for _, m := range o.Spec.Members {
				if m.Name == name {
					return m.Role
				}
			}
			return ""
		}

		By("promoting a member to admin, by username")
		code, body := direct("PUT", admin, "/v1/organizations/"+org+"/members/"+member, `{"role":"admin"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(decodeJSON(body)).To(And(HaveKeyWithValue("name", member), HaveKeyWithValue("role", "admin")))
		Expect(roleOf(member)).To(Equal(v1alpha1.RoleAdmin))
		Eventually(func() int {
			code, _ := direct("POST", member, "/v1/organizations/"+org+"/accounts", `{"displayName":"Promoted"}`, nil)
			return code
		}).Should(Equal(http.StatusCreated), "the new admin may create accounts")

		By("demoting them to viewer, by member id")
		code, body = direct("PUT", admin, "/v1/organizations/"+org+"/members/user:"+member, `{"role":"viewer"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(roleOf(member)).To(Equal(v1alpha1.RoleViewer))

		By("demoting the last admin")
		code, body = direct("PUT", admin, "/v1/organizations/"+org+"/members/"+admin, `{"role":"member"}`, nil)
		Expect(code).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), string(body))
		Expect(errorMessage(body)).To(ContainSubstring("an organization needs at least one member with role admin"))
		Expect(roleOf(admin)).To(Equal(v1alpha1.RoleAdmin))
	})
})
