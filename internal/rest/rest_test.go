package rest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/domains/dnstest"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/manager"
	"github.com/orgplane/orgplane/internal/plan"
)

const (
	alice = "alice@acme.example" // admin of acme
	bob   = "bob@globex.example" // member of acme, admin of globex
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	cp        *localcp.ControlPlane
	k8sClient client.Client
	restPort  int
	users     = map[string]*rest.Config{}
	vendorKey ed25519.PrivateKey
	// zone is the DNS server the manager looks domain proofs up in (domains_test.go).
	zone *dnstest.Zone
)

func TestREST(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "REST API suite")
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.Background())
	config := filepath.Join("..", "..", "config")
	var err error
	cp, err = localcp.Start(localcp.Options{
		CRDDir: filepath.Join(config, "crd", "bases"), WebhookDir: filepath.Join(config, "webhook"), Aggregation: true,
	})
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cp.Config, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	objs, err := devenv.ReadManifestFile(filepath.Join(config, "rbac", "api_access.yaml"))
	Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		Expect(k8sClient.Create(ctx, o)).To(Succeed())
	}
	zone, err = dnstest.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(zone.Close)
	startManager(config)
	Expect(cp.RegisterOrgplaneAPIs(ctx, restPort)).To(Succeed())
	for _, name := range []string{alice, bob, "carol@nowhere.example", "dave@nowhere.example", "frank@nowhere.example", "ops@platform.example"} {
		users[name], _, err = cp.AddUser(name)
		Expect(err).NotTo(HaveOccurred())
	}
	users["platform-admin"], _, err = cp.AddUser("platform-admin", "system:masters")
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() error { _, err := throughAPIServer(alice, "/organizations"); return err }).Should(Succeed())
	createSamples()
})

var _ = AfterSuite(func() {
	cancel()
	if cp != nil {
		Expect(cp.Stop()).To(Succeed())
	}
})

// issuerKey writes the manager's own license issuer key (trials) to a file
// and returns the file and its public key.
func issuerKey() (string, ed25519.PublicKey) {
	privPEM, pubPEM, err := license.GenerateKey()
	Expect(err).NotTo(HaveOccurred())
	file := filepath.Join(GinkgoT().TempDir(), "issuer.pem")
	Expect(os.WriteFile(file, privPEM, 0o600)).To(Succeed())
	public, err := license.ParsePublicKeys(pubPEM)
	Expect(err).NotTo(HaveOccurred())
	return file, public[0]
}

func startManager(config string) {
	cfg, err := cp.AddManager(ctx, config)
	Expect(err).NotTo(HaveOccurred())
	restPort = freePort()
	_, vendorKey, err = ed25519.GenerateKey(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	issuerKeyFile, issuerPublic := issuerKey()
	mgr, err := manager.New(cfg, manager.Options{
		LicenseVerifier: license.NewVerifier(vendorKey.Public().(ed25519.PublicKey), issuerPublic),
		MetricsAddr:     "0", ProbeAddr: "0", Plan: isolatedFreePlan(),
		// The free plan isolates workspaces; trials are self-issued, one per user.
		LicenseIssuerKeyFile: issuerKeyFile, MaxTrialsPerUser: manager.DefaultMaxTrialsPerUser,
		MaxOrganizationsPerUser: manager.DefaultMaxOrganizationsPerUser,
		Webhooks:                true, WebhookHost: cp.Webhook.LocalServingHost, WebhookPort: cp.Webhook.LocalServingPort,
		WebhookCertDir: cp.Webhook.LocalServingCertDir, WebhookClientCAFile: cp.WebhookClientAuth.CAFile,
		RESTAddr: fmt.Sprintf("127.0.0.1:%d", restPort), RESTCertDir: cp.Aggregation.ServingCertDir,
		DNSServer: zone.Addr(), // domains_test.go
	})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
}

func createSamples() {
	orgs := []*v1alpha1.Organization{
		{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1alpha1.OrganizationSpec{DisplayName: "Acme Corporation",
			Members: []v1alpha1.Member{{Kind: "User", Name: alice, Role: "admin"}, {Kind: "User", Name: bob, Role: "member"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "globex"}, Spec: v1alpha1.OrganizationSpec{DisplayName: "Globex",
			Members: []v1alpha1.Member{{Kind: "User", Name: bob, Role: "admin"}}}},
	}
	for _, o := range orgs {
		Eventually(func() error { return k8sClient.Create(ctx, o) }).Should(Succeed())
		Eventually(func() error {
			return k8sClient.Create(ctx, &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "org-" + o.Name}})
		}).Should(Succeed())
	}
	for _, o := range orgs {
		acct := &v1alpha1.Account{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "org-" + o.Name, Name: "web"}, acct)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(acct.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
	}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// throughAPIServer GETs /apis/api.orgplane.io/v1<path> as a user, through
// kube-apiserver's aggregation layer.
func throughAPIServer(username, path string) ([]byte, error) {
	return throughAPIServerDo("GET", username, path, "")
}

// throughAPIServerDo sends method with a JSON body through kube-apiserver.
func throughAPIServerDo(method, username, path, body string) ([]byte, error) {
	cs, err := kubernetes.NewForConfig(checked(users[username]))
	Expect(err).NotTo(HaveOccurred())
	req := cs.RESTClient().Verb(method).AbsPath("/apis/api.orgplane.io/v1" + path)
	if body != "" {
		req = req.SetHeader("Content-Type", "application/json").Body([]byte(body))
	}
	return req.DoRaw(ctx)
}

// direct calls the REST server itself, with a user's client certificate
// when username is not empty, and extra headers.
func direct(method, username, path, body string, headers map[string]string) (int, []byte) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.Aggregation.CABundle)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if username != "" {
		c, err := tls.X509KeyPair(users[username].CertData, users[username].KeyData)
		Expect(err).NotTo(HaveOccurred())
		tlsConfig.Certificates = []tls.Certificate{c}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}, Timeout: 10 * time.Second}
	req, err := http.NewRequest(method, fmt.Sprintf("https://127.0.0.1:%d%s", restPort, path), strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	checkContract(method, path, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, b
}

func organizationNames(body []byte) []string {
	var out struct {
		Organizations []struct {
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"organizations"`
	}
	Expect(json.Unmarshal(body, &out)).To(Succeed())
	names := make([]string, 0, len(out.Organizations))
	for _, o := range out.Organizations {
		names = append(names, o.Metadata.Name)
	}
	return names
}

// isolatedFreePlan is the default plan whose free plan isolates workspaces.
func isolatedFreePlan() plan.Settings {
	s := manager.DefaultPlan
	s.FreeGuardrails = &v1alpha1.Guardrails{Network: "isolated"}
	return s
}
