package rest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/views"
)

// The people of the views specs, in organizations of their own.
const (
	vAlice = "alice@views.example" // admin of vw-acme, member of vw-globex (through a group)
	vBob   = "bob@views.example"   // admin of vw-initech
	vCarol = "carol@views.example" // member of vw-initech's account web only
	vDave  = "dave@views.example"  // in no organization, until a spec adds him
	vGroup = "views-globex"
)

var myOrgs = schema.GroupVersionResource{Group: "my.orgplane.io", Version: "v1", Resource: "organizations"}

// kubectlAs runs the real kubectl as a user of the views specs.
func kubectlViews(ctx context.Context, username string, groups []string, args ...string) *exec.Cmd {
	_, kubeconfig, err := cp.AddUser(username, groups...)
	Expect(err).NotTo(HaveOccurred())
	bin := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	return exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...) //nolint:gosec // the test's own kubectl
}

func kubectlOut(username string, args ...string) (string, error) {
	groups := map[string][]string{vAlice: {vGroup}, "platform-admin": {"system:masters"}}[username]
	out, err := kubectlViews(ctx, username, groups, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func viewOrg(name string, members []v1alpha1.Member) {
	Expect(k8sClient.Create(ctx, &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"tier": "gold"}},
		Spec: v1alpha1.OrganizationSpec{DisplayName: "Views " + name, Members: members}})).To(Succeed())
}

func viewAccount(org, name string, members []v1alpha1.Member) {
	Eventually(func() error {
		return k8sClient.Create(ctx, &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "org-" + org},
			Spec: v1alpha1.AccountSpec{Members: members}})
	}).Should(Succeed())
}

func lines(s string) []string {
	out := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(out)
	return out
}

