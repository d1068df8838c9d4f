package cluster

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/orgplane/orgplane/test/browser"
)

// consoleSmoke opens the console in Chromium through the orgplane-api
// Service, signed in as the ServiceAccount ci/deployer (a member of globex
// in the samples) with a token from the TokenRequest API: it sees globex
// with no admin form, then creates an organization of its own, sees its
// first account's key once, and deletes it after typing its name.
func consoleSmoke() {
	b := browser.New(GinkgoT())
	ip := mustK("get", "service", "-n", ns, "orgplane-api", "-o", "jsonpath={.spec.clusterIP}")
	base := "https://" + ip
	_, _ = k("create", "namespace", "ci")
	_, _ = k("create", "serviceaccount", "deployer", "-n", "ci")
	token := strings.TrimSpace(mustK("create", "token", "deployer", "-n", "ci"))
	p := b.Page(GinkgoT())
	p.SignIn(base, token)
	p.Go(base, "#/org/globex/accounts", "#role")
	p.WaitText("#role", "member")
	Expect(p.Count("#create-account")).To(Equal(0), "a member is shown the form to create accounts")
	p.Axe(browser.AxePath(root), "accounts, as a member, on the real node")

	p.Go(base, "#/new", "#create-org")
	p.Fill("#org-name", "Smoke")
	p.Fill("#account-name", "Checks")
	p.Click("#eula")
	p.Click("#create-org button[type=submit]")
	p.WaitText("#api-key", "not be shown again")
	Expect(p.Text("#api-key-value")).To(HavePrefix("opk_"))
	Eventually(func() string { return strings.Trim(string(p.Eval(`location.hash`)), `"`) }).
		WithTimeout(30 * time.Second).Should(HavePrefix("#/org/smoke"))
	p.Go(base, "#/org/smoke/settings", "#delete-org")
	p.Fill("#confirm-delete", "smoke")
	p.Click("#delete-org button[type=submit]")
	Eventually(func() error { _, err := k("get", "organization", "smoke"); return err }).
		WithTimeout(2*time.Minute).Should(HaveOccurred(), "organization smoke is still there")
}
