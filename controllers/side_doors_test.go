package controllers_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/tenancy"
)

// The side doors of issue 19, each attacked through the door an attacker
// would use, against the manager running with only config/rbac.

// forgedAccountReview is the AdmissionReview a Pod could hand-write to
// reserve an account (named phantom) in org's limit: any userInfo, dryRun false.
func forgedAccountReview(org string) []byte {
	const name = "phantom"
	acct := newAccount(org, name)
	acct.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("Account"))
	raw, err := json.Marshal(acct)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       uuid.NewUUID(),
			Kind:      metav1.GroupVersionKind{Group: v1alpha1.GroupVersion.Group, Version: "v1alpha1", Kind: "Account"},
			Resource:  metav1.GroupVersionResource{Group: v1alpha1.GroupVersion.Group, Version: "v1alpha1", Resource: "accounts"},
			Name:      name,
			Namespace: acct.Namespace,
			Operation: admissionv1.Create,
			UserInfo:  authenticationv1.UserInfo{Username: "admin@" + org + ".example"},
			Object:    runtime.RawExtension{Raw: raw},
			DryRun:    ptr.To(false),
		},
	}
	body, err := json.Marshal(review)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return body
}

// postToWebhook sends body to the account webhook as a client presenting
// certs, the way a Pod would reach the webhook Service.
func postToWebhook(body []byte, certs ...tls.Certificate) (int, error) {
	addr := net.JoinHostPort(cp.Webhook.LocalServingHost, strconv.Itoa(cp.Webhook.LocalServingPort))
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: certs}}} //nolint:gosec // the attacker need not trust the server
	resp, err := c.Post("https://"+addr+"/validate-orgplane-io-v1alpha1-account", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func reservations(org string) []v1alpha1.Reservation {
	o := &v1alpha1.Organization{}
	ExpectWithOffset(1, k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
	return o.Status.Reservations
}

var _ = Describe("Side door 1: forged admission requests to the webhook port", func() {
	It("a Pod POSTing a hand-written AdmissionReview is refused and reserves nothing", func() {
		victim := uniqueName("forged")
		tenantOrganization(victim, "admin@"+victim+".example")
		_, err := postToWebhook(forgedAccountReview(victim))
		Expect(err).To(HaveOccurred(), "the webhook server answered a caller without kube-apiserver's client certificate")

		selfSigned, err := tls.X509KeyPair(selfSignedClientCert())
		Expect(err).NotTo(HaveOccurred())
		_, err = postToWebhook(forgedAccountReview(victim), selfSigned)
		Expect(err).To(HaveOccurred(), "the webhook server answered a client certificate it did not issue")
		Consistently(func() []v1alpha1.Reservation { return reservations(victim) }, "2s").Should(BeEmpty())

		By("a real create through kube-apiserver still works")
		acct := newAccount(victim, "real")
		Expect(tenant("admin@"+victim+".example").Create(ctx, acct)).To(Succeed())
		expectReady(acct)
	})

	It("a request repeated for an account that never appears does not renew its reservation", func() {
		victim := uniqueName("renew")
		tenantOrganization(victim, "admin@"+victim+".example")
		apiserver, err := tls.LoadX509KeyPair(cp.WebhookClientAuth.CertFile, cp.WebhookClientAuth.KeyFile)
		Expect(err).NotTo(HaveOccurred())
		code, err := postToWebhook(forgedAccountReview(victim), apiserver)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(http.StatusOK))
		Expect(reservations(victim)).To(HaveLen(1))
		first := reservations(victim)[0].Expires
		time.Sleep(1100 * time.Millisecond) // expiries are kept to the second
		for range 3 {
			_, err = postToWebhook(forgedAccountReview(victim), apiserver)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(reservations(victim)).To(ConsistOf(HaveField("Expires", Equal(first))),
			fmt.Sprintf("the reservation was renewed past %s", first))
	})
})

// tenantAccount creates an organization (named after prefix) whose admin
// is a tenant of its own, and that tenant's Ready account named account:
// where the attacks below start from.
func tenantAccount(prefix, account string) (org, admin string, acct *v1alpha1.Account) {
	GinkgoHelper()
	org = uniqueName(prefix)
	admin = "owner@" + org + ".example"
	tenantOrganization(org, admin)
	acct = newAccount(org, account)
	Expect(tenant(admin).Create(ctx, acct)).To(Succeed())
	expectReady(acct)
	return org, admin, acct
}

// selfSignedClientCert is a certificate an attacker makes for themself.
func selfSignedClientCert() (certPEM, keyPEM []byte) {
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("kube-apiserver", nil, nil)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return certPEM, keyPEM
}

var _ = Describe("Side door 2: tenants filling the manager's cache", func() {
	It("a workspace admin cannot put orgplane's label on a Secret, on create or on update", func() {
		_, mallory, acct := tenantAccount("flood", "web")
		ws := acct.Status.Namespace
		Eventually(func() bool { return can(mallory, "create", "", "secrets", ws, "") }).Should(BeTrue())

		big := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "flood", Namespace: ws,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}},
			Data: map[string][]byte{"blob": bytes.Repeat([]byte{'x'}, 512<<10)}}
		err := tenant(mallory).Create(ctx, big)
		Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "a tenant created a Secret the manager caches: %v", err)
		Expect(err.Error()).To(ContainSubstring("only orgplane sets the label"))

		plain := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ws}}
		Expect(tenant(mallory).Create(ctx, plain)).To(Succeed())
		plain.Labels = map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}
		err = tenant(mallory).Update(ctx, plain)
		Expect(err).To(HaveOccurred(), "a tenant labelled their Secret as orgplane's")
		Expect(err.Error()).To(ContainSubstring("only orgplane sets the label"))

		By("nor change orgplane's own RoleBindings in their workspace")
		rb := &rbacv1.RoleBinding{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ws, Name: "orgplane-admins"}, rb)).To(Succeed())
		rb.Subjects = append(rb.Subjects, rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "system:authenticated"})
		Expect(tenant(mallory).Update(ctx, rb)).NotTo(Succeed())
	})
})

