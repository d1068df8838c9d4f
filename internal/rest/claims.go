package rest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
)

// ClaimNamespace holds the display-name claims.
const ClaimNamespace = "orgplane-system"

// AnnotationDisplayName is the display name a claim stands for.
const AnnotationDisplayName = "orgplane.io/display-name"

// claimName is the object name of a display name's claim: the same for
// names that differ only in case.
func claimName(displayName string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(displayName))))
	return "display-name-" + hex.EncodeToString(sum[:16])
}

// claimDisplayName takes a display name for org atomically: the API server
// lets only one create of the claim's name succeed, so two concurrent
// creates or renames to the same name cannot both win. An organization
// made with kubectl holds no claim; its display name is refused too.
func (s *Server) claimDisplayName(ctx context.Context, displayName, org string) error {
	if err := s.displayNameFree(ctx, displayName); err != nil {
		return err
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
		Name: claimName(displayName), Namespace: ClaimNamespace,
		Labels:      map[string]string{"orgplane.io/organization": org},
		Annotations: map[string]string{AnnotationDisplayName: displayName},
	}}
	err := s.writer.Create(ctx, lease)
	if apierrors.IsAlreadyExists(err) && s.dropStaleClaim(ctx, lease.Name) {
		err = s.writer.Create(ctx, lease)
	}
	if apierrors.IsAlreadyExists(err) {
		return errDisplayNameUsed(displayName)
	}
	if err != nil {
		return fmt.Errorf("failed to claim display name: %w", err)
	}
	return nil
}

// displayNameFree answers 409 when an organization already has
// displayName. (A rename that only changes case keeps its claim and does
// not ask.)
func (s *Server) displayNameFree(ctx context.Context, displayName string) error {
	taken, err := s.displayNameTaken(ctx, displayName)
	if err == nil && taken {
		err = errDisplayNameUsed(displayName)
	}
	return err
}

// displayNameTaken says whether an organization, however it was created,
// has displayName (ignoring case), as the cache's display-name index knows.
func (s *Server) displayNameTaken(ctx context.Context, displayName string) (bool, error) {
	orgs := &v1alpha1.OrganizationList{}
	key := client.MatchingFields{controllers.IndexDisplayName: strings.ToLower(displayName)}
	if err := s.cache.List(ctx, orgs, key, client.UnsafeDisableDeepCopy); err != nil {
		return false, err
	}
	return len(orgs.Items) > 0, nil
}

func errDisplayNameUsed(displayName string) error {
	return httpError(http.StatusConflict, fmt.Sprintf("The display name %q is already used by another organization; choose another", displayName), nil)
}

// releaseDisplayName frees a display name org held.
func (s *Server) releaseDisplayName(ctx context.Context, displayName, org string) error {
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: ClaimNamespace, Name: claimName(displayName)}
	if err := s.live.Get(ctx, key, lease); err != nil {
		return client.IgnoreNotFound(err)
	}
	if lease.Labels["orgplane.io/organization"] != org {
		return nil
	}
	return client.IgnoreNotFound(s.writer.Delete(ctx, lease, client.Preconditions{UID: &lease.UID}))
}

// dropStaleClaim deletes a claim whose organization no longer exists (it
// was deleted with kubectl) and reports whether it did.
func (s *Server) dropStaleClaim(ctx context.Context, name string) bool {
	lease := &coordinationv1.Lease{}
	if err := s.live.Get(ctx, client.ObjectKey{Namespace: ClaimNamespace, Name: name}, lease); err != nil {
		return false
	}
	org := &v1alpha1.Organization{}
	err := s.live.Get(ctx, client.ObjectKey{Name: lease.Labels["orgplane.io/organization"]}, org)
	if !apierrors.IsNotFound(err) {
		return false
	}
	return s.writer.Delete(ctx, lease, client.Preconditions{UID: &lease.UID}) == nil
}
