// Package delegated builds k8s.io/apiserver's delegating authentication and
// authorization for the manager, and answers who is a platform admin.
//
// k8s.io/apiserver's options read a kubeconfig file. The file written here
// names only the API server and its CA (public data): the manager's
// credentials never touch the disk; its own authenticated transport is put
// in by a round-tripper wrapper, and the file is removed once read.
package delegated

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"

	"github.com/orgplane/orgplane/api/v1alpha1"
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

// PlatformAdmins answers whether a user is a platform admin: whoever may
// update organizations.orgplane.io cluster-wide (system:masters always).
// Answers are remembered for 10 s, allowed or denied.
type PlatformAdmins struct {
	authz authorizer.Authorizer
}

// NewPlatformAdmins builds k8s.io/apiserver's delegating authorizer
// (SubjectAccessReview) for cfg's API server.
func NewPlatformAdmins(cfg *rest.Config) (*PlatformAdmins, error) {
	d, err := New(cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	o := options.NewDelegatingAuthorizationOptions()
	o.RemoteKubeConfigFile = d.Kubeconfig
	o.WithCustomRoundTripper(d.Wrap)
	info := &server.AuthorizationInfo{}
	if err := o.ApplyTo(info); err != nil {
		return nil, fmt.Errorf("failed to set up delegated authorization: %w", err)
	}
	return &PlatformAdmins{authz: info.Authorizer}, nil
}

// Is says whether u is a platform admin.
func (p *PlatformAdmins) Is(ctx context.Context, u user.Info) (bool, error) {
	decision, _, err := p.authz.Authorize(ctx, authorizer.AttributesRecord{
		User: u, Verb: "update", APIGroup: v1alpha1.GroupVersion.Group, Resource: "organizations", ResourceRequest: true,
	})
	if err != nil {
		return false, fmt.Errorf("failed to review access: %w", err)
	}
	return decision == authorizer.DecisionAllow, nil
}
