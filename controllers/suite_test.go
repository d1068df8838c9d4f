package controllers_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/orgplane/orgplane/internal/domains/dnstest"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
)

// Only members of creatorGroup may create organizations, at most
// maxOrganizationsPerUser each (platform admins, as k8sClient is, are not bound).
const (
	creatorGroup            = "orgplane:creators"
	maxOrganizationsPerUser = 2
)

var (
	ctx         context.Context
	cancel      context.CancelFunc
	cp          *localcp.ControlPlane
	k8sClient   client.Client
	managerCfg  *rest.Config
	mainReplica *replica
	// licenseKey signs the test licenses; the managers trust its public key.
	licenseKey ed25519.PrivateKey
	// issuerKey is the controller's own key for self-issued licenses.
	issuerKey ed25519.PrivateKey
	// dnsZone is the DNS server the managers look domain proofs up in (domain_test.go).
	dnsZone *dnstest.Zone
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
	cp, err = localcp.Start(localcp.Options{
		CRDDir:     filepath.Join("..", "config", "crd", "bases"),
		WebhookDir: filepath.Join("..", "config", "webhook"),
	})
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())

	managerCfg, err = cp.AddManager(ctx, filepath.Join("..", "config"))
	Expect(err).NotTo(HaveOccurred())
	managerCfg.Wrap(managerWrites.wrap) // writes_test.go counts the manager's writes
	_, licenseKey, err = ed25519.GenerateKey(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	_, issuerKey, err = ed25519.GenerateKey(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	// Domain proofs: the managers look records up in a test DNS server (domain_test.go).
	dnsZone, err = dnstest.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(dnsZone.Close)
	startManager()
})

var _ = AfterSuite(func() {
	stopManager()
	cancel()
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
})

// replica is one running manager.
type replica struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// runReplica starts a manager serving webhooks on port.
func runReplica(port int, leaderElection bool) *replica {
	mgr, err := manager.New(managerCfg, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", Plan: manager.DefaultPlan, SkipNameValidation: true,
		LicenseVerifier: license.NewVerifier(licenseKey.Public().(ed25519.PublicKey), issuerKey.Public().(ed25519.PublicKey)),
		Webhooks:        true, WebhookHost: cp.Webhook.LocalServingHost, WebhookPort: port,
		WebhookCertDir: cp.Webhook.LocalServingCertDir, WebhookClientCAFile: cp.WebhookClientAuth.CAFile,
		LeaderElection: leaderElection, LeaderElectionNamespace: "orgplane-system",
		OrgCreatorGroups: []string{creatorGroup}, MaxOrganizationsPerUser: maxOrganizationsPerUser,
		DNSServer: dnsZone.Addr(), // domain_test.go
		// Invitations that expire in seconds (invitation_test.go).
		InvitationMinExpiry: time.Second,
	})
	Expect(err).NotTo(HaveOccurred())
	mctx, stop := context.WithCancel(ctx)
	r := &replica{cancel: stop, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(r.done)
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	return r
}

func (r *replica) stop() {
	r.cancel()
	<-r.done
}

// startManager runs the main manager where the API server calls the webhooks.
func startManager() {
	mainReplica = runReplica(cp.Webhook.LocalServingPort, false)
	waitForWebhooks()
}

func stopManager() {
	if mainReplica != nil {
		mainReplica.stop()
		mainReplica = nil
	}
}

// waitForWebhooks waits until the API server can reach a webhook server.
func waitForWebhooks() {
	addr := net.JoinHostPort(cp.Webhook.LocalServingHost, strconv.Itoa(cp.Webhook.LocalServingPort))
	Eventually(func() error {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // readiness probe only
		if err == nil {
			_ = conn.Close()
		}
		return err
	}).Should(Succeed())
}
