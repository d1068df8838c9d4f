// Package localcp runs a local Kubernetes control plane — etcd,
// kube-apiserver and kube-controller-manager built from the Go module proxy
// by hack/envtest.sh — with orgplane's CRDs installed. The tests and
// `make dev` both use it.
package localcp

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
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
	// Output receives the control plane's logs when set.
	Output io.Writer
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	Env *envtest.Environment
	// Config is a cluster-admin client configuration.
	Config *rest.Config
	// Dir holds the kubeconfigs.
	Dir string
	// AdminKubeconfig is the path of a cluster-admin kubeconfig.
	AdminKubeconfig string
	kcm             *exec.Cmd
	kcmDone         chan struct{}
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
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("failed to start kube-apiserver and etcd: %w", err)
	}
	cp := &ControlPlane{Env: env, Config: cfg, Dir: dir, AdminKubeconfig: filepath.Join(dir, "admin.kubeconfig")}
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
	return dir, os.MkdirAll(dir, 0o755)
}

// startControllerManager runs the controllers a real cluster has and envtest
// lacks, for what orgplane relies on: namespace deletion, garbage collection
// of owned objects, and Deployments.
func (cp *ControlPlane) startControllerManager(opts Options) error {
	cmd := exec.Command(filepath.Join(opts.AssetsDir, "kube-controller-manager"),
		"--kubeconfig="+cp.AdminKubeconfig,
		"--controllers="+strings.Join([]string{"namespace", "garbagecollector", "deployment", "replicaset", "clusterrole-aggregation"}, ","),
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

// AddUserWithClusterRole creates the ClusterRole in roleFile (a manifest
// such as config/rbac/role.yaml), binds it to a new user, and returns that
// user's client configuration. orgplane's manager runs as such a user, so
// it has exactly the permissions it ships with.
func (cp *ControlPlane) AddUserWithClusterRole(ctx context.Context, name, roleFile string) (*rest.Config, error) {
	data, err := os.ReadFile(roleFile)
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", roleFile, err)
	}
	c, err := client.New(cp.Config, client.Options{})
	if err != nil {
		return nil, err
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: name}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner("orgplane-localcp"), client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("failed to apply %s: %w", obj.GetName(), err)
		}
	}
	cfg, _, err := cp.AddUser(name)
	return cfg, err
}
