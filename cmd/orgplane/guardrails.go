package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
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

// daysFlag sets a duration given in whole days.
type daysFlag struct{ target *time.Duration }

func (f daysFlag) String() string {
	if f.target == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*f.target/plan.Day), 10)
}

func (f daysFlag) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a whole number of days (0 or more)", s)
	}
	*f.target = time.Duration(n) * plan.Day
	return nil
}

func (daysFlag) Type() string { return "days" }
