package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

		By("the workspace that used its share up gets what the other does not use, up to its own quota")
		reportUsage(web, "2")
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
