package domains

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// Of is the domain of an e-mail address, in lower case; "" when it has none.
func Of(email string) string {
	at := strings.LastIndex(email, "@")
	if at < 0 || at == len(email)-1 {
		return ""
	}
	return strings.ToLower(email[at+1:])
}

// Verified are the Verified Domains of email's domain, in every
// organization: the one that holds it (the domain reconciler marks any
// later claim Conflict, never Verified). The reader lists Domains by
// index.DomainName.
func Verified(ctx context.Context, c client.Reader, email string) ([]v1alpha1.Domain, error) {
	domain := Of(email)
	if domain == "" {
		return nil, nil
	}
	list := &v1alpha1.DomainList{}
	if err := c.List(ctx, list, client.MatchingFields{index.DomainName: domain}); err != nil {
		return nil, fmt.Errorf("failed to list domains: %w", err)
	}
	var out []v1alpha1.Domain
	for _, d := range list.Items {
		if d.Status.Phase == v1alpha1.DomainVerified {
			out = append(out, d)
		}
	}
	return out, nil
}

// HeldBy returns the Verified Domain through which email may join
// organization org, or nil when org does not hold email's domain.
func HeldBy(ctx context.Context, c client.Reader, org, email string) (*v1alpha1.Domain, error) {
	held, err := Verified(ctx, c, email)
	if err != nil {
		return nil, err
	}
	for i := range held {
		if held[i].Namespace == v1alpha1.OrganizationNamespace(org) {
			return &held[i], nil
		}
	}
	return nil, nil
}
