package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

var root, _ = filepath.Abs(filepath.Join("..", ".."))

// stack is the local control plane and manager `make dev` runs.
type stack struct {
	dir     string
	base    string // the REST API and console: https://127.0.0.1:<port>
	kubectl string
	out     *localcp.SyncBuffer // what make dev printed
}

// run runs the real kubectl as the admin (or with --kubeconfig in args)
// and returns its combined output and error.
func (s *stack) run(args ...string) (string, error) { return s.runEnv(nil, args...) }

func (s *stack) runEnv(env []string, args ...string) (string, error) {
	cmd := exec.Command(s.kubectl, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+filepath.Join(s.dir, "admin.kubeconfig")), env...)
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func (s *stack) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.run(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) as(user string) string {
	return "--kubeconfig=" + filepath.Join(s.dir, user+".kubeconfig")
}

// start runs what `make dev` runs, until the test ends; with, changes
// make dev's options first.
func start(t *testing.T, with ...func(*devenv.Options)) *stack {
	ctx, cancel := context.WithCancel(context.Background())
	out, done := &localcp.SyncBuffer{}, make(chan error, 1)
	dir, rest := t.TempDir(), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	opts := devenv.Options{
		AssetsDir: localcp.DefaultAssetsDir(), Dir: dir, ConfigDir: filepath.Join(root, "config"),
		// Two tests each run a stack, and so a manager, in this process.
		Manager: manager.Options{MetricsAddr: "0", ProbeAddr: "0", Plan: manager.DefaultPlan,
			RESTAddr: rest, SkipNameValidation: true},
	}
	for _, f := range with {
		f(&opts)
	}
	go func() { done <- devenv.Run(ctx, opts, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the stack did not stop cleanly: %v", err)
		}
	})
	eventually(t, 120*time.Second, func() error {
		if !strings.Contains(out.String(), "Try, in another terminal") {
			return fmt.Errorf("make dev has not printed its instructions:\n%s", out.String())
		}
		return nil
	})
	kubectl := filepath.Join(localcp.DefaultAssetsDir(), "kubectl")
	return &stack{dir: dir, base: "https://" + rest, kubectl: kubectl, out: out}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func TestEndToEnd(t *testing.T) {
	s := start(t)
	// The walkthrough runs first: it shows the state make dev starts with.
	t.Run("README walkthrough", func(t *testing.T) { readmeWalkthrough(t, s) })
	t.Run("a workspace quota admits Pods up to it and refuses the next one", func(t *testing.T) { workspaceQuota(t, s) })
	t.Run("the organization's total refuses a Pod its workspace's quota would admit", func(t *testing.T) {
		organizationTotal(t, s)
	})
	t.Run("samples apply and become Ready", func(t *testing.T) { samplesReady(t, s) })
	t.Run("User objects are named after their usernames", func(t *testing.T) { userNames(t, s) })
	t.Run("accounts answer to short names nobody else uses", func(t *testing.T) { shortNames(t, s) })
	t.Run("GitOps: server-side apply and prune converge", func(t *testing.T) { gitOps(t, s) })
	t.Run("REST through the API extension as demo users", func(t *testing.T) { restAsUsers(t, s) })
	t.Run("a limit hit shows the admission message", func(t *testing.T) { limitHit(t, s) })
	t.Run("the commands make dev prints work", func(t *testing.T) { printedCommands(t, s) })
	t.Run("a license from the vendor CLI, applied with kubectl, sets the plan", func(t *testing.T) { vendorLicense(t, s) })
	t.Run("kubectl get prints a sensible value in every column of every kind", func(t *testing.T) { printerColumns(t, s) })
}

// printedCommands runs the commands make dev suggests, as printed.
func printedCommands(t *testing.T, s *stack) {
	printed := s.out.String()
	block := printed[strings.Index(printed, "Try, in another terminal:"):]
	lines := strings.Split(strings.TrimSpace(block), "\n")[1:]
	if len(lines) != 4 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "export KUBECONFIG=") {
		t.Fatalf("make dev printed:\n%s", block)
	}
	for _, cmd := range lines[1:] {
		c := exec.Command("bash", "-c", strings.TrimSpace(lines[0])+"\n"+strings.TrimSpace(cmd))
		c.Dir = root
		if b, err := c.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", cmd, err, b)
		}
	}
}

