// Command orgplane runs the orgplane manager, or the whole product on a
// local control plane for development.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/orgplane/orgplane/internal/admission"
	"github.com/orgplane/orgplane/internal/console"
	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

func main() {
	zapOpts := zap.Options{}
	root := &cobra.Command{
		Use:          "orgplane",
		Short:        "Organizations, accounts, members and licenses as Kubernetes resources",
		SilenceUsage: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if cmd.Name() == "dev" {
				return // dev logs to a file; the logger can be set only once
			}
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			klog.SetLogger(ctrl.Log)
		},
	}
	goFlags := flag.NewFlagSet("log", flag.ExitOnError)
	zapOpts.BindFlags(goFlags)
	root.PersistentFlags().AddGoFlagSet(goFlags)
	root.AddCommand(managerCommand(), devCommand(), licenseCommand(), openAPICommand(), useCommand())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}

func managerFlags(cmd *cobra.Command, opts *manager.Options) {
	f := cmd.Flags()
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8443",
		"address of the Prometheus metrics endpoint; 0 disables it")
	f.BoolVar(&opts.MetricsSecure, "metrics-secure", true,
		"serve metrics over HTTPS to callers allowed to get the non-resource URL /metrics "+
			"(false: plain HTTP, no authentication)")
	f.StringVar(&opts.MetricsCertDir, "metrics-cert-dir", "",
		"directory with tls.crt and tls.key for the metrics server (default: a self-signed certificate)")
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz; 0 disables it")
	f.BoolVar(&opts.LeaderElection, "leader-elect", false, "run the reconcilers on one replica at a time")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "",
		"namespace of the leader-election Lease (default: the pod's)")
	f.StringSliceVar(&opts.LicensePublicKeyFiles, "license-public-key", nil,
		"PEM file of a trusted license public key (repeatable)")
	f.StringVar(&opts.LicensePublicKeyDir, "license-public-key-dir", "",
		"directory whose *.pem files are trusted license public keys (a mounted Secret; a missing directory trusts none)")
	f.StringVar(&opts.LicenseIssuerKeyFile, "license-issuer-key", "",
		"PEM private key the controller signs self-issued licenses (trials) with")
	f.BoolVar(&opts.Webhooks, "webhooks", true, "serve the validating webhooks (limits and licenses)")
	f.IntVar(&opts.WebhookPort, "webhook-port", 9443, "port of the webhook server")
	f.StringVar(&opts.WebhookCertDir, "webhook-cert-dir", "", "directory with tls.crt and tls.key for the webhook server")
	f.StringVar(&opts.WebhookClientCAFile, "webhook-client-ca", "",
		"PEM CA file: the webhook server refuses every caller without a client certificate it signed "+
			"(kube-apiserver's; see docs/operations.md); empty accepts any caller")
	f.StringVar(&opts.RESTAddr, "rest-bind-address", "",
		"address of the REST API (api.orgplane.io/v1 and /v1); empty disables it")
	f.StringVar(&opts.RESTCertDir, "rest-cert-dir", "", "directory with tls.crt and tls.key for the REST API")
	f.StringSliceVar(&opts.OrgCreatorGroups, "org-creator-groups", nil,
		"groups whose members may create organizations (repeatable); empty lets every authenticated user")
	f.IntVar(&opts.MaxOrganizationsPerUser, "max-organizations-per-user", manager.DefaultMaxOrganizationsPerUser,
		"organizations one user may create (platform admins are not bound; "+
			"the ServiceAccounts of one namespace count as one user); 0 means no bound")
	f.IntVar(&opts.MaxTrialsPerUser, "max-trials-per-user", manager.DefaultMaxTrialsPerUser,
		"self-issued licenses (trials) one user may take over all their organizations, ever; 0 means no bound")
	f.Float64Var(&opts.AdmissionRatePerUser, "admission-rate-per-user", admission.DefaultRate.PerSecond,
		"admission requests (creates and updates of accounts, Deployments, organizations, licenses) "+
			"one user may send per second, with bursts of twice as many; "+
			"beyond it the webhooks answer 429 (the manager is not bound, the REST callers it writes for are); "+
			"below 0 means no bound")
	f.StringVar(&opts.DNSServer, "dns-server", "",
		"host:port of the DNS server that verified-domain TXT records are looked up with (default: the system resolver)")
	f.StringSliceVar(&opts.ConsumerDomains, "consumer-domains", nil,
		"e-mail domains no organization may claim, beyond the shipped list of consumer providers (gmail.com, ...)")
	f.DurationVar(&opts.DomainRecheck, "domain-recheck", 6*time.Hour,
		"how often a verified domain's TXT record is looked up again")
	opts.Plan = manager.DefaultPlan
	f.Int64Var(&opts.Plan.FreeLimits.Accounts, "free-accounts", opts.Plan.FreeLimits.Accounts,
		"accounts allowed on the free plan")
	f.Int64Var(&opts.Plan.FreeLimits.Users, "free-users", opts.Plan.FreeLimits.Users, "members allowed on the free plan")
	f.Int64Var(&opts.Plan.FreeLimits.Deployments, "free-deployments", opts.Plan.FreeLimits.Deployments,
		"deployments allowed on the free plan")
	f.Int64Var(&opts.Plan.FreeLimits.InvitationsPerHour, "free-invitations-per-hour",
		opts.Plan.FreeLimits.InvitationsPerHour,
		"invitations an organization may send in an hour on the free plan, and on licenses that do not say")
	f.DurationVar(&opts.InvitationMinExpiry, "invitation-min-expiry", 24*time.Hour,
		"shortest expiry an invitation may have (spec.expiresInDays)")
	f.StringSliceVar(&opts.Plan.FreeEntitlements, "free-entitlements", opts.Plan.FreeEntitlements,
		"feature codes every organization has, licensed or not (sso: link an SSO organization); empty to sell them all")
	f.Var(daysFlag{&opts.Plan.Grace}, "license-grace-days",
		"days a license keeps its plan after it expires (phase Grace), for keys that do not say (claim graceDays)")
	f.Var(daysFlag{&opts.Plan.Restricted}, "license-restricted-days",
		"days after the grace period during which the plan is kept but nothing new may be created "+
			"(phase Restricted), for keys that do not say")
	f.Var(&freeGuardrailsFlag{target: &opts.Plan.FreeGuardrails}, "free-workspace-quota",
		"quota of each workspace on the free plan, name=quantity,... "+
			"(as 'orgplane license issue --workspace-quota'; default: none)")
	f.Var(&freeGuardrailsFlag{target: &opts.Plan.FreeGuardrails, part: organizationQuota}, "free-organization-quota",
		"total of all of an organization's workspaces on the free plan, name=quantity,... (default: none)")
	f.Var(&freeGuardrailsFlag{target: &opts.Plan.FreeGuardrails, part: networkMode}, "free-network",
		"network isolation of each workspace on the free plan: isolated or organization (default: none)")
}