var _ = Describe("my.orgplane.io: each person's own organizations through kubectl", Ordered, func() {
	BeforeAll(func() {
		viewOrg("vw-acme", []v1alpha1.Member{{Kind: "User", Name: vAlice, Role: "admin"}})
		viewOrg("vw-globex", []v1alpha1.Member{{Kind: "Group", Name: vGroup, Role: "member"}, {Kind: "User", Name: "gus@views.example", Role: "admin"}})
		viewOrg("vw-initech", []v1alpha1.Member{{Kind: "User", Name: vBob, Role: "admin"}})
		viewAccount("vw-initech", "web", []v1alpha1.Member{{Kind: "User", Name: vCarol, Role: "member"}})
		viewAccount("vw-initech", "db", nil)
		viewAccount("vw-acme", "api", nil)
		// The index applies each kind's events in order: once the last
		// account made is seen, every one before it is.
		Eventually(func() (string, error) { return kubectlOut(vAlice, "get", "myaccounts", "-o", "name") }).
			Should(Equal("account.my.orgplane.io/vw-acme.api"))
	})

	It("lists exactly the caller's organizations: directly, through a group, through an account; a platform admin sees all", func() {
		Expect(kubectlOut(vAlice, "get", "myorgs", "-o", "name")).To(Equal(
			"organization.my.orgplane.io/vw-acme\norganization.my.orgplane.io/vw-globex"))
		Expect(kubectlOut(vBob, "get", "myorgs", "-o", "name")).To(Equal("organization.my.orgplane.io/vw-initech"))
		Expect(kubectlOut(vCarol, "get", "myorgs", "-o", "jsonpath={.items[*].metadata.name}={.items[*].status.role}")).
			To(Equal("vw-initech=account"))
		Expect(kubectlOut(vDave, "get", "myorgs")).To(Equal("No resources found"))
		Expect(kubectlOut(vAlice, "get", "myaccounts", "-o", "name")).To(Equal("account.my.orgplane.io/vw-acme.api"))
		Expect(kubectlOut(vBob, "get", "myaccounts", "-o", "name")).To(Equal(
			"account.my.orgplane.io/vw-initech.db\naccount.my.orgplane.io/vw-initech.web"))

		Eventually(func(g Gomega) {
			all := &v1alpha1.OrganizationList{}
			g.Expect(k8sClient.List(ctx, all)).To(Succeed())
			var want []string
			for _, o := range all.Items {
				if o.DeletionTimestamp.IsZero() {
					want = append(want, "organization.my.orgplane.io/"+o.Name)
				}
			}
			sort.Strings(want)
			out, err := kubectlOut("platform-admin", "get", "myorgs", "-o", "name")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(lines(out)).To(Equal(want))
		}).Should(Succeed())
	})

	It("answers a name the caller may not see exactly as one that does not exist", func() {
		foreign, err := kubectlOut(vAlice, "get", "myorg", "vw-initech")
		Expect(err).To(HaveOccurred())
		missing, err := kubectlOut(vAlice, "get", "myorg", "vw-nothing")
		Expect(err).To(HaveOccurred())
		Expect(foreign).To(Equal(`Error from server (NotFound): organizations.my.orgplane.io "vw-initech" not found`))
		Expect(strings.ReplaceAll(missing, "vw-nothing", "vw-initech")).To(Equal(foreign))
		_, err = kubectlOut(vCarol, "get", "myaccount", "vw-initech.db")
		Expect(err).To(HaveOccurred())
		Expect(kubectlOut(vCarol, "get", "myaccount", "vw-initech.web", "-o", "jsonpath={.status.workspace} {.status.role}")).
			To(Equal("ws-vw-initech--web member"))
		Expect(kubectlOut(vAlice, "get", "myorg", "vw-globex", "-o", "jsonpath={.status.role}")).To(Equal("member"))
	})

	It("lets a selector narrow the caller's organizations and never widen them", func() {
		for _, sel := range [][]string{
			{"--field-selector", "metadata.name!=x"},
			{"--field-selector", "status.role!=nobody"},
			{"--field-selector", "metadata.name!=vw-acme,metadata.name!=vw-globex"},
			{"-l", "!nonexistent"},
			{"-l", "tier in (gold,silver)"},
			{"-l", "tier notin (x)"},
			{"--all-namespaces"},
		} {
			out, _ := kubectlOut(vAlice, append([]string{"get", "myorgs", "-o", "name"}, sel...)...)
			Expect(out).NotTo(ContainSubstring("vw-initech"), "selector %v", sel)
		}
		Expect(kubectlOut(vAlice, "get", "myorgs", "-o", "name", "--field-selector", "status.role=admin")).
			To(Equal("organization.my.orgplane.io/vw-acme"))
		Expect(kubectlOut(vAlice, "get", "myorgs", "-o", "name", "-l", "tier=gold", "--field-selector", "metadata.name=vw-globex")).
			To(Equal("organization.my.orgplane.io/vw-globex"))
		out, err := kubectlOut(vAlice, "get", "myorgs", "--field-selector", "spec.members=x")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring(`field label "spec.members" is not supported`))
		Expect(out).To(ContainSubstring("use one of metadata.name, status.phase, status.plan, status.role"))
	})

	It("pages with limit and continue, and agrees with get", func() {
		dyn, err := dynamic.NewForConfig(users["platform-admin"])
		Expect(err).NotTo(HaveOccurred())
		var names []string
		opts := metav1.ListOptions{Limit: 2}
		for {
			page, err := dyn.Resource(myOrgs).List(ctx, opts)
			Expect(err).NotTo(HaveOccurred())
			Expect(len(page.Items)).To(BeNumerically("<=", 2))
			for _, it := range page.Items {
				names = append(names, it.GetName())
				got, err := dyn.Resource(myOrgs).Get(ctx, it.GetName(), metav1.GetOptions{})
				Expect(err).NotTo(HaveOccurred())
				Expect(got.Object["status"]).To(Equal(it.Object["status"]))
			}
			if opts.Continue = page.GetContinue(); opts.Continue == "" {
				break
			}
		}
		Expect(names).To(ContainElements("vw-acme", "vw-globex", "vw-initech"))
		Expect(sort.StringsAreSorted(names)).To(BeTrue())
		full, err := dyn.Resource(myOrgs).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(len(names)).To(BeNumerically(">=", len(full.Items)-1)) // another spec may be deleting one
	})

	It("refuses every write, and a resourceVersion it did not give with 410", func() {
		out, err := kubectlOut(vAlice, "delete", "myorg", "vw-acme")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("Forbidden"))
		_, err = kubectlOut("platform-admin", "label", "myorg", "vw-acme", "x=y")
		Expect(err).To(HaveOccurred())
		bobs, _, err := cp.AddUser(vBob)
		Expect(err).NotTo(HaveOccurred())
		dyn, err := dynamic.NewForConfig(bobs)
		Expect(err).NotTo(HaveOccurred())
		w, err := dyn.Resource(myOrgs).Watch(ctx, metav1.ListOptions{ResourceVersion: "12345"}) // not one the views gave
		if err == nil {                                                                         // kube-apiserver's way: the refusal is the stream's first event
			ev := <-w.ResultChan()
			w.Stop()
			Expect(ev.Type).To(Equal(watch.Error), "%v", ev.Object)
			err = apierrors.FromObject(ev.Object)
		}
		Expect(apierrors.IsResourceExpired(err) || apierrors.IsGone(err)).To(BeTrue(), "%v", err)
	})

	It("shows kubectl explain and the wide columns", func() {
		out, err := kubectlOut(vAlice, "explain", "myorgs.status.role")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("platform-admin"))
		out, err = kubectlOut(vAlice, "get", "myorgs", "-o", "wide")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(strings.Fields(strings.Split(out, "\n")[0])).To(Equal([]string{
			"NAME", "DISPLAY", "NAME", "ROLE", "PLAN", "PHASE", "SEATS", "ACCOUNTS", "RENEW", "BY", "USAGE", "READY", "AGE"}))
		out, err = kubectlOut(vBob, "get", "myaccounts")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(strings.Fields(strings.Split(out, "\n")[0])).To(Equal([]string{
			"NAME", "ORGANIZATION", "DISPLAY", "NAME", "WORKSPACE", "ROLE", "AGE"}))
	})

	It("switches a kubeconfig's namespace to an account's workspace the caller may see, and to nothing else", func() {
		_, kubeconfig, err := cp.AddUser(vCarol)
		Expect(err).NotTo(HaveOccurred())
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}
		_, err = views.Use(ctx, rules, "", "vw-initech.db")
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
		msg, err := views.Use(ctx, rules, "", "vw-initech/web")
		Expect(err).NotTo(HaveOccurred())
		Expect(msg).To(ContainSubstring(`now uses namespace "ws-vw-initech--web" (account vw-initech.web, your role: member)`))
		cfg, err := clientcmd.LoadFromFile(kubeconfig)
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Contexts[cfg.CurrentContext].Namespace).To(Equal("ws-vw-initech--web"))
		canI, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), "--kubeconfig", kubeconfig, //nolint:gosec // the test's own kubectl
			"auth", "can-i", "create", "deployments").CombinedOutput()
		Expect(strings.TrimSpace(string(canI))).To(Equal("yes"), "%v", err)
	})

	It("streams ADDED when the caller is added to an organization and DELETED when removed", func() {
		wctx, stop := context.WithCancel(ctx)
		// -v=6 logs the watch request's answer on stderr: the watch is
		// open once it says 200 OK.
		cmd := kubectlViews(wctx, vDave, nil, "get", "myorgs", "-w", "--output-watch-events", "-v=6")
		out, log := &localcp.SyncBuffer{}, &localcp.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = out, log
		Expect(cmd.Start()).To(Succeed())
		defer func() { stop(); _ = cmd.Wait() }()
		Eventually(log.String).Should(MatchRegexp(`watch=true.*200 OK`))
		setMembers("vw-globex", append(membersOf("vw-globex"), v1alpha1.Member{Kind: "User", Name: vDave, Role: "viewer"}))
		Eventually(out.Lines, 10*time.Second).Should(ContainElement(HavePrefix("ADDED vw-globex Views vw-globex viewer ")))
		setMembers("vw-globex", slices.DeleteFunc(membersOf("vw-globex"), func(m v1alpha1.Member) bool { return m.Name == vDave }))
		Eventually(out.Lines, 10*time.Second).Should(ContainElement(HavePrefix("DELETED vw-globex ")))
		Expect(out.String()).NotTo(ContainSubstring("vw-initech"))
	})
})

func membersOf(org string) []v1alpha1.Member {
	o := &v1alpha1.Organization{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
	return o.Spec.Members
}

func setMembers(org string, members []v1alpha1.Member) {
	Eventually(func() error {
		o := &v1alpha1.Organization{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: org}, o); err != nil {
			return err
		}
		o.Spec.Members = members
		return k8sClient.Update(ctx, o)
	}).Should(Succeed())
}