// vendorLicense issues a key with `orgplane license issue` and the dev
// vendor key, applies it with kubectl, and waits for globex's new plan.
func vendorLicense(t *testing.T, s *stack) {
	key := issueLicense(t, s)
	apply := exec.Command(s.kubectl, "--kubeconfig", filepath.Join(s.dir, "admin.kubeconfig"), "apply", "-f", "-")
	apply.Stdin = strings.NewReader("apiVersion: orgplane.io/v1alpha1\nkind: License\n" +
		"metadata:\n  name: globex-enterprise\n" +
		"spec:\n  organization: globex\n  key: " + strings.TrimSpace(string(key)) + "\n")
	if b, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, b)
	}
	eventually(t, 60*time.Second, func() error {
		plan := s.must(t, "get", "organization", "globex", "-o",
			"jsonpath={.status.plan.type} {.status.plan.limits.accounts}")
		return expect(plan, "enterprise 20")
	})
}

// issueLicense issues globex an enterprise key (20 accounts, 30 users, 40
// deployments) with `orgplane license issue` and make dev's vendor key.
func issueLicense(t *testing.T, s *stack) []byte {
	bin := filepath.Join(t.TempDir(), "orgplane")
	build := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "orgplane"))
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	key, err := exec.Command(bin, "license", "issue", "--key", filepath.Join(s.dir, "vendor", "license-signing.key"),
		"--licensee", "Globex", "--organization", "globex", "--type", "enterprise",
		"--accounts", "20", "--users", "30", "--deployments", "40").Output()
	if err != nil {
		t.Fatalf("orgplane license issue: %v", err)
	}
	return key
}

// readmeWalkthrough runs every `$` line of the README and compares its
// output with what the README shows (ages and spacing aside).
func readmeWalkthrough(t *testing.T, s *stack) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := readmeSteps(string(readme))
	if len(steps) < 5 {
		t.Fatalf("README has %d console steps; expected the walkthrough", len(steps))
	}
	var exports []string
	for _, st := range steps {
		cmd := strings.NewReplacer("$PWD/.dev/", s.dir+"/", ".dev/", s.dir+"/").Replace(st.command)
		if strings.HasPrefix(cmd, "export ") {
			exports = append(exports, cmd)
			continue
		}
		script := strings.Join(append(exports, cmd), "\n")
		want := normalize(st.output)
		var got []string
		eventually(t, 30*time.Second, func() error {
			c := exec.Command("bash", "-c", script)
			c.Dir = root
			b, _ := c.CombinedOutput()
			got = normalize(strings.Split(string(b), "\n"))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				return fmt.Errorf("README step %q\n--- README shows:\n%s\n--- got:\n%s", st.command,
					strings.Join(want, "\n"), strings.Join(got, "\n"))
			}
			return nil
		})
	}
}

func samplesReady(t *testing.T, s *stack) {
	s.must(t, "apply", "-f", "config/samples/")
	for _, kind := range []string{"organizations", "users", "licenses"} {
		s.must(t, "wait", "--for=condition=Ready", kind, "--all", "--timeout=60s")
	}
	s.must(t, "wait", "--for=condition=Ready", "accounts", "--all", "-A", "--timeout=60s")
}

// gitOps applies directories server-side as a GitOps tool would, in two
// layers (organizations, then the accounts in the organization's
// namespace, retried until it exists), then edited copies with --prune
// (kubectl's ApplySet pruning, which works with server-side apply), and
// checks the cluster says exactly what the directories say.
func gitOps(t *testing.T, s *stack) {
	layer := func(version, dir, namespace string) {
		eventually(t, 60*time.Second, func() error {
			out, err := s.runEnv([]string{"KUBECTL_APPLYSET=true"}, "apply", "--server-side", "--prune",
				"-n", namespace, "--applyset=gitops-"+dir, "-f", filepath.Join("test", "e2e", "testdata", version, dir))
			if err != nil {
				return fmt.Errorf("apply %s/%s: %w\n%s", version, dir, err, out)
			}
			return nil
		})
	}
	apply := func(version string) {
		layer(version, "organizations", "default")
		layer(version, "accounts", "org-initech")
	}
	accounts := func() string {
		return s.must(t, "-n", "org-initech", "get", "accounts", "-o", "jsonpath={.items[*].metadata.name}")
	}
	apply("gitops-v1")
	s.must(t, "wait", "--for=condition=Ready", "organization/initech", "--timeout=60s")
	eventually(t, 60*time.Second, func() error { return expect(accounts(), "staplers tps") })
	canMiltonList := func() string {
		out, _ := s.run("auth", "can-i", "list", "accounts.orgplane.io", "-n", "org-initech",
			"--as", "milton@initech.example")
		return out
	}
	if out := canMiltonList(); strings.TrimSpace(out) != "yes" {
		t.Fatalf("milton cannot list initech's accounts: %s", out)
	}

	apply("gitops-v2")
	eventually(t, 60*time.Second, func() error { return expect(accounts(), "printers tps") })
	s.must(t, "-n", "org-initech", "wait", "--for=condition=Ready", "account/printers", "--timeout=60s")
	members := s.must(t, "get", "organization", "initech", "-o", "jsonpath={.spec.members[*].name}")
	if err := expect(members, "bill@initech.example peter@initech.example"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		return expect(canMiltonList(), "no")
	})
}

