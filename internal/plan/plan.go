// Package plan decides an organization's effective plan: from the license
// keys bound to it, the installation's settings and the clock, which
// license is in force, its phase in the lifecycle (Active → Grace →
// Restricted → Expired), the limits, guardrails and entitlements it grants
// (the free plan's guardrails and entitlements always included, and the
// free plan itself when no license is in force), and when that answer
// next changes.
// It is pure: the organization reconciler feeds it and is the only writer
// of its answer (status.plan); everything else reads that.
package plan

import (
	"cmp"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// Day is the unit of the graceDays and restrictedDays claims.
const Day = 24 * time.Hour

// Settings are the installation's: the free plan, and how long the grace
// and restricted phases last for keys that do not say.
type Settings struct {
	FreeLimits       v1alpha1.Limits
	FreeGuardrails   *v1alpha1.Guardrails
	FreeEntitlements []string
	Grace            time.Duration
	Restricted       time.Duration
}

// Key is one License bound to the organization, as the plan sees it.
type Key struct {
	// Name of the License.
	Name string
	// Claims of its key when the signature verifies (whatever the dates);
	// nil when it does not.
	Claims *license.Claims
	// Revoked by the revocation list in force.
	Revoked bool
	// HeldElsewhere: its license id is active in another organization
	// (internal/custody).
	HeldElsewhere bool
}

// Dates are the instants at which a key moves to its next phase.
type Dates struct {
	NotBefore, Expires, GraceEnds, RestrictedEnds time.Time
}

// DatesOf are c's dates under s: grace and restricted periods from the key's
// claims, or s's defaults where the key has none.
func (s Settings) DatesOf(c *license.Claims) Dates {
	d := Dates{Expires: c.ExpiresAt.Time}
	if c.NotBefore != nil {
		d.NotBefore = c.NotBefore.Time
	}
	d.GraceEnds = d.Expires.Add(days(c.GraceDays, s.Grace))
	d.RestrictedEnds = d.GraceEnds.Add(days(c.RestrictedDays, s.Restricted))
	return d
}

func days(claim *float64, fallback time.Duration) time.Duration {
	if claim == nil {
		return fallback
	}
	return time.Duration(*claim * float64(Day))
}

// PhaseAt is the phase of a key with dates d at now, by the clock alone.
func (d Dates) PhaseAt(now time.Time) v1alpha1.LicensePhase {
	switch {
	case now.Before(d.NotBefore):
		return v1alpha1.LicenseNotYetValid
	case now.Before(d.Expires):
		return v1alpha1.LicenseActive
	case now.Before(d.GraceEnds):
		return v1alpha1.LicenseGrace
	case now.Before(d.RestrictedEnds):
		return v1alpha1.LicenseRestricted
	}
	return v1alpha1.LicenseExpired
}

// Next is the first of d's instants after now, or zero.
func (d Dates) Next(now time.Time) time.Time {
	for _, t := range []time.Time{d.NotBefore, d.Expires, d.GraceEnds, d.RestrictedEnds} {
		if t.After(now) {
			return t
		}
	}
	return time.Time{}
}

// Renews says whether key a replaces key b: the same license id, and a
// higher sequence, or the same sequence and a later issuedAt.
func Renews(a, b *license.Claims) bool {
	if a.ID != b.ID {
		return false
	}
	if a.Sequence != b.Sequence {
		return a.Sequence > b.Sequence
	}
	return issued(a).After(issued(b))
}

func issued(c *license.Claims) time.Time {
	if c.IssuedAt == nil {
		return time.Time{}
	}
	return c.IssuedAt.Time
}

// State is a key's phase at a moment and, when Superseded, the License
// that renews it.
type State struct {
	Phase        v1alpha1.LicensePhase
	Dates        Dates
	SupersededBy string
}

// States are the phases of keys at now: Invalid, Revoked, Superseded (by a
// renewal that is itself in force, so that a renewal that starts later
// leaves no gap), or their phase by the clock.
func (s Settings) States(keys []Key, now time.Time) map[string]State {
	out := make(map[string]State, len(keys))
	for _, k := range keys {
		out[k.Name] = s.clockState(k, now)
	}
	for _, k := range keys {
		st := out[k.Name]
		if !st.Phase.InForce() {
			continue
		}
		for _, r := range keys {
			if r.Name != k.Name && out[r.Name].Phase.InForce() && Renews(r.Claims, k.Claims) {
				st.Phase, st.SupersededBy = v1alpha1.LicenseSuperseded, r.Name
			}
		}
		out[k.Name] = st
	}
	return out
}

func (s Settings) clockState(k Key, now time.Time) State {
	if k.Claims == nil {
		return State{Phase: v1alpha1.LicenseInvalid}
	}
	d := s.DatesOf(k.Claims)
	if k.Revoked {
		return State{Phase: v1alpha1.LicenseRevoked, Dates: d}
	}
	return State{Phase: d.PhaseAt(now), Dates: d}
}

// Decide is the organization's effective plan at now: the key in force
// that ranks first (see ranks), or the free plan.
func (s Settings) Decide(keys []Key, now time.Time) v1alpha1.Plan {
	states := s.States(keys, now)
	var best *Key
	for i := range keys {
		k := &keys[i]
		if k.HeldElsewhere || !states[k.Name].Phase.InForce() {
			continue
		}
		if best == nil || ranks(k, states[k.Name], best, states[best.Name]) {
			best = k
		}
	}
	p := s.Free()
	if best != nil {
		p = s.licensed(best, states[best.Name])
	}
	p.NextChangeAt = nextChange(keys, states, now)
	return p
}

// NextChange is the first instant after now at which one of keys changes
// phase by the clock (the instant Decide's answer may change).
func (s Settings) NextChange(keys []Key, now time.Time) *metav1.Time {
	return nextChange(keys, s.States(keys, now), now)
}

// Free is the free plan.
func (s Settings) Free() v1alpha1.Plan {
	return v1alpha1.Plan{Type: v1alpha1.PlanFree, Phase: v1alpha1.PlanPhaseFree, Limits: s.FreeLimits,
		Guardrails: (*v1alpha1.Guardrails)(nil).Inherit(s.FreeGuardrails), Entitlements: union(nil, s.FreeEntitlements)}
}

func (s Settings) licensed(k *Key, st State) v1alpha1.Plan {
	c := k.Claims
	return v1alpha1.Plan{
		Type: c.Type, Phase: v1alpha1.PlanPhase(st.Phase), License: k.Name, LicenseID: c.ID,
		ExpiresAt: at(st.Dates.Expires), GraceEndsAt: at(st.Dates.GraceEnds), RestrictedEndsAt: at(st.Dates.RestrictedEnds),
		Limits:       s.LimitsOf(c),
		Guardrails:   s.GuardrailsOf(c),
		Entitlements: union(c.Entitlements, s.FreeEntitlements),
	}
}

// LimitsOf are what a key grants, as the key says: a license may sell
// less than the free plan (keys issued before the lifecycle meant their
// limits, and still do).
func (s Settings) LimitsOf(c *license.Claims) v1alpha1.Limits {
	return v1alpha1.Limits{Accounts: c.Limits.Accounts, Users: c.Limits.Users, Deployments: c.Limits.Deployments,
		InvitationsPerHour: cmp.Or(c.Limits.InvitationsPerHour, s.FreeLimits.InvitationsPerHour)}
}

// GuardrailsOf are a key's guardrails, with the free plan's where the key
// leaves one out: a license never removes a guardrail of the free plan.
func (s Settings) GuardrailsOf(c *license.Claims) *v1alpha1.Guardrails {
	return KeyGuardrails(c.Guardrails).Inherit(s.FreeGuardrails)
}

// KeyGuardrails are the guardrails a key names, as the API shows them
// (License status); nil when it names none. Verify refuses keys whose
// guardrails do not parse, so none is ever applied by half.
func KeyGuardrails(g *license.Guardrails) *v1alpha1.Guardrails {
	if g == nil {
		return nil
	}
	quota, err := g.Quota()
	total, terr := g.Total()
	if err != nil || terr != nil {
		return nil
	}
	return &v1alpha1.Guardrails{Workspace: quota, Organization: total, Network: string(g.Network)}
}

// phaseRank orders the phases in force: a license before its expiry
// outranks one in its grace period, which outranks a restricted one.
var phaseRank = map[v1alpha1.LicensePhase]int{v1alpha1.LicenseActive: 0, v1alpha1.LicenseGrace: 1, v1alpha1.LicenseRestricted: 2}

// ranks says whether key a, in state sa, ranks before b: the earlier
// phase, then the higher limits (accounts, users, deployments), then the
// later expiry, then the name.
func ranks(a *Key, sa State, b *Key, sb State) bool {
	if phaseRank[sa.Phase] != phaseRank[sb.Phase] {
		return phaseRank[sa.Phase] < phaseRank[sb.Phase]
	}
	la, lb := a.Claims.Limits, b.Claims.Limits
	for _, pair := range [][2]int64{{la.Accounts, lb.Accounts}, {la.Users, lb.Users}, {la.Deployments, lb.Deployments}} {
		if pair[0] != pair[1] {
			return pair[0] > pair[1]
		}
	}
	if !sa.Dates.Expires.Equal(sb.Dates.Expires) {
		return sa.Dates.Expires.After(sb.Dates.Expires)
	}
	return a.Name < b.Name
}

// nextChange is the first instant after now at which a key that may count
// changes phase.
func nextChange(keys []Key, states map[string]State, now time.Time) *metav1.Time {
	var first time.Time
	for _, k := range keys {
		st := states[k.Name]
		if k.HeldElsewhere || st.Phase == v1alpha1.LicenseInvalid || st.Phase == v1alpha1.LicenseRevoked {
			continue
		}
		if t := st.Dates.Next(now); !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return at(first)
}

func at(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	m := metav1.NewTime(t)
	return &m
}

// union is a and b, sorted, without repeats.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// Of is the plan the organization reconciler recorded for org, or the free
// plan before it has decided one (a new organization). Every reader of an
// organization's plan asks here.
func (s Settings) Of(org *v1alpha1.Organization) *v1alpha1.Plan {
	if org.Status.Plan != nil {
		return org.Status.Plan
	}
	free := s.Free()
	return &free
}
