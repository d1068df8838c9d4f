// Package displayname holds the one rule for organization display names:
// how they are normalized for comparison, what is a valid one, and the
// claim (a Lease) that makes one display name belong to one organization,
// whichever writer (REST, kubectl, GitOps) created or renamed it.
package displayname

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxLength is the most characters (runes) a display name may have.
const MaxLength = 100

// Normalize is the form display names are compared in: Unicode NFKC
// (fullwidth and compatibility forms fold to their plain letters), case
// folded, with surrounding white space trimmed. Two display names are the
// same when their normalized forms are equal.
func Normalize(s string) string {
	folded := cases.Fold().String(norm.NFKC.String(s))
	return strings.TrimSpace(norm.NFKC.String(folded))
}

// Validate returns what is wrong with a display name, or nil: besides its
// length and emptiness, it refuses control characters and look-alikes
// (invisible characters, letters of mixed scripts: see lookalike.go), each
// refusal naming the character's position and why.
func Validate(s string) []string {
	var errs []string
	switch {
	case !utf8.ValidString(s):
		return []string{"must be valid UTF-8"}
	case strings.TrimSpace(s) == "":
		return []string{"must not be empty"}
	case strings.TrimSpace(s) != s:
		errs = append(errs, "must not start or end with white space")
	}
	if n := utf8.RuneCountInString(s); n > MaxLength {
		errs = append(errs, fmt.Sprintf("must be at most %d characters (it has %d)", MaxLength, n))
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		errs = append(errs, "must not contain control characters (tabs, line breaks, ...)")
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		errs = append(errs, "needs at least one letter or digit")
	}
	// Look-alikes (lookalike.go): invisible characters and mixed scripts;
	// positions count characters (runes) from 1, as written.
	runes := []rune(s)
	for _, msg := range []string{invisible(runes), mixedScripts(runes)} {
		if msg != "" {
			errs = append(errs, msg)
		}
	}
	return errs
}

// ClaimName is the name of the Lease that claims a display name: the same
// for every spelling that normalizes to the same form.
func ClaimName(displayName string) string {
	sum := sha256.Sum256([]byte(Normalize(displayName)))
	return "display-name-" + hex.EncodeToString(sum[:16])
}
