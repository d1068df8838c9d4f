package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgplane/orgplane/internal/license"
)

func TestLicenseIssueGuardrails(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := licenseCommand()
		out := &bytes.Buffer{}
		cmd.SetOut(out)
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(args)
		err := cmd.Execute()
		return strings.TrimSpace(out.String()), err
	}
	if _, err := run("keygen", "--dir", dir, "--name", "v"); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "v.key")
	tests := map[string]struct {
		args  []string
		want  string // part of the error; empty means issued
		check func(*license.Guardrails) bool
	}{
		"quota and network": {
			[]string{"--workspace-quota", "requests.cpu=2,limits.memory=8Gi,pods=20", "--network", "isolated"}, "",
			func(g *license.Guardrails) bool {
				return g.Workspace["limits.memory"] == "8Gi" && g.Network == license.NetworkIsolated
			}},
		"no guardrails": {nil, "", func(g *license.Guardrails) bool { return g == nil }},
		"organization total": {[]string{"--organization-quota", "requests.cpu=8,pods=30"}, "",
			func(g *license.Guardrails) bool { return g.Organization["pods"] == "30" && g.Workspace == nil }},
		"bad total":    {[]string{"--organization-quota", "pods=lots"}, "--organization-quota", nil},
		"bad quantity": {[]string{"--workspace-quota", "requests.cpu=two"}, "--workspace-quota", nil},
		"unknown mode": {[]string{"--network", "open"}, `network mode "open" is unknown`, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := run(append([]string{"issue", "--key", key, "--licensee", "Acme"}, tc.args...)...)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := license.LoadVerifier([]string{filepath.Join(dir, "v.pub")})
			if err != nil {
				t.Fatal(err)
			}
			c, phase, err := v.Verify(out, time.Now())
			if phase != license.Valid {
				t.Fatalf("%s %v", phase, err)
			}
			if !tc.check(c.Guardrails) {
				t.Errorf("guardrails not as the flags say: %+v", c.Guardrails)
			}
		})
	}
}
