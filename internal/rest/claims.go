package rest

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/index"
)

// Display names are claimed by the Organization admission webhook, which
// every writer crosses (internal/displayname); the REST API only asks.

// displayNameTaken says whether an organization, however it was created,
// has displayName (compared normalized), as the cache's display-name index
// knows.
func (s *Server) displayNameTaken(ctx context.Context, displayName string) (bool, error) {
	orgs := &v1alpha1.OrganizationList{}
	key := client.MatchingFields{index.DisplayName: displayname.Normalize(displayName)}
	if err := s.cache.List(ctx, orgs, key, client.UnsafeDisableDeepCopy); err != nil {
		return false, err
	}
	return len(orgs.Items) > 0, nil
}
