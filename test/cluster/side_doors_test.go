package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// webhookClientCA gives the install the CA of the client certificate the
// node's kube-apiserver presents to webhooks (hack/node-up.sh), as an
// operator who sets kube-apiserver's flags would (docs/operations.md).
func webhookClientCA() {
	GinkgoHelper()
	if _, err := k("get", "namespace", ns); err != nil {
		mustK("create", "namespace", ns)
	}
	ca := filepath.Join(filepath.Dir(kubeconfig), "webhook-client-ca.crt")
	mustK("create", "secret", "generic", "orgplane-webhook-client-ca", "-n", ns, "--from-file=ca.crt="+ca)
}

// forgedReview is an AdmissionReview anyone can write: an account create in
// acme's namespace, as acme's admin, not a dry run.
const forgedReview = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
"uid":"00000000-0000-0000-0000-000000000001","operation":"CREATE","dryRun":false,
"kind":{"group":"orgplane.io","version":"v1alpha1","kind":"Account"},
"resource":{"group":"orgplane.io","version":"v1alpha1","resource":"accounts"},
"name":"phantom","namespace":"org-acme","userInfo":{"username":"alice@acme.example"},
"object":{"apiVersion":"orgplane.io/v1alpha1","kind":"Account","metadata":{"name":"phantom","namespace":"org-acme"},
"spec":{"displayName":"Phantom"}}}}`

// sideDoorSpecs attack the manager as a Pod or a tenant would (issue 19).
func sideDoorSpecs(r *report) {
	It("refuses forged AdmissionReviews POSTed straight to the webhook Service, and reserves nothing", func() {
		ip := mustK("get", "service", "-n", ns, "orgplane-webhook-service", "-o", "jsonpath={.spec.clusterIP}")
		before := mustK("get", "organization", "acme", "-o", "jsonpath={.status.reservations}")
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the attacker need not trust the server
		const tries = 20
		for range tries {
			resp, err := c.Post("https://"+ip+":443/validate-orgplane-io-v1alpha1-account", "application/json",
				strings.NewReader(forgedReview))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			Expect(err).To(HaveOccurred(), "the webhook Service answered a caller without kube-apiserver's client certificate")
		}
		r.ForgedRefused = tries
		Consistently(func() string {
			return mustK("get", "organization", "acme", "-o", "jsonpath={.status.reservations}")
		}, "3s").Should(Equal(before))
	})

	It("keeps the manager's heap when a tenant tries to fill its cache with 600 labelled 1 MiB Secrets", func() {
		token := metricsToken()
		r.HeapBefore = managerHeap(token)
		created, refused := floodSecrets(tenantClient("alice@acme.example"), "ws-acme--web", 600)
		r.FloodCreated, r.FloodRefused = created, refused
		time.Sleep(10 * time.Second) // what a watch delivers would be cached by now
		r.HeapAfter = managerHeap(token)
		By(fmt.Sprintf("%d of 600 created, %d refused; heap in use %d MiB before, %d MiB after",
			created, refused, r.HeapBefore>>20, r.HeapAfter>>20))
		Expect(created).To(BeZero())
		mustK("delete", "clusterrolebinding", "heap-scraper")
		mustK("delete", "serviceaccount", "heap-scraper", "-n", "default")
	})
}

// metricsToken is the token of a ServiceAccount allowed /metrics.
func metricsToken() string {
	GinkgoHelper()
	mustK("create", "serviceaccount", "heap-scraper", "-n", "default")
	mustK("create", "clusterrolebinding", "heap-scraper", "--clusterrole=orgplane-metrics-reader",
		"--serviceaccount=default:heap-scraper")
	token := strings.TrimSpace(mustK("create", "token", "heap-scraper", "-n", "default"))
	ip := strings.Fields(mustK("get", "pods", "-n", ns, "-l", selector, "-o", "jsonpath={.items[*].status.podIP}"))[0]
	Eventually(func() int { return scrape("https://"+ip+":8443/metrics", token) }).
		WithTimeout(time.Minute).Should(Equal(http.StatusOK))
	return token
}

// managerHeap is the largest go_memstats_heap_inuse_bytes of the replicas.
func managerHeap(token string) int64 {
	GinkgoHelper()
	var largest int64
	for _, ip := range strings.Fields(mustK("get", "pods", "-n", ns, "-l", selector,
		"-o", "jsonpath={.items[*].status.podIP}")) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the metrics certificate is self-signed
		req, _ := http.NewRequest(http.MethodGet, "https://"+ip+":8443/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		largest = max(largest, metricValue(string(body), "go_memstats_heap_inuse_bytes"))
	}
	return largest
}

func metricValue(metrics, name string) int64 {
	for line := range strings.SplitSeq(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			Expect(err).NotTo(HaveOccurred())
			return int64(f)
		}
	}
	Fail("no " + name + " in the manager's metrics")
	return 0
}

// tenantClient is a client of the node's admin impersonating username.
func tenantClient(username string) *kubernetes.Clientset {
	GinkgoHelper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	cfg.Impersonate = rest.ImpersonationConfig{UserName: username, Groups: []string{"system:authenticated"}}
	cfg.QPS, cfg.Burst = 100, 100
	cs, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	return cs
}

// floodSecrets creates n 1 MiB Secrets labelled as orgplane's in namespace,
// 8 at a time, and counts what was created and refused.
func floodSecrets(cs *kubernetes.Clientset, namespace string, n int) (created, refused int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	blob := bytes.Repeat([]byte{'x'}, 1<<20-512)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("flood-%d", i), Namespace: namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "orgplane"}}, Data: map[string][]byte{"blob": blob}}
			_, err := cs.CoreV1().Secrets(namespace).Create(context.Background(), s, metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				created++
			} else {
				refused++
			}
		}()
	}
	wg.Wait()
	return created, refused
}
