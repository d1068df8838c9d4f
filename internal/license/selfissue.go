package license

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// LabelSelfIssued marks Licenses the controller issued itself, with their type.
const LabelSelfIssued = "orgplane.io/self-issued"

// Offer is a license type the controller may issue itself.
type Offer struct {
	Limits   Limits
	ValidFor time.Duration
}

// DefaultOffers let every organization take one 30-day trial.
var DefaultOffers = map[string]Offer{
	"trial": {Limits: Limits{Accounts: 10, Users: 25, Deployments: 50}, ValidFor: 30 * 24 * time.Hour},
}

// SelfIssuer issues licenses of the offered types, signed by the
// controller's own issuer key, at most once per organization and type: the
// License is named <organization>-<type>, so the API server refuses a second.
type SelfIssuer struct {
	Client client.Client
	Key    ed25519.PrivateKey
	Offers map[string]Offer
	Now    func() time.Time
}

// ErrNotOffered is returned for a type the controller does not issue.
var ErrNotOffered = fmt.Errorf("this license type cannot be requested here")

// ErrAlreadyIssued is returned when the organization already had one.
var ErrAlreadyIssued = fmt.Errorf("the organization already had a license of this type")

// Issue creates a License of type typ for organization org (uid uid),
// bound to that uid, and returns it.
func (s *SelfIssuer) Issue(ctx context.Context, org, uid, typ string) (*v1alpha1.License, error) {
	offer := s.Offers[typ]
	if !s.Issues(typ) {
		return nil, s.NotOffered(typ)
	}
	now := s.now()
	key, err := Issue(s.Key, Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID: org + "-" + typ, IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(offer.ValidFor)),
		},
		Type: typ, Licensee: org, Organization: uid, Limits: offer.Limits,
	})
	if err != nil {
		return nil, err
	}
	// Owned by the organization: the garbage collector deletes it with the
	// organization, so self-issued licenses do not pile up.
	lic := &v1alpha1.License{
		ObjectMeta: metav1.ObjectMeta{Name: org + "-" + typ, Labels: map[string]string{LabelSelfIssued: typ},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Organization",
				Name: org, UID: types.UID(uid)}}},
		Spec: v1alpha1.LicenseSpec{Key: key, Organization: org, OrganizationUID: uid},
	}
	if err := s.Client.Create(ctx, lic); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("%w: %s", ErrAlreadyIssued, lic.Name)
		}
		return nil, err
	}
	return lic, nil
}

// NotOffered is the error for a type the controller does not issue.
func (s *SelfIssuer) NotOffered(typ string) error {
	return fmt.Errorf("%w: %q (offered: %s)", ErrNotOffered, typ, strings.Join(s.Offered(), ", "))
}

// Issues says whether the controller issues licenses of type typ.
func (s *SelfIssuer) Issues(typ string) bool {
	_, ok := s.Offers[typ]
	return ok && s.Key != nil
}

// Offered lists the types the controller issues, sorted.
func (s *SelfIssuer) Offered() []string {
	out := make([]string, 0, len(s.Offers))
	for t := range s.Offers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (s *SelfIssuer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