func serviceAccountMember(ns, name string, role v1alpha1.Role) v1alpha1.Member {
	return v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: ns, Name: name, Role: role}
}

var _ = Describe("Side door 3: ServiceAccount members as a ladder", func() {
	It("an organization admin cannot make a workspace's ServiceAccount an admin (its editors can mint its token)", func() {
		org, owner, acct := tenantAccount("ladder", "a")
		Eventually(func() bool { return can(owner, "update", "orgplane.io", "organizations", "", org) }).Should(BeTrue())
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
		for _, ns := range []string{acct.Status.Namespace, "org-" + org} {
			o.Spec.Members = append(o.Spec.Members, serviceAccountMember(ns, "ci", v1alpha1.RoleAdmin))
			err := tenant(owner).Update(ctx, o)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "a ServiceAccount of %s became an admin: %v", ns, err)
			Expect(err.Error()).To(ContainSubstring("cannot be a member"))
			o.Spec.Members = o.Spec.Members[:len(o.Spec.Members)-1]
		}
		By("nor an account's")
		acct.Spec.Members = []v1alpha1.Member{serviceAccountMember(acct.Status.Namespace, "ci", v1alpha1.RoleAdmin)}
		err := tenant(owner).Update(ctx, acct)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "a workspace's ServiceAccount became its admin: %v", err)
	})

	It("two ServiceAccounts named alike in different namespaces are two members and two users", func() {
		org := uniqueName("twins")
		owner := "owner@" + org + ".example"
		tenantOrganization(org, owner)
		Eventually(func() bool { return can(owner, "update", "orgplane.io", "organizations", "", org) }).Should(BeTrue())
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
		o.Spec.Members = append(o.Spec.Members,
			serviceAccountMember("team-a", "ci", v1alpha1.RoleMember), serviceAccountMember("team-b", "ci", v1alpha1.RoleMember))
		Expect(tenant(owner).Update(ctx, o)).To(Succeed())
		Eventually(func() int64 {
			Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
			if o.Status.Usage == nil {
				return 0
			}
			return o.Status.Usage.Users
		}).Should(Equal(int64(3)))
		Eventually(func() bool {
			return can("system:serviceaccount:team-b:ci", "list", v1alpha1.GroupVersion.Group, "accounts", "org-"+org, "")
		}).Should(BeTrue())
	})
})

