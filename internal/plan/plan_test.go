package plan_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
)

var (
	t0       = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	settings = plan.Settings{
		FreeLimits:       v1alpha1.Limits{Accounts: 3, Users: 5, Deployments: 10},
		FreeGuardrails:   &v1alpha1.Guardrails{Workspace: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5")}, Network: "isolated"},
		FreeEntitlements: []string{"sso"},
		Grace:            7 * plan.Day,
		Restricted:       14 * plan.Day,
	}
)

func days(n float64) *float64 { return &n }

// key is a license key valid from t0 to t0+30 days unless changed.
func key(name, id string, accounts int64, change ...func(*license.Claims)) plan.Key {
	c := &license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID: id, IssuedAt: jwt.NewNumericDate(t0), NotBefore: jwt.NewNumericDate(t0),
			ExpiresAt: jwt.NewNumericDate(t0.Add(30 * plan.Day)),
		},
		Type: "team", Licensee: "acme", Limits: license.Limits{Accounts: accounts, Users: 50, Deployments: 100},
	}
	for _, f := range change {
		f(c)
	}
	return plan.Key{Name: name, Claims: c}
}

func expires(t time.Time) func(*license.Claims) {
	return func(c *license.Claims) { c.ExpiresAt = jwt.NewNumericDate(t) }
}

func renewal(seq int64, exp time.Time) func(*license.Claims) {
	return func(c *license.Claims) { c.Sequence, c.ExpiresAt = seq, jwt.NewNumericDate(exp) }
}

func TestPhaseAtBoundaries(t *testing.T) {
	d := settings.DatesOf(key("a", "1", 10).Claims)
	exp := t0.Add(30 * plan.Day)
	for _, tc := range []struct {
		at   time.Time
		want v1alpha1.LicensePhase
	}{
		{t0.Add(-time.Second), v1alpha1.LicenseNotYetValid},
		{t0, v1alpha1.LicenseActive},
		{exp.Add(-time.Second), v1alpha1.LicenseActive},
		{exp, v1alpha1.LicenseGrace},
		{exp.Add(7*plan.Day - time.Second), v1alpha1.LicenseGrace},
		{exp.Add(7 * plan.Day), v1alpha1.LicenseRestricted},
		{exp.Add(21*plan.Day - time.Second), v1alpha1.LicenseRestricted},
		{exp.Add(21 * plan.Day), v1alpha1.LicenseExpired},
	} {
		if got := d.PhaseAt(tc.at); got != tc.want {
			t.Errorf("at %s: phase %s, want %s", tc.at, got, tc.want)
		}
	}
}

func TestDatesFromClaimsOrDefaults(t *testing.T) {
	exp := t0.Add(30 * plan.Day)
	for name, tc := range map[string]struct {
		grace, restricted  *float64
		wantGrace, wantEnd time.Time
	}{
		"installation defaults":       {nil, nil, exp.Add(7 * plan.Day), exp.Add(21 * plan.Day)},
		"the key's own periods":       {days(30), days(1), exp.Add(30 * plan.Day), exp.Add(31 * plan.Day)},
		"no grace: restricted at exp": {days(0), nil, exp, exp.Add(14 * plan.Day)},
		"neither: expired at exp":     {days(0), days(0), exp, exp},
	} {
		d := settings.DatesOf(key("a", "1", 10, func(c *license.Claims) { c.GraceDays, c.RestrictedDays = tc.grace, tc.restricted }).Claims)
		if !d.GraceEnds.Equal(tc.wantGrace) || !d.RestrictedEnds.Equal(tc.wantEnd) {
			t.Errorf("%s: grace ends %s, restricted ends %s; want %s, %s", name, d.GraceEnds, d.RestrictedEnds, tc.wantGrace, tc.wantEnd)
		}
	}
	if got := settings.DatesOf(key("a", "1", 10, func(c *license.Claims) { c.GraceDays, c.RestrictedDays = days(0), days(0) }).Claims).PhaseAt(exp); got != v1alpha1.LicenseExpired {
		t.Errorf("a key with no grace and no restriction is %s at exp, want Expired (as keys were before the lifecycle)", got)
	}
}

