package manager

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// CertRotation makes the manager issue and rotate its own serving
// certificate (open-policy-agent/cert-controller): a CA and a certificate
// for DNSNames are kept in the Secret, which the Deployment mounts at the
// webhook and REST certificate directories, and the CA is injected into the
// webhook configurations and the APIServices. Every replica runs it;
// concurrent writers of the Secret settle by optimistic concurrency.
type CertRotation struct {
	// Secret holds ca.crt, ca.key, tls.crt and tls.key. It must exist (the
	// manifests create it empty).
	Secret types.NamespacedName
	// DNSNames are the certificate's names: the webhook Service's and the
	// REST Service's <name>.<namespace>.svc.
	DNSNames []string
	// WebhookConfiguration, MutatingWebhookConfiguration and every
	// APIServices entry receive the CA bundle.
	WebhookConfiguration         string
	MutatingWebhookConfiguration string
	APIServices                  []string
	// ServerValidity, CheckInterval and Lookahead default to
	// cert-controller's: 1 year, 12 hours, 90 days.
	ServerValidity time.Duration
	CheckInterval  time.Duration
	Lookahead      time.Duration
}

// DefaultCertRotation names the objects config/default installs.
var DefaultCertRotation = CertRotation{
	Secret: types.NamespacedName{Namespace: "orgplane-system", Name: "orgplane-serving-cert"},
	DNSNames: []string{"orgplane-webhook-service.orgplane-system.svc", "orgplane-api.orgplane-system.svc",
		"orgplane-webhook-service.orgplane-system.svc.cluster.local", "orgplane-api.orgplane-system.svc.cluster.local"},
	WebhookConfiguration:         "orgplane-validating-webhook-configuration",
	MutatingWebhookConfiguration: "orgplane-mutating-webhook-configuration",
	// The REST API and the per-user views, both served by the REST server.
	APIServices: []string{"v1.api.orgplane.io", "v1.my.orgplane.io"},
}

// The rotator reads every webhook configuration and APIService (its cache
// watches the kinds) but may update only orgplane's (DefaultCertRotation's).
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=update,resourceNames=orgplane-validating-webhook-configuration
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=update,resourceNames=orgplane-mutating-webhook-configuration
// +kubebuilder:rbac:groups=apiregistration.k8s.io,resources=apiservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiregistration.k8s.io,resources=apiservices,verbs=update,resourceNames=v1.api.orgplane.io;v1.my.orgplane.io
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;update,namespace=orgplane-system

// addCertRotation registers the rotator, which closes ready once this
// replica's certificate files are mounted and the CA is injected.
func addCertRotation(mgr ctrl.Manager, c CertRotation, certDir string, ready chan struct{}) error {
	if len(c.DNSNames) == 0 || certDir == "" {
		return errors.New("certificate rotation needs DNS names and a webhook certificate directory")
	}
	webhooks := []rotator.WebhookInfo{
		{Name: c.WebhookConfiguration, Type: rotator.Validating},
		{Name: c.MutatingWebhookConfiguration, Type: rotator.Mutating},
	}
	for _, name := range c.APIServices {
		webhooks = append(webhooks, rotator.WebhookInfo{Name: name, Type: rotator.APIService})
	}
	err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:              c.Secret,
		CertDir:                certDir,
		CAName:                 "orgplane-ca",
		CAOrganization:         "orgplane",
		DNSName:                c.DNSNames[0],
		ExtraDNSNames:          c.DNSNames[1:],
		IsReady:                ready,
		Webhooks:               webhooks,
		FieldOwner:             "orgplane-cert-rotation",
		ServerCertDuration:     c.ServerValidity,
		RotationCheckFrequency: c.CheckInterval,
		LookaheadInterval:      c.Lookahead,
		EnableReadinessCheck:   true,
	})
	if err != nil {
		return fmt.Errorf("failed to set up certificate rotation: %w", err)
	}
	return nil
}

// certsReady is a readiness check passing once ready is closed.
func certsReady(ready <-chan struct{}) healthz.Checker {
	return func(*http.Request) error {
		select {
		case <-ready:
			return nil
		default:
			return errors.New("the serving certificate is not mounted or its CA not injected yet")
		}
	}
}

// gatedWebhookServer starts the webhook server only once the serving
// certificate is ready: the server reads the files when it starts.
type gatedWebhookServer struct {
	webhook.Server
	ready <-chan struct{}
}

func (s gatedWebhookServer) Start(ctx context.Context) error {
	select {
	case <-s.ready:
		return s.Server.Start(ctx)
	case <-ctx.Done():
		return nil
	}
}

// gatedRunnable starts a runnable that serves on every replica once the
// serving certificate is ready.
type gatedRunnable struct {
	manager.Runnable
	ready <-chan struct{}
}

func (r gatedRunnable) NeedLeaderElection() bool { return false }

func (r gatedRunnable) Start(ctx context.Context) error {
	select {
	case <-r.ready:
		return r.Runnable.Start(ctx)
	case <-ctx.Done():
		return nil
	}
}

// tlsServing is a readiness check passing when addr completes a TLS
// handshake: the server is listening with a certificate loaded.
func tlsServing(addr string) healthz.Checker {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return func(*http.Request) error {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second},
			Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // only checks that the server answers TLS
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("REST server not serving on %s: %w", addr, err)
		}
		return conn.Close()
	}
}

// cacheSynced is a readiness check passing once the manager's cache has
// synced: REST and admission answer from it.
func cacheSynced(mgr ctrl.Manager) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("informer cache not synced")
		}
		return nil
	}
}