var _ = Describe("Side door 5: a quota before kube-apiserver enforces it", func() {
	It("with no quota controller running, a tenant's first Pods in a new workspace are counted by the quota", func() {
		org := uniqueName("early")
		owner := "owner@" + org + ".example"
		tenantOrganization(org, owner)
		assign(org, 5, &license.Guardrails{Workspace: map[string]string{"pods": "2"}})
		acct := newAccount(org, "app")
		Expect(tenant(owner).Create(ctx, acct)).To(Succeed())
		ws := v1alpha1.WorkspaceNamespace(org, "app")
		Eventually(func() bool { return can(owner, "create", "", "pods", ws, "") }).Should(BeTrue())
		// kube-apiserver's quota admission ignores a quota whose status.hard
		// is empty: a tenant bound then creates Pods no quota counts.
		err := tenant(owner).Create(ctx, newPod(ws, "early"))
		Expect(err).To(HaveOccurred(), "a Pod was admitted before any quota controller reported the workspace's usage")
		Expect(err.Error()).To(ContainSubstring("status unknown for quota: " + controllers.QuotaName))

		By("once the quota controller reports the usage, the quota holds at 2")
		Eventually(func() error {
			q := &corev1.ResourceQuota{}
			if err := k8sClient.Get(ctx, key(ws, controllers.QuotaName), q); err != nil {
				return err
			}
			q.Status.Used = quantities("pods", "0")
			return k8sClient.Status().Update(ctx, q)
		}).Should(Succeed())
		Eventually(func() error { return tenant(owner).Create(ctx, newPod(ws, "first")) }).Should(Succeed())
		Expect(tenant(owner).Create(ctx, newPod(ws, "second"))).To(Succeed())
		err = tenant(owner).Create(ctx, newPod(ws, "third"))
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("exceeded quota: " + controllers.QuotaName))
	})
})

var _ = Describe("Side door 4: users beyond the limit through RoleBindings", func() {
	It("a workspace admin cannot bind people or groups in their workspace, only its own ServiceAccounts", func() {
		_, owner, acct := tenantAccount("binder", "web")
		ws := acct.Status.Namespace
		Eventually(func() bool { return can(owner, "create", rbacv1.GroupName, "rolebindings", ws, "") }).Should(BeTrue())
		binding := func(name string, s rbacv1.Subject) *rbacv1.RoleBinding {
			return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ws},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
				Subjects: []rbacv1.Subject{s}}
		}
		for name, s := range map[string]rbacv1.Subject{
			"everyone": {Kind: "Group", APIGroup: rbacv1.GroupName, Name: "system:authenticated"},
			"outsider": {Kind: "User", APIGroup: rbacv1.GroupName, Name: "outsider@elsewhere.example"},
			"other-sa": {Kind: "ServiceAccount", Namespace: "ci", Name: "deployer"},
		} {
			err := tenant(owner).Create(ctx, binding(name, s))
			Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "%s was bound in the workspace: %v", name, err)
			Expect(err.Error()).To(ContainSubstring("may name only ServiceAccounts of " + ws))
		}
		Expect(tenant(owner).Create(ctx, binding("own-sa", rbacv1.Subject{Kind: "ServiceAccount", Name: "default"}))).To(Succeed())
	})
})

