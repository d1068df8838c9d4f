package report

import (
	"context"
	"crypto/ed25519"
	"os"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/orgplane/orgplane/internal/license"
)

// apiServer starts a real kube-apiserver and etcd from KUBEBUILDER_ASSETS.
func apiServer(t *testing.T) client.WithWatch {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Skip("KUBEBUILDER_ASSETS is unset: set it to a directory with kube-apiserver and etcd " +
			"(e.g. bin/k8s/1.37.2-etcd3.6.16) to test against a real API server")
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	c, err := client.NewWithWatch(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func namespace(t *testing.T, c client.Client, name string) string {
	t.Helper()
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestEnsureKey(t *testing.T) {
	c := apiServer(t)
	ctx := context.Background()

	t.Run("first call creates, second returns the same key", func(t *testing.T) {
		ns := namespace(t, c, "first")
		first, err := EnsureKey(ctx, c, ns)
		if err != nil {
			t.Fatal(err)
		}
		secret := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: KeySecretName}, secret); err != nil {
			t.Fatal(err)
		}
		stored, err := license.ParsePrivateKey(secret.Data[KeySecretKey])
		if err != nil || !stored.Equal(first) {
			t.Fatalf("stored key differs from the returned one (err %v)", err)
		}
		if secret.Type != corev1.SecretTypeOpaque || secret.Labels["app.kubernetes.io/component"] != "usage-report-key" ||
			secret.Labels["app.kubernetes.io/name"] != "orgplane" {
			t.Errorf("type %q labels %v", secret.Type, secret.Labels)
		}
		second, err := EnsureKey(ctx, c, ns)
		if err != nil {
			t.Fatal(err)
		}
		if !second.Equal(first) {
			t.Error("second call returned another key")
		}
	})

	t.Run("concurrent first calls return the same key", func(t *testing.T) {
		ns := namespace(t, c, "concurrent")
		keys := make([]ed25519.PrivateKey, 8)
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = EnsureKey(ctx, c, ns) })
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !keys[i].Equal(keys[0]) {
				t.Fatalf("call %d returned another key than call 0", i)
			}
		}
	})

	t.Run("losing the race returns the winner's key", func(t *testing.T) {
		ns := namespace(t, c, "race")
		winner, err := EnsureKey(ctx, c, ns)
		if err != nil {
			t.Fatal(err)
		}
		// The loser read before the winner created the Secret.
		missed := false
		loser := interceptor.NewClient(c, interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if !missed {
					missed = true
					return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
				}
				return c.Get(ctx, key, obj, opts...)
			},
		})
		got, err := EnsureKey(ctx, loser, ns)
		if err != nil {
			t.Fatal(err)
		}
		if !missed || !got.Equal(winner) {
			t.Error("the loser did not return the winner's key")
		}
	})
}
