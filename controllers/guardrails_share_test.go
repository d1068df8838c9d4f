package controllers_test

import (
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
	"github.com/orgplane/orgplane/internal/license"
)

// expectShares waits until the workspaces' shares of pods are want.
func expectShares(workspaces []string, want ...string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		for i, ns := range workspaces {
			q := &corev1.ResourceQuota{}
			g.Expect(k8sClient.Get(ctx, key(ns, controllers.ShareQuotaName), q)).To(Succeed())
			g.Expect(q.Spec.Hard.Pods().String()).To(Equal(want[i]), "share of %s (status %v)", ns, q.Status)
		}
	}).Should(Succeed())
}

// sharedPods is the pods of ns's share quota.
func sharedPods(g Gomega, ns string) string {
	q := &corev1.ResourceQuota{}
	g.Expect(k8sClient.Get(ctx, key(ns, controllers.ShareQuotaName), q)).To(Succeed())
	return q.Spec.Hard.Pods().String()
}

// reportUsage plays the quota controller, which this control plane does
// not run: it copies each orgplane quota's hard into its status and sets
// the pods used.
func reportUsage(ns, pods string) {
	GinkgoHelper()
	for _, name := range []string{controllers.ShareQuotaName, controllers.QuotaName} {
		Eventually(func() error {
			q := &corev1.ResourceQuota{}
			if err := k8sClient.Get(ctx, key(ns, name), q); err != nil {
				return err
			}
			q.Status = corev1.ResourceQuotaStatus{Hard: q.Spec.Hard, Used: quantities("pods", pods)}
			return k8sClient.Status().Update(ctx, q)
		}).Should(Succeed())
	}
}

var _ = Describe("Organization-wide totals", func() {
	It("shares the license's total among the workspaces, moves it to a workspace that fills up, and never gives out more than the total", func() {
		org, ws := guardedWorkspaces("total")
		web, db := ws[0], ws[1]
		first := assign(org.Name, 5, &license.Guardrails{Workspace: map[string]string{"pods": "4"}, Organization: map[string]string{"pods": "5"}})

		By("each workspace gets a share quota with nothing in it until its usage is known")
		expectShares([]string{web, db}, "0", "0")

		By("with no usage, the total is split (the remainder to the first by name)")
		reportUsage(web, "0")
		reportUsage(db, "0")
		expectShares([]string{web, db}, "2", "3")

		By("the workspace that used its share up gets what the other does not use, up to its own quota, " +
			"once the quota controller enforces the other's lowered share")
		reportUsage(db, "0") // the quota controller enforces db's share of 3
		reportUsage(web, "2")
		Eventually(func(g Gomega) { g.Expect(sharedPods(g, db)).To(Equal("1")) }).Should(Succeed())
		Consistently(func(g Gomega) { g.Expect(sharedPods(g, web)).To(Equal("2")) }).Should(Succeed(),
			"raised while quota admission still enforced db's old share of 3")
		reportUsage(db, "0") // the quota controller enforces db's share of 1
		expectShares([]string{web, db}, "4", "1")

		By("kube-apiserver refuses a Pod over the share")
		reportUsage(db, "1")
		Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: db, Name: "default"}})).To(Succeed())
		expectRefusedByQuota(newPod(db, "over"), controllers.ShareQuotaName)
		reportUsage(db, "1") // as the quota controller would once the Pod admitted meanwhile, if any, is gone

		By("a larger plan (it has more accounts, so it is the effective one) shares its larger total at once; the annotation names it")
		second := assign(org.Name, 6, &license.Guardrails{Workspace: map[string]string{"pods": "4"}, Organization: map[string]string{"pods": "7"}})
		expectShares([]string{web, db}, "4", "3")
		q := &corev1.ResourceQuota{}
		Expect(k8sClient.Get(ctx, key(db, controllers.ShareQuotaName), q)).To(Succeed())
		Expect(q.Annotations).To(HaveKeyWithValue(controllers.AnnotationOrganizationTotal, "pods=7"))

		By("a plan without a total removes the share quotas")
		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		Expect(k8sClient.Delete(ctx, second)).To(Succeed())
		Eventually(func(g Gomega) {
			for _, ns := range []string{web, db} {
				expectAbsent(g, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.ShareQuotaName}})
			}
		}).Should(Succeed())
	})
})

