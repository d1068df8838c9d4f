package cluster

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const (
	helmVersion = "v3.22.0" // the Makefile's HELM_VERSION
	ns          = "orgplane-system"
	deployment  = "orgplane-controller-manager"
	selector    = "app.kubernetes.io/name=orgplane,control-plane=controller-manager"
)

var _ = Describe("orgplane installed with make deploy", Ordered, func() {
	installed(report{Install: "make deploy"}, func() { makeTarget("deploy") }, func() { makeTarget("undeploy") }, true)
})

var _ = Describe("orgplane installed with the Helm chart", Ordered, func() {
	helm := func(args ...string) {
		GinkgoHelper()
		out, err := run(root, []string{"KUBECONFIG=" + kubeconfig}, filepath.Join(root, "bin", "helm-"+helmVersion), args...)
		Expect(err).NotTo(HaveOccurred(), "helm %s: %s", strings.Join(args, " "), out)
	}
	installed(report{Install: "helm"}, func() {
		helm("install", "orgplane", filepath.Join(root, "charts", "orgplane"), "-n", ns, "--create-namespace")
	}, func() {
		// The documented order: orgplane's objects while the manager
		// still runs, then the release (APIService first), then the
		// namespace Helm created.
		mustK("delete", "-f", filepath.Join(root, "charts", "orgplane", "crds"), "--timeout=5m")
		helm("uninstall", "orgplane", "-n", ns, "--wait", "--timeout", "5m")
		mustK("delete", "namespace", ns, "--timeout=5m")
	}, false)
})

