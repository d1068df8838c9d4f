package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

func signedKey(org string, accounts int64) string {
	now := time.Now()
	key, err := license.Issue(vendorKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: fmt.Sprintf("%s-%d-%d", org, accounts, now.UnixNano()),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
		Type: "team", Licensee: org, Organization: org, Limits: license.Limits{Accounts: accounts, Users: 10, Deployments: 10},
	})
	Expect(err).NotTo(HaveOccurred())
	return key
}

func orgID(name string) string {
	org := &v1alpha1.Organization{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, org)).To(Succeed())
	return string(org.UID)
}

var _ = Describe("POST /v1/organizations", func() {
	It("creates the organization and its first account, and makes it the caller's active account", func() {
		code, body := direct("POST", "carol@nowhere.example", "/v1/organizations",
			`{"organizationName":"Initech Labs","accountName":"TPS Reports","eulaAccepted":true}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		var created struct {
			Organization struct {
				Metadata struct{ Name, DisplayName string }
			} `json:"organization"`
			Account struct{ Metadata struct{ ID, Name string } } `json:"account"`
		}
		Expect(json.Unmarshal(body, &created)).To(Succeed())
		Expect(created.Organization.Metadata.Name).To(Equal("initech-labs"))
		Expect(created.Organization.Metadata.DisplayName).To(Equal("Initech Labs"))
		Expect(created.Account.Metadata.Name).To(Equal("tps-reports"))

		_, body = direct("GET", "carol@nowhere.example", "/v1/organizations/accounts/all", "", nil)
		var all struct {
			ActiveAccountID      string `json:"activeAccountId"`
			OrganizationAccounts []struct {
				Organization struct{ Metadata struct{ Name string } } `json:"organization"`
			} `json:"organizationAccounts"`
		}
		Expect(json.Unmarshal(body, &all)).To(Succeed())
		Expect(all.OrganizationAccounts).To(HaveLen(1))
		Expect(all.OrganizationAccounts[0].Organization.Metadata.Name).To(Equal("initech-labs"))
		Expect(all.ActiveAccountID).To(Equal(created.Account.Metadata.ID))
	})

	It("lets exactly one of 20 concurrent creates with the same display name succeed", func() {
		codes := make([]int, 20)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				name := "Umbrella Corp"
				if i%2 == 1 {
					name = "UMBRELLA corp"
				}
				codes[i], _ = direct("POST", "carol@nowhere.example", "/v1/organizations",
					fmt.Sprintf(`{"organizationName":%q,"accountName":"labs"}`, name), nil)
			}()
		}
		wg.Wait()
		Expect(codes).To(HaveEach(BeElementOf(http.StatusOK, http.StatusConflict)))
		Expect(strings.Count(fmt.Sprint(codes), "200")).To(Equal(1), "codes: %v", codes)
	})

	It("leaves nothing behind when a step fails part-way (a tampered license key)", func() {
		parts := strings.Split(signedKey("wayne", 5), ".")
		tampered := parts[0] + "." + strings.Split(signedKey("wayne", 50), ".")[1] + "." + parts[2]
		code, body := direct("POST", "carol@nowhere.example", "/v1/organizations",
			fmt.Sprintf(`{"organizationName":"Wayne","accountName":"cave","licenseKey":%q}`, tampered), nil)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		Expect(string(body)).To(ContainSubstring("signature does not match"))
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: "wayne"}, &v1alpha1.Organization{}))
		}).Should(BeTrue(), "the organization is deleted, with its account and namespaces by its finalizer")
		Eventually(func() string {
			_, body := direct("PUT", alice, "/v1/organizations/verify", `{"name":"wayne"}`, nil)
			return string(body)
		}).Should(MatchJSON(`{"valid":true}`))
		code, body = direct("POST", "carol@nowhere.example", "/v1/organizations",
			fmt.Sprintf(`{"organizationName":"Wayne","accountName":"cave","licenseKey":%q}`, signedKey("wayne", 5)), nil)
		Expect(code).To(Equal(http.StatusOK), "the display name is free again: %s", body)
	})

	It("refuses missing fields and unknown fields with 400, creating nothing", func() {
		code, body := direct("POST", alice, "/v1/organizations", `{"organizationName":"Half"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(string(body)).To(ContainSubstring("Missing required fields: accountName"))
		code, _ = direct("POST", alice, "/v1/organizations", `{"organizationName":"Half","accountName":"a","color":"red"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "half"}, &v1alpha1.Organization{})).NotTo(Succeed())
	})
})

var _ = Describe("Organization writes", func() {
	It("refuses a member deleting the organization with 403, through kube-apiserver", func() {
		body, err := throughAPIServerDo("DELETE", bob, "/organizations/"+orgID("acme"), "")
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v: %s", err, body)
		Expect(string(body)).To(ContainSubstring("Only admins of organization acme may do this"))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "acme"}, &v1alpha1.Organization{})).To(Succeed())
	})

	It("answers 409 with the violations for a license below usage, and 400 for a tampered key", func() {
		code, body := direct("PUT", bob, "/v1/organizations/"+orgID("globex")+"/license",
			fmt.Sprintf(`{"licenseKey":%q}`, signedKey("globex", 0)), nil)
		Expect(code).To(Equal(http.StatusConflict), string(body))
		Expect(string(body)).To(ContainSubstring("accounts: 1 used, limit 0"))

		parts := strings.Split(signedKey("globex", 5), ".")
		tampered := parts[0] + "." + strings.Split(signedKey("globex", 500), ".")[1] + "." + parts[2]
		code, body = direct("PUT", bob, "/v1/organizations/globex/license", fmt.Sprintf(`{"licenseKey":%q}`, tampered), nil)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))

		code, body = direct("PUT", bob, "/v1/organizations/globex/license", fmt.Sprintf(`{"licenseKey":%q}`, signedKey("globex", 5)), nil)
		Expect(code).To(Equal(http.StatusNoContent), string(body))
	})

	It("sets the license of the organization in context: 409 below usage, 400 tampered, 204 fitting", func() {
		body, err := throughAPIServerDo("PUT", alice, "/organization-license", fmt.Sprintf(`{"licenseKey":%q}`, signedKey("acme", 0)))
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
		Expect(string(body)).To(ContainSubstring("accounts: 1 used, limit 0"))
		code, _ := direct("PUT", alice, "/v1/organization-license", `{"licenseKey":"e30.e30.AAAA"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		code, _ = direct("PUT", alice, "/v1/organization-license", `{}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		code, body = direct("PUT", alice, "/v1/organization-license", fmt.Sprintf(`{"licenseKey":%q}`, signedKey("acme", 4)), nil)
		Expect(code).To(Equal(http.StatusNoContent), string(body))
	})

	It("renames the display name, freeing the old one", func() {
		code, body := direct("PATCH", bob, "/v1/organizations/globex/metadata", `{"name":"Globex Corporation"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		_, body = direct("PUT", bob, "/v1/organizations/verify", `{"name":"globex corporation"}`, nil)
		Eventually(func() string {
			_, body = direct("PUT", bob, "/v1/organizations/verify", `{"name":"globex corporation"}`, nil)
			return string(body)
		}).Should(MatchJSON(`{"valid":false}`))
	})
})

var _ = Describe("PUT /v1/organizations/{id}/license with license_id", func() {
	It("assigns an unassigned License whose key is bound to the organization, found by the id inside its key, and 404s an unknown id", func() {
		lic := &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "globex-spare"},
			Spec: v1alpha1.LicenseSpec{Key: signedKey(orgID("globex"), 6)}}
		Expect(k8sClient.Create(ctx, lic)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			g.Expect(lic.Status.LicenseID).NotTo(BeEmpty())
		}).Should(Succeed())

		code, body := direct("PUT", bob, "/v1/organizations/globex/license", `{"license_id":"no-such-license"}`, nil)
		Expect(code).To(Equal(http.StatusNotFound), string(body))
		code, body = direct("PUT", bob, "/v1/organizations/globex/license", fmt.Sprintf(`{"license_id":%q}`, lic.Status.LicenseID), nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
		Expect(lic.Spec.Organization).To(Equal("globex"))
	})
})

var _ = Describe("Display names of organizations made with kubectl", func() {
	It("are taken: a REST create with the same name, in any case, answers 409", func() {
		Expect(k8sClient.Create(ctx, &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "kubectl-made"},
			Spec: v1alpha1.OrganizationSpec{DisplayName: "Kubectl Made",
				Members: []v1alpha1.Member{{Kind: v1alpha1.SubjectUser, Name: "kim@kubectl.example", Role: v1alpha1.RoleAdmin}}}})).To(Succeed())
		Eventually(func() string {
			_, body := direct("PUT", bob, "/v1/organizations/verify", `{"name":"kubectl made"}`, nil)
			return string(body)
		}).Should(MatchJSON(`{"valid":false}`))
		code, body := direct("POST", "carol@nowhere.example", "/v1/organizations",
			`{"organizationName":"KUBECTL MADE","accountName":"main","eulaAccepted":true}`, nil)
		Expect(code).To(Equal(http.StatusConflict), string(body))
		Expect(string(body)).To(ContainSubstring("already used by another organization"))
	})
})
