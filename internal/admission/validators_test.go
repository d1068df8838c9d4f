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