var _ = Describe("Side door 7: suspension freezes every writer", func() {
	It("a suspended organization's admin can neither run, grow, bind, rotate nor rename anything; reads and deletes work", func() {
		org, owner, acct := tenantAccount("frozen", "app")
		ws := acct.Status.Namespace
		Eventually(func() bool { return can(owner, "create", "apps", "deployments", ws, "") }).Should(BeTrue())
		deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ws}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: newPod(ws, "x").Spec}}}
		Expect(tenant(owner).Create(ctx, deploy)).To(Succeed())

		Eventually(func() bool { return can(owner, "update", "orgplane.io", "organizations", "", org) }).Should(BeTrue())
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
		o.Spec.Suspended = true
		Expect(k8sClient.Update(ctx, o)).To(Succeed())
		for _, ns := range []string{ws, "org-" + org} {
			Eventually(func() string {
				n := &corev1.Namespace{}
				Expect(k8sClient.Get(ctx, types.NamespacedName{Name: ns}, n)).To(Succeed())
				return n.Labels[v1alpha1.LabelSuspended]
			}).Should(Equal("true"), ns)
		}
		mallory := tenant(owner)
		refused := func(what string, err error) {
			GinkgoHelper()
			Expect(err).To(HaveOccurred(), "%s in a suspended organization", what)
			Expect(err.Error()).To(ContainSubstring("suspended"), what)
		}
		scaled := deploy.DeepCopy()
		Eventually(func() error {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(deploy), scaled)).To(Succeed())
			scaled.Spec.Replicas = ptr.To[int32](5)
			return mallory.Update(ctx, scaled)
		}).Should(MatchError(ContainSubstring("suspended")), "scaled a Deployment")
		refused("created a Pod", mallory.Create(ctx, newPod(ws, "new")))
		refused("created a Job", mallory.Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: ws},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: newPod(ws, "x").Spec.Containers}}}}))
		refused("bound a ServiceAccount", mallory.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "sa", Namespace: ws},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}}}))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), acct)).To(Succeed())
		rotated := acct.DeepCopy()
		rotated.Spec.KeyRotation++
		refused("rotated the API key", mallory.Update(ctx, rotated))
		renamed := acct.DeepCopy()
		renamed.Spec.DisplayName = "Renamed"
		refused("renamed an account", mallory.Update(ctx, renamed))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
		o.Spec.DisplayName = "Frozen Renamed " + org
		refused("renamed the organization", mallory.Update(ctx, o))

		By("reads and deletes still work")
		Expect(mallory.Get(ctx, client.ObjectKeyFromObject(deploy), &appsv1.Deployment{})).To(Succeed())
		Expect(mallory.Delete(ctx, deploy)).To(Succeed())

		By("resumed, it thaws")
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org}, o)).To(Succeed())
		o.Spec.Suspended = false
		Expect(k8sClient.Update(ctx, o)).To(Succeed())
		Eventually(func() error { return mallory.Create(ctx, newPod(ws, "thawed")) }).Should(Succeed())
	})
})

var _ = Describe("Side door 6: a plan below usage where no quota counts yet", func() {
	It("a license whose workspace quota is below the Pods already running is refused, though no quota ever counted them", func() {
		org, ws := guardedWorkspaces("uncounted")
		for i := range 3 {
			Expect(k8sClient.Create(ctx, newPod(ws[0], fmt.Sprintf("running-%d", i)))).To(Succeed())
		}
		Expect(k8sClient.Get(ctx, key(ws[0], controllers.QuotaName), &corev1.ResourceQuota{})).NotTo(Succeed(),
			"the free plan here has no quota: nothing counts the Pods")
		smaller := newLicense(org.Name, issueGuardedKey(org.Name, 6, &license.Guardrails{Workspace: map[string]string{"pods": "2"}}))
		err := k8sClient.Create(ctx, smaller)
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "a plan of 2 Pods per workspace was assigned over 3 running: %v", err)
		Expect(err.Error()).To(ContainSubstring(ws[0] + ": pods 3 used, quota 2"))
	})
})

// succeededAtOnce runs try(0..n-1) concurrently and counts the successes.
func succeededAtOnce(n int, try func(i int) error) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			if try(i) == nil {
				mu.Lock()
				succeeded++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return succeeded
}

