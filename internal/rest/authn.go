package rest

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/clock"
)

// authn authenticates requests the way an aggregated API server does.
type authn struct {
	auth          authenticator.Request
	requestHeader *authenticatorfactory.RequestHeaderConfig
}

// newAuthenticator builds k8s.io/apiserver's delegating authenticator from
// the cluster's kube-system/extension-apiserver-authentication ConfigMap
// and TokenReview, and starts the controllers that keep its CAs current.
func newAuthenticator(ctx context.Context, kubeconfig string) (*authn, error) {
	o := options.NewDelegatingAuthenticationOptions()
	o.RemoteKubeConfigFile = kubeconfig
	info, serving := &server.AuthenticationInfo{}, &server.SecureServingInfo{}
	if err := o.ApplyTo(info, serving, nil); err != nil {
		return nil, fmt.Errorf("failed to set up delegated authentication: %w", err)
	}
	if runner, ok := serving.ClientCA.(dynamiccertificates.ControllerRunner); ok {
		if err := runner.RunOnce(ctx); err != nil {
			return nil, fmt.Errorf("failed to load the cluster's client CAs: %w", err)
		}
		go runner.Run(ctx, 1)
	}
	auth := newCertCache(info.Authenticator, info.RequestHeaderConfig, clock.RealClock{})
	return &authn{auth: auth, requestHeader: info.RequestHeaderConfig}, nil
}

// newAuthorizer builds k8s.io/apiserver's delegating authorizer: a
// SubjectAccessReview per question, its answer remembered for 10 s whether
// allowed or denied (as an aggregated API server does), and system:masters
// always allowed (as kube-apiserver does).
func newAuthorizer(kubeconfig string) (authorizer.Authorizer, error) {
	o := options.NewDelegatingAuthorizationOptions()
	o.RemoteKubeConfigFile = kubeconfig
	info := &server.AuthorizationInfo{}
	if err := o.ApplyTo(info); err != nil {
		return nil, fmt.Errorf("failed to set up delegated authorization: %w", err)
	}
	return info.Authorizer, nil
}

// wrap authenticates every request; anonymous callers get 401 from the routes.
func (a *authn) wrap(h http.Handler) http.Handler {
	failed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errUnauthorized)
	})
	return filters.WithAuthentication(h, a.auth, failed, nil, a.requestHeader)
}

// writeKubeconfig writes cfg as a kubeconfig file, which the delegating
// authentication options read.
func writeKubeconfig(cfg *rest.Config) (string, error) {
	f, err := os.CreateTemp("", "orgplane-rest-*.kubeconfig")
	if err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile,
		CertificateAuthorityData: cfg.CAData, InsecureSkipTLSVerify: cfg.Insecure}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{ClientCertificate: cfg.CertFile, ClientKey: cfg.KeyFile,
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken, TokenFile: cfg.BearerTokenFile}
	kc.Contexts["context"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "user"}
	kc.CurrentContext = "context"
	return f.Name(), clientcmd.WriteToFile(*kc, f.Name())
}
