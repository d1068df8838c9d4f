package displayname

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeMakesSpellingsOfOneNameEqual(t *testing.T) {
	tests := map[string]struct {
		a, b string
		same bool
	}{
		"case":                      {"Acme Corporation", "ACME CORPORATION", true},
		"trailing spaces":           {"Acme", "Acme  ", true},
		"leading ideographic space": {"\u3000Acme", "Acme", true},
		"fullwidth letters":         {"ＡＣＭＥ", "acme", true},
		"ligature":                  {"ﬁnance", "finance", true},
		"sharp s folds to ss":       {"Straße", "STRASSE", true},
		"composed and decomposed":   {"Café", "Cafe\u0301", true},
		"different names":           {"Acme", "Acme Labs", false},
		"inner spaces count":        {"Acme Labs", "AcmeLabs", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Normalize(tc.a) == Normalize(tc.b); got != tc.same {
				t.Errorf("Normalize(%q)=%q, Normalize(%q)=%q: same=%v, want %v", tc.a, Normalize(tc.a), tc.b, Normalize(tc.b), got, tc.same)
			}
			if got := ClaimName(tc.a) == ClaimName(tc.b); got != tc.same {
				t.Errorf("ClaimName same=%v, want %v", got, tc.same)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		name string
		want []string
	}{
		"plain":             {name: "Acme Corporation"},
		"unicode letters":   {name: "Société Générale"},
		"exactly 100":       {name: strings.Repeat("é", 100)},
		"empty":             {name: "", want: []string{"must not be empty"}},
		"only spaces":       {name: "   ", want: []string{"must not be empty"}},
		"trailing space":    {name: "Acme ", want: []string{"must not start or end with white space"}},
		"leading space":     {name: " Acme", want: []string{"must not start or end with white space"}},
		"101 characters":    {name: strings.Repeat("é", 101), want: []string{"must be at most 100 characters (it has 101)"}},
		"control character": {name: "Acme\nCorp", want: []string{"must not contain control characters (tabs, line breaks, ...)"}},
		"no letter":         {name: "---", want: []string{"needs at least one letter or digit"}},
		"invalid utf-8":     {name: "Acme\xff", want: []string{"must be valid UTF-8"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Validate(tc.name)); diff != "" {
				t.Errorf("Validate(%q) (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}
