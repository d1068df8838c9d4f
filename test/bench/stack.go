package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

// benchUser belongs to 5 organizations and reads through the REST API.
const benchUser = "reader@bench.example"

// stack is the local control plane with the manager running in this process.
type stack struct {
	cp        *localcp.ControlPlane
	admin     client.Client
	adminCfg  *rest.Config
	adminCS   *kubernetes.Clientset
	reader    *rest.Config
	restPort  int
	vendorKey ed25519.PrivateKey
	// mgrCfg is the manager's identity, made once: the restarted manager
	// reuses it rather than applying its RBAC again.
	mgrCfg *rest.Config
	// cache reads the running manager's cache.
	cache    client.Reader
	stopMgr  context.CancelFunc
	mgrDone  chan error
	stopOnce sync.Once
	// captured is what convergence wrote, for the replayed floor.
	captured *capture
}

func startStack(ctx context.Context) (*stack, error) {
	config := "config"
	cp, err := localcp.Start(localcp.Options{
		CRDDir: filepath.Join(config, "crd", "bases"), WebhookDir: filepath.Join(config, "webhook"), Aggregation: true,
	})
	if err != nil {
		return nil, err
	}
	s := &stack{cp: cp}
	if err := s.init(ctx, config); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *stack) init(ctx context.Context, config string) error {
	var err error
	cfg := rest.CopyConfig(s.cp.Config)
	cfg.QPS, cfg.Burst = 2000, 4000 // measure the server, not client-side throttling
	s.adminCfg = cfg
	if s.admin, err = client.New(cfg, client.Options{Scheme: manager.Scheme()}); err != nil {
		return err
	}
	if s.adminCS, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if _, s.vendorKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return err
	}
	if err := s.startManager(ctx, config); err != nil {
		return err
	}
	objs, err := devenv.ReadManifestFile(filepath.Join(config, "rbac", "api_access.yaml"))
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.admin.Create(ctx, o); err != nil {
			return err
		}
	}
	if err := s.cp.RegisterOrgplaneAPIs(ctx, s.restPort); err != nil {
		return err
	}
	if s.reader, _, err = s.cp.AddUser(benchUser); err != nil {
		return err
	}
	s.reader.QPS, s.reader.Burst = 2000, 4000
	return nil
}

func (s *stack) startManager(ctx context.Context, config string) error {
	var err error
	if s.mgrCfg, err = s.cp.AddManager(ctx, config); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.restPort = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	mgr, err := s.newManager()
	if err != nil {
		return err
	}
	s.runManager(ctx, mgr)
	return nil
}

// newManager builds a manager on the stack's ports: the REST port is the
// one the APIServices point at, so a restarted manager must keep it.
func (s *stack) newManager() (ctrl.Manager, error) {
	return manager.New(s.mgrCfg, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", Plan: manager.DefaultPlan,
		LicenseVerifier: license.NewVerifier(s.vendorKey.Public().(ed25519.PublicKey)),
		Webhooks:        true, WebhookHost: s.cp.Webhook.LocalServingHost, WebhookPort: s.cp.Webhook.LocalServingPort,
		WebhookCertDir: s.cp.Webhook.LocalServingCertDir, WebhookClientCAFile: s.cp.WebhookClientAuth.CAFile,
		RESTAddr: fmt.Sprintf("127.0.0.1:%d", s.restPort), RESTCertDir: s.cp.Aggregation.ServingCertDir,
		// The restart runs a second manager in this process, with the
		// same controller names.
		SkipNameValidation: true,
	})
}

// runManager starts mgr; stopMgr and mgrDone are then this manager's.
func (s *stack) runManager(ctx context.Context, mgr ctrl.Manager) {
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	s.stopMgr, s.mgrDone = cancel, done
	s.cache = mgr.GetClient()
	go func() { done <- mgr.Start(mctx) }()
}

func (s *stack) stop() {
	s.stopOnce.Do(func() {
		if s.stopMgr != nil {
			s.stopMgr()
			if err := <-s.mgrDone; err != nil {
				fmt.Fprintln(os.Stderr, "bench: the manager stopped with an error:", err)
			}
		}
		_ = s.cp.Stop()
	})
}