var _ = Describe("A smaller plan below the quota usage", func() {
	It("is refused with every violation named, and the organization keeps its plan", func() {
		org, ws := guardedWorkspaces("shrink")
		web, db := ws[0], ws[1]
		current := &license.Guardrails{Workspace: map[string]string{"pods": "4"}, Organization: map[string]string{"pods": "6"}}
		assign(org.Name, 5, current)
		expectShares([]string{web, db}, "0", "0")
		reportUsage(web, "3")
		reportUsage(db, "2")

		smaller := newLicense(org.Name, issueGuardedKey(org.Name, 6, &license.Guardrails{
			Workspace: map[string]string{"pods": "2"}, Organization: map[string]string{"pods": "4"},
		}))
		err := k8sClient.Create(ctx, smaller)
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(web + ": pods 3 used, quota 2"))
		Expect(err.Error()).To(ContainSubstring("organization total: pods 5 used, quota 4"))
		Expect(err.Error()).NotTo(ContainSubstring(db + ":"))
		Expect(err.Error()).To(ContainSubstring("choose a larger license"))
		expectAbsent(Default, smaller)

		By("a plan that fits is accepted")
		fits := newLicense(org.Name, issueGuardedKey(org.Name, 6, &license.Guardrails{
			Workspace: map[string]string{"pods": "3"}, Organization: map[string]string{"pods": "5"},
		}))
		Expect(k8sClient.Create(ctx, fits)).To(Succeed())
	})
})

var _ = Describe("Quota usage in status", func() {
	It("shows each Account what its workspace uses, the Organization its total, and reports a plan that fell back to a smaller one as not compliant, deleting nothing", func() {
		org, ws := guardedWorkspaces("usage")
		web, db := ws[0], ws[1]
		small := &license.Guardrails{Workspace: map[string]string{"pods": "4"}, Organization: map[string]string{"pods": "4"}}
		assign(org.Name, 5, small)
		expectShares([]string{web, db}, "0", "0")
		big := assign(org.Name, 6, &license.Guardrails{
			Workspace: map[string]string{"pods": "8"}, Organization: map[string]string{"pods": "10"},
		})
		reportUsage(web, "5")
		reportUsage(db, "1")

		By("the Account shows its workspace's quota and usage")
		Eventually(func(g Gomega) {
			acct := &v1alpha1.Account{}
			g.Expect(k8sClient.Get(ctx, key(org.NamespaceName(), "web"), acct)).To(Succeed())
			g.Expect(acct.Status.Quota).NotTo(BeNil())
			g.Expect(acct.Status.Quota.Summary).To(Equal("5/8 pods"))
		}).Should(Succeed())

		By("the Organization shows its total and its usage, compliant")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key("", org.Name), org)).To(Succeed())
			g.Expect(org.Status.Quota).NotTo(BeNil())
			g.Expect(org.Status.Quota.Summary).To(Equal("6/10 pods"))
			g.Expect(meta.IsStatusConditionTrue(org.Status.Conditions, v1alpha1.ConditionLicenseCompliant)).To(BeTrue())
		}).Should(Succeed())

		By("when the larger license goes (deleted here; an expired one is passed over the same way), the smaller plan is reported as exceeded, and nothing is deleted")
		Expect(k8sClient.Delete(ctx, big)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key("", org.Name), org)).To(Succeed())
			c := meta.FindStatusCondition(org.Status.Conditions, v1alpha1.ConditionLicenseCompliant)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Message).To(ContainSubstring(web + ": pods 5 used, quota 4"))
			g.Expect(c.Message).To(ContainSubstring("organization total: pods 6 used, quota 4"))
		}).Should(Succeed())
		for _, ns := range []string{web, db} {
			Expect(k8sClient.Get(ctx, key("", ns), &corev1.Namespace{})).To(Succeed())
		}
	})
})

// createdAt is the etcd revision at which the first object a watch sees
// added was created (revisions order every write of the control plane).
func createdAt(w watch.Interface, name string) int64 {
	GinkgoHelper()
	var rv int64
	Eventually(w.ResultChan()).Should(Receive(Satisfy(func(e watch.Event) bool {
		obj, ok := e.Object.(client.Object)
		if !ok || e.Type != watch.Added || (name != "" && obj.GetName() != name) {
			return false
		}
		var err error
		rv, err = strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
		return err == nil
	})))
	return rv
}

var _ = Describe("A new workspace under a plan with quotas", func() {
	It("binds no tenant before its quotas exist (else Pods created at once would escape the organization total)", func() {
		org := newOrganization(uniqueName("fresh"), admin("root@fresh.example"))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
		assign(org.Name, 5, &license.Guardrails{Workspace: map[string]string{"pods": "4"}, Organization: map[string]string{"pods": "10"}})
		ns := v1alpha1.WorkspaceNamespace(org.Name, "app")

		watcher, err := client.NewWithWatch(cp.Config, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		bindings, err := watcher.Watch(ctx, &rbacv1.RoleBindingList{}, client.InNamespace(ns))
		Expect(err).NotTo(HaveOccurred())
		defer bindings.Stop()
		quotas, err := watcher.Watch(ctx, &corev1.ResourceQuotaList{}, client.InNamespace(ns))
		Expect(err).NotTo(HaveOccurred())
		defer quotas.Stop()

		acct := newAccount(org.Name, "app")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		firstBinding := createdAt(bindings, "")
		quota := createdAt(quotas, controllers.QuotaName)
		share := createdAt(quotas, controllers.ShareQuotaName)
		Expect(quota).To(BeNumerically("<", firstBinding), "the workspace quota came after the first RoleBinding")
		Expect(share).To(BeNumerically("<", firstBinding), "the share of the total came after the first RoleBinding")
	})
})
