package controllers_test

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// issueKey signs a license for org with the test vendor key.
func issueKey(org string, limits license.Limits) string {
	now := time.Now()
	key, err := license.Issue(licenseKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID: uniqueName("lic"), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Type: "team", Licensee: "Licensee of " + org, Organization: org, Limits: limits,
	})
	Expect(err).NotTo(HaveOccurred())
	return key
}

func newLicense(org, key string) *v1alpha1.License {
	return &v1alpha1.License{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("lic-" + org)},
		Spec:       v1alpha1.LicenseSpec{Key: key, Organization: org},
	}
}

// licensedOrganization creates an organization with a license and waits
// until the organization's status shows the license's limits.
func licensedOrganization(prefix string, limits license.Limits) (*v1alpha1.Organization, *v1alpha1.License) {
	org := newOrganization(uniqueName(prefix), admin("root@"+prefix+".example"))
	Expect(k8sClient.Create(ctx, org)).To(Succeed())
	lic := newLicense(org.Name, issueKey(org.Name, limits))
	Expect(k8sClient.Create(ctx, lic)).To(Succeed())
	expectReady(lic)
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		g.Expect(planOf(org).License).To(Equal(lic.Name))
		g.Expect(planOf(org).Limits.Accounts).To(Equal(limits.Accounts))
	}).Should(Succeed())
	expectReady(org)
	return org, lic
}

// concurrently runs n calls of fn at once and returns their errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func countRefused(errs []error, message string) (admitted, refused int) {
	for _, err := range errs {
		switch {
		case err == nil:
			admitted++
		case strings.Contains(err.Error(), message):
			refused++
		default:
			Fail("unexpected error: " + err.Error())
		}
	}
	return admitted, refused
}

var _ = Describe("Licenses", func() {
	It("verify their key and set the organization's plan and limits", func() {
		org, lic := licensedOrganization("licensed", license.Limits{Accounts: 7, Users: 8, Deployments: 9})
		Expect(lic.Status.Phase).To(Equal(v1alpha1.LicenseActive))
		Expect(lic.Status.Type).To(Equal("team"))
		Expect(lic.Status.Limits).To(Equal(&v1alpha1.Limits{Accounts: 7, Users: 8, Deployments: 9}))
		Expect(planOf(org).Type).To(Equal("team"))
		Expect(planOf(org).ExpiresAt).NotTo(BeNil())
		Expect(meta.IsStatusConditionTrue(org.Status.Conditions, v1alpha1.ConditionLicenseCompliant)).To(BeTrue())
	})

	It("refuses a tampered key at admission, saying why", func() {
		key := issueKey("any", license.Limits{Accounts: 1})
		parts := strings.Split(key, ".")
		forged := parts[0] + "." + strings.Split(issueKey("any", license.Limits{Accounts: 999}), ".")[1] + "." + parts[2]
		err := k8sClient.Create(ctx, newLicense("", forged))
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.key: the key's signature does not match its contents"))
	})

	It("refuses the 11th account of 50 concurrent creates on a 10-account license", func() {
		expectTenOfFiftyAccounts("burst")
	})

	It("admits exactly the member limit of 50 concurrent member adds", func() {
		org, _ := licensedOrganization("crowd", license.Limits{Accounts: 1, Users: 10, Deployments: 1})
		errs := concurrently(50, func(i int) error {
			patch := fmt.Sprintf(`[{"op":"add","path":"/spec/members/-","value":{"kind":"User","name":"m%d@crowd.example","role":"member"}}]`, i)
			return k8sClient.Patch(ctx, org.DeepCopy(), client.RawPatch(types.JSONPatchType, []byte(patch)))
		})
		admitted, refused := countRefused(errs, "has reached its limit of 10 users")
		Expect(admitted).To(Equal(9), "one admin was already a member")
		Expect(refused).To(Equal(41))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		Expect(org.Spec.Members).To(HaveLen(10))
	})

	It("admits exactly the deployment limit of 50 concurrent Deployment creates", func() {
		org, _ := licensedOrganization("fleet", license.Limits{Accounts: 2, Users: 2, Deployments: 10})
		acct := newAccount(org.Name, "apps")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		errs := concurrently(50, func(i int) error {
			return k8sClient.Create(ctx, newDeployment(acct.Status.Namespace, fmt.Sprintf("d%d", i)))
		})
		admitted, refused := countRefused(errs, "has reached its limit of 10 deployments")
		Expect(admitted).To(Equal(10))
		Expect(refused).To(Equal(40))
		deployments := &appsv1.DeploymentList{}
		Expect(k8sClient.List(ctx, deployments, client.InNamespace(acct.Status.Namespace))).To(Succeed())
		Expect(deployments.Items).To(HaveLen(10))
	})

	It("refuses assigning a license below the organization's usage, listing the violations", func() {
		org, _ := licensedOrganization("full", license.Limits{Accounts: 5, Users: 5, Deployments: 5})
		for i := range 4 {
			Expect(k8sClient.Create(ctx, newAccount(org.Name, fmt.Sprintf("a%d", i)))).To(Succeed())
		}
		small := newLicense(org.Name, issueKey(org.Name, license.Limits{Accounts: 2, Users: 5, Deployments: 5}))
		err := k8sClient.Create(ctx, small)
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("accounts: 4 used, limit 2"))
	})

	It("lets an expired license fall back to the free plan without deleting anything", func() {
		org := newOrganization(uniqueName("lapse"), admin("root@lapse.example"))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		// No grace and no restricted period: the free plan at expiry.
		lic := newLicense(org.Name, lifecycleKey(org.Name, uniqueName("lapse"), 0, 5, 8*time.Second, 0, 0))
		Expect(k8sClient.Create(ctx, lic)).To(Succeed())
		eventuallyPhase(org, v1alpha1.PlanPhaseActive, 5*time.Second)
		for i := range 4 {
			Expect(k8sClient.Create(ctx, newAccount(org.Name, fmt.Sprintf("a%d", i)))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(planOf(org).Type).To(Equal("free"))
			c := meta.FindStatusCondition(org.Status.Conditions, v1alpha1.ConditionLicenseCompliant)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Message).To(ContainSubstring("accounts: 4 used, limit 3"))
		}).Should(Succeed())
		accounts := &v1alpha1.AccountList{}
		Expect(k8sClient.List(ctx, accounts, client.InNamespace(org.NamespaceName()))).To(Succeed())
		Expect(accounts.Items).To(HaveLen(4))
		err := k8sClient.Create(ctx, newAccount(org.Name, "one-more"))
		Expect(err).To(MatchError(ContainSubstring("has reached its limit of 3 accounts (4 in use, free plan")))
	})
})

