package domains

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

const (
	// TXTPrefix is the label prepended to a claimed domain to name its challenge record.
	TXTPrefix = "_orgplane-challenge."
	// TokenPrefix starts every challenge record value.
	TokenPrefix = "orgplane-verification=" //nolint:gosec // the start of a public DNS record, not a credential
	tokenLen    = 32
)

// TXTName returns the DNS name that holds the challenge record for domain (in Normalize form):
// "_orgplane-challenge." + domain.
func TXTName(domain string) string {
	return TXTPrefix + domain
}

// Token returns the challenge record value for an organization and a domain (in Normalize form):
// "orgplane-verification=" followed by the first 32 characters of the lower-case, unpadded base32
// HMAC-SHA256 of orgUID+"/"+domain keyed by secret. It is deterministic per organization and domain,
// and another organization cannot compute it without the secret.
func Token(orgUID, domain string, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(orgUID + "/" + domain))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil))
	return TokenPrefix + strings.ToLower(enc[:tokenLen])
}
