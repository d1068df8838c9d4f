package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/manager"
)

// The attacks of issue 11, each made as an ordinary authenticated user
// with a client of their own (what kubectl does), against the manager
// running with only config/rbac. Organizations an attacker administers are
// created by the platform (k8sClient), as the REST API does for them.

// tenant is a client authenticated as name, in groups.
func tenant(name string, groups ...string) client.Client {
	cfg, _, err := cp.AddUser(name, groups...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return c
}

// tenantOrganization creates organization name administered by user, Ready.
func tenantOrganization(name, user string) *v1alpha1.Organization {
	org := newOrganization(name, admin(user))
	ExpectWithOffset(1, k8sClient.Create(ctx, org)).To(Succeed())
	expectReady(org)
	EventuallyWithOffset(1, func() bool { return canCreateAccount(user, name) }).Should(BeTrue())
	return org
}

func namespaceExists(name string) bool {
	err := k8sClient.Get(ctx, types.NamespacedName{Name: name}, &corev1.Namespace{})
	if apierrors.IsNotFound(err) {
		return false
	}
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return true
}

var _ = Describe("Break 1: namespace squatting and collisions", func() {
	It("a tenant cannot claim namespace cert-manager (organization cert, account manager)", func() {
		mallory := "mallory@squat.example"
		tenantOrganization("cert", mallory)
		acct := newAccount("cert", "manager")
		Expect(tenant(mallory).Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		Expect(acct.Status.Namespace).To(Equal("ws-cert--manager"))
		Expect(namespaceExists("cert-manager")).To(BeFalse(), "the tenant holds cert-manager before cert-manager is installed")
	})

	It("two organizations' accounts never want the same workspace (p + q-r, p-q + r)", func() {
		p := uniqueName("p")
		owner := "owner@" + p + ".example"
		tenantOrganization(p, owner)
		tenantOrganization(p+"-q", owner)
		first, second := newAccount(p, "q-r"), newAccount(p+"-q", "r")
		Expect(tenant(owner).Create(ctx, first)).To(Succeed())
		Expect(tenant(owner).Create(ctx, second)).To(Succeed())
		expectReady(first)
		expectReady(second)
		Expect(first.Status.Namespace).NotTo(Equal(second.Status.Namespace))
	})

	It("an account of organization org cannot take org-x, the namespace organization x needs", func() {
		mallory := "mallory@orgx.example"
		tenantOrganization("org", mallory)
		x := uniqueName("x")
		Expect(tenant(mallory).Create(ctx, newAccount("org", x))).To(Succeed())
		expectReady(&v1alpha1.Account{ObjectMeta: newAccount("org", x).ObjectMeta})
		victim := newOrganization(x, admin("victim@"+x+".example"))
		Expect(k8sClient.Create(ctx, victim)).To(Succeed())
		expectReady(victim)
		Expect(victim.Status.Namespace).To(Equal("org-" + x))
	})

	It("an account whose workspace namespace exists already is refused at once with 409 naming it", func() {
		owner := "owner@" + uniqueName("taken") + ".example"
		org := tenantOrganization(uniqueName("kube"), owner)
		taken := v1alpha1.WorkspaceNamespace(org.Name, "system")
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: taken}})).To(Succeed())
		err := tenant(owner).Create(ctx, newAccount(org.Name, "system"))
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("namespace " + taken + " already exists")))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(newAccount(org.Name, "system")), &v1alpha1.Account{}))).To(BeTrue())
	})

	It("an account whose workspace name would pass 63 characters is refused with the longest name allowed", func() {
		owner := "owner@long.example"
		org := tenantOrganization("o123456789-123456789-12345678", owner)
		err := tenant(owner).Create(ctx, newAccount(org.Name, "a123456789-123456789-123456789-1"))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("shorten the account name to at most 29 characters")))
	})

	It("an organization whose namespace exists and is not its own is refused at once with 409", func() {
		name := uniqueName("preexisting")
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "org-" + name}})).To(Succeed())
		err := k8sClient.Create(ctx, newOrganization(name, admin("ann@"+name+".example")))
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("namespace org-" + name + " already exists")))
		squatted := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "org-" + name}, squatted)).To(Succeed())
		Expect(squatted.OwnerReferences).To(BeEmpty())
		Expect(squatted.Labels).NotTo(HaveKey(v1alpha1.LabelOrganization))
	})

	It("organization and account names may not contain --", func() {
		err := k8sClient.Create(ctx, newOrganization("p--q", admin("ann@dashes.example")))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		owner := "owner@dashes.example"
		org := tenantOrganization(uniqueName("dashes"), owner)
		err = tenant(owner).Create(ctx, newAccount(org.Name, "q--r"))
		Expect(err).To(MatchError(ContainSubstring("must not contain '--'")))
	})
})

