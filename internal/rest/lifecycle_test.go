package rest_test

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/report"
)

// shortLivedKey is a key for org that expires in validFor, with grace and
// restricted periods given as durations (fractions of a day in the key).
func shortLivedKey(org string, validFor, grace, restricted time.Duration) string {
	now := time.Now()
	g, r := grace.Hours()/24, restricted.Hours()/24
	k, err := license.Issue(vendorKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: "short-" + org, NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(validFor))},
		Type: "team", Licensee: "someone", Organization: org, Limits: license.Limits{Accounts: 50, Users: 50, Deployments: 50},
		GraceDays: &g, RestrictedDays: &r, Entitlements: []string{"audit"},
	})
	Expect(err).NotTo(HaveOccurred())
	return k
}

var _ = Describe("The license lifecycle through REST", func() {
	It("shows the phase and its dates, and refuses new members while Restricted with a message a person can act on", func() {
		owner := tenant("lifecycle-owner@example.com")
		org := createOrg(owner, "Lifecycle Co")
		mustPutKey(owner, org, shortLivedKey(org, 3*time.Second, 3*time.Second, time.Minute))
		view := struct {
			Plan         string     `json:"plan"`
			Phase        string     `json:"phase"`
			Entitlements []string   `json:"entitlements"`
			GraceEndsAt  *time.Time `json:"graceEndsAt"`
		}{}
		Eventually(func(g Gomega) {
			code, body := direct("GET", owner, "/v1/organizations/"+org+"/license", "", nil)
			g.Expect(code).To(Equal(http.StatusOK), string(body))
			g.Expect(json.Unmarshal(body, &view)).To(Succeed())
			g.Expect(view.Phase).To(Equal("Restricted"))
		}, 20*time.Second).Should(Succeed())
		Expect(view.Plan).To(Equal("team"))
		Expect(view.Entitlements).To(ContainElements("audit", "sso"))
		Expect(view.GraceEndsAt).NotTo(BeNil())

		code, body := direct("POST", owner, "/v1/organizations/"+org+"/members", `{"email":"late@example.com"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("is restricted"))
		Expect(string(body)).To(ContainSubstring("renewed license key"))
	})
})

var _ = Describe("Signed usage reports", func() {
	It("gives platform admins a report that verifies offline, and fails after one changed byte", func() {
		owner := tenant("report-owner@example.com")
		org := createOrg(owner, "Report Co")
		body, err := throughAPIServer("platform-admin", "/usage-report")
		Expect(err).NotTo(HaveOccurred())
		got := struct{ Report, PublicKey string }{}
		Expect(json.Unmarshal(body, &got)).To(Succeed())
		keys, err := license.ParsePublicKeys([]byte(got.PublicKey))
		Expect(err).NotTo(HaveOccurred())
		rep, err := report.Verify(keys[0], got.Report)
		Expect(err).NotTo(HaveOccurred())
		names := make([]string, 0, len(rep.Organizations))
		for _, o := range rep.Organizations {
			names = append(names, o.Name)
		}
		Expect(names).To(ContainElement(org))

		for _, i := range []int{10, len(got.Report) / 2, len(got.Report) - 5} {
			b := []byte(got.Report)
			b[i] ^= 1
			_, err := report.Verify(keys[0], string(b))
			Expect(err).To(HaveOccurred(), "a report with byte %d changed verified", i)
		}
	})

	It("refuses anyone but platform admins", func() {
		owner := tenant("report-snoop@example.com")
		code, body := direct("GET", owner, "/v1/usage-report", "", nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("platform admins"))
	})
})
