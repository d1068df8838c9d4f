package controllers_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/manager"
)

// lifecycleKey signs a key for org with id, valid for validFor from now,
// with grace and restricted periods given as durations (the claims are in
// days; fractions make them short enough for a test).
func lifecycleKey(org, id string, seq int64, accounts int64, validFor, grace, restricted time.Duration) string {
	GinkgoHelper()
	now := time.Now()
	g, r := grace.Hours()/24, restricted.Hours()/24
	key, err := license.Issue(licenseKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: id, IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(validFor))},
		Type: "team", Licensee: "Licensee of " + org, Organization: org, Sequence: seq,
		Limits: license.Limits{Accounts: accounts, Users: 10, Deployments: 10}, GraceDays: &g, RestrictedDays: &r,
		Entitlements: []string{"audit", "teleport-9000"},
	})
	Expect(err).NotTo(HaveOccurred())
	return key
}

// kubectl runs the real kubectl with user's kubeconfig.
func kubectl(user string, stdin string, args ...string) (string, error) {
	_, kubeconfig, err := cp.AddUser(user)
	Expect(err).NotTo(HaveOccurred())
	bin := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	cmd := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig}, args...)...) //nolint:gosec // the test's own kubectl
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func eventuallyPhase(org *v1alpha1.Organization, phase v1alpha1.PlanPhase, within time.Duration) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		g.Expect(planOf(org).Phase).To(Equal(phase))
	}, within, 100*time.Millisecond).Should(Succeed())
}

