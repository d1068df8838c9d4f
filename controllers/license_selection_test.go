package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// licenses answers List by the two License indexes, as the cache does.
type licenses []v1alpha1.License

func (l licenses) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return nil
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

func TestEffectiveLicense(t *testing.T) {
	now := time.Now()
	org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "acme-uid"}}
	lic := func(name, id, org, uid string, accounts int64, created time.Duration, expires time.Duration) v1alpha1.License {
		exp := metav1.NewTime(now.Add(expires))
		return v1alpha1.License{
			ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(created))},
			Spec:       v1alpha1.LicenseSpec{Organization: org},
			Status: v1alpha1.LicenseStatus{ObservedGeneration: 1, Phase: v1alpha1.LicenseValid, LicenseID: id,
				Organization: org, OrganizationUID: uid, Limits: &v1alpha1.Limits{Accounts: accounts}, ExpiresAt: &exp},
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
			got, err := EffectiveLicense(context.Background(), tc.licenses, org, now)
			if err != nil {
				t.Fatal(err)
			}
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tc.want {
				t.Errorf("got %q, want %q", name, tc.want)
			}
		})
	}
}