func managerCommand() *cobra.Command {
	var opts manager.Options
	var rotate, serveConsole bool
	var secret string
	var consoleOpts console.Options
	certs := manager.DefaultCertRotation
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the reconcilers against the cluster of the current kubeconfig (or in-cluster)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return err
			}
			if rotate {
				if certs.Secret, err = namespacedName(secret); err != nil {
					return err
				}
				opts.CertRotation = &certs
			}
			if serveConsole {
				opts.Console = &consoleOpts
			}
			mgr, err := manager.New(cfg, opts)
			if err != nil {
				return err
			}
			ctrl.Log.Info("Starting manager")
			return mgr.Start(ctrl.SetupSignalHandler())
		},
	}
	managerFlags(cmd, &opts)
	f := cmd.Flags()
	f.BoolVar(&rotate, "cert-rotation", false,
		"issue and rotate the webhook and REST serving certificate into --cert-secret "+
			"(mounted at --webhook-cert-dir and --rest-cert-dir) and inject its CA into the webhook configuration "+
			"and the APIServices; off when cert-manager or files provide it")
	f.StringVar(&secret, "cert-secret", certs.Secret.String(),
		"namespace/name of the Secret holding the rotated certificate and its CA")
	f.StringSliceVar(&certs.DNSNames, "cert-dns-names", certs.DNSNames,
		"DNS names of the rotated certificate (the webhook and REST Services)")
	f.StringVar(&certs.WebhookConfiguration, "cert-webhook-configuration", certs.WebhookConfiguration,
		"ValidatingWebhookConfiguration to inject the CA into")
	f.StringVar(&certs.MutatingWebhookConfiguration, "cert-mutating-webhook-configuration",
		certs.MutatingWebhookConfiguration, "MutatingWebhookConfiguration to inject the CA into")
	f.StringSliceVar(&certs.APIServices, "cert-apiservices", certs.APIServices, "APIServices to inject the CA into")
	f.DurationVar(&certs.ServerValidity, "cert-validity", 0,
		"validity of each rotated serving certificate (default 1 year)")
	f.DurationVar(&certs.Lookahead, "cert-lookahead", 0,
		"renew the serving certificate when it expires within this (default 90 days)")
	f.DurationVar(&certs.CheckInterval, "cert-check-interval", 0, "how often to check whether to renew (default 12 hours)")
	f.BoolVar(&serveConsole, "console", false,
		"serve the web console at /console/ on --rest-bind-address (the REST API's own origin)")
	f.StringVar(&consoleOpts.OIDCIssuer, "console-oidc-issuer-url", "",
		"OIDC issuer the console signs people in with (authorization code with PKCE); "+
			"the same issuer kube-apiserver trusts; empty: bearer tokens only")
	f.StringVar(&consoleOpts.OIDCClientID, "console-oidc-client-id", "",
		"public OIDC client id of the console at --console-oidc-issuer-url")
	return cmd
}

