package domains

import (
	"fmt"
	"net"
	"strings"

	"golang.org/x/net/idna"
)

const (
	maxDomainLen = 253
	maxLabelLen  = 63
)

// Normalize returns the canonical ASCII form of a claimed domain: lower-case, without a trailing dot,
// with internationalized labels converted to punycode (bücher.example becomes xn--bcher-kva.example).
// It refuses anything that does not look like a registrable domain name: IP addresses, localhost,
// single labels, wildcards, empty or over-long labels and names.
func Normalize(domain string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if err := refuseSpecial(domain, d); err != nil {
		return "", err
	}
	if err := checkHyphens(domain, d); err != nil {
		return "", err
	}
	ascii, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", fmt.Errorf("domain %q is not a valid internationalized domain name (%v); "+
			"use letters, digits and hyphens, or a correctly encoded IDN", domain, err)
	}
	ascii = strings.ToLower(ascii)
	// Checked again: IDNA mapping can turn full-width or other look-alike forms into these names.
	if err := refuseSpecial(domain, ascii); err != nil {
		return "", err
	}
	if err := checkName(domain, ascii); err != nil {
		return "", err
	}
	return ascii, nil
}

// refuseSpecial rejects the inputs that are never a claimable domain, before IDNA processing.
func refuseSpecial(orig, d string) error {
	switch {
	case d == "":
		return fmt.Errorf("domain is empty; give the domain your e-mail addresses use, such as acme.example")
	case strings.Contains(d, "*"):
		return fmt.Errorf("domain %q is a wildcard; claim the domain itself, such as acme.example", orig)
	case net.ParseIP(strings.Trim(d, "[]")) != nil:
		return fmt.Errorf("domain %q is an IP address; claim a domain name, such as acme.example", orig)
	case d == "localhost" || strings.HasSuffix(d, ".localhost"):
		return fmt.Errorf("domain %q is a local name; claim a public domain name, such as acme.example", orig)
	}
	return nil
}

// checkName validates the ASCII form: overall length, label count and each label's characters.
func checkName(orig, ascii string) error {
	if len(ascii) > maxDomainLen {
		return fmt.Errorf("domain %q is %d characters long; a domain name has at most %d",
			orig, len(ascii), maxDomainLen)
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return fmt.Errorf("domain %q has a single label; give the full domain with its suffix, "+
			"such as %s.example", orig, ascii)
	}
	for _, l := range labels {
		if err := checkLabel(orig, l); err != nil {
			return err
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return fmt.Errorf("domain %q ends in a numeric label; claim a domain name, such as acme.example", orig)
	}
	return nil
}

// checkHyphens rejects empty labels and labels starting or ending with '-', before IDNA processing
// (which would reject them with a less helpful message).
func checkHyphens(orig, d string) error {
	for _, l := range strings.Split(d, ".") {
		switch {
		case l == "":
			return fmt.Errorf("domain %q has an empty label (two dots in a row or a leading dot); remove it", orig)
		case strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-"):
			return fmt.Errorf("domain %q has label %q starting or ending with '-'; remove the hyphen", orig, l)
		}
	}
	return nil
}

// checkLabel validates one ASCII label: 1–63 characters of [a-z0-9-].
func checkLabel(orig, l string) error {
	if len(l) == 0 || len(l) > maxLabelLen {
		return fmt.Errorf("domain %q has a label of %d characters; each label has 1 to at most %d",
			orig, len(l), maxLabelLen)
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("domain %q has label %q with character %q; use only letters, digits and '-'",
				orig, l, c)
		}
	}
	return nil
}

// isDigits reports whether s is non-empty and made only of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
