package views

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	myv1 "github.com/orgplane/orgplane/api/my/v1"
)

// Use points the kubeconfig's current context (or contextName) at the
// namespace of one of the caller's organizations ("acme": its namespace)
// or accounts ("acme.web" or "acme/web": its workspace), as the caller's
// own my.orgplane.io views show it, and says what it did. A name the
// caller may not see changes nothing.
func Use(ctx context.Context, rules *clientcmd.ClientConfigLoadingRules, contextName, target string) (string, error) {
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: contextName})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return "", err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	resource, name, field := "organizations", target, "namespace"
	if org, account, ok := strings.Cut(strings.Replace(target, "/", ".", 1), "."); ok {
		resource, name, field = "accounts", AccountName(org, account), "workspace"
	}
	view, err := dyn.Resource(myv1.GroupVersion.WithResource(resource)).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	ns, _, _ := unstructured.NestedString(view.Object, "status", field)
	role, _, _ := unstructured.NestedString(view.Object, "status", "role")
	if ns == "" {
		return "", fmt.Errorf("%s %s has no namespace yet: wait until it is Ready", resource, name)
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return "", err
	}
	current := raw.CurrentContext
	if contextName != "" {
		current = contextName
	}
	kc, ok := raw.Contexts[current]
	if !ok {
		return "", fmt.Errorf("the kubeconfig has no context %q", current)
	}
	kc.Namespace = ns
	if err := clientcmd.ModifyConfig(loader.ConfigAccess(), raw, false); err != nil {
		return "", err
	}
	return fmt.Sprintf("Context %q now uses namespace %q (%s %s, your role: %s).", current, ns,
		strings.TrimSuffix(resource, "s"), name, role), nil
}
