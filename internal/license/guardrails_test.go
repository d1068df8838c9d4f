package license

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestGuardrailsValidate(t *testing.T) {
	tests := map[string]struct {
		g    *Guardrails
		want string // part of the error; empty means valid
	}{
		"none":                {nil, ""},
		"empty":               {&Guardrails{}, ""},
		"every resource":      {&Guardrails{Workspace: map[string]string{"requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi", "pods": "20", "persistentvolumeclaims": "5", "requests.storage": "50Gi"}}, ""},
		"isolated":            {&Guardrails{Network: NetworkIsolated}, ""},
		"organization":        {&Guardrails{Network: NetworkOrganization}, ""},
		"bad quantity":        {&Guardrails{Workspace: map[string]string{"requests.cpu": "two"}}, `requests.cpu: "two" is not a quantity`},
		"negative quantity":   {&Guardrails{Workspace: map[string]string{"pods": "-1"}}, `pods: "-1" is negative`},
		"unknown resource":    {&Guardrails{Workspace: map[string]string{"services": "3"}}, `"services" is not a workspace resource`},
		"unknown mode":        {&Guardrails{Network: "open"}, `network mode "open" is unknown`},
		"organization total":  {&Guardrails{Organization: map[string]string{"requests.cpu": "8", "pods": "30"}}, ""},
		"bad total":           {&Guardrails{Organization: map[string]string{"pods": "many"}}, `organization: pods: "many" is not a quantity`},
		"several bad entries": {&Guardrails{Workspace: map[string]string{"limits.cpu": "x", "pods": "y"}}, `limits.cpu: "x" is not a quantity (e.g. 4, 500m, 8Gi); pods: "y"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.g.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want != "" && (!errors.Is(err, ErrGuardrails) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err %v, want ErrGuardrails containing %q", err, tc.want)
			}
		})
	}
}

func TestGuardrailsQuota(t *testing.T) {
	q, err := (&Guardrails{Workspace: map[string]string{"requests.cpu": "1500m", "pods": "10"}}).Quota()
	if err != nil {
		t.Fatal(err)
	}
	want := corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1500m"), corev1.ResourcePods: resource.MustParse("10")}
	if len(q) != len(want) {
		t.Fatalf("got %v, want %v", q, want)
	}
	for name, v := range want {
		if got := q[name]; got.Cmp(v) != 0 {
			t.Errorf("%s: got %s, want %s", name, got.String(), v.String())
		}
	}
}

func TestVerifyGuardrails(t *testing.T) {
	kid := KeyID(pub)
	header := `{"alg":"EdDSA","typ":"JWT","kid":"` + kid + `"}`
	exp := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	payload := func(extra string) string {
		return `{"jti":"x","type":"team","licensee":"a","exp":` + exp + `,"limits":{"accounts":1,"users":1,"deployments":1}` + extra + `}`
	}
	tests := map[string]struct {
		key   string
		phase Phase
		want  error
		check func(*Claims) bool
	}{
		"a key issued before guardrails means none": {forge(header, payload(""), true), Valid, nil,
			func(c *Claims) bool { return c.Guardrails == nil }},
		"guardrails are decoded": {forge(header, payload(`,"guardrails":{"workspace":{"pods":"10"},"network":"isolated"}`), true), Valid, nil,
			func(c *Claims) bool {
				return c.Guardrails.Workspace["pods"] == "10" && c.Guardrails.Network == NetworkIsolated
			}},
		"a bad quantity is refused":  {forge(header, payload(`,"guardrails":{"workspace":{"requests.cpu":"lots"}}`), true), Invalid, ErrGuardrails, nil},
		"an unknown mode is refused": {forge(header, payload(`,"guardrails":{"network":"open"}`), true), Invalid, ErrGuardrails, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, phase, err := NewVerifier(pub).Verify(tc.key, now)
			if phase != tc.phase || (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got phase %s, err %v; want %s, %v", phase, err, tc.phase, tc.want)
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("claims not as expected: %+v", c)
			}
		})
	}
}

func TestIssueRefusesBadGuardrails(t *testing.T) {
	_, err := Issue(priv, claims(func(c *Claims) { c.Guardrails = &Guardrails{Workspace: map[string]string{"limits.memory": "8 GB"}} }))
	if !errors.Is(err, ErrGuardrails) {
		t.Errorf("err %v, want ErrGuardrails", err)
	}
}

func TestIssueRoundTripsGuardrails(t *testing.T) {
	g := &Guardrails{Workspace: map[string]string{"limits.cpu": "4"}, Network: NetworkOrganization}
	c, phase, err := NewVerifier(pub).Verify(issue(t, priv, claims(func(c *Claims) { c.Guardrails = g })), now)
	if phase != Valid || c.Guardrails.Workspace["limits.cpu"] != "4" || c.Guardrails.Network != NetworkOrganization {
		t.Errorf("phase %s err %v claims %+v", phase, err, c.Guardrails)
	}
}

func TestParseQuota(t *testing.T) {
	tests := map[string]struct {
		in   string
		want map[string]string
		bad  bool
	}{
		"empty":       {"", nil, false},
		"two":         {"requests.cpu=2, limits.memory=8Gi", map[string]string{"requests.cpu": "2", "limits.memory": "8Gi"}, false},
		"no equals":   {"requests.cpu", nil, true},
		"bad value":   {"pods=many", nil, true},
		"unknown key": {"cpu=2", nil, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseQuota(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("err %v, bad %v", err, tc.bad)
			}
			if !tc.bad && len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