var _ = Describe("Break 1: upgrading", Ordered, func() {
	It("keeps an Account's old-style workspace recorded in its status, Ready, with its RoleBindings reconciled", func() {
		name := uniqueName("legacy")
		alice, bob := "alice@"+name+".example", "bob@"+name+".example"
		org := newOrganization(name, admin(alice))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
		acct := newAccount(name, "web")
		Expect(k8sClient.Create(ctx, acct)).To(Succeed())
		expectReady(acct)

		By("making it look like an account made before ws-<org>--<account>: its workspace named <org>-web")
		stopManager()
		DeferCleanup(func() {
			if mainReplica == nil {
				startManager()
			}
		})
		old := name + "-web"
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: old, Labels: map[string]string{
			v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelOrganization: name,
			v1alpha1.LabelAccount: "web", v1alpha1.LabelAccountUID: string(acct.UID)}}})).To(Succeed())
		Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: acct.Status.Namespace}})).To(Succeed())
		patch := client.MergeFrom(acct.DeepCopy())
		acct.Status.Namespace = old
		Expect(k8sClient.Status().Patch(ctx, acct, patch)).To(Succeed())
		startManager()

		By("the account stays Ready in its old workspace, and a member added later is bound there")
		orgPatch := client.MergeFrom(org.DeepCopy())
		org.Spec.Members = append(org.Spec.Members, member(bob))
		Expect(k8sClient.Patch(ctx, org, orgPatch)).To(Succeed())
		Eventually(func(g Gomega) {
			rb := &rbacv1.RoleBinding{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: old, Name: "orgplane-members"}, rb)).To(Succeed())
			g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", bob)))
		}).Should(Succeed())
		expectReady(acct)
		Expect(acct.Status.Namespace).To(Equal(old))
		Eventually(func() bool { return can(alice, "create", "apps", "deployments", old, "") }).Should(BeTrue())

		By("its Deployments count against the organization's limit")
		Expect(tenant(alice).Create(ctx, newDeployment(old, "api"))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(org.Status.Usage.Deployments).To(BeEquivalentTo(1))
		}).Should(Succeed())
	})
})

// letEveryoneCreateOrganizations is what an installation does to let its
// self-service users create organizations with kubectl (admission then
// applies the creator groups and the cap).
func letEveryoneCreateOrganizations() {
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-organization-creators"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"orgplane.io"}, Resources: []string{"organizations"}, Verbs: []string{"create"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-organization-creators"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "system:authenticated"}}}
	Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, role))).To(Succeed())
	Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, binding))).To(Succeed())
}

var _ = Describe("Break 2: who may create organizations", Ordered, func() {
	BeforeAll(letEveryoneCreateOrganizations)

	It("a user outside --org-creator-groups cannot create an organization", func() {
		name := uniqueName("outsider")
		user := "eve@" + name + ".example"
		eve := tenant(user)
		// RBAC lets every authenticated user create (once the binding is seen); admission refuses.
		Eventually(func() error {
			return eve.Create(ctx, newOrganization(name, admin(user)))
		}).Should(MatchError(ContainSubstring("only members of [" + creatorGroup + "] may create organizations")))
	})

	It("a user cannot farm organizations past --max-organizations-per-user, nor record another user as creator", func() {
		prefix := uniqueName("farm")
		user, victim := "eve@"+prefix+".example", "victim@"+prefix+".example"
		eve := tenant(user, creatorGroup)
		for i := range maxOrganizationsPerUser {
			org := newOrganization(prefix+"-"+string(rune('a'+i)), admin(user))
			org.Annotations = map[string]string{v1alpha1.AnnotationCreatedBy: victim}
			Expect(eve.Create(ctx, org)).To(Succeed())
			Expect(org.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationCreatedBy, user), "the creator comes from the request, not the client")
			// Ready means the manager's cache, which admission counts from, has it.
			expectReady(org)
		}
		err := eve.Create(ctx, newOrganization(prefix+"-z", admin(user)))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("created 2 organizations")))

		By("nor rewrite who created one")
		org := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: prefix + "-a"}, org)).To(Succeed())
		expectReady(org)
		Eventually(func() bool { return can(user, "patch", "orgplane.io", "organizations", "", org.Name) }).Should(BeTrue())
		patch := client.MergeFrom(org.DeepCopy())
		org.Annotations[v1alpha1.AnnotationCreatedBy] = victim
		Expect(eve.Patch(ctx, org, patch)).To(MatchError(ContainSubstring("cannot be changed")))
	})
})

