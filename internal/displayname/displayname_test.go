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

func TestValidateRefusesLookAlikes(t *testing.T) {
	tests := map[string]struct {
		name string
		want string // a substring of the only message; "" when valid
	}{
		// Refused: invisible characters.
		"zero-width space":              {name: "Ac\u200Bme", want: "character 3 (U+200B ZERO WIDTH SPACE) is not shown"},
		"zero-width non-joiner":         {name: "Acme\u200CCorp", want: "character 5 (U+200C ZERO WIDTH NON-JOINER)"},
		"zero-width joiner":             {name: "A\u200Dcme", want: "character 2 (U+200D ZERO WIDTH JOINER)"},
		"word joiner":                   {name: "Acme\u2060", want: "character 5 (U+2060 WORD JOINER)"},
		"byte-order mark":               {name: "\uFEFFAcme", want: "character 1 (U+FEFF ZERO WIDTH NO-BREAK SPACE)"},
		"soft hyphen (Cf)":              {name: "Ac\u00ADme", want: "character 3 (U+00AD SOFT HYPHEN) is not shown"},
		"tag character (Cf)":            {name: "Acme\U000E0041", want: "character 5 (U+E0041 TAG LATIN CAPITAL LETTER A)"},
		"hangul filler":                 {name: "Acme\u3164Corp", want: "character 5 (U+3164 HANGUL FILLER) is not shown"},
		"variation selector":            {name: "Ac\uFE00me", want: "character 3 (U+FE00 VARIATION SELECTOR-1)"},
		"emoji selector after a letter": {name: "Acme\uFE0F", want: "character 5 (U+FE0F VARIATION SELECTOR-16)"},
		// Refused: bidi controls.
		"left-to-right mark":      {name: "Acme\u200E", want: "must not contain bidi controls: character 5 (U+200E LEFT-TO-RIGHT MARK) is invisible and reorders"},
		"right-to-left mark":      {name: "\u200FAcme", want: "character 1 (U+200F RIGHT-TO-LEFT MARK)"},
		"right-to-left override":  {name: "Acme \u202Eeroc", want: "character 6 (U+202E RIGHT-TO-LEFT OVERRIDE)"},
		"left-to-right embedding": {name: "\u202AAcme", want: "character 1 (U+202A LEFT-TO-RIGHT EMBEDDING)"},
		"pop directional":         {name: "Acme\u202C", want: "U+202C POP DIRECTIONAL FORMATTING"},
		"first strong isolate":    {name: "\u2068Acme\u2069", want: "character 1 (U+2068 FIRST STRONG ISOLATE)"},
		"arabic letter mark":      {name: "Acme\u061C", want: "U+061C ARABIC LETTER MARK"},
		// Refused: mixed scripts.
		"cyrillic A in Acme":            {name: "\u0410cme", want: `character 1 "А" (U+0410 CYRILLIC CAPITAL LETTER A) is Cyrillic in a name written in Latin`},
		"cyrillic o in Globex":          {name: "Gl\u043Ebex", want: `character 3 "о" (U+043E CYRILLIC SMALL LETTER O) is Cyrillic`},
		"greek omicron in Globex":       {name: "Gl\u03BFbex", want: `character 3 "ο" (U+03BF GREEK SMALL LETTER OMICRON) is Greek`},
		"cyrillic word in a latin name": {name: "\u0410\u0421\u041C\u0415 Corporation", want: "in a name written in Latin"},
		"latin c in a cyrillic name":    {name: "\u041C\u043E\u0441\u043A\u0432\u0430 c", want: `character 8 "c" (U+0063 LATIN SMALL LETTER C) is Latin in a name written in Cyrillic`},
		"cyrillic with greek":           {name: "\u041C\u043E\u0441\u03BA\u0432\u0430", want: "is Greek in a name written in Cyrillic"},
		"hangul with kana":              {name: "\uD55C\uAE00\u30AB", want: "is Katakana in a name written in Hangul"},
		// Valid: one script, or the combinations CJK languages write.
		"latin with accents":         {name: "Société Générale"},
		"decomposed accent":          {name: "Cafe\u0301 Noir"},
		"digits and punctuation":     {name: "Acme-42 (EU), Inc."},
		"cyrillic only":              {name: "\u041C\u043E\u0441\u043A\u0432\u0430 \u0422\u0435\u0445"},
		"greek only":                 {name: "\u0391\u03B8\u03AE\u03BD\u03B1"},
		"chinese":                    {name: "\u963F\u91CC\u5DF4\u5DF4"},
		"japanese han hiragana kana": {name: "\u65E5\u672C\u306E\u30BD\u30D5\u30C8"},
		"japanese with latin":        {name: "\u30BD\u30CB\u30FC Sony 2"},
		"korean with han":            {name: "\uD55C\uAD6D\u96FB\u529B"},
		"korean with latin":          {name: "\uC0BC\uC131 Samsung"},
		"arabic":                     {name: "\u0634\u0631\u0643\u0629 \u0661\u0662"},
		"emoji with its selector":    {name: "Acme \u2764\uFE0F"},
		"fullwidth latin":            {name: "ＡＣＭＥ"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Validate(tc.name)
			if tc.want == "" {
				if len(got) > 0 {
					t.Errorf("Validate(%q) = %q, want valid", tc.name, got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("Validate(%q) = %q, want one message containing %q", tc.name, got, tc.want)
			}
		})
	}
}
