package displayname

import (
	"fmt"
	"slices"
	"unicode"

	"golang.org/x/text/unicode/runenames"
)

// Look-alikes: a console shows a display name as it is written, so a name
// that renders like another organization's is refused. Two kinds of
// characters make one:
//
//   - invisible ones: format characters (category Cf: zero-width spaces and
//     joiners, the byte-order mark, soft hyphens, bidi controls that reorder
//     the text around them) and the other default-ignorable code points
//     (Hangul fillers, variation selectors other than an emoji's). They are
//     not shown, and Normalize keeps them, so "Acme" with one inside is a
//     name of its own that reads as "Acme";
//   - letters of a script the rest of the name is not written in, such as
//     a Cyrillic "А" in "Аcme". The rule is Unicode TS #39's "highly
//     restrictive" level: a name is written in one script, besides the
//     characters every script shares (digits, punctuation, spaces, symbols:
//     Common) and combining marks (Inherited), or in one of the
//     combinations Japanese (Latin, Han, Hiragana, Katakana), Chinese
//     (Latin, Han, Bopomofo) and Korean (Latin, Han, Hangul) are written in.

// The scripts every combination in scriptSets holds, by their
// unicode.Scripts key.
const (
	latin = "Latin"
	han   = "Han"
)

// scriptSets are the combinations of scripts a name may mix.
var scriptSets = [][]string{
	{latin, han, "Hiragana", "Katakana"},
	{latin, han, "Bopomofo"},
	{latin, han, "Hangul"},
}

// scriptNames lists unicode.Scripts' names in a fixed order.
var scriptNames = func() []string {
	names := make([]string, 0, len(unicode.Scripts))
	for name := range unicode.Scripts {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}()

// scriptOf is the Unicode script of r ("Common", "Inherited", "Latin", ...),
// or "" for an unassigned code point.
func scriptOf(r rune) string {
	switch {
	case unicode.Is(unicode.Common, r):
		return "Common"
	case unicode.Is(unicode.Inherited, r):
		return "Inherited"
	}
	for _, name := range scriptNames {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	return ""
}

// mixable says whether a name may be written in all of scripts together.
func mixable(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range scriptSets {
		if !slices.ContainsFunc(scripts, func(s string) bool { return !slices.Contains(set, s) }) {
			return true
		}
	}
	return false
}

// describe names character i (from 1) of a name for a person: its
// position, the character itself when it is visible, and its code point
// and Unicode name.
func describe(i int, r rune, visible bool) string {
	name := runenames.Name(r)
	if visible {
		return fmt.Sprintf("character %d %q (U+%04X %s)", i, string(r), r, name)
	}
	return fmt.Sprintf("character %d (U+%04X %s)", i, r, name)
}

// invisible returns what is wrong with the first invisible character in
// runes, or "".
func invisible(runes []rune) string {
	for i, r := range runes {
		switch {
		case isBidiControl(r):
			return fmt.Sprintf("must not contain bidi controls: %s is invisible and reorders the text around it, so the name reads as another; remove it",
				describe(i+1, r, false))
		case unicode.Is(unicode.Variation_Selector, r) && emojiPresentation(runes, i):
			continue
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), unicode.Is(unicode.Variation_Selector, r):
			return fmt.Sprintf("must not contain invisible characters: %s is not shown, so the name reads as one without it; remove it",
				describe(i+1, r, false))
		}
	}
	return ""
}

// isBidiControl: the explicit directional marks, embeddings, overrides and
// isolates (U+200E, U+200F, U+061C, U+202A..U+202E, U+2066..U+2069).
func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}

// emojiPresentation says whether the variation selector at i asks for the
// text or emoji form (U+FE0E, U+FE0F) of the symbol before it, as emoji
// are written; after a letter or digit it only hides.
func emojiPresentation(runes []rune, i int) bool {
	return (runes[i] == 0xFE0E || runes[i] == 0xFE0F) && i > 0 && unicode.In(runes[i-1], unicode.So, unicode.Sm)
}

// mixedScripts returns what is wrong with the first letter of runes whose
// script the name may not mix with the others, or "". The name's main
// script is the one most of its letters are in (the first one's, on a
// tie); the letter blamed is the first that does not go with it.
func mixedScripts(runes []rune) string {
	scripts := make([]string, len(runes))
	count := map[string]int{}
	main := ""
	for i, r := range runes {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N) {
			continue // symbols, and what invisible refuses
		}
		scripts[i] = scriptOf(r)
		switch s := scripts[i]; s {
		case "Common", "Inherited", "":
		default:
			count[s]++
			if main == "" || count[s] > count[main] {
				main = s
			}
		}
	}
	if len(count) <= 1 {
		return ""
	}
	used := []string{main}
	for i, s := range scripts {
		if count[s] == 0 || slices.Contains(used, s) {
			continue
		}
		if !mixable(append(slices.Clone(used), s)) {
			return fmt.Sprintf("must be written in one script: %s is %s in a name written in %s; letters of another script that look alike make it read as another organization's name (Japanese, Chinese and Korean may mix their scripts, and Latin); write it in %s only",
				describe(i+1, runes[i], true), s, main, main)
		}
		used = append(used, s)
	}
	return ""
}