func TestWhichLicenseWins(t *testing.T) {
	late := t0.Add(35 * plan.Day) // a, b and c in grace; d active
	for name, tc := range map[string]struct {
		keys []plan.Key
		at   time.Time
		want string
	}{
		"no key: free":                    {nil, t0, ""},
		"the higher limits":               {[]plan.Key{key("small", "1", 5), key("big", "2", 20)}, t0, "big"},
		"equal limits: the later expiry":  {[]plan.Key{key("short", "1", 5), key("long", "2", 5, expires(t0.Add(60*plan.Day)))}, t0, "long"},
		"equal in all: the name":          {[]plan.Key{key("b", "1", 5), key("a", "2", 5)}, t0, "a"},
		"active before grace":             {[]plan.Key{key("graced", "1", 50), key("small", "2", 5, expires(t0.Add(60*plan.Day)))}, late, "small"},
		"grace keeps the plan":            {[]plan.Key{key("graced", "1", 50)}, late, "graced"},
		"not yet valid: free":             {[]plan.Key{key("later", "1", 50, func(c *license.Claims) { c.NotBefore = jwt.NewNumericDate(t0.Add(plan.Day)) })}, t0, ""},
		"expired after restriction: free": {[]plan.Key{key("old", "1", 50)}, t0.Add(60 * plan.Day), ""},
		"expired: the next license":       {[]plan.Key{key("old", "1", 50), key("next", "2", 5, expires(t0.Add(90*plan.Day)))}, t0.Add(60 * plan.Day), "next"},
		"invalid signature: skipped":      {[]plan.Key{{Name: "forged"}, key("good", "2", 5)}, t0, "good"},
		"revoked: skipped":                {[]plan.Key{revoked(key("stolen", "1", 50)), key("good", "2", 5)}, t0, "good"},
		"held by another organization":    {[]plan.Key{held(key("shared", "1", 50)), key("own", "2", 5)}, t0, "own"},
		"renewal replaces the same id":    {[]plan.Key{key("old", "1", 50), key("renewed", "1", 20, renewal(1, t0.Add(400*plan.Day)))}, t0, "renewed"},
		"renewal not started: old stays":  {[]plan.Key{key("old", "1", 50), key("renewed", "1", 50, renewal(1, t0.Add(400*plan.Day)), func(c *license.Claims) { c.NotBefore = jwt.NewNumericDate(t0.Add(30 * plan.Day)) })}, t0, "old"},
		"renewal revoked: old stays":      {[]plan.Key{key("old", "1", 50), revoked(key("renewed", "1", 50, renewal(1, t0.Add(400*plan.Day))))}, t0, "old"},
		"equal sequence: the later iat":   {[]plan.Key{key("first", "1", 50), key("second", "1", 10, func(c *license.Claims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(time.Hour)) })}, t0.Add(2 * time.Hour), "second"},
	} {
		p := settings.Decide(tc.keys, tc.at)
		if p.License != tc.want {
			t.Errorf("%s: license %q, want %q", name, p.License, tc.want)
		}
		if tc.want == "" && (p.Type != v1alpha1.PlanFree || p.Phase != v1alpha1.PlanPhaseFree) {
			t.Errorf("%s: plan %s/%s, want free/Free", name, p.Type, p.Phase)
		}
	}
}

func revoked(k plan.Key) plan.Key { k.Revoked = true; return k }
func held(k plan.Key) plan.Key    { k.HeldElsewhere = true; return k }

func TestStatesOfRenewalAndRevocation(t *testing.T) {
	keys := []plan.Key{key("old", "1", 50), key("renewed", "1", 50, renewal(2, t0.Add(400*plan.Day))), revoked(key("stolen", "9", 5)), {Name: "forged"}}
	states := settings.States(keys, t0)
	for name, want := range map[string]v1alpha1.LicensePhase{
		"old": v1alpha1.LicenseSuperseded, "renewed": v1alpha1.LicenseActive, "stolen": v1alpha1.LicenseRevoked, "forged": v1alpha1.LicenseInvalid,
	} {
		if states[name].Phase != want {
			t.Errorf("%s: %s, want %s", name, states[name].Phase, want)
		}
	}
	if states["old"].SupersededBy != "renewed" {
		t.Errorf("old is superseded by %q, want renewed", states["old"].SupersededBy)
	}
}