// namespacedName parses namespace/name.
func namespacedName(s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" {
		return types.NamespacedName{}, fmt.Errorf("%q is not namespace/name", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

func devCommand() *cobra.Command {
	opts := devenv.Options{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run orgplane on a local control plane until Ctrl-C",
		RunE: func(cmd *cobra.Command, _ []string) error {
			logs, err := devLog(opts.Dir)
			if err != nil {
				return err
			}
			defer func() { _ = logs.Close() }()
			ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(logs)))
			klog.SetLogger(ctrl.Log)
			return devenv.Run(stopOnSignal(), opts, cmd.OutOrStdout())
		},
	}
	managerFlags(cmd, &opts.Manager)
	devAddrs := map[string]string{
		"metrics-bind-address":      "127.0.0.1:8080",
		"health-probe-bind-address": "127.0.0.1:8081",
	}
	for name, addr := range devAddrs {
		cmd.Flags().Lookup(name).DefValue = addr
		_ = cmd.Flags().Set(name, addr)
	}
	cmd.Flags().StringVar(&opts.AssetsDir, "assets", localcp.DefaultAssetsDir(),
		"directory of the control-plane binaries (make envtest)")
	cmd.Flags().StringVar(&opts.Dir, "dir", ".dev",
		"directory for kubeconfigs, logs and etcd data (kept between runs; make dev-clean wipes it)")
	cmd.Flags().StringVar(&opts.ConfigDir, "config", "config", "the project's config directory")
	return cmd
}

// devLog opens <dir>/manager.log for the manager's logs, so that the
// terminal shows only what make dev has to say.
func devLog(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, "manager.log"))
}

// stopOnSignal returns a context ended by the first SIGINT or SIGTERM.
// Later signals are ignored so that shutdown always stops every process it
// started.
func stopOnSignal() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nShutting down (stopping the manager and the control plane) ...")
		cancel()
		for range sigs {
		}
	}()
	return ctx
}
