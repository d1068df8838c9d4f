// Package devenv runs orgplane on a local control plane for `make dev`:
// kube-apiserver, etcd and kube-controller-manager (with the quota and
// ServiceAccount controllers a real cluster runs) with the CRDs installed,
// the manager running with the RBAC it ships with, the samples applied, and
// kubeconfigs written for an admin and demo users.
package devenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/internal/console"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

// Options configure the development environment.
type Options struct {
	// AssetsDir holds the control-plane binaries built by `make envtest`.
	AssetsDir string
	// Dir holds kubeconfigs, logs and etcd's data (kept between runs).
	Dir string
	// ConfigDir is the project's config/ directory.
	ConfigDir string
	// Manager configures the manager.
	Manager manager.Options
	// OIDC, when set, is an issuer kube-apiserver trusts and the console
	// signs people in with.
	OIDC *localcp.OIDC
}

// DemoUsers are the users `make dev` writes kubeconfigs for, as in the samples.
var DemoUsers = []struct{ Name, Role string }{
	{"alice@acme.example", "admin of acme"},
	{"bob@globex.example", "member of acme, admin of globex"},
}

// Run starts everything, prints how to use it, and runs until ctx ends;
// then it stops the manager and the control plane and returns.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	_, _ = fmt.Fprintln(out, "Starting etcd, kube-apiserver and kube-controller-manager ...")
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return err
	}
	tokens, err := ensureTokens(opts.Dir)
	if err != nil {
		return err
	}
	cp, err := localcp.Start(localcp.Options{
		TokenAuthFile: TokenFile(opts.Dir),
		OIDC:          opts.OIDC,
		AssetsDir:     opts.AssetsDir,
		CRDDir:        filepath.Join(opts.ConfigDir, "crd", "bases"),
		Dir:           opts.Dir,
		EtcdDataDir:   filepath.Join(opts.Dir, "etcd"),
		WebhookDir:    filepath.Join(opts.ConfigDir, "webhook"),
		Aggregation:   true,
		Controllers:   slices.Concat(localcp.BaseControllers, localcp.QuotaControllers),
	})
	if err != nil {
		return err
	}
	defer func() {
		_, _ = fmt.Fprintln(out, "Stopping the control plane ...")
		if err := cp.Stop(); err != nil {
			_, _ = fmt.Fprintf(out, "Failed to stop the control plane cleanly: %v\n", err)
		}
	}()
	return runManager(ctx, cp, opts, tokens, out)
}

func runManager(ctx context.Context, cp *localcp.ControlPlane, opts Options, tokens map[string]string, out io.Writer) error {
	cfg, err := cp.AddManager(ctx, opts.ConfigDir)
	if err != nil {
		return err
	}
	vendorKey, err := ensureKeyPair(VendorKeyPath(opts.Dir))
	if err != nil {
		return err
	}
	issuerKey, err := ensureKeyPair(filepath.Join(opts.Dir, "vendor", "issuer"))
	if err != nil {
		return err
	}
	mopts := opts.Manager
	mopts.LicensePublicKeyFiles = append(mopts.LicensePublicKeyFiles, vendorKey+".pub")
	mopts.LicenseIssuerKeyFile = issuerKey + ".key"
	if mopts.RESTAddr == "" {
		mopts.RESTAddr = "127.0.0.1:8443"
	}
	mopts.RESTCertDir = cp.Aggregation.ServingCertDir
	if mopts.Console == nil {
		mopts.Console = &console.Options{}
		if opts.OIDC != nil {
			mopts.Console = &console.Options{OIDCIssuer: opts.OIDC.IssuerURL, OIDCClientID: opts.OIDC.ClientID}
		}
	}
	mopts.Webhooks, mopts.WebhookHost, mopts.WebhookPort, mopts.WebhookCertDir = true,
		cp.Webhook.LocalServingHost, cp.Webhook.LocalServingPort, cp.Webhook.LocalServingCertDir
	mopts.WebhookClientCAFile = cp.WebhookClientAuth.CAFile
	mgr, err := manager.New(cfg, mopts)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return mgr.Start(gctx) })
	g.Go(func() error {
		if err := prepare(gctx, cp, opts, vendorKey, restPort(mopts.RESTAddr)); err != nil {
			return err
		}
		opts.Manager = mopts
		printWelcome(out, cp, opts, tokens)
		return nil
	})
	return g.Wait()
}

