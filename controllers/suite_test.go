package controllers_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

// The manager runs as this user, with only the ClusterRole that
// config/rbac/role.yaml grants: the tests prove that RBAC is enough.
const managerUser = "orgplane-manager"

var (
	ctx        context.Context
	cancel     context.CancelFunc
	cp         *localcp.ControlPlane
	k8sClient  client.Client
	managerCfg *rest.Config
	stopMgr    context.CancelFunc
	mgrDone    chan struct{}
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers Suite")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(3 * time.Second)
	ctx, cancel = context.WithCancel(context.Background())

	var err error
	cp, err = localcp.Start(localcp.Options{CRDDir: filepath.Join("..", "config", "crd", "bases")})
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())

	managerCfg, err = cp.AddUserWithClusterRole(ctx, managerUser, filepath.Join("..", "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	startManager()
})

var _ = AfterSuite(func() {
	stopManager()
	cancel()
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
})

func startManager() {
	mgr, err := manager.New(managerCfg, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", FreeLimits: manager.DefaultFreeLimits, SkipNameValidation: true,
	})
	Expect(err).NotTo(HaveOccurred())
	var mctx context.Context
	mctx, stopMgr = context.WithCancel(ctx)
	mgrDone = make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(mgrDone)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
}

func stopManager() {
	if stopMgr != nil {
		stopMgr()
		<-mgrDone
		stopMgr = nil
	}
}