func expect(got, want string) error {
	if strings.TrimSpace(got) != want {
		return fmt.Errorf("got %q, want %q", strings.TrimSpace(got), want)
	}
	return nil
}

// restAsUsers calls the REST API through kube-apiserver with kubectl as
// the demo users, creates an organization, and sees it as the admin.
func restAsUsers(t *testing.T, s *stack) {
	out := s.must(t, s.as("bob@globex.example"), "get", "--raw", "/apis/api.orgplane.io/v1/organizations/accounts/all")
	checkREST(t, "GET", "/apis/api.orgplane.io/v1/organizations/accounts/all", out)
	for _, want := range []string{`"organizationAccounts"`, `"displayName":"Acme Corporation"`, `"displayName":"Globex"`} {
		if !strings.Contains(out, want) {
			t.Errorf("bob's accounts/all lacks %s", want)
		}
	}
	body := filepath.Join(t.TempDir(), "create.json")
	if err := os.WriteFile(body, []byte(`{"organizationName":"Soylent Corp","accountName":"Green"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out = s.must(t, s.as("alice@acme.example"), "create", "--raw", "/apis/api.orgplane.io/v1/organizations", "-f", body)
	checkREST(t, "POST", "/apis/api.orgplane.io/v1/organizations", out)
	if !strings.Contains(out, `"name":"soylent-corp"`) || !strings.Contains(out, `"name":"green"`) {
		t.Fatalf("create returned %s", out)
	}
	got := s.must(t, "get", "organization", "soylent-corp", "-o", "jsonpath={.spec.displayName} {.spec.members[0].name}")
	if err := expect(got, "Soylent Corp alice@acme.example"); err != nil {
		t.Fatal(err)
	}
	all := s.must(t, s.as("alice@acme.example"), "get", "--raw", "/apis/api.orgplane.io/v1/organizations/accounts/all")
	checkREST(t, "GET", "/apis/api.orgplane.io/v1/organizations/accounts/all", all)
	if regexp.MustCompile(`"activeAccountId":""`).MatchString(all) {
		t.Errorf("alice has no active account after creating one: %s", all)
	}
}

// limitHit fills globex's free plan (3 accounts) as bob, its admin, and
// expects kubectl to show the admission message for the next one.
func limitHit(t *testing.T, s *stack) {
	bob := s.as("bob@globex.example")
	manifest := func(name string) string {
		return "apiVersion: orgplane.io/v1alpha1\nkind: Account\nmetadata:\n  name: " + name + "\n  namespace: org-globex\n"
	}
	create := func(name string) (string, error) {
		cmd := exec.Command(s.kubectl, bob, "create", "-f", "-")
		cmd.Stdin = strings.NewReader(manifest(name))
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	for _, name := range []string{"north", "south"} {
		if out, err := create(name); err != nil {
			t.Fatalf("create %s: %v\n%s", name, err, out)
		}
	}
	out, err := create("east")
	if err == nil {
		t.Fatalf("a 4th account on the free plan was admitted: %s", out)
	}
	want := `admission webhook "accounts.orgplane.io" denied the request: accounts.orgplane.io is forbidden: ` +
		`organization globex has reached its limit of 3 accounts (3 in use, free plan, set by the free plan)`
	if !strings.Contains(out, want) {
		t.Fatalf("kubectl showed:\n%s\nwant it to contain:\n%s", out, want)
	}
}
