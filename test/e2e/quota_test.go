package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// workspaceQuota runs Pods as alice in one of acme's workspaces, on the demo
// license's guardrails (2 Pods per workspace, 2 CPUs for the organization):
// make dev runs the quota and ServiceAccount controllers, so the workspace
// has its `default` ServiceAccount, every quota its usage, and each share of
// the organization's total is more than nothing; two Pods are admitted and
// the third is refused by the workspace's quota.
func workspaceQuota(t *testing.T, s *stack) {
	const ws = "ws-acme--data"
	eventually(t, 60*time.Second, func() error {
		_, err := s.run("-n", ws, "get", "serviceaccount", "default")
		return err
	})
	eventually(t, 60*time.Second, func() error {
		out, err := s.run("-n", ws, "get", "resourcequota", "orgplane-quota",
			"-o", "jsonpath={.status.hard.pods} {.status.used.pods}")
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return expect(out, "2 0")
	})
	eventually(t, 60*time.Second, func() error { return sharesOf(s, "acme", resource.MustParse("2")) })

	alice := s.as("alice@acme.example")
	run := func(name string) (string, error) {
		b, err := exec.Command(s.kubectl, alice, "-n", ws, "run", name, "--image=nginx", "--restart=Never").CombinedOutput()
		return string(b), err
	}
	for _, name := range []string{"data-1", "data-2"} {
		if out, err := run(name); err != nil {
			t.Fatalf("the Pod %s under the quota was refused: %v\n%s", name, err, out)
		}
	}
	out, err := run("data-3")
	if err == nil {
		t.Fatalf("a 3rd Pod in a workspace with a quota of 2 was admitted: %s", out)
	}
	want := `Error from server (Forbidden): pods "data-3" is forbidden: exceeded quota: orgplane-quota, ` +
		`requested: pods=1, used: pods=2, limited: pods=2`
	if !strings.Contains(out, want) {
		t.Fatalf("kubectl showed:\n%s\nwant it to contain:\n%s", out, want)
	}
}

// organizationTotal asks for a whole CPU in acme's mobile workspace (the
// README's walkthrough adds it, and runs nothing there): within that
// workspace's own quota (1 CPU, 2 Pods), but more than its share of acme's
// total of 2 CPUs (the web and data workspaces' Pods use some; the rest is
// split among the three), so the organization's total refuses it.
func organizationTotal(t *testing.T, s *stack) {
	const ws = "ws-acme--mobile"
	eventually(t, 60*time.Second, func() error { return sharesOf(s, "acme", resource.MustParse("2")) })
	overrides := `{"spec":{"containers":[{"name":"big","image":"nginx",` +
		`"resources":{"requests":{"cpu":"1"},"limits":{"cpu":"1"}}}]}}`
	b, err := exec.Command(s.kubectl, s.as("alice@acme.example"), "-n", ws, "run", "big", "--image=nginx",
		"--restart=Never", "--overrides="+overrides).CombinedOutput()
	if err == nil {
		t.Fatalf("a Pod over the workspace's share of the organization's total was admitted: %s", b)
	}
	if want := "exceeded quota: orgplane-organization-share"; !strings.Contains(string(b), want) {
		t.Fatalf("kubectl showed:\n%s\nwant it to contain:\n%s", b, want)
	}
}

// sharesOf checks that every workspace of org has a share of the total
// requests.cpu with more than nothing in it, reported by the quota
// controller, and that the shares add up to no more than the total.
func sharesOf(s *stack, org string, total resource.Quantity) error {
	out, err := s.run("get", "resourcequota", "-A", "-l", v1alpha1.LabelOrganization+"="+org,
		"--field-selector", "metadata.name=orgplane-organization-share",
		"-o", `jsonpath={range .items[*]}{.metadata.namespace} {.spec.hard.requests\.cpu} `+
			`{.status.hard.requests\.cpu} {.status.used.requests\.cpu}{"\n"}{end}`)
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return fmt.Errorf("want a share quota in each of %s's workspaces, got:\n%s", org, out)
	}
	sum := resource.Quantity{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 {
			return fmt.Errorf("share quota without usage yet: %q", l)
		}
		spec, enforced := resource.MustParse(f[1]), resource.MustParse(f[2])
		if spec.Sign() <= 0 || spec.Cmp(enforced) != 0 {
			return fmt.Errorf("share of %s is %s (enforced %s): want more than nothing, enforced", f[0], f[1], f[2])
		}
		sum.Add(spec)
	}
	if sum.Cmp(total) > 0 {
		return fmt.Errorf("the shares add up to %s, more than the total %s:\n%s", sum.String(), total.String(), out)
	}
	return nil
}

// shortNames: accounts answer to acct and accts, and orgplane takes no
// name another product uses for its own resources (OpenShift's projects).
func shortNames(t *testing.T, s *stack) {
	all := s.must(t, "get", "accounts", "-A", "-o", "name")
	for _, short := range []string{"acct", "accts"} {
		if got := s.must(t, "get", short, "-A", "-o", "name"); got != all {
			t.Errorf("kubectl get %s -A:\n%s\nwant what kubectl get accounts -A shows:\n%s", short, got, all)
		}
	}
	for _, taken := range []string{"project", "projects"} {
		out, err := s.run("get", taken, "-A")
		if err == nil || !strings.Contains(out, `the server doesn't have a resource type "`+taken+`"`) {
			t.Errorf("kubectl get %s: %v\n%s\nwant no such resource type", taken, err, out)
		}
	}
}

// userNames: a User not named after its username (v1alpha1.UserObjectName)
// is refused with the name it must have; the samples are named so, and the
// REST API shows bob the preferences the sample gives him.
func userNames(t *testing.T, s *stack) {
	create := func(name string) (string, error) {
		cmd := exec.Command(s.kubectl, "--kubeconfig", s.dir+"/admin.kubeconfig", "create", "-f", "-")
		cmd.Stdin = strings.NewReader("apiVersion: orgplane.io/v1alpha1\nkind: User\nmetadata:\n  name: " + name +
			"\nspec:\n  username: erin@acme.example\n")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	want := v1alpha1.UserObjectName("erin@acme.example")
	out, err := create("erin-at-acme.example")
	if err == nil {
		t.Fatalf("a User not named after its username was admitted: %s", out)
	}
	if msg := `must be named "` + want + `"`; !strings.Contains(out, msg) {
		t.Errorf("kubectl showed:\n%s\nwant it to contain %s", out, msg)
	}
	if out, err := create(want); err != nil {
		t.Fatalf("the rightly named User was refused: %v\n%s", err, out)
	}
	s.must(t, "delete", "user", want)

	for _, username := range []string{"alice@acme.example", "bob@globex.example"} {
		got := s.must(t, "get", "users",
			"-o", `jsonpath={range .items[?(@.spec.username=="`+username+`")]}{.metadata.name}{" "}{end}`)
		if err := expect(got, v1alpha1.UserObjectName(username)); err != nil {
			t.Errorf("the Users of %s: %v", username, err)
		}
	}
	const path = "/apis/api.orgplane.io/v1/organizations/users"
	var users string
	eventually(t, 30*time.Second, func() error {
		users = s.must(t, s.as("bob@globex.example"), "get", "--raw", path)
		if !strings.Contains(users, `"nextLoginAccount":"acme/data"`) {
			return fmt.Errorf("bob's %s lacks his nextLoginAccount acme/data: %s", path, users)
		}
		return nil
	})
	checkREST(t, "GET", path, users)
}