// prepare writes the demo kubeconfigs, applies the samples and gives acme a
// demo license signed by the dev vendor key.
func prepare(ctx context.Context, cp *localcp.ControlPlane, opts Options, vendorKey string, port int) error {
	for _, u := range DemoUsers {
		if _, _, err := cp.AddUser(u.Name); err != nil {
			return err
		}
	}
	c, err := client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return err
	}
	if err := registerAPI(ctx, cp, c, opts.ConfigDir, port); err != nil {
		return err
	}
	if err := ApplySamples(ctx, c, filepath.Join(opts.ConfigDir, "samples")); err != nil {
		return err
	}
	return applyDemoLicense(ctx, c, vendorKey)
}

// ApplySamples server-side applies the sample Organizations and Users, waits
// for the organizations' namespaces, then applies the sample Accounts.
func ApplySamples(ctx context.Context, c client.Client, dir string) error {
	objs, err := ReadManifests(dir)
	if err != nil {
		return err
	}
	var accounts []*unstructured.Unstructured
	for _, obj := range objs {
		if obj.GetKind() == "Account" {
			accounts = append(accounts, obj)
			continue
		}
		if err := apply(ctx, c, obj); err != nil {
			return err
		}
	}
	for _, obj := range accounts {
		if err := retry(ctx, 60*time.Second, func() error { return apply(ctx, c, obj) }); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, c client.Client, obj *unstructured.Unstructured) error {
	ac := client.ApplyConfigurationFromUnstructured(obj)
	if err := c.Apply(ctx, ac, client.FieldOwner("orgplane-dev"), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// retry calls fn until it succeeds or the timeout passes: an Account can be
// applied only once its organization's namespace exists.
func retry(ctx context.Context, timeout time.Duration, fn func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printWelcome(out io.Writer, cp *localcp.ControlPlane, opts Options, tokens map[string]string) {
	alice := filepath.Join(cp.Dir, DemoUsers[0].Name+".kubeconfig")
	bob := filepath.Join(cp.Dir, DemoUsers[1].Name+".kubeconfig")
	_, _ = fmt.Fprintf(out, `
orgplane is running on a local control plane (kube-apiserver v%s at %s, etcd, kube-controller-manager):
the manager (reconcilers, webhooks, REST API at https://%s and /apis/api.orgplane.io/v1; your own organizations at /apis/my.orgplane.io/v1).
  admin kubeconfig:   %s
  demo users:         %s (%s)
                      %s (%s)
  logs:               %s
  license vendor key: %s.key (orgplane license issue --key ...); the manager trusts %s.pub
  Ctrl-C stops everything; state is kept in %s (make dev-clean wipes it).
%s
Try, in another terminal:
  export KUBECONFIG=%s PATH=%s:$PATH
  kubectl get organizations
  kubectl --kubeconfig %s get --raw /apis/api.orgplane.io/v1/organizations/accounts/all
  kubectl --kubeconfig %s apply -f config/samples/extra/account.yaml
`, localcp.KubernetesVersion, cp.Config.Host, opts.Manager.RESTAddr,
		cp.AdminKubeconfig, alice, DemoUsers[0].Role, bob, DemoUsers[1].Role,
		filepath.Join(cp.Dir, "manager.log"), VendorKeyPath(cp.Dir), VendorKeyPath(cp.Dir), cp.Dir,
		signInLinks(opts.Manager, tokens), cp.AdminKubeconfig, opts.AssetsDir, bob, alice)
}

// signInLinks tells how to open the console as each console user: the
// token rides in the fragment, which the browser never sends, and the page
// drops it from the address bar as soon as it has read it.
func signInLinks(m manager.Options, tokens map[string]string) string {
	if m.Console == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("The console, signed in as each user (its certificate is from make dev's own CA: your browser warns once):\n")
	for _, name := range ConsoleUsers {
		fmt.Fprintf(&b, "  %-20s https://%s/console/#token=%s\n", name, m.RESTAddr, tokens[name])
	}
	return b.String()
}

// registerAPI lets authenticated users reach api.orgplane.io and registers
// the APIService pointing at the manager's REST server.
func registerAPI(ctx context.Context, cp *localcp.ControlPlane, c client.Client, configDir string, port int) error {
	objs, err := ReadManifestFile(filepath.Join(configDir, "rbac", "api_access.yaml"))
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := apply(ctx, c, obj); err != nil {
			return err
		}
	}
	return cp.RegisterOrgplaneAPIs(ctx, port)
}

func restPort(addr string) int {
	if addr == "" {
		return 8443
	}
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
