package controllers_test

import (
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Issue 19, item 9: admission cost is shared by every tenant, so one
// tenant's flood must be bounded, and never at the others' expense.

// tenantWorkspace creates account name of org as user, and waits until
// user may create Deployments in its workspace.
func tenantWorkspace(c client.Client, user, org, name string) string {
	acct := newAccount(org, name)
	ExpectWithOffset(1, c.Create(ctx, acct)).To(Succeed())
	expectReady(acct)
	EventuallyWithOffset(1, func() bool {
		return can(user, "create", "apps", "deployments", acct.Status.Namespace, "")
	}).Should(BeTrue())
	return acct.Status.Namespace
}

var _ = Describe("Attack 19.9: a tenant floods admission with kubectl create --dry-run=server", func() {
	It("the flooding tenant is told to slow down (429) while another tenant's creates in its own workspace succeed", func() {
		a, b := uniqueName("flood"), uniqueName("calm")
		mallory, alice := "mallory@"+a+".example", "alice@"+b+".example"
		tenantOrganization(a, mallory)
		tenantOrganization(b, alice)
		aliceClient := tenant(alice)
		wsA := tenantWorkspace(tenant(mallory), mallory, a, "web")
		wsB := tenantWorkspace(aliceClient, alice, b, "web")

		cfg, _, err := cp.AddUser(mallory)
		Expect(err).NotTo(HaveOccurred())
		cfg.QPS, cfg.Burst = 1000, 1000
		flooder, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())

		const clients, each = 8, 30
		var mu sync.Mutex
		var admitted, slowedDown int
		var other []error
		started := make(chan struct{})
		var startOnce sync.Once
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for n := range each {
					// What an attacker sends: no pause on Retry-After.
					err := flooder.AppsV1().RESTClient().Post().Namespace(wsA).Resource("deployments").
						Param("dryRun", metav1.DryRunAll).Body(newDeployment(wsA, fmt.Sprintf("d%d-%d", i, n))).
						MaxRetries(0).Do(ctx).Error()
					mu.Lock()
					switch {
					case err == nil:
						admitted++
					case apierrors.IsTooManyRequests(err):
						slowedDown++
						Expect(err.Error()).To(ContainSubstring("slow down: " + mallory + " sent more than"))
						startOnce.Do(func() { close(started) })
					default:
						other = append(other, err)
					}
					mu.Unlock()
				}
			}()
		}

		By("the other tenant creates, for real, while the flood is refused")
		Eventually(started).Should(BeClosed())
		for i := range 3 {
			Expect(aliceClient.Create(ctx, newDeployment(wsB, fmt.Sprintf("api-%d", i)))).To(Succeed())
		}
		wg.Wait()
		Expect(other).To(BeEmpty())
		Expect(slowedDown).To(BeNumerically(">", 0), "admitted %d", admitted)
		Expect(admitted).To(BeNumerically(">=", 30), "the burst (40, less the account's create) is answered")

		By("the flood's dry-runs reserved nothing")
		org := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: a}, org)).To(Succeed())
		for _, r := range org.Status.Reservations {
			Expect(r.Resource).NotTo(Equal("deployments"), "reservations: %+v", org.Status.Reservations)
		}
	})
})