var _ = Describe("Self-issued licenses", func() {
	It("issues one trial per organization with the controller's key, and nothing not offered", func() {
		org := newOrganization(uniqueName("trial"), admin("root@trial.example"))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		issuer := &license.SelfIssuer{Client: k8sClient, Key: issuerKey, Offers: license.DefaultOffers}

		lic, err := issuer.Issue(ctx, org.Name, string(org.UID), "trial")
		Expect(err).NotTo(HaveOccurred())
		expectReady(lic)
		Expect(lic.Status.Type).To(Equal("trial"))
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(planOf(org).Type).To(Equal("trial"))
			g.Expect(planOf(org).Limits.Accounts).To(BeEquivalentTo(10))
		}).Should(Succeed())

		_, err = issuer.Issue(ctx, org.Name, string(org.UID), "trial")
		Expect(err).To(MatchError(license.ErrAlreadyIssued))
		_, err = issuer.Issue(ctx, org.Name, string(org.UID), "enterprise")
		Expect(err).To(MatchError(license.ErrNotOffered))
		Expect(err.Error()).To(ContainSubstring("offered: trial"))
	})
})

// expectTenOfFiftyAccounts creates 50 accounts at once in an organization
// licensed for 10, and expects exactly 10 to exist and 40 refusals naming the limit.
func expectTenOfFiftyAccounts(prefix string) {
	org, _ := licensedOrganization(prefix, license.Limits{Accounts: 10, Users: 10, Deployments: 10})
	errs := concurrently(50, func(i int) error {
		return k8sClient.Create(ctx, newAccount(org.Name, fmt.Sprintf("a%d", i)))
	})
	admitted, refused := countRefused(errs, "has reached its limit of 10 accounts")
	ExpectWithOffset(1, admitted).To(Equal(10))
	ExpectWithOffset(1, refused).To(Equal(40))
	accounts := &v1alpha1.AccountList{}
	ExpectWithOffset(1, k8sClient.List(ctx, accounts, client.InNamespace(org.NamespaceName()))).To(Succeed())
	ExpectWithOffset(1, accounts.Items).To(HaveLen(10))
}