func TestRenewalHasNoDowngradeWindow(t *testing.T) {
	old := key("old", "1", 50)
	renewed := key("renewed", "1", 50, renewal(1, t0.Add(400*plan.Day)), func(c *license.Claims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(20 * plan.Day)) })
	for at := t0; at.Before(t0.Add(80 * plan.Day)); at = at.Add(6 * time.Hour) {
		keys := []plan.Key{old}
		if !at.Before(t0.Add(20 * plan.Day)) {
			keys = append(keys, renewed)
		}
		p := settings.Decide(keys, at)
		if p.Limits.Accounts != 50 || p.Phase != v1alpha1.PlanPhaseActive && at.Before(t0.Add(20*plan.Day)) {
			t.Fatalf("at %s the plan is %s/%s with %d accounts", at, p.Type, p.Phase, p.Limits.Accounts)
		}
		if !at.Before(t0.Add(20*plan.Day)) && (p.License != "renewed" || p.Phase != v1alpha1.PlanPhaseActive) {
			t.Fatalf("at %s, after the renewal, the plan is %s by %s", at, p.Phase, p.License)
		}
	}
}

func TestFreePlanIsTheFloor(t *testing.T) {
	tiny := key("tiny", "1", 1, func(c *license.Claims) {
		c.Limits.Users, c.Limits.Deployments = 100, 2
		c.Guardrails = &license.Guardrails{Workspace: map[string]string{"requests.cpu": "4"}}
	})
	p := settings.Decide([]plan.Key{tiny}, t0)
	if want := (v1alpha1.Limits{Accounts: 1, Users: 100, Deployments: 2}); p.Limits != want {
		t.Errorf("limits %+v, want %+v (the key's, as keys always meant)", p.Limits, want)
	}
	g := p.Guardrails
	cpu := g.Workspace[corev1.ResourceRequestsCPU]
	if g.Network != "isolated" || g.Workspace.Pods().String() != "5" || cpu.String() != "4" {
		t.Errorf("guardrails %+v: want the key's requests.cpu and the free plan's pods quota and isolation", g)
	}
	free := settings.Decide(nil, t0)
	if free.Limits != settings.FreeLimits || free.Guardrails.Network != "isolated" || (&plan.Settings{}).Free().Guardrails == nil {
		t.Errorf("free plan %+v, want the settings'", free)
	}
}

func TestEntitlements(t *testing.T) {
	k := key("a", "1", 5, func(c *license.Claims) { c.Entitlements = []string{"audit", "quantum-teleport", "audit"} })
	p := settings.Decide([]plan.Key{k}, t0)
	want := []string{"audit", "quantum-teleport", "sso"}
	if len(p.Entitlements) != len(want) {
		t.Fatalf("entitlements %v, want %v", p.Entitlements, want)
	}
	for i := range want {
		if p.Entitlements[i] != want[i] {
			t.Fatalf("entitlements %v, want %v (the key's, unknown kept, and the free plan's)", p.Entitlements, want)
		}
	}
	if !p.Entitled("quantum-teleport") || p.Entitled("teleport") {
		t.Errorf("Entitled: an unknown code the key names counts; one it does not name does not")
	}
	free, none := settings.Decide(nil, t0), (&plan.Settings{}).Free()
	if !free.Entitled("sso") || none.Entitled("sso") {
		t.Errorf("the free plan has exactly the installation's free entitlements")
	}
}

func TestNextChange(t *testing.T) {
	exp := t0.Add(30 * plan.Day)
	later := key("later", "2", 5, func(c *license.Claims) { c.NotBefore = jwt.NewNumericDate(t0.Add(10 * plan.Day)) }, expires(t0.Add(90*plan.Day)))
	for name, tc := range map[string]struct {
		keys []plan.Key
		at   time.Time
		want time.Time
	}{
		"active: its expiry":          {[]plan.Key{key("a", "1", 5)}, t0, exp},
		"a later key starts first":    {[]plan.Key{key("a", "1", 5), later}, t0, t0.Add(10 * plan.Day)},
		"grace: its end":              {[]plan.Key{key("a", "1", 5)}, exp, exp.Add(7 * plan.Day)},
		"restricted: its end":         {[]plan.Key{key("a", "1", 5)}, exp.Add(7 * plan.Day), exp.Add(21 * plan.Day)},
		"expired: never":              {[]plan.Key{key("a", "1", 5)}, exp.Add(21 * plan.Day), time.Time{}},
		"revoked keys change nothing": {[]plan.Key{revoked(key("a", "1", 5))}, t0, time.Time{}},
	} {
		got := settings.Decide(tc.keys, tc.at).NextChangeAt
		if (got == nil) != tc.want.IsZero() || got != nil && !got.Time.Equal(tc.want) {
			t.Errorf("%s: next change %v, want %v", name, got, tc.want)
		}
	}
}