// installed is the whole proof for one way of installing orgplane. The
// certificate-rotation and every-replica-down specs prove the manager, not
// the way it was installed, and take minutes each: they run in the
// thorough pass (make deploy) only, so CI stays well inside its budget.
func installed(r report, install, uninstall func(), thorough bool) {
	It("runs two Ready replicas and Available APIServices", func() {
		webhookClientCA()
		start := time.Now()
		install()
		waitSettled()
		r.Ready = time.Since(start)
		By(fmt.Sprintf("ready %.1f s after install", r.Ready.Seconds()))
	})

	It("runs the manager as its ServiceAccount with only the RBAC of config/rbac", func() {
		Expect(mustK("get", "pods", "-n", ns, "-l", selector, "-o", "jsonpath={.items[*].spec.serviceAccountName}")).
			To(Equal("orgplane-manager orgplane-manager"))
		as := "--as=system:serviceaccount:orgplane-system:orgplane-manager"
		canI := func(verb, what string) string {
			out, _ := k("auth", "can-i", verb, what, as)
			lines := strings.Fields(out)
			return lines[len(lines)-1] // after any warning
		}
		Expect(canI("create", "pods")).To(Equal("no"))
		Expect(canI("get", "pods")).To(Equal("no"))
		for _, name := range apiServices {
			Expect(canI("update", "apiservices/"+name)).To(Equal("yes"), name)
		}
		Expect(canI("update", "apiservices/v1beta1.metrics.k8s.io")).To(Equal("no"))
	})

	It("answers REST through kube-apiserver and the Service", func() {
		out := mustK("get", "--raw", restPath)
		Expect(out).To(HavePrefix(`{"organizations":`))
	})

	It("serves metrics only over HTTPS to callers allowed /metrics", func() {
		ip := mustK("get", "service", "-n", ns, "orgplane-metrics-service", "-o", "jsonpath={.spec.clusterIP}")
		mustK("create", "serviceaccount", "metrics-scraper", "-n", "default")
		token := strings.TrimSpace(mustK("create", "token", "metrics-scraper", "-n", "default"))
		url := "https://" + ip + ":8443/metrics"
		Eventually(func() int { return scrape(url, token) }).WithTimeout(time.Minute).Should(Equal(http.StatusForbidden))
		Expect(scrape(url, "")).To(Equal(http.StatusUnauthorized))
		mustK("create", "clusterrolebinding", "metrics-scraper", "--clusterrole=orgplane-metrics-reader",
			"--serviceaccount=default:metrics-scraper")
		Eventually(func() int { return scrape(url, token) }).WithTimeout(time.Minute).Should(Equal(http.StatusOK))
		mustK("delete", "clusterrolebinding", "metrics-scraper")
		mustK("delete", "serviceaccount", "metrics-scraper", "-n", "default")
	})

	It("brings the samples applied with kubectl to Ready", func() {
		// Accounts live in their organization's namespace, which the
		// manager creates: apply until it is there.
		Eventually(func() error { _, err := k("apply", "-f", filepath.Join(root, "config", "samples")); return err }).
			WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		Eventually(func() string {
			out, _ := k("get", "organizations,accounts", "-A", "-o",
				`jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}`)
			return out
		}).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(MatchRegexp(`^(True )+$`))
	})

	It("shows each tenant only their own organizations in my.orgplane.io, the CRDs in organizations", func() {
		// The samples: alice is in acme only, the ServiceAccount ci/deployer
		// in globex only.
		for user, want := range map[string]string{
			"alice@acme.example":                "organization.my.orgplane.io/acme",
			"system:serviceaccount:ci:deployer": "organization.my.orgplane.io/globex",
		} {
			Eventually(func() string {
				out, _ := k("get", "organizations.my.orgplane.io", "-o", "name",
					"--as="+user, "--as-group=system:authenticated")
				return strings.TrimSpace(out)
			}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal(want), "as %s", user)
		}
		// my.orgplane.io's APIService priority (900) is below the CRDs'.
		Expect(mustK("get", "organizations", "-o", "name")).To(HavePrefix("organization.orgplane.io/"))
	})

	It("serves the console through the Service: a member reads, creates and deletes an organization", consoleSmoke)

	It("refuses a Deployment over the license limit through the webhook's Service", func() {
		workspace := mustK("get", "account", "web", "-n", "org-acme", "-o", "jsonpath={.status.namespace}")
		Expect(workspace).NotTo(BeEmpty())
		var refusal string
		for i := 1; i <= 50 && refusal == ""; i++ {
			out, err := k("create", "deployment", fmt.Sprintf("d%d", i), "-n", workspace,
				"--image=docker.io/orgplane/pause:dev", "--replicas=0")
			if err != nil {
				refusal = out
			}
		}
		Expect(refusal).To(ContainSubstring(`admission webhook "deployments.orgplane.io" denied the request`))
	})

	It("drops no request when one replica is deleted", func() {
		f := disrupt("delete one manager Pod", func() {
			pod := strings.Fields(mustK("get", "pods", "-n", ns, "-l", selector, "-o", "jsonpath={.items[*].metadata.name}"))[0]
			mustK("delete", "pod", "-n", ns, pod, "--wait=false")
		})
		r.Disrupt = append(r.Disrupt, f)
		Expect(f.Failed).To(BeZero(), f.FirstError)
		Expect(f.Unavailable).To(BeZero())
	})

	It("drops no request during a rolling restart", func() {
		f := disrupt("kubectl rollout restart", func() {
			mustK("rollout", "restart", "deployment", "-n", ns, deployment)
			mustK("rollout", "status", "deployment", "-n", ns, deployment, "--timeout=5m")
		})
		r.Disrupt = append(r.Disrupt, f)
		Expect(f.Failed).To(BeZero(), f.FirstError)
		Expect(f.Unavailable).To(BeZero())
	})

	if thorough {
		sideDoorSpecs(&r)
		quotaSpecs()

		It("drops no request while the serving certificate rotates every half minute", func() {
			// Certificates valid 2 min, renewed when they expire within 90 s
			// (checked every 10 s): a new one from the same CA every ~30-40 s.
			mustK("patch", "deployment", "-n", ns, deployment, "--type=json", "-p", `[
				{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--cert-validity=2m"},
				{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--cert-lookahead=90s"},
				{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--cert-check-interval=10s"}]`)
			mustK("rollout", "status", "deployment", "-n", ns, deployment, "--timeout=5m")
			waitSettled()
			// The installed certificate is valid for a year: drop it so that the
			// short-lived ones start (the CA stays).
			mustK("patch", "secret", "-n", ns, "orgplane-serving-cert", "--type=json",
				"-p", `[{"op": "remove", "path": "/data/tls.crt"}]`)
			ip := mustK("get", "service", "-n", ns, "orgplane-api", "-o", "jsonpath={.spec.clusterIP}")
			served := map[string]bool{}
			f := disrupt("serving certificate renewed every ~30 s", func() {
				for end := time.Now().Add(100 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Second) {
					if fp := servedCertificate(ip + ":443"); fp != "" {
						served[fp] = true
					}
				}
			})
			f.Name = fmt.Sprintf("%s (%d certificates served)", f.Name, len(served))
			r.Disrupt = append(r.Disrupt, f)
			Expect(len(served)).To(BeNumerically(">=", 3), "the served certificate did not change twice")
			Expect(f.Failed).To(BeZero(), f.FirstError)
			Expect(f.Unavailable).To(BeZero())
			mustK("rollout", "undo", "deployment", "-n", ns, deployment)
			mustK("rollout", "status", "deployment", "-n", ns, deployment, "--timeout=5m")
			waitSettled()
		})

		It("records how namespace deletion fares while every replica is gone, and that it resumes by itself", func() {
			mustK("scale", "deployment", "-n", ns, deployment, "--replicas=0")
			Eventually(func() string {
				out, _ := k("get", "pods", "-n", ns, "-l", selector, "-o", "name")
				return out
			}).WithTimeout(2 * time.Minute).Should(BeEmpty())
			gone := time.Now()
			Eventually(func() string {
				out, _ := k("get", "apiservice", "v1.api.orgplane.io", "-o", apiServiceAvailableJSONPath)
				return out
			}).WithTimeout(time.Minute).Should(Equal("False"))
			// Namespace deletion waits on discovery, which kube-apiserver marks
			// Stale a little after the APIService turns unavailable.
			Eventually(func() string { return discoveryFreshness(kubeconfig) }).
				WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Equal("Stale"))
			r.StaleAfter = time.Since(gone)
			mustK("create", "namespace", "victim")
			deleted := time.Now()
			mustK("delete", "namespace", "victim", "--wait=false")
			r.Down = 60 * time.Second
			reasons := map[string]bool{}
			for time.Since(deleted) < r.Down && !namespaceGone("victim", reasons) {
				time.Sleep(500 * time.Millisecond)
			}
			r.NSBlocked = !namespaceGone("victim", reasons)
			mustK("scale", "deployment", "-n", ns, deployment, "--replicas=2")
			back := time.Now()
			Eventually(func() bool { return namespaceGone("victim", reasons) }).
				WithTimeout(10 * time.Minute).WithPolling(500 * time.Millisecond).Should(BeTrue())
			r.NSGone, r.NSResumed = time.Since(deleted), time.Since(back)
			for c := range reasons {
				r.NSReason += c + " "
			}
			r.NSReason = strings.TrimSpace(r.NSReason)
			By(fmt.Sprintf("namespace blocked=%v, gone after %s, %s after the replicas were back; %s",
				r.NSBlocked, r.NSGone, r.NSResumed, r.NSReason))
			waitSettled()
		})
	}

	uninstalled := false
	// A failed spec skips the rest of its ordered container: uninstall
	// anyway, so that the other way of installing starts on a clean node.
	AfterAll(func() {
		if !uninstalled {
			uninstall()
		}
	})

	It("leaves nothing behind when uninstalled", func() {
		uninstalled = true
		uninstall()
		Expect(mustK("get", "crd", "-o", "name")).NotTo(ContainSubstring("orgplane.io"))
		Expect(mustK("get", "apiservices", "-o", "name")).NotTo(ContainSubstring("orgplane"))
		Expect(mustK("get", "validatingwebhookconfigurations", "-o", "name")).NotTo(ContainSubstring("orgplane"))
		Expect(mustK("get", "clusterroles,clusterrolebindings", "-o", "name")).NotTo(ContainSubstring("orgplane"))
		Eventually(func() string { out, _ := k("get", "namespaces", "-o", "name"); return out }).
			WithTimeout(3 * time.Minute).ShouldNot(ContainSubstring("org"))
		mustK("create", "namespace", "after-uninstall")
		mustK("delete", "namespace", "after-uninstall", "--timeout=2m")
		Expect(writeFigures(filepath.Join(root, "docs", "operations.md"), r)).To(Succeed())
		GinkgoWriter.Println(r.markdown())
	})
}

