package main

import (
	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// freeGuardrailsFlag sets one part (the quota or the network mode) of the
// free plan's guardrails, checked like a license key's.
type freeGuardrailsFlag struct {
	target  **v1alpha1.Guardrails
	network bool
	value   string
}

func (f *freeGuardrailsFlag) String() string { return f.value }

func (f *freeGuardrailsFlag) Type() string { return "string" }

func (f *freeGuardrailsFlag) Set(s string) error {
	g := &license.Guardrails{Network: license.NetworkMode(s)}
	if !f.network {
		workspace, err := license.ParseQuota(s)
		if err != nil {
			return err
		}
		g = &license.Guardrails{Workspace: workspace}
	}
	if err := g.Validate(); err != nil {
		return err
	}
	quota, _ := g.Quota()
	if *f.target == nil {
		*f.target = &v1alpha1.Guardrails{}
	}
	if f.network {
		(*f.target).Network = string(g.Network)
	} else {
		(*f.target).Workspace = quota
	}
	f.value = s
	return nil
}
