package rest

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/orgplane/orgplane/internal/delegated"
)

// authn authenticates requests the way an aggregated API server does.
type authn struct {
	auth          authenticator.Request
	requestHeader *authenticatorfactory.RequestHeaderConfig
}

// newAuthenticator builds k8s.io/apiserver's delegating authenticator from
// the cluster's kube-system/extension-apiserver-authentication ConfigMap
// and TokenReview, and starts the controllers that keep its CAs current.
func newAuthenticator(ctx context.Context, cfg *rest.Config) (*authn, error) {
	d, err := delegated.New(cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	o := options.NewDelegatingAuthenticationOptions()
	o.RemoteKubeConfigFile = d.Kubeconfig
	o.WithCustomRoundTripper(d.Wrap)
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

// wrap authenticates every request; anonymous callers get 401 from the routes.
func (a *authn) wrap(h http.Handler) http.Handler {
	failed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errUnauthorized)
	})
	return filters.WithAuthentication(h, a.auth, failed, nil, a.requestHeader)
}
