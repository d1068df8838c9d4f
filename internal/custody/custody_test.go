package custody

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

func TestCheckKey(t *testing.T) {
	_, vendor, _ := ed25519.GenerateKey(rand.Reader)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	issue := func(priv ed25519.PrivateKey, boundTo string, nbf, exp time.Duration) string {
		k, err := license.Issue(priv, license.Claims{
			RegisteredClaims: jwt.RegisteredClaims{ID: "l1", NotBefore: jwt.NewNumericDate(now.Add(nbf)), ExpiresAt: jwt.NewNumericDate(now.Add(exp))},
			Type:             "team", Licensee: "x", Organization: boundTo,
		})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	good := issue(vendor, "", -time.Minute, time.Hour)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.Split(issue(vendor, "other", -time.Minute, time.Hour), ".")[1] + "." + parts[2]
	org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "acme-uid"}}
	tests := map[string]struct {
		key, refusal string
	}{
		"valid and unbound":     {key: good},
		"bound to the uid":      {key: issue(vendor, "acme-uid", -time.Minute, time.Hour)},
		"bound to the name":     {key: issue(vendor, "acme", -time.Minute, time.Hour)},
		"expired":               {key: issue(vendor, "", -2*time.Hour, -time.Hour), refusal: "the license has expired"},
		"not yet valid":         {key: issue(vendor, "", time.Hour, 2*time.Hour), refusal: "not valid yet"},
		"tampered":              {key: tampered, refusal: "signature does not match"},
		"untrusted signer":      {key: issue(stranger, "", -time.Minute, time.Hour), refusal: "does not trust"},
		"bound to another uid":  {key: issue(vendor, "globex-uid", -time.Minute, time.Hour), refusal: "bound to another organization"},
		"bound to another name": {key: issue(vendor, "globex", -time.Minute, time.Hour), refusal: "bound to another organization"},
		"not a key at all":      {key: "hello", refusal: "not a well-formed license"},
	}
	v := license.NewVerifier(vendor.Public().(ed25519.PublicKey))
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := CheckKey(v, tc.key, org, now)
			switch {
			case tc.refusal == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
				t.Fatalf("got %v, want a refusal saying %q", err, tc.refusal)
			}
		})
	}
}

func TestIsAdmin(t *testing.T) {
	org := &v1alpha1.Organization{Spec: v1alpha1.OrganizationSpec{Members: []v1alpha1.Member{
		{Kind: "User", Name: "alice", Role: "admin"}, {Kind: "User", Name: "bob", Role: "member"},
		{Kind: "Group", Name: "acme-admins", Role: "admin"},
		{Kind: "ServiceAccount", Namespace: "ci", Name: "deployer", Role: "admin"}}}}
	tests := map[string]struct {
		u    user.Info
		want bool
	}{
		"admin user":                {u: &user.DefaultInfo{Name: "alice"}, want: true},
		"member user":               {u: &user.DefaultInfo{Name: "bob"}},
		"through an admin group":    {u: &user.DefaultInfo{Name: "carol", Groups: []string{"acme-admins"}}, want: true},
		"a user named like a group": {u: &user.DefaultInfo{Name: "acme-admins"}},
		"admin service account":     {u: &user.DefaultInfo{Name: "system:serviceaccount:ci:deployer"}, want: true},
		"stranger":                  {u: &user.DefaultInfo{Name: "mallory"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsAdmin(org, tc.u); got != tc.want {
				t.Errorf("IsAdmin = %v, want %v", got, tc.want)
			}
		})
	}
}
