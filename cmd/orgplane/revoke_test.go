package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/orgplane/orgplane/internal/license"
)

func TestLicenseRevoke(t *testing.T) {
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
	v, err := license.LoadVerifier([]string{filepath.Join(dir, "v.pub")})
	if err != nil {
		t.Fatal(err)
	}
	previous := filepath.Join(dir, "previous")
	first, err := run("revoke", "--key", key, "--sequence", "10", "lic-b", "lic-a")
	if err != nil {
		t.Fatal(err)
	}
	lic, err := run("issue", "--key", key, "--licensee", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	licFile := filepath.Join(dir, "license")
	for file, data := range map[string]string{previous: first, licFile: lic} {
		if err := os.WriteFile(file, []byte(data+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now().Unix()
	tests := map[string]struct {
		args []string
		want string   // part of the error; empty means signed
		seq  int64    // 0: the current Unix time
		ids  []string // the signed list's ids
	}{
		"two ids":     {[]string{"--sequence", "10", "lic-b", "lic-a"}, "", 10, []string{"lic-a", "lic-b"}},
		"default seq": {[]string{"lic-a"}, "", 0, []string{"lic-a"}},
		"empty list":  {[]string{"--sequence", "3"}, "", 3, []string{}},
		"from merges": {[]string{"--from", previous, "--sequence", "11", "lic-c", "lic-a"}, "", 11,
			[]string{"lic-a", "lic-b", "lic-c"}},
		"from, now": {[]string{"--from", previous, "lic-c"}, "", 0, []string{"lic-a", "lic-b", "lic-c"}},
		"unrevoke":  {[]string{"--from", previous, "--sequence", "11", "--unrevoke", "lic-a"}, "", 11, []string{"lic-b"}},
		"equal sequence": {[]string{"--from", previous, "--sequence", "10", "lic-c"},
			"not greater than the sequence 10", 0, nil},
		"lower sequence": {[]string{"--from", previous, "--sequence", "9"}, "not greater than the sequence 10", 0, nil},
		"zero sequence":  {[]string{"--sequence", "0", "lic-a"}, "greater than zero", 0, nil},
		"unrevoke absent": {[]string{"--from", previous, "--sequence", "11", "--unrevoke", "lic-z"},
			`--unrevoke "lic-z"`, 0, nil},
		"unrevoke and revoke": {[]string{"--from", previous, "--sequence", "11", "--unrevoke", "lic-a", "lic-a"},
			"both revoked and unrevoked", 0, nil},
		"unrevoke without from": {[]string{"--unrevoke", "lic-a"}, "--unrevoke needs --from", 0, nil},
		"from a license key":    {[]string{"--from", licFile, "--sequence", "11"}, "not a revocation list", 0, nil},
		"bad output":            {[]string{"-o", "json", "lic-a"}, `-o "json"`, 0, nil},
	}

	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := run(append([]string{"revoke", "--key", key}, tc.args...)...)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.VerifyRevocations(out)
			if err != nil {
				t.Fatal(err)
			}
			seqOK := r.Sequence == tc.seq || tc.seq == 0 && r.Sequence >= start && r.Sequence <= time.Now().Unix()
			if !seqOK || !slices.Equal(r.Revoked, tc.ids) {
				t.Errorf("got sequence %d, ids %v; want %d, %v", r.Sequence, r.Revoked, tc.seq, tc.ids)
			}
		})
	}
}

func TestLicenseRevokeYAML(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := licenseCommand()
		out := &bytes.Buffer{}
		cmd.SetOut(out)
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	run("keygen", "--dir", dir, "--name", "v")
	key := filepath.Join(dir, "v.key")
	out := run("revoke", "--key", key, "--sequence", "5", "--name", "acme-revocations", "-o", "yaml", "lic-a")

	var m map[string]any
	if err := yaml.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	meta, _ := m["metadata"].(map[string]any)
	spec, _ := m["spec"].(map[string]any)
	if m["apiVersion"] != "orgplane.io/v1alpha1" || m["kind"] != "RevocationList" || meta["name"] != "acme-revocations" {
		t.Errorf("manifest header wrong:\n%s", out)
	}
	token, _ := spec["list"].(string)
	v, _ := license.LoadVerifier([]string{filepath.Join(dir, "v.pub")})
	if r, err := v.VerifyRevocations(token); err != nil || !r.Revokes("lic-a") || r.Sequence != 5 {
		t.Fatalf("spec.list: %+v, %v", r, err)
	}

	// The manifest serves as --from, and inspect prints a list's claims.
	manifest := filepath.Join(dir, "list.yaml")
	if err := os.WriteFile(manifest, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	next := run("revoke", "--key", key, "--sequence", "6", "--from", manifest, "lic-b")
	r, err := v.VerifyRevocations(strings.TrimSpace(next))
	if err != nil || !slices.Equal(r.Revoked, []string{"lic-a", "lic-b"}) {
		t.Fatalf("from manifest: %+v, %v", r, err)
	}
	inspected := run("inspect", "--public-key", filepath.Join(dir, "v.pub"), strings.TrimSpace(next))
	if !strings.Contains(inspected, `"kind": "`+license.RevocationKind+`"`) || !strings.Contains(inspected, `"lic-b"`) {
		t.Errorf("inspect did not print the list:\n%s", inspected)
	}
}