// apiServiceAvailableJSONPath reads the status of the APIService's
// Available condition.
const apiServiceAvailableJSONPath = `jsonpath={.status.conditions[?(@.type=="Available")].status}`

// namespaceGone reports whether the namespace is gone, recording the
// deletion-failure conditions it shows meanwhile.
func namespaceGone(name string, reasons map[string]bool) bool {
	out, err := k("get", "namespace", name, "--ignore-not-found", "-o",
		`jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}`)
	if err != nil {
		return false
	}
	if out == "" {
		phase, _ := k("get", "namespace", name, "--ignore-not-found", "-o", "name")
		return phase == ""
	}
	for _, c := range strings.Fields(out) {
		reasons[c] = true
	}
	return false
}

// waitSettled waits (up to 5 minutes each) for exactly two Ready replicas
// and every one of apiServices Available.
func waitSettled() {
	GinkgoHelper()
	const timeout = 5 * time.Minute
	Eventually(func() string {
		out, _ := k("get", "pods", "-n", ns, "-l", selector, "-o",
			`jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}`)
		return out
	}).WithTimeout(timeout).WithPolling(time.Second).Should(Equal("True True "))
	for _, name := range apiServices {
		Eventually(func() string {
			out, _ := k("get", "apiservice", name, "-o", apiServiceAvailableJSONPath)
			return out
		}).WithTimeout(timeout).WithPolling(time.Second).Should(Equal("True"), name)
	}
}

// disrupt runs act under REST load and returns the load's figures once the
// replicas have settled again.
func disrupt(name string, act func()) Figures {
	GinkgoHelper()
	l, err := startLoad(kubeconfig, 20)
	Expect(err).NotTo(HaveOccurred())
	time.Sleep(3 * time.Second)
	act()
	waitSettled()
	time.Sleep(5 * time.Second) // kube-proxy catches up with the last endpoint change
	f := l.stop(name)
	By(fmt.Sprintf("%s: %d requests, %d failed, APIService unavailable %s", name, f.Sent, f.Failed, f.Unavailable))
	return f
}

// servedCertificate returns the SHA-256 of the certificate served at addr.
func servedCertificate(addr string) string {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only reads the certificate
	if err != nil {
		return ""
	}
	defer func() { _ = conn.Close() }() // only the handshake's certificate was read
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return ""
	}
	return fmt.Sprintf("%x", sha256.Sum256(certs[0].Raw))
}

// scrape GETs the metrics URL with a bearer token and returns the status.
func scrape(url, token string) int {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the metrics certificate is self-signed
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer func() { _ = resp.Body.Close() }() // only the status is read
	return resp.StatusCode
}
