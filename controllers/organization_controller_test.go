package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

var _ = Describe("Organization reconciler", func() {
	var org *v1alpha1.Organization
	var alice, carol, bob, mallory string

	BeforeEach(func() {
		name := uniqueName("acme")
		alice, carol, bob = "alice@"+name+".example", "carol@"+name+".example", "bob@"+name+".example"
		mallory = "mallory@" + name + ".example"
		org = newOrganization(name, admin(alice), admin(carol), member(bob))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
	})

	It("provisions a namespace, RBAC and a User per member, and reports the free plan", func() {
		ns := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "org-" + org.Name}, ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue(v1alpha1.LabelOrganization, org.Name))
		Expect(metav1.IsControlledBy(ns, org)).To(BeTrue())
		Expect(org.Status.Namespace).To(Equal(ns.Name))
		Expect(planOf(org).Type).To(Equal("free"))
		Expect(org.Status.Usage).To(Equal(&v1alpha1.Usage{Users: 3}))
		Expect(org.Status.UsageSummary).To(Equal("0/3 accounts, 3/5 users, 0/10 deployments"))

		for _, username := range []string{alice, carol, bob} {
			user := &v1alpha1.User{}
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: v1alpha1.UserObjectName(username)}, user)).To(Succeed())
				g.Expect(user.Spec.Username).To(Equal(username))
				g.Expect(user.Status.Organizations).To(ContainElement(HaveField("Name", org.Name)))
			}).Should(Succeed())
			expectReady(user)
		}
	})

	It("lets admins create accounts and members only read them; other organizations' users neither", func() {
		other := newOrganization(uniqueName("rival"), admin(mallory))
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		expectReady(other)
		Eventually(func() bool { return canCreateAccount(mallory, other.Name) }).Should(BeTrue())

		Eventually(func() bool { return canCreateAccount(alice, org.Name) }).Should(BeTrue())
		Eventually(func() bool { return canCreateAccount(carol, org.Name) }).Should(BeTrue())
		Expect(canCreateAccount(bob, org.Name)).To(BeFalse())
		Eventually(func() bool { return can(bob, "list", "orgplane.io", "accounts", "org-"+org.Name, "") }).Should(BeTrue())
		Expect(canCreateAccount(mallory, org.Name)).To(BeFalse())
		Expect(can(mallory, "list", "orgplane.io", "accounts", "org-"+org.Name, "")).To(BeFalse())

		By("admins get and patch their own Organization; members read it through my.orgplane.io, not the CRD")
		Eventually(func() bool { return can(alice, "patch", "orgplane.io", "organizations", "", org.Name) }).Should(BeTrue())
		Expect(can(alice, "get", "orgplane.io", "organizations", "", org.Name)).To(BeTrue())
		Expect(can(bob, "get", "orgplane.io", "organizations", "", org.Name)).To(BeFalse())
		Expect(can(bob, "patch", "orgplane.io", "organizations", "", org.Name)).To(BeFalse())
		Expect(can(alice, "patch", "orgplane.io", "organizations", "", "some-other-org")).To(BeFalse())
	})

	It("grants access to added members and removes it from removed ones", func() {
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.Members = []v1alpha1.Member{admin(alice), admin(mallory)}
		Expect(k8sClient.Patch(ctx, org, patch)).To(Succeed())

		Eventually(func() bool { return canCreateAccount(mallory, org.Name) }).Should(BeTrue())
		Eventually(func() bool { return canCreateAccount(carol, org.Name) }).Should(BeFalse())
		Eventually(func() bool {
			return can(bob, "list", "orgplane.io", "accounts", "org-"+org.Name, "")
		}).Should(BeFalse())

		By("the removed member's User, created by orgplane, goes away")
		Eventually(func() bool {
			err := k8sClient.Get(ctx, types.NamespacedName{Name: v1alpha1.UserObjectName(bob)}, &v1alpha1.User{})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue())
	})

	It("counts the Deployments in its accounts' workspaces", func() {
		acct := newAccount(org.Name, "apps")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		Expect(k8sClient.Create(ctx, newDeployment(acct.Status.Namespace, "api"))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(org.Status.Usage).To(Equal(&v1alpha1.Usage{Accounts: 1, Users: 3, Deployments: 1}))
			g.Expect(org.Status.UsageSummary).To(Equal("1/3 accounts, 3/5 users, 1/10 deployments"))
		}).Should(Succeed())
	})

	It("restores an owned RoleBinding deleted by hand", func() {
		rb := &rbacv1.RoleBinding{}
		key := types.NamespacedName{Namespace: "org-" + org.Name, Name: "orgplane-organization-admin"}
		Expect(k8sClient.Get(ctx, key, rb)).To(Succeed())
		Expect(k8sClient.Delete(ctx, rb)).To(Succeed())
		Eventually(func(g Gomega) {
			restored := &rbacv1.RoleBinding{}
			g.Expect(k8sClient.Get(ctx, key, restored)).To(Succeed())
			g.Expect(restored.UID).NotTo(Equal(rb.UID))
			g.Expect(restored.Subjects).To(HaveLen(2))
		}).Should(Succeed())
	})

	It("puts back RBAC subjects edited by hand", func() {
		crb := &rbacv1.ClusterRoleBinding{}
		key := types.NamespacedName{Name: "orgplane:organization:" + org.Name + ":admin"}
		Expect(k8sClient.Get(ctx, key, crb)).To(Succeed())
		crb.Subjects = append(crb.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "User", Name: mallory})
		Expect(k8sClient.Update(ctx, crb)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key, crb)).To(Succeed())
			g.Expect(crb.Subjects).NotTo(ContainElement(HaveField("Name", mallory)))
		}).Should(Succeed())
	})

	It("deletes its accounts, bindings and namespaces, in order, when deleted", func() {
		acct := newAccount(org.Name, "web")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)

		Expect(k8sClient.Delete(ctx, org)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org))
		}).Should(BeTrue())

		for _, ns := range []string{"org-" + org.Name, v1alpha1.WorkspaceNamespace(org.Name, "web")} {
			Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{}))).
				To(BeTrue(), "namespace %s is left behind", ns)
		}
		crbs := &rbacv1.ClusterRoleBindingList{}
		Expect(k8sClient.List(ctx, crbs, client.MatchingLabels{v1alpha1.LabelOrganization: org.Name})).To(Succeed())
		Expect(crbs.Items).To(BeEmpty())
		crs := &rbacv1.ClusterRoleList{}
		Expect(k8sClient.List(ctx, crs, client.MatchingLabels{v1alpha1.LabelOrganization: org.Name})).To(Succeed())
		Expect(crs.Items).To(BeEmpty())
		accounts := &v1alpha1.AccountList{}
		Expect(k8sClient.List(ctx, accounts, client.InNamespace("org-"+org.Name))).To(Succeed())
		Expect(accounts.Items).To(BeEmpty())
		secrets := &corev1.SecretList{}
		Expect(k8sClient.List(ctx, secrets, client.MatchingLabels{v1alpha1.LabelOrganization: org.Name})).To(Succeed())
		Expect(secrets.Items).To(BeEmpty())
	})

	It("makes no further writes once converged", func() {
		acct := newAccount(org.Name, "quiet")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		expectReady(org)

		versions := func() map[string]string {
			out := map[string]string{}
			objs := []client.Object{org.DeepCopy(), acct.DeepCopy(),
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "org-" + org.Name}},
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.WorkspaceNamespace(org.Name, "quiet")}},
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: acct.Namespace, Name: "quiet-api-key"}},
				&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: v1alpha1.WorkspaceNamespace(org.Name, "quiet"), Name: "orgplane-admins"}},
				&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "org-" + org.Name, Name: "orgplane-organization-member"}},
				&v1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.UserObjectName(alice)}},
			}
			for _, o := range objs {
				Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), o)).To(Succeed())
				out[client.ObjectKeyFromObject(o).String()+" "+kindName(o)] = o.GetResourceVersion()
			}
			return out
		}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(org.Status.Usage.Accounts).To(BeEquivalentTo(1))
		}).Should(Succeed())
		settled := versions()
		Consistently(versions).Should(Equal(settled))
	})
})

func newDeployment(namespace, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
}

func kindName(o client.Object) string {
	switch o.(type) {
	case *corev1.Namespace:
		return "Namespace"
	case *corev1.Secret:
		return "Secret"
	case *rbacv1.RoleBinding:
		return "RoleBinding"
	}
	return kindOf(o)
}
