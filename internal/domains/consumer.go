package domains

import (
	"slices"
	"strings"
)

// ConsumerDomains lists common consumer and free e-mail providers. Nobody can prove an organization
// owns one of these, so they cannot be claimed; subdomains of a listed domain are refused as well.
var ConsumerDomains = []string{
	"gmail.com", "googlemail.com",
	"outlook.com", "hotmail.com", "live.com", "msn.com",
	"yahoo.com", "ymail.com", "rocketmail.com",
	"icloud.com", "me.com", "mac.com",
	"aol.com",
	"proton.me", "protonmail.com", "pm.me",
	"gmx.com", "gmx.de", "gmx.net", "web.de",
	"mail.com",
	"yandex.com", "yandex.ru",
	"qq.com", "163.com", "126.com",
	"zoho.com", "fastmail.com", "hey.com",
	"tutanota.com", "mail.ru",
}

// Consumer decides whether a domain belongs to a consumer e-mail provider: one of ConsumerDomains,
// one of the operator's extra domains, or a subdomain of either. The zero value uses ConsumerDomains only.
type Consumer struct {
	extra map[string]bool
}

// NewConsumer returns a Consumer that refuses ConsumerDomains plus the operator-supplied extra domains.
// Extra domains are normalized; empty entries are ignored.
func NewConsumer(extra []string) Consumer {
	c := Consumer{extra: make(map[string]bool, len(extra))}
	for _, d := range extra {
		if n := canonical(d); n != "" {
			c.extra[n] = true
		}
	}
	return c
}

// Is reports whether domain, or any domain it is a subdomain of, is a consumer e-mail domain.
func (c Consumer) Is(domain string) bool {
	for d := canonical(domain); d != ""; {
		if c.extra[d] || slices.Contains(ConsumerDomains, d) {
			return true
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			return false
		}
		d = rest
	}
	return false
}

// canonical returns the normalized form of d, or its trimmed lower-case form if it does not normalize.
func canonical(d string) string {
	if n, err := Normalize(d); err == nil {
		return n
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}
