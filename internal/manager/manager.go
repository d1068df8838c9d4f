// Package manager builds the orgplane controller manager: scheme, cache,
// indexes and reconcilers. cmd/orgplane, make dev and the tests all run it.
package manager

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
	"github.com/orgplane/orgplane/internal/admission"
	"github.com/orgplane/orgplane/internal/console"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/report"
	restapi "github.com/orgplane/orgplane/internal/rest"
	"github.com/orgplane/orgplane/internal/tenancy"
)

// Options configure the manager.
type Options struct {
	// MetricsAddr serves Prometheus metrics; "0" disables it.
	MetricsAddr string
	// MetricsSecure serves metrics over HTTPS to callers authenticated by
	// TokenReview and authorized by SubjectAccessReview (get on the
	// non-resource URL /metrics).
	MetricsSecure bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics server;
	// empty means a self-signed certificate.
	MetricsCertDir string
	// ProbeAddr serves /healthz and /readyz; "0" disables it.
	ProbeAddr string
	// LeaderElection lets only one replica run the reconcilers.
	LeaderElection bool
	// LeaderElectionNamespace holds the leader-election Lease.
	LeaderElectionNamespace string
	// InvitationMinExpiry is the shortest expiry an invitation may have
	// (default 1 day).
	InvitationMinExpiry time.Duration
	// DNSServer is host:port of the DNS server domain proofs are looked up
	// with; empty means the system resolver.
	DNSServer string
	// ConsumerDomains extend the shipped list of consumer e-mail domains
	// no organization may claim.
	ConsumerDomains []string
	// DomainRecheck is how often a verified domain is looked up again
	// (default 6h).
	DomainRecheck time.Duration
	// reportKey signs usage reports; New reads or makes it.
	reportKey ed25519.PrivateKey
	// Plan has the free plan (limits, guardrails, entitlements) and the
	// default grace and restricted periods of license keys that do not
	// name theirs. The organization reconciler decides each organization's
	// plan from it; admission, REST and the other reconcilers read that.
	Plan plan.Settings
	// LicenseVerifier verifies license keys. When nil, the keys in
	// LicensePublicKeyFiles are trusted.
	LicenseVerifier *license.Verifier
	// LicensePublicKeyFiles are PEM files of trusted license public keys.
	LicensePublicKeyFiles []string
	// LicensePublicKeyDir holds more of them: every *.pem file in it (a
	// mounted Secret; add a key to trust it after a restart).
	LicensePublicKeyDir string
	// LicenseIssuerKeyFile is the controller's own private key for
	// self-issued licenses (trials); its public key is trusted too.
	LicenseIssuerKeyFile string
	// Webhooks serves the validating webhooks (limits, licenses).
	Webhooks bool
	// WebhookHost, WebhookPort and WebhookCertDir configure the webhook
	// server (tls.crt and tls.key in WebhookCertDir).
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
	// WebhookClientCAFile, when set, makes the webhook server refuse every
	// caller that does not present a client certificate signed by it
	// (kube-apiserver's, from its --admission-control-config-file). A file
	// missing at start (an optional Secret nobody created) leaves the
	// server open to any caller, with a warning.
	WebhookClientCAFile string
	// RESTAddr serves the REST API when set (host:port), with the
	// certificate in RESTCertDir.
	RESTAddr    string
	RESTCertDir string
	// Console, when set, serves the web console at /console/ on the REST
	// API's address (same origin), with OIDC sign-in when it names an issuer.
	Console *console.Options
	// OrgCreatorGroups may create organizations; empty lets every
	// authenticated user (self-service).
	OrgCreatorGroups []string
	// MaxOrganizationsPerUser bounds how many organizations one user
	// creates; 0 means no bound. Platform admins are not bound.
	MaxOrganizationsPerUser int
	// MaxTrialsPerUser bounds the self-issued licenses (trials) one
	// requester takes over all their organizations, ever; 0 means no bound.
	// ServiceAccounts of one namespace count as one requester.
	MaxTrialsPerUser int
	// AdmissionRatePerUser bounds the admission requests one requester
	// (the REST caller, for the manager's writes on its behalf) sends per
	// second, with a burst of twice as many; beyond it the webhooks answer
	// 429. 0 means admission.DefaultRate; below 0, no bound.
	AdmissionRatePerUser float64
	// CertRotation, when set, issues and rotates the webhook and REST
	// serving certificate (mounted at WebhookCertDir and RESTCertDir) and
	// injects its CA; nil means the files are managed by someone else
	// (cert-manager, make dev, the tests).
	CertRotation *CertRotation
	// SkipNameValidation allows several managers in one process (tests).
	SkipNameValidation bool
}

// workers is how many organizations, accounts and users are each reconciled
// at once.
const workers = 16

// DefaultMaxOrganizationsPerUser is how many organizations one user may
// create unless configured otherwise.
const DefaultMaxOrganizationsPerUser = 10

// DefaultMaxTrialsPerUser is how many self-issued licenses one requester
// may take unless configured otherwise.
const DefaultMaxTrialsPerUser = 1

