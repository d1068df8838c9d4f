package localcp

import (
	"fmt"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// WebhookClientAuth is how kube-apiserver proves itself to the webhook
// server: a client certificate signed by CAFile, which the webhook server
// requires of every caller (manager.Options.WebhookClientCAFile).
type WebhookClientAuth struct {
	// CAFile signs kube-apiserver's webhook client certificate.
	CAFile string
	// CertFile and KeyFile are that certificate, for tests that call the
	// webhook server as kube-apiserver would.
	CertFile, KeyFile string
}

// configureWebhookClientAuth issues kube-apiserver a client certificate for
// calling admission webhooks and points --admission-control-config-file at a
// WebhookAdmissionConfiguration whose kubeconfig presents it to every webhook
// host ("*").
func configureWebhookClientAuth(api *envtest.APIServer, dir string) (*WebhookClientAuth, error) {
	pki := filepath.Join(dir, "pki", "webhook-client")
	ca, err := newCA("orgplane-webhook-client-ca")
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.issue("kube-apiserver-webhook-client")
	if err != nil {
		return nil, err
	}
	auth := &WebhookClientAuth{CAFile: filepath.Join(pki, "ca.crt"),
		CertFile: filepath.Join(pki, "client.crt"), KeyFile: filepath.Join(pki, "client.key")}
	kubeconfig := filepath.Join(pki, "kubeconfig")
	admission := filepath.Join(pki, "admission.yaml")
	if err := writeFiles(pki, map[string][]byte{
		"ca.crt": ca.certPEM(), "client.crt": cert, "client.key": key,
		"kubeconfig":     []byte(WebhookKubeconfig("*", auth.CertFile, auth.KeyFile)),
		"admission.yaml": []byte(AdmissionConfiguration(kubeconfig)),
	}); err != nil {
		return nil, err
	}
	api.Configure().Set("admission-control-config-file", admission)
	return auth, nil
}

// WebhookKubeconfig is the kubeconfig kube-apiserver uses to authenticate to
// the webhook servers named host ("*" for every one).
func WebhookKubeconfig(host, certFile, keyFile string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
users:
- name: %q
  user:
    client-certificate: %s
    client-key: %s
`, host, certFile, keyFile)
}

// AdmissionConfiguration is kube-apiserver's --admission-control-config-file
// for validating and mutating webhooks that authenticate with kubeconfig.
func AdmissionConfiguration(kubeconfig string) string {
	const plugin = `- name: %s
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %s
`
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n" +
		fmt.Sprintf(plugin, "ValidatingAdmissionWebhook", kubeconfig) +
		fmt.Sprintf(plugin, "MutatingAdmissionWebhook", kubeconfig)
}
