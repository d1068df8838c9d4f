// Package localcp runs a local Kubernetes control plane — etcd,
// kube-apiserver and kube-controller-manager built from the Go module proxy
// by hack/envtest.sh — with orgplane's CRDs installed. The tests and
// `make dev` both use it.
package localcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options configure the control plane.
type Options struct {
	// AssetsDir holds etcd, kube-apiserver, kube-controller-manager and kubectl.
	// Defaults to $KUBEBUILDER_ASSETS.
	AssetsDir string
	// CRDDir holds the CRD manifests to install.
	CRDDir string
	// Dir receives kubeconfigs and logs. Defaults to a temporary directory.
	Dir string
	// EtcdDataDir keeps etcd's state between runs when set.
	EtcdDataDir string
	// WebhookDir holds webhook configurations to install, pointed at a
	// local port (see ControlPlane.Webhook). None are installed when empty.
	WebhookDir string
	// Aggregation configures the front proxy and a serving certificate for
	// an aggregated API (see ControlPlane.RegisterAPIService).
	Aggregation bool
	// Output receives the control plane's logs when set.
	Output io.Writer
	// Controllers are the kube-controller-manager controllers to run;
	// BaseControllers when empty. `make dev` adds QuotaControllers; the
	// test suites that play the quota controller themselves (writing
	// ResourceQuota status) keep the base set.
	Controllers []string
	// TokenAuthFile, when set, is kube-apiserver's --token-auth-file: a CSV
	// of bearer tokens (token,user,uid) it authenticates, for the console's
	// sign-in in `make dev` and its browser tests.
	TokenAuthFile string
	// OIDC, when set, makes kube-apiserver trust an OpenID Connect issuer's
	// ID tokens (the console's OIDC sign-in).
	OIDC *OIDC
}

// OIDC is an issuer kube-apiserver trusts: its ID tokens' email claim is
// the username, unprefixed.
type OIDC struct {
	IssuerURL, ClientID string
	// CAFile verifies the issuer's serving certificate.
	CAFile string
}

// BaseControllers are what orgplane needs from kube-controller-manager and
// envtest lacks: namespace deletion, garbage collection of owned objects,
// Deployments and aggregated ClusterRoles.
var BaseControllers = []string{"namespace", "garbagecollector", "deployment", "replicaset", "clusterrole-aggregation"}

// QuotaControllers make Pods in workspaces behave as on a real cluster:
// resourcequota reports ResourceQuota usage (quota admission refuses Pods
// in a namespace whose quota has no status yet, and orgplane shares an
// organization-wide total only once each workspace's usage is known), and
// serviceaccount creates every namespace's `default` ServiceAccount. The
// legacy token controller (serviceaccount-token) is not needed: bound
// tokens come from the TokenRequest API, which kube-apiserver serves with
// the signing key envtest configures.
var QuotaControllers = []string{"resourcequota", "serviceaccount"}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	Env *envtest.Environment
	// Config is a cluster-admin client configuration.
	Config *rest.Config
	// Dir holds the kubeconfigs.
	Dir string
	// AdminKubeconfig is the path of a cluster-admin kubeconfig.
	AdminKubeconfig string
	// Webhook is where the API server calls the webhooks: serve them on
	// LocalServingHost:LocalServingPort with the certificate in LocalServingCertDir.
	Webhook *envtest.WebhookInstallOptions
	// Aggregation is set when the control plane was started with aggregation.
	Aggregation *Aggregation
	// WebhookClientAuth is set when webhooks are installed: kube-apiserver
	// calls them with this client certificate.
	WebhookClientAuth *WebhookClientAuth
	kcm               *exec.Cmd
	kcmDone           chan struct{}
}