var _ = Describe("Break 4: workspaces cannot outlive their Account", func() {
	It("an organization admin cannot remove an Account's or the Organization's finalizer", func() {
		name := uniqueName("leak")
		mallory := "mallory@" + name + ".example"
		org := tenantOrganization(name, mallory)
		acct := newAccount(name, "web")
		Expect(tenant(mallory).Create(ctx, acct)).To(Succeed())
		expectReady(acct)

		patch := client.MergeFrom(acct.DeepCopy())
		acct.Finalizers = nil
		err := tenant(mallory).Patch(ctx, acct, patch)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("only orgplane may remove its finalizer")))

		orgPatch := client.MergeFrom(org.DeepCopy())
		org.Finalizers = nil
		Expect(tenant(mallory).Patch(ctx, org, orgPatch)).To(MatchError(ContainSubstring("only orgplane may remove its finalizer")))

		By("deleting the Account removes its workspace")
		Expect(tenant(mallory).Delete(ctx, acct)).To(Succeed())
		Eventually(func() bool {
			ns := &corev1.Namespace{}
			err := k8sClient.Get(ctx, types.NamespacedName{Name: v1alpha1.WorkspaceNamespace(name, "web")}, ns)
			return apierrors.IsNotFound(err) || !ns.DeletionTimestamp.IsZero()
		}).Should(BeTrue())
	})

	It("a workspace whose Account is gone is found by its Account UID and removed", func() {
		name := uniqueName("orphan")
		org := tenantOrganization(name, "ann@"+name+".example")
		orphan := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.WorkspaceNamespace(org.Name, "gone"), Labels: map[string]string{
			v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelOrganization: org.Name,
			v1alpha1.LabelAccount: "gone", v1alpha1.LabelAccountUID: "0a0a0a0a-0000-4000-8000-000000000000"}}}
		Expect(k8sClient.Create(ctx, orphan)).To(Succeed())
		Eventually(func() bool {
			ns := &corev1.Namespace{}
			err := k8sClient.Get(ctx, client.ObjectKeyFromObject(orphan), ns)
			return apierrors.IsNotFound(err) || !ns.DeletionTimestamp.IsZero()
		}).Should(BeTrue())
	})
})

var _ = Describe("Break 5: suspension is real", func() {
	It("an organization admin cannot resume a suspended organization, nor add accounts, members or Deployments to it", func() {
		name := uniqueName("suspended")
		mallory := "mallory@" + name + ".example"
		org := tenantOrganization(name, mallory)
		acct := newAccount(name, "web")
		Expect(tenant(mallory).Create(ctx, acct)).To(Succeed())
		expectReady(acct)
		ws := acct.Status.Namespace

		By("a platform admin suspends it")
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.Suspended = true
		Expect(k8sClient.Patch(ctx, org, patch)).To(Succeed())

		mc := tenant(mallory)
		resume := client.MergeFrom(org.DeepCopy())
		org.Spec.Suspended = false
		err := mc.Patch(ctx, org, resume)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("only platform admins")))

		Expect(mc.Create(ctx, newAccount(name, "more"))).To(MatchError(ContainSubstring("suspended")))
		Expect(mc.Create(ctx, newDeployment(ws, "api"))).To(MatchError(ContainSubstring("suspended")))
		Expect(mc.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		addMember := client.MergeFrom(org.DeepCopy())
		org.Spec.Members = append(org.Spec.Members, member("friend@"+name+".example"))
		Expect(mc.Patch(ctx, org, addMember)).To(MatchError(ContainSubstring("suspended")))

		By("a platform admin resumes it")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		resume = client.MergeFrom(org.DeepCopy())
		org.Spec.Suspended = false
		Expect(k8sClient.Patch(ctx, org, resume)).To(Succeed())
		// The workspace thaws once the manager removes its suspended label.
		Eventually(func() error { return mc.Create(ctx, newDeployment(ws, "api")) }).Should(Succeed())
	})

	It("an organization admin cannot suspend their organization either", func() {
		name := uniqueName("selfsuspend")
		mallory := "mallory@" + name + ".example"
		org := tenantOrganization(name, mallory)
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.Suspended = true
		Expect(tenant(mallory).Patch(ctx, org, patch)).To(MatchError(ContainSubstring("only platform admins")))
	})
})

var _ = Describe("Break 6/7: members and identities", func() {
	It("a tenant cannot make built-in groups, system: users or kube-system service accounts members", func() {
		name := uniqueName("builtin")
		mallory := "mallory@" + name + ".example"
		org := tenantOrganization(name, mallory)
		for _, m := range []v1alpha1.Member{
			{Kind: v1alpha1.SubjectGroup, Name: "system:authenticated", Role: v1alpha1.RoleAdmin},
			{Kind: v1alpha1.SubjectGroup, Name: "system:masters", Role: v1alpha1.RoleMember},
			{Kind: v1alpha1.SubjectUser, Name: "system:kube-controller-manager", Role: v1alpha1.RoleMember},
			{Kind: v1alpha1.SubjectServiceAccount, Namespace: "kube-system", Name: "namespace-controller", Role: v1alpha1.RoleMember},
		} {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			patch := client.MergeFrom(org.DeepCopy())
			org.Spec.Members = append(org.Spec.Members, m)
			err := tenant(mallory).Patch(ctx, org, patch)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s %s: got %v", m.Kind, m.Name, err)
		}
	})

	It("alice@x.io and alice-at-x.io never share a User", func() {
		name := uniqueName("alias")
		real, alias := "alice@"+name+".io", "alice-at-"+name+".io"
		org := newOrganization(name, admin(real), member(alias))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
		for _, username := range []string{real, alias} {
			Eventually(func(g Gomega) {
				users := &v1alpha1.UserList{}
				g.Expect(k8sClient.List(ctx, users)).To(Succeed())
				var found []string
				for _, u := range users.Items {
					if u.Spec.Username == username {
						found = append(found, u.Name)
					}
				}
				g.Expect(found).To(HaveLen(1), "User of %s", username)
			}).Should(Succeed())
		}
	})
})
