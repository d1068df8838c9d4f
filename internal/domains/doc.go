// Package domains holds the pure part of verified e-mail domains: an organization claims a domain
// (acme.example) and proves it controls it by publishing a DNS TXT record at TXTName(domain) whose value
// is Token(orgUID, domain, secret). Resolver.Check looks the record up with a real resolver.
package domains