var _ = Describe("The license lifecycle", func() {
	It("moves an organization Active → Grace → Restricted → free with the clock, refusing only what is new while Restricted, through kubectl", func() {
		org, owner, acct := tenantAccount("cycle", "web")
		running := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "running", Namespace: acct.Status.Namespace},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x"}}}}}}
		Expect(tenant(owner).Create(ctx, running)).To(Succeed())
		lic := newLicense(org, lifecycleKey(org, uniqueName("cycle"), 0, 8, 6*time.Second, 6*time.Second, 30*time.Second))
		Expect(k8sClient.Create(ctx, lic)).To(Succeed())
		o := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: org}}
		eventuallyPhase(o, v1alpha1.PlanPhaseActive, 5*time.Second)
		Expect(o.Status.Plan.License).To(Equal(lic.Name))
		Expect(o.Status.Plan.Entitlements).To(ConsistOf("audit", "teleport-9000", v1alpha1.EntitlementSSO), "unknown codes are kept and shown")

		eventuallyPhase(o, v1alpha1.PlanPhaseGrace, 10*time.Second)
		Expect(o.Status.Plan.Limits.Accounts).To(BeEquivalentTo(8), "the grace period keeps the plan")
		Eventually(func(g Gomega) { // the License reconciler wakes at the same instant, on its own timer
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			g.Expect(lic.Status.Phase).To(Equal(v1alpha1.LicenseGrace))
		}).Should(Succeed())
		Expect(tenant(owner).Create(ctx, newAccount(org, "during-grace"))).To(Succeed(), "nothing changes in the grace period")

		eventuallyPhase(o, v1alpha1.PlanPhaseRestricted, 10*time.Second)
		Expect(meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.ConditionRestricted)).To(BeTrue())
		out, err := kubectl(owner, fmt.Sprintf("apiVersion: orgplane.io/v1alpha1\nkind: Account\nmetadata:\n  name: new\n  namespace: %s\nspec:\n  displayName: New\n",
			v1alpha1.OrganizationNamespace(org)), "create", "-f", "-")
		Expect(err).To(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("is restricted"))
		Expect(out).To(ContainSubstring("new accounts"))
		out, err = kubectl(owner, "", "create", "deployment", "new", "--image=x", "-n", acct.Status.Namespace)
		Expect(err).To(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("is restricted"))
		out, err = kubectl(owner, "", "patch", "organization", org, "--type=json",
			`-p=[{"op":"add","path":"/spec/members/-","value":{"kind":"User","name":"late@`+org+`.example","role":"member"}}]`)
		Expect(err).To(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("is restricted"))
		Expect(out).To(ContainSubstring("new members"))
		// What exists is untouched: the running Deployment, the accounts,
		// and the owner's access (they still read and update it).
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(running), running)).To(Succeed())
		out, err = kubectl(owner, "", "label", "deployment", "running", "-n", acct.Status.Namespace, "touched=yes")
		Expect(err).NotTo(HaveOccurred(), out)

		eventuallyPhase(o, v1alpha1.PlanPhaseFree, 40*time.Second)
		Expect(o.Status.Plan.Type).To(Equal(v1alpha1.PlanFree))
		Expect(meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.ConditionRestricted)).To(BeFalse())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			g.Expect(lic.Status.Phase).To(Equal(v1alpha1.LicenseExpired))
		}).Should(Succeed())
		out, err = kubectl(owner, "", "create", "deployment", "after", "--image=x", "-n", acct.Status.Namespace)
		Expect(err).NotTo(HaveOccurred(), "the free plan admits within its limits again: %s", out)
	})

	It("renews side by side: no write ever shows the organization on a smaller plan", func() {
		org, _ := licensedOrganization("renew", license.Limits{Accounts: 20, Users: 10, Deployments: 10})
		seen := watchPlans(org)
		lic := &v1alpha1.License{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: planOf(org).License}, lic)).To(Succeed())
		id := lic.Status.LicenseID
		// The same License gets a renewed key (a later iat)...
		time.Sleep(1100 * time.Millisecond)
		lic.Spec.Key = lifecycleKey(org.Name, id, 0, 20, 2*time.Hour, time.Hour, time.Hour)
		Expect(k8sClient.Update(ctx, lic)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(planOf(org).ExpiresAt.Time).To(BeTemporally(">", time.Now().Add(90*time.Minute)))
		}).Should(Succeed())
		// ...and a new License carries the next one (a higher sequence).
		renewal := newLicense(org.Name, lifecycleKey(org.Name, id, 1, 20, 3*time.Hour, time.Hour, time.Hour))
		Expect(k8sClient.Create(ctx, renewal)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(planOf(org).License).To(Equal(renewal.Name))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			g.Expect(lic.Status.Phase).To(Equal(v1alpha1.LicenseSuperseded))
			g.Expect(lic.Status.SupersededBy).To(Equal(renewal.Name))
		}).Should(Succeed())
		for _, p := range seen() {
			Expect(p.Type).To(Equal("team"), "a write showed the %s plan during the renewal", p.Type)
			Expect(p.Limits.Accounts).To(BeEquivalentTo(20))
			Expect(p.Phase).To(Equal(v1alpha1.PlanPhaseActive))
		}
	})

	It("revokes offline at once, and neither an older list nor deleting the list un-revokes", func() {
		org, lic := licensedOrganization("revoke", license.Limits{Accounts: 20, Users: 10, Deployments: 10})
		newer := revocationList("revocations-"+org.Name, 2_000_000_000, lic.Status.LicenseID)
		Expect(k8sClient.Create(ctx, newer)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			g.Expect(lic.Status.Phase).To(Equal(v1alpha1.LicenseRevoked))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(planOf(org).Type).To(Equal(v1alpha1.PlanFree))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(newer), newer)).To(Succeed())
			g.Expect(newer.Status.Phase).To(Equal(v1alpha1.RevocationListInForce))
		}).Should(Succeed())

		By("rolling the object back to an older list that does not name the license")
		older := revocationList(newer.Name, 1_000_000_000)
		newer.Spec.List = older.Spec.List
		Expect(k8sClient.Update(ctx, newer)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(newer), newer)).To(Succeed())
			g.Expect(newer.Status.Phase).To(Equal(v1alpha1.RevocationListSuperseded))
		}).Should(Succeed())
		stillRevoked := func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			g.Expect(lic.Status.Phase).To(Equal(v1alpha1.LicenseRevoked))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(planOf(org).Type).To(Equal(v1alpha1.PlanFree))
		}
		Consistently(stillRevoked, 3*time.Second).Should(Succeed())

		By("deleting the list")
		Expect(k8sClient.Delete(ctx, newer)).To(Succeed())
		Consistently(stillRevoked, 3*time.Second).Should(Succeed())
	})
})

// revocationList is a RevocationList named name, signed by the test vendor.
func revocationList(name string, seq int64, revoked ...string) *v1alpha1.RevocationList {
	GinkgoHelper()
	token, err := license.IssueRevocations(licenseKey, license.Revocations{Sequence: seq, Revoked: revoked})
	Expect(err).NotTo(HaveOccurred())
	return &v1alpha1.RevocationList{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.RevocationListSpec{List: token}}
}

// watchPlans records the plan of every write to org's status from now on;
// the function it returns stops the watch and gives them.
func watchPlans(org *v1alpha1.Organization) func() []v1alpha1.Plan {
	GinkgoHelper()
	c, err := client.NewWithWatch(cp.Config, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	w, err := c.Watch(ctx, &v1alpha1.OrganizationList{}, client.MatchingFields{"metadata.name": org.Name})
	Expect(err).NotTo(HaveOccurred())
	var mu sync.Mutex
	var plans []v1alpha1.Plan
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range w.ResultChan() {
			if o, ok := e.Object.(*v1alpha1.Organization); ok && e.Type == watch.Modified {
				mu.Lock()
				plans = append(plans, planOf(o))
				mu.Unlock()
			}
		}
	}()
	return func() []v1alpha1.Plan {
		w.Stop()
		<-done
		mu.Lock()
		defer mu.Unlock()
		Expect(plans).NotTo(BeEmpty(), "the watch saw no write")
		return plans
	}
}
