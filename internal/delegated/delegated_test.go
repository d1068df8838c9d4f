package delegated

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// The kubeconfig k8s.io/apiserver's options read must never hold the
// manager's credentials: a temp file outlives the process that wrote it.
func TestKubeconfigFileHoldsNoCredentials(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "secret-token-value",
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(d.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret-token-value") || strings.Contains(string(b), "token") {
		t.Fatalf("the kubeconfig file holds a credential:\n%s", b)
	}
	if d.Wrap(http.DefaultTransport) == http.DefaultTransport {
		t.Fatal("the wrapper does not put in the manager's own transport")
	}
	d.Close()
	if _, err := os.Stat(d.Kubeconfig); !os.IsNotExist(err) {
		t.Fatalf("the kubeconfig file was not removed: %v", err)
	}
}
