package devenv_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
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
			Manager:   manager.Options{MetricsAddr: "0", ProbeAddr: "0", FreeLimits: manager.DefaultFreeLimits},
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
		return regexp.MustCompile(`(?m)^acme\s+Acme Corporation\s+free\s+.*True`).MatchString(run("get", "organizations"))
	})
	if got := run("explain", "organization.spec.members"); !regexp.MustCompile(`(?s)role.*enum: admin, member`).MatchString(got) {
		t.Errorf("kubectl explain organization.spec.members does not explain role:\n%s", got)
	}
	alice := waitFor(t, out, regexp.MustCompile(`(\S+alice@acme\.example\.kubeconfig)`))
	cmd := exec.Command(kubectl, "--kubeconfig", alice, "-n", "org-acme", "get", "accounts")
	if b, err := cmd.CombinedOutput(); err != nil || !regexp.MustCompile(`(?m)^web\s`).Match(b) {
		t.Errorf("alice cannot list acme's accounts: %v\n%s", err, b)
	}
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
