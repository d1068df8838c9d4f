package controllers_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

var _ = Describe("Account reconciler", func() {
	var org *v1alpha1.Organization
	var acct *v1alpha1.Account
	var alice, bob, dave string

	BeforeEach(func() {
		name := uniqueName("shop")
		alice, bob, dave = "alice@"+name+".example", "bob@"+name+".example", "dave@"+name+".example"
		org = newOrganization(name, admin(alice), member(bob))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
		acct = newAccount(org.Name, "web")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
	})

	workspace := func() string { return v1alpha1.WorkspaceNamespace(org.Name, "web") }

	It("gets a workspace namespace with RoleBindings per member role", func() {
		Expect(acct.Status.Organization).To(Equal(org.Name))
		Expect(acct.Status.Namespace).To(Equal(workspace()))
		ns := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: workspace()}, ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue(v1alpha1.LabelAccount, "web"))

		admins := &rbacv1.RoleBinding{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: workspace(), Name: "orgplane-admins"}, admins)).To(Succeed())
		Expect(admins.RoleRef.Name).To(Equal("admin"))
		Expect(admins.Subjects).To(ConsistOf(HaveField("Name", alice)))
		members := &rbacv1.RoleBinding{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: workspace(), Name: "orgplane-members"}, members)).To(Succeed())
		Expect(members.RoleRef.Name).To(Equal("edit"))
		Expect(members.Subjects).To(ConsistOf(HaveField("Name", bob)))

		Eventually(func() bool { return can(alice, "create", "rbac.authorization.k8s.io", "rolebindings", workspace(), "") }).Should(BeTrue())
		Eventually(func() bool { return can(bob, "create", "apps", "deployments", workspace(), "") }).Should(BeTrue())
		Expect(can(bob, "create", "rbac.authorization.k8s.io", "rolebindings", workspace(), "")).To(BeFalse())
		Expect(can(dave, "get", "apps", "deployments", workspace(), "")).To(BeFalse())
	})

	It("keeps a working API key and rotates it on request, keeping the old one as alternate", func() {
		secret := apiKeySecret(acct)
		first := string(secret.Data["secretKey"])
		Expect(first).To(HavePrefix("opk_"))
		Expect(len(first)).To(BeNumerically(">=", 40))
		Expect(alternates(secret)).To(BeEmpty())
		Expect(metav1.IsControlledBy(secret, acct)).To(BeTrue())
		Expect(acct.Status.APIKeySecret).To(Equal(secret.Name))

		By("raising spec.keyRotation")
		rotate(acct, 1)
		var second string
		Eventually(func(g Gomega) {
			s := apiKeySecret(acct)
			second = string(s.Data["secretKey"])
			g.Expect(second).NotTo(Equal(first))
			g.Expect(alternates(s)).To(Equal([]string{first}))
		}).Should(Succeed())

		By("rotating again retires the first key")
		rotate(acct, 2)
		Eventually(func(g Gomega) {
			s := apiKeySecret(acct)
			g.Expect(alternates(s)).To(Equal([]string{second}))
		}).Should(Succeed())
		expectReady(acct)
		Expect(acct.Status.KeyRotation).To(BeEquivalentTo(2))

		By("lowering keyRotation is refused")
		patch := client.MergeFrom(acct.DeepCopy())
		acct.Spec.KeyRotation = 1
		err := k8sClient.Patch(ctx, acct, patch)
		Expect(err).To(MatchError(ContainSubstring("keyRotation can only be raised")))
	})

	It("follows the organization's members into the workspace", func() {
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.Members = []v1alpha1.Member{admin(alice), member(dave)}
		Expect(k8sClient.Patch(ctx, org, patch)).To(Succeed())
		Eventually(func() bool { return can(dave, "create", "apps", "deployments", workspace(), "") }).Should(BeTrue())
		Eventually(func() bool { return can(bob, "get", "apps", "deployments", workspace(), "") }).Should(BeFalse())
	})

	It("lets a viewer read the organization, its accounts and its workspaces, but no Secret, and change nothing", func() {
		vera := "vera@" + org.Name + ".example"
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.Members = append(org.Spec.Members, v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: vera, Role: v1alpha1.RoleViewer})
		Expect(k8sClient.Patch(ctx, org, patch)).To(Succeed())

		for _, read := range [][4]string{
			{"get", "apps", "deployments", workspace()}, {"list", "", "pods", workspace()}, {"get", "", "pods/log", workspace()},
			{"list", "orgplane.io", "accounts", "org-" + org.Name},
		} {
			Eventually(func() bool { return can(vera, read[0], read[1], read[2], read[3], "") }).Should(BeTrue(), "%v", read)
		}
		// The Organization itself she reads through my.orgplane.io (kubectl
		// get myorgs; internal/rest/views_test.go), not the CRD.
		Expect(can(vera, "get", "orgplane.io", "organizations", "", org.Name)).To(BeFalse())
		for _, denied := range [][4]string{
			{"get", "", "secrets", workspace()}, {"list", "", "secrets", workspace()}, {"get", "", "secrets", "org-" + org.Name},
			{"create", "apps", "deployments", workspace()}, {"delete", "", "pods", workspace()}, {"create", "", "pods/exec", workspace()},
			{"create", "orgplane.io", "accounts", "org-" + org.Name}, {"create", "rbac.authorization.k8s.io", "rolebindings", workspace()},
		} {
			Expect(can(vera, denied[0], denied[1], denied[2], denied[3], "")).To(BeFalse(), "%v", denied)
		}
		Expect(can(vera, "patch", "orgplane.io", "organizations", "", org.Name)).To(BeFalse())
	})

	It("recreates its API-key Secret and workspace RoleBinding when deleted by hand", func() {
		secret := apiKeySecret(acct)
		Expect(k8sClient.Delete(ctx, secret)).To(Succeed())
		rb := &rbacv1.RoleBinding{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: workspace(), Name: "orgplane-members"}, rb)).To(Succeed())
		Expect(k8sClient.Delete(ctx, rb)).To(Succeed())

		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), s)).To(Succeed())
			g.Expect(s.UID).NotTo(Equal(secret.UID))
			g.Expect(string(s.Data["secretKey"])).To(HavePrefix("opk_"))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			restored := &rbacv1.RoleBinding{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(rb), restored)).To(Succeed())
			g.Expect(restored.Subjects).To(ConsistOf(HaveField("Name", bob)))
		}).Should(Succeed())
	})

	It("reports Stalled when created outside an organization's namespace", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("plain")}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		stray := &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: ns.Name}}
		Expect(k8sClient.Create(ctx, stray)).To(Succeed())
		expectStalled(stray, v1alpha1.ReasonOrganizationNotFound, "create accounts in org-<organization>")
	})
})

func apiKeySecret(acct *v1alpha1.Account) *corev1.Secret {
	s := &corev1.Secret{}
	key := types.NamespacedName{Namespace: acct.Namespace, Name: acct.Name + "-api-key"}
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key, s) }).Should(Succeed())
	return s
}

func alternates(s *corev1.Secret) []string {
	var keys []string
	ExpectWithOffset(1, json.Unmarshal(s.Data["alternateSecretKeys"], &keys)).To(Succeed())
	return keys
}

func rotate(acct *v1alpha1.Account, n int64) {
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), acct)).To(Succeed())
	patch := client.MergeFrom(acct.DeepCopy())
	acct.Spec.KeyRotation = n
	ExpectWithOffset(1, k8sClient.Patch(ctx, acct, patch)).To(Succeed())
}
