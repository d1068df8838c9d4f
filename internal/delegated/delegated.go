// Package delegated prepares what k8s.io/apiserver's delegating
// authentication options need to reach the API server as the manager.
//
// k8s.io/apiserver's options read a kubeconfig file. The file written here
// names only the API server and its CA (public data): the manager's
// credentials never touch the disk; its own authenticated transport is put
// in by a round-tripper wrapper, and the file is removed once read.
package delegated

import (
	"fmt"
	"net/http"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"
)

// Options is what a delegating option set needs: a kubeconfig path and a
// transport wrapper.
type Options struct {
	Kubeconfig string
	Wrap       transport.WrapperFunc
	remove     func()
}

// Close removes the kubeconfig file.
func (o *Options) Close() { o.remove() }

// New writes a credential-free kubeconfig for cfg's API server and
// returns it with a wrapper that sends every request through cfg's own
// authenticated transport.
func New(cfg *rest.Config) (*Options, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to build the manager's transport: %w", err)
	}
	f, err := os.CreateTemp("", "orgplane-apiserver-*.kubeconfig")
	if err != nil {
		return nil, err
	}
	f.Close()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile,
		CertificateAuthorityData: cfg.CAData, InsecureSkipTLSVerify: cfg.Insecure}
	kc.AuthInfos["none"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["context"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "none"}
	kc.CurrentContext = "context"
	remove := func() { _ = os.Remove(f.Name()) }
	if err := clientcmd.WriteToFile(*kc, f.Name()); err != nil {
		remove()
		return nil, err
	}
	wrap := func(http.RoundTripper) http.RoundTripper { return rt }
	return &Options{Kubeconfig: f.Name(), Wrap: wrap, remove: remove}, nil
}