// DefaultPlan is the free plan and the lifecycle periods unless configured
// otherwise: 3 accounts, 5 users, 10 Deployments, SSO allowed; 14 days of
// grace after a license expires, then 14 days restricted.
var DefaultPlan = plan.Settings{
	FreeLimits:       v1alpha1.Limits{Accounts: 3, Users: 5, Deployments: 10, InvitationsPerHour: 20},
	FreeEntitlements: []string{v1alpha1.EntitlementSSO},
	Grace:            14 * plan.Day,
	Restricted:       14 * plan.Day,
}

// Scheme holds the Kubernetes types and orgplane's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// New builds a manager with every orgplane reconciler registered.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	verifier, issuerKey, err := licenseKeys(opts)
	if err != nil {
		return nil, err
	}
	opts.LicenseVerifier = verifier
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		// Admission reads and reserves on the request path: client-side
		// throttling at client-go's default of 5 QPS would time it out.
		cfg.QPS, cfg.Burst = 200, 400
	}
	// The manager runs beside kube-apiserver: gzip on its watches and lists
	// costs kube-apiserver CPU and saves no time.
	cfg.DisableCompression = true
	certsReady := make(chan struct{}) // closed once the serving certificate is ready
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		WebhookServer:                 gatedWebhookServer{Server: webhook.NewServer(webhookOptions(opts)), ready: certsReady},
		Scheme:                        Scheme(),
		Cache:                         cacheOptions(),
		Metrics:                       metricsOptions(opts),
		HealthProbeBindAddress:        opts.ProbeAddr,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              "orgplane-manager.orgplane.io",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: &opts.SkipNameValidation},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create manager: %w", err)
	}
	if opts.CertRotation == nil {
		close(certsReady) // the files are there already
	} else if err := addCertRotation(mgr, *opts.CertRotation, opts.WebhookCertDir, certsReady); err != nil {
		return nil, err
	}
	if opts.reportKey, err = reportKey(cfg); err != nil {
		return nil, err
	}
	if err := setup(mgr, opts, issuerKey, certsReady); err != nil {
		return nil, err
	}
	return mgr, nil
}

// reportKey is the installation's usage-report key, made on the first
// start and kept in a Secret in orgplane's namespace.
func reportKey(cfg *rest.Config) (ed25519.PrivateKey, error) {
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key, err := report.EnsureKey(ctx, c, tenancy.SystemNamespace)
	if err != nil {
		return nil, fmt.Errorf("failed to read or make the usage-report key (Secret %s/%s): %w", tenancy.SystemNamespace, report.KeySecretName, err)
	}
	return key, nil
}

// webhookOptions serve the webhooks on opts' address, to kube-apiserver only
// when a client CA is set.
func webhookOptions(opts Options) webhook.Options {
	w := webhook.Options{Host: opts.WebhookHost, Port: opts.WebhookPort, CertDir: opts.WebhookCertDir}
	if opts.WebhookClientCAFile == "" {
		return w
	}
	if _, err := os.Stat(opts.WebhookClientCAFile); errors.Is(err, fs.ErrNotExist) {
		// An optional Secret not created: the cluster's kube-apiserver
		// presents no client certificate (docs/operations.md).
		ctrl.Log.Info("WARNING: the webhook server answers any caller: no webhook client CA at " + opts.WebhookClientCAFile +
			"; configure kube-apiserver to authenticate to webhooks and create the Secret (docs/operations.md)")
		return w
	}
	w.TLSOpts = append(w.TLSOpts, requireClientCert(opts.WebhookClientCAFile))
	return w
}

// metricsOptions serve metrics over HTTPS with authentication and
// authorization unless MetricsSecure is off.
func metricsOptions(opts Options) metricsserver.Options {
	m := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.MetricsSecure {
		m.SecureServing, m.CertDir = true, opts.MetricsCertDir
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return m
}

// cacheOptions keep only orgplane's own namespaces, Secrets and RBAC objects
// in memory, and strip managedFields from everything cached.
func cacheOptions() cache.Options {
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue})}
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Namespace{}:           managed,
			&corev1.Secret{}:              managed,
			&rbacv1.Role{}:                managed,
			&rbacv1.RoleBinding{}:         managed,
			&rbacv1.ClusterRole{}:         managed,
			&rbacv1.ClusterRoleBinding{}:  managed,
			&corev1.ResourceQuota{}:       managed,
			&corev1.LimitRange{}:          managed,
			&networkingv1.NetworkPolicy{}: managed,
		},
	}
}

