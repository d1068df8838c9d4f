package controllers_test

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
	"github.com/orgplane/orgplane/internal/license"
)

// issueGuardedKey signs a license for org with guardrails.
func issueGuardedKey(org string, accounts int64, g *license.Guardrails) string {
	return issueGuardedKeyFor(org, accounts, g, time.Hour)
}

func issueGuardedKeyFor(org string, accounts int64, g *license.Guardrails, validFor time.Duration) string {
	now, none := time.Now(), 0.0
	key, err := license.Issue(licenseKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID: uniqueName("lic"), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(validFor)),
		},
		Type: "team", Licensee: "Licensee of " + org, Organization: org,
		Limits: license.Limits{Accounts: accounts, Users: 10, Deployments: 10}, Guardrails: g,
		// No grace or restricted period: the plan ends at exp.
		GraceDays: &none, RestrictedDays: &none,
	})
	Expect(err).NotTo(HaveOccurred())
	return key
}

// guardedWorkspaces creates an organization with two accounts and returns
// it with their workspace namespaces.
func guardedWorkspaces(prefix string) (*v1alpha1.Organization, []string) {
	org := newOrganization(uniqueName(prefix), admin("root@"+prefix+".example"))
	Expect(k8sClient.Create(ctx, org)).To(Succeed())
	expectReady(org)
	workspaces := make([]string, 0, 2)
	for _, name := range []string{"web", "db"} {
		acct := newAccount(org.Name, name)
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		workspaces = append(workspaces, acct.Status.Namespace)
	}
	return org, workspaces
}

func assign(org string, accounts int64, g *license.Guardrails) *v1alpha1.License {
	lic := newLicense(org, issueGuardedKey(org, accounts, g))
	Expect(k8sClient.Create(ctx, lic)).To(Succeed())
	expectReady(lic)
	return lic
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

func quantities(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

// expectQuantities compares resource lists by value ("1Gi" and "1024Mi" are equal).
func expectQuantities(g Gomega, got, want corev1.ResourceList) {
	g.Expect(got).To(HaveLen(len(want)), "got %v, want %v", got, want)
	for name, q := range want {
		v, ok := got[name]
		g.Expect(ok).To(BeTrue(), "%s missing from %v", name, got)
		g.Expect(v.Cmp(q)).To(Equal(0), "%s: got %s, want %s", name, v.String(), q.String())
	}
}

func expectAbsent(g Gomega, obj client.Object) {
	err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
}

func guardrailObjects(ns string) []client.Object {
	return []client.Object{
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.QuotaName}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.LimitRangeName}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.NetworkPolicyName}},
	}
}

var isolated = &license.Guardrails{
	Workspace: map[string]string{"requests.cpu": "2", "limits.memory": "1Gi", "pods": "10"},
	Network:   license.NetworkIsolated,
}

// expectIsolatedGuardrails waits until ns has the guardrails of isolated.
func expectIsolatedGuardrails(ns string) {
	Eventually(func(g Gomega) {
		quota := &corev1.ResourceQuota{}
		g.Expect(k8sClient.Get(ctx, key(ns, controllers.QuotaName), quota)).To(Succeed())
		expectQuantities(g, quota.Spec.Hard, quantities("requests.cpu", "2", "limits.memory", "1Gi", "pods", "10"))
		g.Expect(quota.Labels).To(HaveKeyWithValue(v1alpha1.LabelManagedBy, v1alpha1.ManagedByValue))

		limits := &corev1.LimitRange{}
		g.Expect(k8sClient.Get(ctx, key(ns, controllers.LimitRangeName), limits)).To(Succeed())
		g.Expect(limits.Spec.Limits).To(HaveLen(1))
		expectQuantities(g, limits.Spec.Limits[0].Default, quantities("memory", "512Mi"))
		expectQuantities(g, limits.Spec.Limits[0].DefaultRequest, quantities("cpu", "100m", "memory", "128Mi"))

		policy := &networkingv1.NetworkPolicy{}
		g.Expect(k8sClient.Get(ctx, key(ns, controllers.NetworkPolicyName), policy)).To(Succeed())
		g.Expect(policy.Spec.PodSelector.MatchLabels).To(BeEmpty())
		g.Expect(policy.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		g.Expect(policy.Spec.Ingress).To(HaveLen(1))
		g.Expect(policy.Spec.Ingress[0].From).To(ConsistOf(networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}))
		g.Expect(policy.Spec.Egress).To(HaveLen(2))
		g.Expect(policy.Spec.Egress[0].To).To(ConsistOf(networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}))
		g.Expect(policy.Spec.Egress[1].Ports).To(HaveLen(2))
		g.Expect(policy.Spec.Egress[1].To[0].PodSelector.MatchLabels).To(HaveKeyWithValue("k8s-app", "kube-dns"))
	}).Should(Succeed())
}

