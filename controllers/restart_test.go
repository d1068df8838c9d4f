package controllers_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

var _ = Describe("A manager restarted mid-way", Ordered, func() {
	It("converges to the same state with no duplicates", func() {
		prefix := uniqueName("restart")
		orgs := make([]*v1alpha1.Organization, 0, 3)
		for i := range 3 {
			name := fmt.Sprintf("%s-%d", prefix, i)
			org := newOrganization(name, admin("ann@"+prefix+".example"), member(fmt.Sprintf("u%d@%s.example", i, prefix)))
			Expect(k8sClient.Create(ctx, org)).To(Succeed())
			orgs = append(orgs, org)
		}
		for _, org := range orgs {
			Eventually(func() error { return k8sClient.Create(ctx, newAccount(org.Name, "app")) }).Should(Succeed())
		}
		By("stopping the manager before everything converged, then starting a new one")
		stopManager()
		DeferCleanup(func() {
			if mainReplica == nil {
				startManager()
			}
		})
		startManager()

		for _, org := range orgs {
			expectReady(org)
			expectReady(&v1alpha1.Account{ObjectMeta: newAccount(org.Name, "app").ObjectMeta})
		}
		users := &v1alpha1.UserList{}
		Expect(k8sClient.List(ctx, users, client.MatchingFields{})).To(Succeed())
		count := map[string]int{}
		for _, u := range users.Items {
			count[u.Spec.Username]++
		}
		Expect(count).To(HaveKeyWithValue("ann@"+prefix+".example", 1))
		for i := range 3 {
			Expect(count).To(HaveKeyWithValue(fmt.Sprintf("u%d@%s.example", i, prefix), 1))
		}
		ann := &v1alpha1.User{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: v1alpha1.UserObjectName("ann@" + prefix + ".example")}, ann)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ann), ann)).To(Succeed())
			g.Expect(ann.Status.Organizations).To(HaveLen(3))
		}).Should(Succeed())
		for _, org := range orgs {
			secrets := &corev1.SecretList{}
			Expect(k8sClient.List(ctx, secrets, client.InNamespace("org-"+org.Name),
				client.MatchingLabels{v1alpha1.LabelAccount: "app"})).To(Succeed())
			Expect(secrets.Items).To(HaveLen(1))
		}
	})
})
