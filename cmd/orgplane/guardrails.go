package main

import (
	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// guardrailPart is the part of the free plan's guardrails a flag sets.
type guardrailPart int

const (
	workspaceQuota guardrailPart = iota
	organizationQuota
	networkMode
)

// freeGuardrailsFlag sets one part (a quota or the network mode) of the
// free plan's guardrails, checked like a license key's.
type freeGuardrailsFlag struct {
	target **v1alpha1.Guardrails
	part   guardrailPart
	value  string
}

func (f *freeGuardrailsFlag) String() string { return f.value }

func (f *freeGuardrailsFlag) Type() string { return "string" }

func (f *freeGuardrailsFlag) Set(s string) error {
	g, err := f.parse(s)
	if err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	if *f.target == nil {
		*f.target = &v1alpha1.Guardrails{}
	}
	switch f.part {
	case networkMode:
		(*f.target).Network = string(g.Network)
	case organizationQuota:
		(*f.target).Organization, _ = g.Total()
	default:
		(*f.target).Workspace, _ = g.Quota()
	}
	f.value = s
	return nil
}

func (f *freeGuardrailsFlag) parse(s string) (*license.Guardrails, error) {
	if f.part == networkMode {
		return &license.Guardrails{Network: license.NetworkMode(s)}, nil
	}
	quantities, err := license.ParseQuota(s)
	if f.part == organizationQuota {
		return &license.Guardrails{Organization: quantities}, err
	}
	return &license.Guardrails{Workspace: quantities}, err
}