// expectSettled checks that the guardrails of ns are not written again
// and again (no hot loop on defaults the API server fills in).
func expectSettled(ns string) {
	versions := func() []string {
		objs := guardrailObjects(ns)
		out := make([]string, 0, len(objs))
		for _, obj := range objs {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			out = append(out, obj.GetResourceVersion())
		}
		return out
	}
	Consistently(versions).Should(Equal(versions()))
}

// expectRefusedByQuota waits until kube-apiserver refuses pod for going
// over quota name. The usage these specs report by hand (this control
// plane runs no quota controller) reaches quota admission through its
// informer a moment later, and until then it may judge from an older
// copy: a Pod it admits meanwhile is deleted and the create tried again.
func expectRefusedByQuota(pod *corev1.Pod, name string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		try := pod.DeepCopy()
		err := k8sClient.Create(ctx, try)
		if err == nil {
			g.Expect(k8sClient.Delete(ctx, try, client.GracePeriodSeconds(0))).To(Succeed())
		}
		g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		g.Expect(err.Error()).To(ContainSubstring("exceeded quota: " + name))
	}).Should(Succeed())
}

func newPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
	}
}

var _ = Describe("Workspace guardrails", func() {
	It("writes the plan's quota, limits and network policy into every workspace, follows a plan change, and removes them on a plan without guardrails", func() {
		org, workspaces := guardedWorkspaces("guarded")
		first := assign(org.Name, 5, isolated)
		for _, ns := range workspaces {
			expectIsolatedGuardrails(ns)
		}
		expectSettled(workspaces[0])

		By("a better license with other guardrails becomes the plan")
		second := assign(org.Name, 6, &license.Guardrails{
			Workspace: map[string]string{"limits.cpu": "300m", "pods": "5"}, Network: license.NetworkOrganization,
		})
		for _, ns := range workspaces {
			Eventually(func(g Gomega) {
				quota := &corev1.ResourceQuota{}
				g.Expect(k8sClient.Get(ctx, key(ns, controllers.QuotaName), quota)).To(Succeed())
				expectQuantities(g, quota.Spec.Hard, quantities("limits.cpu", "300m", "pods", "5"))
				limits := &corev1.LimitRange{}
				g.Expect(k8sClient.Get(ctx, key(ns, controllers.LimitRangeName), limits)).To(Succeed())
				expectQuantities(g, limits.Spec.Limits[0].Default, quantities("cpu", "300m"))
				expectQuantities(g, limits.Spec.Limits[0].DefaultRequest, quantities("cpu", "100m"))
				policy := &networkingv1.NetworkPolicy{}
				g.Expect(k8sClient.Get(ctx, key(ns, controllers.NetworkPolicyName), policy)).To(Succeed())
				g.Expect(policy.Spec.Ingress[0].From).To(HaveLen(1))
				peer := policy.Spec.Ingress[0].From[0]
				g.Expect(peer.PodSelector).To(BeNil())
				g.Expect(peer.NamespaceSelector.MatchLabels).To(HaveKeyWithValue(v1alpha1.LabelOrganization, org.Name))
				g.Expect(policy.Spec.Egress[0].To).To(Equal(policy.Spec.Ingress[0].From))
			}).Should(Succeed())
		}
		ws := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: workspaces[1]}, ws)).To(Succeed())
		Expect(ws.Labels).To(HaveKeyWithValue(v1alpha1.LabelOrganization, org.Name), "the organization's policy selects its workspaces")

		By("deleting both licenses puts the organization on the free plan, which has no guardrails")
		Expect(k8sClient.Delete(ctx, second)).To(Succeed())
		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		for _, ns := range workspaces {
			Eventually(func(g Gomega) {
				for _, obj := range guardrailObjects(ns) {
					expectAbsent(g, obj)
				}
			}).Should(Succeed())
		}
	})

	It("writes nothing into the workspaces of a license without guardrails", func() {
		org, _ := licensedOrganization("plain", license.Limits{Accounts: 3, Users: 3, Deployments: 3})
		acct := newAccount(org.Name, "web")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		Consistently(func(g Gomega) {
			for _, obj := range guardrailObjects(acct.Status.Namespace) {
				expectAbsent(g, obj)
			}
		}).Should(Succeed())
	})

	It("removes the guardrails when their license expires, deleting nothing else", func() {
		org, workspaces := guardedWorkspaces("expiring")
		lic := newLicense(org.Name, issueGuardedKeyFor(org.Name, 5, isolated, 15*time.Second))
		Expect(k8sClient.Create(ctx, lic)).To(Succeed())
		expectIsolatedGuardrails(workspaces[0])
		Eventually(func(g Gomega) {
			for _, obj := range guardrailObjects(workspaces[0]) {
				expectAbsent(g, obj)
			}
		}).Should(Succeed())
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: workspaces[0]}, &corev1.Namespace{})).To(Succeed())
	})

	It("a workspace admin cannot loosen the quota or the limits of their workspace", func() {
		org, workspaces := guardedWorkspaces("loosen")
		assign(org.Name, 5, isolated)
		ns, tenant := workspaces[0], "root@loosen.example"
		expectIsolatedGuardrails(ns)
		Eventually(func() bool { return can(tenant, "create", "apps", "deployments", ns, "") }).Should(BeTrue(), "the tenant is the workspace's admin")
		for _, verb := range []string{"update", "patch", "delete"} {
			Expect(can(tenant, verb, "", "resourcequotas", ns, controllers.QuotaName)).To(BeFalse(), verb)
			Expect(can(tenant, verb, "", "limitranges", ns, controllers.LimitRangeName)).To(BeFalse(), verb)
		}
		Expect(can(tenant, "create", "", "resourcequotas", ns, "")).To(BeFalse())
	})

	It("puts back each guardrail edited or deleted by hand", func() {
		org, workspaces := guardedWorkspaces("drift")
		assign(org.Name, 5, isolated)
		ns := workspaces[0]
		expectIsolatedGuardrails(ns)

		By("editing each object")
		quota := &corev1.ResourceQuota{}
		Expect(k8sClient.Get(ctx, key(ns, controllers.QuotaName), quota)).To(Succeed())
		quota.Spec.Hard = quantities("pods", "1000")
		Expect(k8sClient.Update(ctx, quota)).To(Succeed())
		limits := &corev1.LimitRange{}
		Expect(k8sClient.Get(ctx, key(ns, controllers.LimitRangeName), limits)).To(Succeed())
		limits.Spec.Limits[0].DefaultRequest = quantities("cpu", "1m")
		Expect(k8sClient.Update(ctx, limits)).To(Succeed())
		policy := &networkingv1.NetworkPolicy{}
		Expect(k8sClient.Get(ctx, key(ns, controllers.NetworkPolicyName), policy)).To(Succeed())
		policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}} // from anywhere
		Expect(k8sClient.Update(ctx, policy)).To(Succeed())
		expectIsolatedGuardrails(ns)

		By("deleting each object")
		for _, obj := range guardrailObjects(ns) {
			Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		}
		expectIsolatedGuardrails(ns)
	})

	It("lets kube-apiserver admit a Pod without requests (LimitRange defaults) and refuse the Pod over the quota", func() {
		org, workspaces := guardedWorkspaces("quota")
		assign(org.Name, 5, &license.Guardrails{Workspace: map[string]string{"pods": "1", "requests.cpu": "1"}})
		ns := workspaces[0]
		quota := &corev1.ResourceQuota{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, controllers.QuotaName), quota)).To(Succeed())
			g.Expect(k8sClient.Get(ctx, key(ns, controllers.LimitRangeName), &corev1.LimitRange{})).To(Succeed())
		}).Should(Succeed())

		By("seeding what the quota and service-account controllers would write (this control plane runs neither)")
		Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}})).To(Succeed())
		Eventually(func() error {
			if err := k8sClient.Get(ctx, key(ns, controllers.QuotaName), quota); err != nil {
				return err
			}
			quota.Status = corev1.ResourceQuotaStatus{Hard: quota.Spec.Hard, Used: quantities("pods", "0", "requests.cpu", "0")}
			return k8sClient.Status().Update(ctx, quota)
		}).Should(Succeed())

		// kube-apiserver's quota admission reads the quota from its informer,
		// which sees the status just written a moment later; until then it
		// refuses with "status unknown for quota".
		first := newPod(ns, "first")
		Eventually(func() error { return k8sClient.Create(ctx, first) }).Should(Succeed())
		Expect(first.Spec.Containers[0].Resources.Requests.Cpu().String()).To(Equal("100m"), "the LimitRange's default request")
		expectRefusedByQuota(newPod(ns, "second"), controllers.QuotaName)
	})
})
