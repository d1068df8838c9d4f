package controllers

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
)

// licenses answers List by the two License indexes, as the cache does.
type licenses []v1alpha1.License

func (l licenses) Get(_ context.Context, key client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name) // no revocation list
}

func (l licenses) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := &client.ListOptions{}
	o.ApplyOptions(opts)
	out := list.(*v1alpha1.LicenseList)
	for _, lic := range l {
		set := fields.Set{index.LicenseOrganization: lic.Spec.Organization, index.LicenseID: lic.Status.LicenseID}
		if o.FieldSelector == nil || o.FieldSelector.Matches(set) {
			out.Items = append(out.Items, lic)
		}
	}
	return nil
}

// TestWhichLicenseCounts: the keys the organization reconciler gives
// internal/plan, with the binding by uid and the custody rule applied.
func TestWhichLicenseCounts(t *testing.T) {
	now := time.Now()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "acme-uid"}}
	lic := func(name, id, org, uid string, accounts int64, created time.Duration, expires time.Duration) v1alpha1.License {
		key, err := license.Issue(priv, license.Claims{
			RegisteredClaims: jwt.RegisteredClaims{ID: id, ExpiresAt: jwt.NewNumericDate(now.Add(expires))},
			Type:             "team", Licensee: "acme", Limits: license.Limits{Accounts: accounts},
		})
		if err != nil {
			t.Fatal(err)
		}
		return v1alpha1.License{
			ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(created))},
			Spec:       v1alpha1.LicenseSpec{Key: key, Organization: org},
			Status:     v1alpha1.LicenseStatus{LicenseID: id, Organization: org, OrganizationUID: uid},
		}
	}
	tests := map[string]struct {
		licenses licenses
		want     string
	}{
		"no license: free plan":             {},
		"the one bound to the organization": {licenses: licenses{lic("a", "1", "acme", "acme-uid", 5, 0, time.Hour)}, want: "a"},
		"highest limits win": {licenses: licenses{
			lic("small", "1", "acme", "acme-uid", 5, 0, time.Hour), lic("big", "2", "acme", "acme-uid", 50, 0, time.Hour)}, want: "big"},
		"then the latest expiry": {licenses: licenses{
			lic("soon", "1", "acme", "acme-uid", 5, 0, time.Hour), lic("later", "2", "acme", "acme-uid", 5, 0, 2*time.Hour)}, want: "later"},
		"a license bound to an earlier organization of the same name does not count": {licenses: licenses{
			lic("inherited", "1", "acme", "old-acme-uid", 50, 0, time.Hour)}},
		"a license not bound yet does not count": {licenses: licenses{lic("unbound", "1", "acme", "", 50, 0, time.Hour)}},
		"an expired license does not count":      {licenses: licenses{lic("expired", "1", "acme", "acme-uid", 50, 0, -time.Minute)}},
		"a license id active in another organization by an older License does not count": {licenses: licenses{
			lic("copy", "shared", "acme", "acme-uid", 50, 0, time.Hour),
			lic("original", "shared", "globex", "globex-uid", 50, -time.Hour, time.Hour),
			lic("own", "2", "acme", "acme-uid", 5, 0, time.Hour)}, want: "own"},
		"a license id used later in another organization still counts here": {licenses: licenses{
			lic("original", "shared", "acme", "acme-uid", 50, -time.Hour, time.Hour),
			lic("copy", "shared", "globex", "globex-uid", 50, 0, time.Hour)}, want: "original"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			keys, err := keyReader{Reader: tc.licenses, Verifier: license.NewVerifier(pub)}.organizationKeys(context.Background(), org)
			if err != nil {
				t.Fatal(err)
			}
			// No grace or restricted period: expired means expired.
			if got := (plan.Settings{}).Decide(keys, now).License; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
