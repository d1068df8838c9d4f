package main

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/manager"
)

func TestFreeGuardrailsFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		none    bool
		pods    string
		network string
		total   string
		bad     bool
	}{
		"default: none": {args: nil, none: true},
		"quota":         {args: []string{"--free-workspace-quota", "pods=3"}, pods: "3"},
		"network":       {args: []string{"--free-network", "isolated"}, network: "isolated"},
		"both": {
			args: []string{"--free-network", "organization", "--free-workspace-quota", "pods=2"},
			pods: "2", network: "organization",
		},
		"organization total": {
			args: []string{"--free-workspace-quota", "pods=2", "--free-organization-quota", "pods=5"},
			pods: "2", total: "5",
		},
		"bad quantity":    {args: []string{"--free-workspace-quota", "pods=lots"}, bad: true},
		"bad total":       {args: []string{"--free-organization-quota", "pods=lots"}, bad: true},
		"unknown network": {args: []string{"--free-network", "open"}, bad: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var opts manager.Options
			cmd := &cobra.Command{}
			managerFlags(cmd, &opts)
			err := cmd.ParseFlags(tc.args)
			if (err != nil) != tc.bad {
				t.Fatalf("err %v, bad %v", err, tc.bad)
			}
			if tc.bad {
				return
			}
			g := opts.Plan.FreeGuardrails
			if tc.none {
				if g != nil {
					t.Errorf("guardrails %+v, want none", g)
				}
				return
			}
			checkFree(t, g, tc.pods, tc.network)
			if got := g.Organization.Pods().String(); tc.total != "" && got != tc.total {
				t.Errorf("organization pods %s, want %s", got, tc.total)
			}
		})
	}
}

func checkFree(t *testing.T, g *v1alpha1.Guardrails, pods, network string) {
	t.Helper()
	if g == nil {
		t.Fatal("no guardrails")
	}
	if got := g.Workspace.Pods().String(); pods != "" && got != pods {
		t.Errorf("pods %s, want %s", got, pods)
	}
	if g.Network != network {
		t.Errorf("network %q, want %q", g.Network, network)
	}
}
