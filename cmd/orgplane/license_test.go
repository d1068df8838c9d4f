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
		args []string
		want string // part of the error; empty means issued
	}{
		"quota and network": {
			[]string{"--workspace-quota", "requests.cpu=2,limits.memory=8Gi,pods=20", "--network", "isolated"}, ""},
		"no guardrails": {nil, ""},
		"bad quantity":  {[]string{"--workspace-quota", "requests.cpu=two"}, "--workspace-quota"},
		"unknown mode":  {[]string{"--network", "open"}, `network mode "open" is unknown`},
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
			if tc.args == nil && c.Guardrails != nil {
				t.Errorf("guardrails without flags: %+v", c.Guardrails)
			}
			g := c.Guardrails
			if tc.args != nil && (g.Workspace["limits.memory"] != "8Gi" || g.Network != license.NetworkIsolated) {
				t.Errorf("guardrails not issued: %+v", c.Guardrails)
			}
		})
	}
}
