package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Guardrails of the free plan this spec gives the installed manager: each
// workspace at most 4 Pods, all of an organization's workspaces together 6.
const (
	workspacePods    = 4
	organizationPods = 6
)

// quotaSpecs prove the guardrails on a real node: kube-apiserver's quota
// admission and kube-controller-manager's quota controller enforce what
// orgplane writes, and the organization's total holds under concurrent
// Pod creates spread over its workspaces. They leave the free plan with
// these guardrails for the specs that follow (which create no Pods in
// workspaces).
func quotaSpecs() {
	It("holds the organization's total under 50 concurrent Pod creates over 3 workspaces, "+
		"and moves shares to a workspace with room", func() {
		By("giving the free plan a workspace quota and an organization total")
		mustK("patch", "deployment", "-n", ns, deployment, "--type=json", "-p", fmt.Sprintf(
			`[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--free-workspace-quota=pods=%d"},`+
				`{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--free-organization-quota=pods=%d"}]`,
			workspacePods, organizationPods))
		mustK("rollout", "status", "deployment", "-n", ns, deployment, "--timeout=5m")
		waitSettled()

		workspaces := quotaOrganization("quotas", "a", "b", "c")
		cs := clientset()
		expectShareUsage(cs, workspaces, 0)

		admitted, refusals := createPods(cs, 50, func(i int) string { return workspaces[i%len(workspaces)] })
		By(fmt.Sprintf("%d of 50 concurrent Pod creates admitted", admitted))
		Expect(admitted).To(BeNumerically("<=", organizationPods))
		// kube-apiserver's quota admission refuses over the quota, and, when
		// its own retries of the contended ResourceQuota run out, with a
		// conflict: both are refusals of the Pod, never an admission.
		for _, msg := range refusals {
			Expect(msg).To(Or(ContainSubstring("exceeded quota"),
				MatchRegexp(`Operation cannot be fulfilled on resourcequotas "orgplane-`)))
		}
		By("the whole total is usable, and never more: Pods are created one at a time until it is reached")
		total := func() int {
			n := 0
			for _, w := range workspaces {
				n += podCount(cs, w)
			}
			return n
		}
		next := 0
		Eventually(func() int {
			_, _ = createPods(cs, 1, func(int) string { next++; return workspaces[next%len(workspaces)] })
			return total()
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Equal(organizationPods))
		Consistently(func() int {
			_, _ = createPods(cs, 1, func(int) string { next++; return workspaces[next%len(workspaces)] })
			return total()
		}).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Equal(organizationPods))
		for _, w := range workspaces {
			Expect(podCount(cs, w)).To(BeNumerically("<=", workspacePods))
		}

		By("emptying two workspaces moves their shares to the one still full, up to its own quota")
		for _, w := range workspaces[1:] {
			now := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
			Expect(cs.CoreV1().Pods(w).DeleteCollection(context.Background(), now, metav1.ListOptions{})).To(Succeed())
		}
		Eventually(func() int {
			_, _ = createPods(cs, 1, func(int) string { return workspaces[0] })
			return podCount(cs, workspaces[0])
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Equal(workspacePods))
		Consistently(func() int {
			_, _ = createPods(cs, 1, func(int) string { return workspaces[0] })
			return podCount(cs, workspaces[0])
		}).WithTimeout(10 * time.Second).WithPolling(2 * time.Second).Should(Equal(workspacePods))
	})
}

// quotaOrganization creates an organization with the given accounts and
// returns their workspaces once Ready.
func quotaOrganization(name string, accounts ...string) []string {
	GinkgoHelper()
	manifest := fmt.Sprintf(`apiVersion: orgplane.io/v1alpha1
kind: Organization
metadata: {name: %s}
spec:
  displayName: Quota proof
  eulaAccepted: true
  members: [{kind: User, name: admin@quotas.example, role: admin}]
`, name)
	for _, a := range accounts {
		manifest += fmt.Sprintf("---\napiVersion: orgplane.io/v1alpha1\nkind: Account\n"+
			"metadata: {name: %s, namespace: org-%s}\n", a, name)
	}
	file := filepath.Join(GinkgoT().TempDir(), "quotas.yaml")
	Expect(os.WriteFile(file, []byte(manifest), 0o600)).To(Succeed())
	Eventually(func() error { _, err := k("apply", "-f", file); return err }).
		WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
	workspaces := make([]string, 0, len(accounts))
	for _, a := range accounts {
		mustK("wait", "--for=condition=Ready", "account/"+a, "-n", "org-"+name, "--timeout=3m")
		workspaces = append(workspaces, mustK("get", "account", a, "-n", "org-"+name, "-o", "jsonpath={.status.namespace}"))
	}
	for _, w := range workspaces { // Pods need the service account the controller manager makes
		Eventually(func() error { _, err := k("get", "serviceaccount", "default", "-n", w); return err }).
			WithTimeout(time.Minute).Should(Succeed())
	}
	return workspaces
}

func clientset() *kubernetes.Clientset {
	GinkgoHelper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	cfg.QPS, cfg.Burst = 200, 200
	cs, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	return cs
}

// expectShareUsage waits until the quota controller reports the usage of
// every share, adding up to used, and the shares add up to the total.
func expectShareUsage(cs *kubernetes.Clientset, workspaces []string, used int64) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		var hard, inUse int64
		for _, w := range workspaces {
			q, err := cs.CoreV1().ResourceQuotas(w).Get(context.Background(), "orgplane-organization-share", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			u, ok := q.Status.Used[corev1.ResourcePods]
			g.Expect(ok).To(BeTrue(), "no usage reported in %s yet", w)
			g.Expect(q.Status.Hard.Pods().Cmp(*q.Spec.Hard.Pods())).To(BeZero(),
				"the quota controller has not seen the share of %s yet", w)
			own, err := cs.CoreV1().ResourceQuotas(w).Get(context.Background(), "orgplane-quota", metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(own.Status.Hard).NotTo(BeEmpty(), "the quota controller has not seen the quota of %s yet", w)
			hard += q.Spec.Hard.Pods().Value()
			inUse += u.Value()
		}
		g.Expect(hard).To(Equal(int64(organizationPods)))
		g.Expect(inUse).To(Equal(used))
	}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

// createPods creates n pause Pods at once, the i-th in workspace(i), and
// returns how many were admitted and the refusals.
func createPods(cs *kubernetes.Clientset, n int, workspace func(int) string) (int, []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	admitted, refusals := 0, []string{}
	for i := range n {
		wg.Go(func() {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "p-"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "pause", Image: "docker.io/orgplane/pause:dev", ImagePullPolicy: corev1.PullNever,
				}}, TerminationGracePeriodSeconds: new(int64)},
			}
			_, err := cs.CoreV1().Pods(workspace(i)).Create(context.Background(), pod, metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				admitted++
			} else {
				refusals = append(refusals, err.Error())
			}
		})
	}
	wg.Wait()
	return admitted, refusals
}

func podCount(cs *kubernetes.Clientset, namespace string) int {
	pods, err := cs.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return -1
	}
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && !strings.HasPrefix(string(p.Status.Phase), "Succeeded") {
			n++
		}
	}
	return n
}
