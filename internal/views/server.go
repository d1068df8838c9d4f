package views

import (
	"context"
	"net/http"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/compatibility"
	restclient "k8s.io/client-go/rest"

	myv1 "github.com/orgplane/orgplane/api/my/v1"
	"github.com/orgplane/orgplane/internal/views/openapi"
)

// Options configure the views' API server.
type Options struct {
	// Authenticator and RequestHeader authenticate callers, as the REST
	// API does (k8s.io/apiserver's delegating authentication).
	Authenticator authenticator.Request
	RequestHeader *authenticatorfactory.RequestHeaderConfig
	// Loopback is the manager's client configuration.
	Loopback *restclient.Config
	// Admins says who is a platform admin.
	Admins PlatformAdmins
	// Index is what the views are made from.
	Index *Index
}

// Paths are the paths NewHandler answers, as http.ServeMux patterns.
var Paths = []string{"/apis", "/apis/" + myv1.GroupVersion.Group, "/apis/" + myv1.GroupVersion.Group + "/", "/openapi/"}

// NewHandler builds the generic API server for my.orgplane.io/v1 and
// answers its paths: /apis (discovery), /apis/my.orgplane.io/... and
// /openapi/... (for kubectl explain).
func NewHandler(o Options) (http.Handler, error) {
	scheme := runtime.NewScheme()
	if err := myv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	scheme.AddUnversionedTypes(schema.GroupVersion{Version: "v1"},
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
	for _, k := range []*kind{organizations, accounts} {
		if err := scheme.AddFieldLabelConversionFunc(myv1.GroupVersion.WithKind(k.kindName), fieldLabels(k)); err != nil {
			return nil, err
		}
	}
	codecs := serializer.NewCodecFactory(scheme)

	cfg := genericapiserver.NewConfig(codecs)
	cfg.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	cfg.ExternalAddress = "orgplane-api.orgplane-system.svc:443"
	cfg.LoopbackClientConfig = o.Loopback
	cfg.Authentication.Authenticator = o.Authenticator
	cfg.Authentication.RequestHeaderConfig = o.RequestHeader
	cfg.Authorization.Authorizer = authorizer.AuthorizerFunc(readOnly)
	cfg.EnableProfiling, cfg.EnableMetrics, cfg.EnableIndex = false, false, false
	namer := openapinamer.NewDefinitionNamer(scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title, cfg.OpenAPIConfig.Info.Version = "orgplane views", "v1"
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title, cfg.OpenAPIV3Config.Info.Version = "orgplane views", "v1"

	server, err := cfg.Complete(nil).New("orgplane-views", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(myv1.GroupVersion.Group, scheme, runtime.NewParameterCodec(scheme), codecs)
	group.VersionedResourcesStorageMap[myv1.GroupVersion.Version] = map[string]rest.Storage{
		organizations.resource: &storage{kind: organizations, ix: o.Index, admins: o.Admins},
		accounts.resource:      &storage{kind: accounts, ix: o.Index, admins: o.Admins},
	}
	if err := server.InstallAPIGroup(&group); err != nil {
		return nil, err
	}
	server.PrepareRun()
	return server.Handler, nil
}

// fieldLabels accepts the field selectors a kind's views can be selected
// by, and says which ones when another is asked for.
func fieldLabels(k *kind) runtime.FieldLabelConversionFunc {
	return func(label, value string) (string, string, error) {
		if slices.Contains(k.fieldNames, label) {
			return label, value, nil
		}
		return "", "", fieldSelectorError(k, label)
	}
}

// readOnly lets every signed-in caller read the views (what each sees is
// filtered by membership) and discovery, and nothing else: no writes, no
// impersonation.
func readOnly(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.GetUser() == nil || a.GetUser().GetName() == user.Anonymous {
		return authorizer.DecisionDeny, "sign in", nil
	}
	if !a.IsResourceRequest() {
		if a.GetVerb() == "get" {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionDeny, "read-only", nil
	}
	if a.GetAPIGroup() == myv1.GroupVersion.Group && a.GetSubresource() == "" {
		switch a.GetVerb() {
		case "get", "list", "watch":
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionDeny, "my.orgplane.io is read-only: change organizations through orgplane.io/v1alpha1 or api.orgplane.io", nil
}

// NoWriteDeadline lets a watch outlive the REST server's write timeout:
// the generic server bounds every other request itself.
func NoWriteDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		h.ServeHTTP(w, r)
	})
}
