// Package tenancy holds the rules about who may do what across tenants that
// both the admission webhooks and the REST API apply: who the manager is,
// who is a platform admin, and who may create organizations.
package tenancy

import (
	"context"
	"fmt"
	"slices"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Self is the username the API server knows cfg's client by: the
// manager's own identity, the only one allowed to remove orgplane's
// finalizers. (SelfSubjectReview is open to every authenticated user.)
func Self(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("failed to learn the manager's own username (SelfSubjectReview): %w", err)
	}
	return review.Status.UserInfo.Username, nil
}

// PlatformAdmins answers whether a user is a platform admin: whoever may
// update organizations.orgplane.io cluster-wide (no resource name).
// Platform admins may act on any organization, suspend and resume them.
// It asks the API server with SubjectAccessReviews through
// k8s.io/apiserver's delegating authorizer, which remembers each answer,
// allowed or denied, for 10 s.
type PlatformAdmins struct {
	authz authorizer.Authorizer
}

// NewPlatformAdmins builds the delegating authorizer for cfg's API server.
func NewPlatformAdmins(cfg *rest.Config) (*PlatformAdmins, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	sar, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: cs.AuthorizationV1(), AllowCacheTTL: 10 * time.Second, DenyCacheTTL: 10 * time.Second,
		WebhookRetryBackoff: options.DefaultAuthWebhookRetryBackoff(),
	}.New()
	if err != nil {
		return nil, fmt.Errorf("failed to set up delegated authorization: %w", err)
	}
	return &PlatformAdmins{authz: sar}, nil
}

// Is says whether u is a platform admin. system:masters always is, as
// kube-apiserver decides.
func (p *PlatformAdmins) Is(ctx context.Context, u user.Info) (bool, error) {
	if slices.Contains(u.GetGroups(), user.SystemPrivilegedGroup) {
		return true, nil
	}
	decision, _, err := p.authz.Authorize(ctx, authorizer.AttributesRecord{
		User: u, Verb: "update", APIGroup: v1alpha1.GroupVersion.Group, Resource: "organizations", ResourceRequest: true,
	})
	if err != nil {
		// %v, not %w: the manager's own review failing is a server error
		// (500 with a request id), never the caller's 403 or 429.
		return false, fmt.Errorf("failed to review access: %v", err) //nolint:errorlint // see above
	}
	return decision == authorizer.DecisionAllow, nil
}

// UserFromAdmission is the requester of an admission request.
func UserFromAdmission(u authenticationv1.UserInfo) user.Info {
	extra := make(map[string][]string, len(u.Extra))
	for k, v := range u.Extra {
		extra[k] = v
	}
	return &user.DefaultInfo{Name: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra}
}

// Creators says who may create organizations.
type Creators struct {
	// Groups may create organizations; empty lets every authenticated user.
	Groups []string
	// MaxPerUser bounds the organizations one identity has created (by
	// the orgplane.io/created-by annotation); 0 means no bound.
	MaxPerUser int
	// Reader lists organizations by IndexCreatedBy.
	Reader client.Reader
	// MaxTrials bounds the self-issued licenses one requester (CreatorKey)
	// takes, over all the organizations they ever had; 0 means no bound.
	MaxTrials int
	// Live reads, and Writer writes, the creators' ledger Leases (Reserve,
	// TakeTrial).
	Live   client.Reader
	Writer client.Client
}

var organizations = schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "organizations"}

// MayCreate refuses (403) a caller outside Groups.
func (c *Creators) MayCreate(u user.Info) error {
	if len(c.Groups) == 0 || slices.ContainsFunc(u.GetGroups(), func(g string) bool { return slices.Contains(c.Groups, g) }) {
		return nil
	}
	return apierrors.NewForbidden(organizations, "", fmt.Errorf(
		"only members of %v may create organizations on this installation; ask a platform admin", c.Groups))
}

// WithinCap refuses (403) one more organization created by username once
// its creator (CreatorKey) has created MaxPerUser, by what the cache shows:
// a fast first answer. Admission makes it exact (Reserve).
func (c *Creators) WithinCap(ctx context.Context, username string) error {
	if c.MaxPerUser <= 0 || username == "" {
		return nil
	}
	orgs := &v1alpha1.OrganizationList{}
	if err := c.Reader.List(ctx, orgs, client.MatchingFields{index.CreatedBy: index.CreatorKey(username)}); err != nil {
		return fmt.Errorf("failed to count the organizations %s created: %w", username, err)
	}
	if len(orgs.Items) < c.MaxPerUser {
		return nil
	}
	return overCap(username, len(orgs.Items))
}