var _ = Describe("Side door 8: caps count creators, exactly", Ordered, func() {
	BeforeAll(letEveryoneCreateOrganizations)

	It("six organizations created at once by one user: exactly the cap of two are admitted", func() {
		prefix := uniqueName("burst")
		user := "eve@" + prefix + ".example"
		eve := tenant(user, creatorGroup)
		Eventually(func() error { // RBAC lets every authenticated user create, once the binding is seen
			return eve.Create(ctx, newOrganization(prefix+"-probe", admin(user)), client.DryRunAll)
		}).Should(Succeed())
		admitted := succeededAtOnce(6, func(i int) error {
			return eve.Create(ctx, newOrganization(fmt.Sprintf("%s-%d", prefix, i), admin(user)))
		})
		Expect(admitted).To(Equal(maxOrganizationsPerUser), "the per-user cap counted from the cache let a burst through")
	})

	It("ServiceAccounts of one namespace share one cap: minting another does not buy more organizations", func() {
		prefix := uniqueName("minted")
		ns := prefix + "-ci"
		for i := range maxOrganizationsPerUser {
			name := fmt.Sprintf("bot-%d", i)
			sa := tenant("system:serviceaccount:"+ns+":"+name, creatorGroup)
			Eventually(func() error {
				return sa.Create(ctx, newOrganization(fmt.Sprintf("%s-%d", prefix, i), serviceAccountMember(ns, name, v1alpha1.RoleAdmin)))
			}).Should(Succeed())
		}
		another := tenant("system:serviceaccount:"+ns+":bot-new", creatorGroup)
		err := another.Create(ctx, newOrganization(prefix+"-new", serviceAccountMember(ns, "bot-new", v1alpha1.RoleAdmin)))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "a new ServiceAccount of %s got organizations of its own: %v", ns, err)
		Expect(err.Error()).To(ContainSubstring("the ServiceAccounts of namespace " + ns))
	})
})

var _ = Describe("Side door 8: trials counted per requester, and gone with their organization", func() {
	It("a requester who takes trials for several organizations at once, or deletes one and makes another, gets one", func() {
		creators := &tenancy.Creators{MaxTrials: 1, Reader: k8sClient, Live: k8sClient, Writer: k8sClient}
		requester := "eve@" + uniqueName("trials") + ".example"
		taken := succeededAtOnce(5, func(i int) error { return creators.TakeTrial(ctx, requester, fmt.Sprintf("org-%d", i)) })
		Expect(taken).To(Equal(1), "trials for 5 organizations asked at once")
		err := creators.TakeTrial(ctx, requester, "a-new-one")
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("has taken 1 self-issued licenses"))
	})

	It("a self-issued License is deleted with its organization", func() {
		org := newOrganization(uniqueName("trialgone"), admin("root@trialgone.example"))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		issuer := &license.SelfIssuer{Client: k8sClient, Key: issuerKey, Offers: license.DefaultOffers}
		lic, err := issuer.Issue(ctx, org.Name, string(org.UID), "trial")
		Expect(err).NotTo(HaveOccurred())
		expectReady(lic)
		Expect(k8sClient.Delete(ctx, org)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), &v1alpha1.License{}))
		}).WithTimeout(time.Minute).Should(BeTrue(), "the trial License outlived its organization")
	})
})

var _ = Describe("Side door 10: the manager's token is not a cluster takeover", func() {
	It("whoever holds the manager's credentials cannot write Secrets, RBAC or Namespaces outside orgplane's own", func() {
		stolen, err := client.New(managerCfg, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		refused := func(what string, err error) {
			GinkgoHelper()
			Expect(err).To(HaveOccurred(), "with the manager's token: %s", what)
			Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", what, err)
		}
		// kube-apiserver enforces a policy a moment after it is applied (at
		// the suite's start): wait, with a dry run, until it refuses.
		Eventually(func() bool {
			err := stolen.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "loot", Namespace: "kube-system"}}, client.DryRunAll)
			return apierrors.IsForbidden(err)
		}).Should(BeTrue())
		refused("a Secret in kube-system", stolen.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "loot", Namespace: "kube-system"}}))
		refused("cluster-admin for itself", stolen.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "orgplane:organization:takeover:admin"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "mallory@takeover.example"}}}))
		refused("a ClusterRole granting Secrets", stolen.Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "orgplane:organization:takeover:member"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}}}))
		refused("an admin binding in default", stolen.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "takeover", Namespace: "default"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "mallory@takeover.example"}}}))
		refused("deleting namespace default", stolen.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}))
		refused("a namespace not labelled as orgplane's", stolen.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cert-manager"}}))

		By("and still does its own work")
		org := tenantOrganization(uniqueName("stillworks"), "root@stillworks.example")
		acct := newAccount(org.Name, "web")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
	})
})