// Start starts etcd, kube-apiserver and kube-controller-manager, and
// installs the CRDs.
func Start(opts Options) (*ControlPlane, error) {
	if opts.AssetsDir == "" {
		opts.AssetsDir = DefaultAssetsDir()
	}
	if _, err := os.Stat(filepath.Join(opts.AssetsDir, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("no control-plane binaries in %q: run 'make envtest' or set KUBEBUILDER_ASSETS", opts.AssetsDir)
	}
	dir, err := workDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    opts.AssetsDir,
		CRDDirectoryPaths:        []string{opts.CRDDir},
		ErrorIfCRDPathMissing:    true,
		AttachControlPlaneOutput: opts.Output != nil,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: opts.EtcdDataDir, Out: opts.Output, Err: opts.Output}
	env.ControlPlane.APIServer = &envtest.APIServer{Out: opts.Output, Err: opts.Output}
	if opts.TokenAuthFile != "" {
		env.ControlPlane.APIServer.Configure().Set("token-auth-file", opts.TokenAuthFile)
	}
	if o := opts.OIDC; o != nil {
		args := env.ControlPlane.APIServer.Configure()
		args.Set("oidc-issuer-url", o.IssuerURL).Set("oidc-client-id", o.ClientID).Set("oidc-ca-file", o.CAFile)
		args.Set("oidc-username-claim", "email").Set("oidc-username-prefix", "-")
	}
	var webhookAuth *WebhookClientAuth
	if opts.WebhookDir != "" {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: []string{opts.WebhookDir}}
		if webhookAuth, err = configureWebhookClientAuth(env.ControlPlane.APIServer, dir); err != nil {
			return nil, fmt.Errorf("failed to configure webhook client authentication: %w", err)
		}
	}
	var agg *Aggregation
	if opts.Aggregation {
		if agg, err = configureAggregation(env.ControlPlane.APIServer, dir); err != nil {
			return nil, fmt.Errorf("failed to configure aggregation: %w", err)
		}
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("failed to start kube-apiserver and etcd: %w", err)
	}
	cp := &ControlPlane{Env: env, Config: cfg, Dir: dir, AdminKubeconfig: filepath.Join(dir, "admin.kubeconfig"),
		Webhook: &env.WebhookInstallOptions, Aggregation: agg, WebhookClientAuth: webhookAuth}
	if err := os.WriteFile(cp.AdminKubeconfig, env.KubeConfig, 0o600); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if err := cp.startControllerManager(opts); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cp, nil
}

// Versions of the binaries hack/envtest.sh builds; keep in step with the Makefile.
const (
	KubernetesVersion = "1.37.2"
	EtcdVersion       = "3.6.16"
)

// DefaultAssetsDir is $KUBEBUILDER_ASSETS, or else bin/k8s/<versions> in the
// nearest directory above the working directory that has a go.mod.
func DefaultAssetsDir() string {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "bin", "k8s", KubernetesVersion+"-etcd"+EtcdVersion)
		}
	}
	return ""
}

func workDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "orgplane-cp-")
	}
	return dir, os.MkdirAll(dir, 0o750)
}

// startControllerManager runs the controllers a real cluster has and envtest
// lacks, for what orgplane relies on: opts.Controllers, or BaseControllers.
func (cp *ControlPlane) startControllerManager(opts Options) error {
	controllers := opts.Controllers
	if len(controllers) == 0 {
		controllers = BaseControllers
	}
	cmd := exec.Command(filepath.Join(opts.AssetsDir, "kube-controller-manager"),
		"--kubeconfig="+cp.AdminKubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--concurrent-namespace-syncs=10", "--concurrent-gc-syncs=20",
	)
	cmd.Stdout, cmd.Stderr = logOutput(opts.Output, filepath.Join(cp.Dir, "kube-controller-manager.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start kube-controller-manager: %w", err)
	}
	cp.kcm, cp.kcmDone = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(cp.kcmDone) }()
	return nil
}

func logOutput(out io.Writer, path string) (io.Writer, io.Writer) {
	if out != nil {
		return out, out
	}
	f, err := os.Create(path)
	if err != nil {
		return io.Discard, io.Discard
	}
	return f, f
}

