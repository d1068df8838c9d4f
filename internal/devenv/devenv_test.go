package devenv_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

// syncBuffer is a bytes.Buffer safe to read while Run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDevPrintsAWorkingKubeconfig runs what `make dev` runs and follows its
// printed instructions with the real kubectl.
func TestDevPrintsAWorkingKubeconfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- devenv.Run(ctx, devenv.Options{
			AssetsDir: localcp.DefaultAssetsDir(),
			Dir:       t.TempDir(),
			ConfigDir: filepath.Join("..", "..", "config"),
			Manager: manager.Options{MetricsAddr: "0", ProbeAddr: "0", FreeLimits: manager.DefaultFreeLimits,
				RESTAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t))},
		}, out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("make dev did not stop cleanly: %v", err)
		}
	}()

	kubeconfig := waitFor(t, out, regexp.MustCompile(`export KUBECONFIG=(\S+)`))
	kubectl := filepath.Join(localcp.DefaultAssetsDir(), "kubectl")
	run := func(args ...string) string {
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	waitUntil(t, func() bool {
		return regexp.MustCompile(`(?m)^acme\s+Acme Corporation\s+(free|team)\s+.*True`).MatchString(run("get", "organizations"))
	})
	if got := run("explain", "organization.spec.members"); !regexp.MustCompile(`(?s)role.*enum: admin, member`).MatchString(got) {
		t.Errorf("kubectl explain organization.spec.members does not explain role:\n%s", got)
	}
	waitUntil(t, func() bool {
		return run("get", "organization", "acme", "-o", "jsonpath={.status.plan} {.status.license}") == "team acme-team"
	})
	t.Run("a license issued with the vendor CLI and applied with kubectl sets the plan", func(t *testing.T) {
		vendorKey := waitFor(t, out, regexp.MustCompile(`license vendor key: (\S+\.key)`))
		key := orgplane(t, "license", "issue", "--key", vendorKey, "--licensee", "Globex", "--organization", "globex",
			"--type", "enterprise", "--accounts", "20", "--users", "30", "--deployments", "40")
		apply := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-")
		apply.Stdin = strings.NewReader("apiVersion: orgplane.io/v1alpha1\nkind: License\nmetadata:\n  name: globex-enterprise\n" +
			"spec:\n  organization: globex\n  key: " + strings.TrimSpace(key) + "\n")
		if b, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, b)
		}
		waitUntil(t, func() bool {
			return run("get", "organization", "globex", "-o", "jsonpath={.status.plan} {.status.limits.accounts}") == "enterprise 20"
		})
	})
	t.Run("the REST API answers a demo user through kube-apiserver", func(t *testing.T) {
		bob := waitFor(t, out, regexp.MustCompile(`--kubeconfig (\S+bob@globex\.example\.kubeconfig) get --raw (\S+)`))
		path := waitFor(t, out, regexp.MustCompile(`bob@globex\.example\.kubeconfig get --raw (\S+)`))
		var got string
		waitUntil(t, func() bool {
			b, err := exec.Command(kubectl, "--kubeconfig", bob, "get", "--raw", path).CombinedOutput()
			got = string(b)
			return err == nil && strings.Contains(got, `"organizationAccounts"`)
		})
		for _, org := range []string{`"name":"acme"`, `"name":"globex"`} {
			if !strings.Contains(got, org) {
				t.Errorf("bob's accounts/all lacks %s: %s", org, got)
			}
		}
	})
	alice := waitFor(t, out, regexp.MustCompile(`(\S+alice@acme\.example\.kubeconfig)`))
	cmd := exec.Command(kubectl, "--kubeconfig", alice, "-n", "org-acme", "get", "accounts")
	if b, err := cmd.CombinedOutput(); err != nil || !regexp.MustCompile(`(?m)^web\s`).Match(b) {
		t.Errorf("alice cannot list acme's accounts: %v\n%s", err, b)
	}
}

// orgplane runs the orgplane command, built from this tree.
func orgplane(t *testing.T, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orgplane")
	if b, err := exec.Command("go", "build", "-o", bin, "../../cmd/orgplane").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("orgplane %v: %v\n%s", args, err, stderr.String())
	}
	return string(b)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	var m []string
	waitUntil(t, func() bool { m = re.FindStringSubmatch(out.String()); return m != nil })
	return m[1]
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(250 * time.Millisecond)
	}
}
