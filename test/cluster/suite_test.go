// Package cluster installs orgplane on a real one-node cluster (kubelet,
// containerd, kube-proxy; hack/node-up.sh) and proves that it runs highly
// available: replicas Ready, APIServices Available, webhooks and REST through
// Services, and no failed request while replicas are deleted or restarted.
// It skips, saying why, unless the machine allows a node (root, runc, CNI
// plugins). Run it with `make test-cluster`.
package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var (
	root       string // the repository
	kubectl    string
	kubeconfig string
)

func TestCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Cluster Suite")
}

// missing says why this machine cannot run a node, or "".
func missing() string {
	if os.Getenv("ORGPLANE_TEST_CLUSTER") != "1" {
		return "it starts a real node: run make test-cluster (ORGPLANE_TEST_CLUSTER=1)"
	}
	if os.Geteuid() != 0 {
		return "not root: a node needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN"
	}
	for _, p := range []string{"/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local"} {
		if _, err := os.Stat(p); err != nil {
			return p + " is missing: apt-get install -y runc containernetworking-plugins iptables conntrack"
		}
	}
	for _, p := range []string{"iptables-save", "openssl"} {
		if _, err := exec.LookPath(p); err != nil {
			return p + " is missing"
		}
	}
	built := []string{
		"dist/orgplane-image.tar", "dist/pause-image.tar",
		"bin/k8s/node-1.37.2/kubelet", "bin/containerd/2.4.2/containerd",
	}
	for _, p := range built {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			return p + " is missing: run make test-cluster, which builds it"
		}
	}
	return ""
}

var _ = BeforeSuite(func() {
	var err error
	root, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	kubectl = filepath.Join(root, "bin", "k8s", "1.37.2-etcd3.6.16", "kubectl")
	if why := missing(); why != "" {
		GinkgoWriter.Println("skipping the cluster suite:", why)
		fmt.Println("test/cluster: SKIPPED:", why)
		Skip(why)
	}
	DeferCleanup(func() {
		out, err := run(root, []string{"NODE_KEEP_LOGS=" + filepath.Join(root, "dist", "node-logs")}, "hack/node-down.sh")
		if err != nil {
			Fail("node teardown: " + out)
		}
	})
	out, err := run(root, nil, "hack/node-up.sh")
	Expect(err).NotTo(HaveOccurred(), out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	kubeconfig = lines[len(lines)-1]
	By(lines[len(lines)-2])
})

// run runs a command in dir with extra environment and returns its output.
func run(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// k runs kubectl against the node.
func k(args ...string) (string, error) {
	return run(root, nil, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
}

// mustK runs kubectl and fails the spec when it fails.
func mustK(args ...string) string {
	GinkgoHelper()
	out, err := k(args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %s: %s", strings.Join(args, " "), out)
	return out
}

// makeTarget runs make against the node's kubeconfig.
func makeTarget(target string) string {
	GinkgoHelper()
	out, err := run(root, []string{"KUBECONFIG=" + kubeconfig}, "make", target)
	Expect(err).NotTo(HaveOccurred(), "make %s: %s", target, out)
	return out
}
