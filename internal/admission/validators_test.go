package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// namespaces answers Get for the namespaces it holds and NotFound for the
// rest: an empty one is a cache that has not seen a new namespace yet.
type namespaces map[string]*corev1.Namespace

func (n namespaces) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	ns, ok := n[key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, key.Name)
	}
	ns.DeepCopyInto(obj.(*corev1.Namespace))
	return nil
}

func (n namespaces) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func TestOrganizationOfANamespaceTheCacheHasNotSeen(t *testing.T) {
	live := namespaces{"org-acme": {ObjectMeta: metav1.ObjectMeta{Name: "org-acme", Labels: map[string]string{
		v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelOrganization: "acme"}}}}
	r := namespaceReader{cached: namespaces{}, live: live}
	for _, tc := range []struct{ namespace, want string }{{"org-acme", "acme"}, {"elsewhere", ""}} {
		org, err := r.organization(context.Background(), tc.namespace, "org-")
		if err != nil || org != tc.want {
			t.Errorf("organization of %s: got %q, %v; want %q", tc.namespace, org, err, tc.want)
		}
	}
}

func TestAddsMember(t *testing.T) {
	alice := v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: "alice@x.io", Role: v1alpha1.RoleAdmin}
	bob := v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: "bob@x.io", Role: v1alpha1.RoleMember}
	bobGroup := v1alpha1.Member{Kind: v1alpha1.SubjectGroup, Name: "bob@x.io", Role: v1alpha1.RoleMember}
	tests := map[string]struct {
		old, new []v1alpha1.Member
		want     bool
	}{
		"no change":               {[]v1alpha1.Member{alice, bob}, []v1alpha1.Member{alice, bob}, false},
		"a member removed":        {[]v1alpha1.Member{alice, bob}, []v1alpha1.Member{alice}, false},
		"a role changed":          {[]v1alpha1.Member{alice, bob}, []v1alpha1.Member{alice, {Kind: bob.Kind, Name: bob.Name, Role: v1alpha1.RoleAdmin}}, false},
		"a member added":          {[]v1alpha1.Member{alice}, []v1alpha1.Member{alice, bob}, true},
		"one replaced by another": {[]v1alpha1.Member{alice, bob}, []v1alpha1.Member{alice, bobGroup}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			old := &v1alpha1.Organization{Spec: v1alpha1.OrganizationSpec{Members: tc.old}}
			o := &v1alpha1.Organization{Spec: v1alpha1.OrganizationSpec{Members: tc.new}}
			if got := addsMember(old, o); got != tc.want {
				t.Errorf("addsMember = %v, want %v", got, tc.want)
			}
		})
	}
}
