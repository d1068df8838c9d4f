package localcp

import (
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The Service the APIService points at. The aggregator checks the backend's
// certificate against <name>.<namespace>.svc.
const (
	APIServiceNamespace = "orgplane-system"
	APIServiceName      = "orgplane-api"
)

// Aggregation is what an aggregated API served on this machine needs: a
// serving certificate the aggregator trusts.
type Aggregation struct {
	// ServingCertDir holds tls.crt and tls.key, valid for
	// orgplane-api.orgplane-system.svc, localhost and 127.0.0.1.
	ServingCertDir string
	// CABundle signs the serving certificate (the APIService's caBundle).
	CABundle []byte
}

// configureAggregation sets the front-proxy flags envtest leaves out — the
// request-header CA, allowed names and headers, and the proxy's client
// certificate — and writes a serving certificate for the extension server.
func configureAggregation(api *envtest.APIServer, dir string) (*Aggregation, error) {
	pki := filepath.Join(dir, "pki")
	proxyCA, err := newCA("front-proxy-ca")
	if err != nil {
		return nil, err
	}
	proxyCert, proxyKey, err := proxyCA.issue("front-proxy-client")
	if err != nil {
		return nil, err
	}
	servingCA, err := newCA("orgplane-serving-ca")
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := servingCA.issue(APIServiceName,
		APIServiceName+"."+APIServiceNamespace+".svc", "localhost")
	if err != nil {
		return nil, err
	}
	if err := writeFiles(pki, map[string][]byte{
		"front-proxy-ca.crt": proxyCA.certPEM(), "front-proxy-client.crt": proxyCert, "front-proxy-client.key": proxyKey,
	}); err != nil {
		return nil, err
	}
	serving := filepath.Join(pki, "serving")
	if err := writeFiles(serving, map[string][]byte{"tls.crt": servingCert, "tls.key": servingKey}); err != nil {
		return nil, err
	}
	args := api.Configure()
	args.Set("requestheader-client-ca-file", filepath.Join(pki, "front-proxy-ca.crt"))
	args.Set("requestheader-allowed-names", "front-proxy-client")
	args.Set("requestheader-username-headers", "X-Remote-User")
	args.Set("requestheader-group-headers", "X-Remote-Group")
	args.Set("requestheader-extra-headers-prefix", "X-Remote-Extra-")
	args.Set("proxy-client-cert-file", filepath.Join(pki, "front-proxy-client.crt"))
	args.Set("proxy-client-key-file", filepath.Join(pki, "front-proxy-client.key"))
	return &Aggregation{ServingCertDir: serving, CABundle: servingCA.certPEM()}, nil
}

// RegisterAPIService points APIService <version>.<group> at an extension
// server listening on localhost:port, through a Service of type ExternalName.
func (cp *ControlPlane) RegisterAPIService(ctx context.Context, group, version string, priority int64, port int) error {
	if cp.Aggregation == nil {
		return fmt.Errorf("the control plane was started without aggregation")
	}
	c, err := client.New(cp.Config, client.Options{})
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: APIServiceNamespace}}
	if err := c.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: APIServiceName, Namespace: APIServiceNamespace},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https", Port: int32(port), TargetPort: intstr.FromInt(port)}}},
	}
	if err := c.Create(ctx, svc); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": version + "." + group},
		"spec": map[string]any{
			"group": group, "version": version, "caBundle": cp.Aggregation.CABundle,
			"groupPriorityMinimum": priority, "versionPriority": int64(15),
			"service": map[string]any{"namespace": APIServiceNamespace, "name": APIServiceName, "port": int64(port)},
		},
	}}
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(apiService),
		client.FieldOwner("orgplane-localcp"), client.ForceOwnership)
}

// APIService is one of orgplane's aggregated APIs, as config/manager/api.yaml
// declares it.
type APIService struct {
	Group, Version string
	// Priority is the group's groupPriorityMinimum: my.orgplane.io's is
	// below the orgplane.io CRDs' (1000), so that `kubectl get
	// organizations` keeps meaning orgplane.io.
	Priority int64
}

// OrgplaneAPIs are the REST API and the views, both served by the
// manager's REST server.
var OrgplaneAPIs = []APIService{{"api.orgplane.io", "v1", 1000}, {"my.orgplane.io", "v1", 900}}

// RegisterOrgplaneAPIs registers OrgplaneAPIs at the REST server's port.
func (cp *ControlPlane) RegisterOrgplaneAPIs(ctx context.Context, port int) error {
	for _, a := range OrgplaneAPIs {
		if err := cp.RegisterAPIService(ctx, a.Group, a.Version, a.Priority, port); err != nil {
			return err
		}
	}
	return nil
}