// AddUser returns a client configuration, and writes a kubeconfig, for a
// user authenticated by a client certificate.
func (cp *ControlPlane) AddUser(name string, groups ...string) (*rest.Config, string, error) {
	u, err := cp.Env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, "", fmt.Errorf("failed to add user %s: %w", name, err)
	}
	kubeconfig, err := u.KubeConfig()
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(cp.Dir, safeFileName(name)+".kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return nil, "", err
	}
	return u.Config(), path, nil
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// Stop stops kube-controller-manager, kube-apiserver and etcd.
func (cp *ControlPlane) Stop() error {
	if cp.kcm != nil && cp.kcm.Process != nil {
		_ = cp.kcm.Process.Signal(syscall.SIGTERM)
		select {
		case <-cp.kcmDone:
		case <-time.After(10 * time.Second):
			_ = cp.kcm.Process.Kill()
			<-cp.kcmDone
		}
	}
	return cp.Env.Stop()
}

// ManagerUsername is who orgplane's manager is in a cluster (config/rbac's
// ServiceAccount), and so on the local control plane too: the policies in
// config/policy name it.
const ManagerUsername = "system:serviceaccount:orgplane-system:orgplane-manager"

// AddManager installs what orgplane ships around its manager from configDir
// (config/): the ClusterRoles and Roles of rbac/role.yaml, each bound to
// ManagerUsername, the organizations' shared ClusterRoles of
// rbac/organization_roles.yaml, and the ValidatingAdmissionPolicies of
// policy/. It
// returns a client configuration authenticated as that ServiceAccount (with
// its groups): the manager runs with exactly the permissions it ships with.
func (cp *ControlPlane) AddManager(ctx context.Context, configDir string) (*rest.Config, error) {
	c, err := client.New(cp.Config, client.Options{})
	if err != nil {
		return nil, err
	}
	err = eachObject(filepath.Join(configDir, "rbac", "role.yaml"), func(role *unstructured.Unstructured) error {
		return applyWithBinding(ctx, c, role, ManagerUsername)
	})
	if err != nil {
		return nil, err
	}
	policies, err := filepath.Glob(filepath.Join(configDir, "policy", "*.yaml"))
	if err != nil {
		return nil, err
	}
	policies = slices.DeleteFunc(policies, func(f string) bool { return filepath.Base(f) == "kustomization.yaml" })
	policies = append(policies, filepath.Join(configDir, "rbac", "organization_roles.yaml"))
	if err := cp.ApplyFiles(ctx, policies...); err != nil {
		return nil, err
	}
	cfg, _, err := cp.AddUser(ManagerUsername, "system:serviceaccounts", "system:serviceaccounts:orgplane-system")
	return cfg, err
}

// ApplyFiles applies every object in the YAML files (server-side, as
// cluster admin): the policies of config/policy, for instance.
func (cp *ControlPlane) ApplyFiles(ctx context.Context, files ...string) error {
	c, err := client.New(cp.Config, client.Options{})
	if err != nil {
		return err
	}
	for _, file := range files {
		err := eachObject(file, func(obj *unstructured.Unstructured) error {
			return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
				client.FieldOwner("orgplane-localcp"), client.ForceOwnership)
		})
		if err != nil {
			return fmt.Errorf("failed to apply %s: %w", file, err)
		}
	}
	return nil
}

// eachObject calls f with every object of a YAML file.
func eachObject(file string, f func(*unstructured.Unstructured) error) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("failed to read %s: %w", file, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := f(obj); err != nil {
			return err
		}
	}
}

// applyWithBinding applies a ClusterRole or Role and binds it to user.
func applyWithBinding(ctx context.Context, c client.Client, role *unstructured.Unstructured, user string) error {
	binding := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       role.GetKind() + "Binding",
		"metadata":   map[string]any{"name": role.GetName()},
		"roleRef":    map[string]any{"apiGroup": rbacv1.GroupName, "kind": role.GetKind(), "name": role.GetName()},
		"subjects":   []any{map[string]any{"apiGroup": rbacv1.GroupName, "kind": "User", "name": user}},
	}}
	if ns := role.GetNamespace(); ns != "" {
		binding.SetNamespace(ns)
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := c.Create(ctx, nsObj); client.IgnoreAlreadyExists(err) != nil {
			return err
		}
	}
	for _, obj := range []*unstructured.Unstructured{role, binding} {
		ac := client.ApplyConfigurationFromUnstructured(obj)
		if err := c.Apply(ctx, ac, client.FieldOwner("orgplane-localcp"), client.ForceOwnership); err != nil {
			return fmt.Errorf("failed to apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}