func setup(mgr ctrl.Manager, opts Options, issuerKey ed25519.PrivateKey, certs <-chan struct{}) error {
	if err := index.Setup(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	rec := mgr.GetEventRecorder("orgplane")
	creators := tenancy.Creators{Groups: opts.OrgCreatorGroups, MaxPerUser: opts.MaxOrganizationsPerUser,
		MaxTrials: opts.MaxTrialsPerUser, Reader: mgr.GetClient(), Live: mgr.GetAPIReader(), Writer: mgr.GetClient()}
	reconcilers := []interface{ SetupWithManager(ctrl.Manager) error }{
		&controllers.OrganizationReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: rec,
			Plan: opts.Plan, Verifier: opts.LicenseVerifier, Workers: workers},
		&controllers.AccountReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: rec, Workers: workers},
		&controllers.UserReconciler{Client: mgr.GetClient(), Recorder: rec, Workers: workers},
		&controllers.LicenseReconciler{Client: mgr.GetClient(), Verifier: opts.LicenseVerifier, Recorder: rec, Plan: opts.Plan,
			ReportKey: reportKeyPEM(opts.reportKey)},
		&controllers.RevocationListReconciler{Client: mgr.GetClient(), Verifier: opts.LicenseVerifier, Recorder: rec},
		&controllers.InvitationReconciler{Client: mgr.GetClient(), Recorder: rec},
		&controllers.JoinRequestReconciler{Client: mgr.GetClient(), Recorder: rec},
		&controllers.DomainReconciler{Client: mgr.GetClient(), Recorder: rec, Resolver: domains.Resolver{Server: opts.DNSServer},
			Secret: opts.reportKey.Seed(), Consumer: domains.NewConsumer(opts.ConsumerDomains), Recheck: cmp.Or(opts.DomainRecheck, 6*time.Hour)},
		&controllers.WorkspaceReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: rec},
		&controllers.GuardrailsReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()},
	}
	for _, r := range reconcilers {
		if err := r.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("failed to set up %T: %w", r, err)
		}
	}
	if opts.RESTAddr != "" {
		var issuer *license.SelfIssuer
		if issuerKey != nil {
			issuer = &license.SelfIssuer{Client: mgr.GetClient(), Key: issuerKey, Offers: license.DefaultOffers}
		}
		ropts := restapi.Options{Addr: opts.RESTAddr, CertDir: opts.RESTCertDir, Config: mgr.GetConfig(),
			Issuer: issuer, Verifier: opts.LicenseVerifier, Recorder: mgr.GetEventRecorder("orgplane-rest"),
			Creators: &creators, Plan: opts.Plan, ReportKey: opts.reportKey, Consumer: domains.NewConsumer(opts.ConsumerDomains)}
		if opts.Console != nil {
			ropts.Console = console.Handler(*opts.Console)
		}
		server := restapi.New(mgr, ropts)
		if err := mgr.Add(gatedRunnable{Runnable: server, ready: certs}); err != nil {
			return err
		}
	}
	if opts.Webhooks {
		rate := opts.AdmissionRatePerUser
		opts := admission.Options{Plan: opts.Plan, Verifier: opts.LicenseVerifier, Creators: creators,
			InvitationMinExpiry: opts.InvitationMinExpiry, Consumer: domains.NewConsumer(opts.ConsumerDomains)}
		if rate != 0 {
			opts.Rate = admission.Rate{PerSecond: rate, Burst: max(1, int(2*rate))}
		}
		if err := admission.Setup(mgr, opts); err != nil {
			return fmt.Errorf("failed to set up webhooks: %w", err)
		}
	}
	return addProbes(mgr, opts, certs)
}

// addProbes: ready means this replica can answer REST and admission: its
// certificate is mounted (and its CA injected), its cache has synced, and
// the webhook and REST servers complete a TLS handshake.
func addProbes(mgr ctrl.Manager, opts Options, certs <-chan struct{}) error {
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	checks := map[string]healthz.Checker{"certificates": certsReady(certs), "cache": cacheSynced(mgr)}
	if opts.Webhooks {
		checks["webhooks"] = mgr.GetWebhookServer().StartedChecker()
	}
	if opts.RESTAddr != "" {
		checks["rest"] = tlsServing(opts.RESTAddr)
	}
	for name, check := range checks {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return err
		}
	}
	return nil
}

// licenseKeys loads the issuer key, when configured, and a verifier
// trusting the configured public keys and the issuer key's.
func licenseKeys(opts Options) (*license.Verifier, ed25519.PrivateKey, error) {
	var issuer ed25519.PrivateKey
	var extra []ed25519.PublicKey
	if opts.LicenseIssuerKeyFile != "" {
		key, err := license.LoadPrivateKey(opts.LicenseIssuerKeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to load license issuer key: %w", err)
		}
		issuer, extra = key, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	}
	if opts.LicenseVerifier != nil {
		return opts.LicenseVerifier, issuer, nil
	}
	files := opts.LicensePublicKeyFiles
	if opts.LicensePublicKeyDir != "" {
		inDir, err := filepath.Glob(filepath.Join(opts.LicensePublicKeyDir, "*.pem"))
		if err != nil {
			return nil, nil, err
		}
		files = append(append([]string{}, files...), inDir...)
	}
	v, err := license.LoadVerifier(files, extra...)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to load license public keys: %w", err)
	}
	return v, issuer, nil
}

func reportKeyPEM(key ed25519.PrivateKey) string {
	pem, err := report.PublicKeyPEM(key)
	if err != nil {
		return ""
	}
	return string(pem)
}
