package v1alpha1

import (
	"strings"
	"testing"
)

// Every (organization, account) pair of valid names gets its own workspace,
// never an organization's namespace, and never a namespace other software
// installs into.
func TestNoTwoNamePairsShareANamespace(t *testing.T) {
	names := []string{"p", "q", "r", "p-q", "q-r", "org", "x", "cert", "manager", "istio", "system", "kube", "ws", "a-b-c"}
	seen := map[string]string{}
	for _, org := range names {
		seen[OrganizationNamespace(org)] = "organization " + org
	}
	for _, org := range names {
		for _, acct := range names {
			ws, pair := WorkspaceNamespace(org, acct), org+" + "+acct
			if prev, ok := seen[ws]; ok {
				t.Errorf("%s and %s both want namespace %s", prev, pair, ws)
			}
			seen[ws] = pair
		}
	}
	for _, installed := range []string{"cert-manager", "istio-system", "kube-system", "kube-public", "default"} {
		if owner, ok := seen[installed]; ok {
			t.Errorf("%s can take namespace %s", owner, installed)
		}
	}
}

func TestCheckWorkspaceName(t *testing.T) {
	tests := map[string]struct {
		org, account, wantErr string
	}{
		"short names":                   {"acme", "web", ""},
		"exactly 63 characters":         {strings.Repeat("o", 28), strings.Repeat("a", 30), ""},
		"64 characters":                 {strings.Repeat("o", 28), strings.Repeat("a", 31), "shorten the account name to at most 30 characters"},
		"longest names the CRDs permit": {strings.Repeat("o", 30), strings.Repeat("a", 32), "would be 67 characters"},
		"separator in the account":      {"acme", "web--prod", `account name "web--prod" contains "--"`},
		"separator in the organization": {"ac--me", "web", `organization name "ac--me" contains "--"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckWorkspaceName(tc.org, tc.account)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("CheckWorkspaceName(%q, %q) = %v, want nil", tc.org, tc.account, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("CheckWorkspaceName(%q, %q) = %v, want an error containing %q", tc.org, tc.account, err, tc.wantErr)
			}
		})
	}
}

func TestWorkspaceNameKeepsTheOneStatusRecords(t *testing.T) {
	a := &Account{}
	a.Name = "web"
	if got := a.WorkspaceName("acme"); got != "ws-acme--web" {
		t.Errorf("new account: %s, want ws-acme--web", got)
	}
	a.Status.Namespace = "acme-web"
	if got := a.WorkspaceName("acme"); got != "acme-web" {
		t.Errorf("account made before ws-<org>--<account>: %s, want acme-web", got)
	}
}
