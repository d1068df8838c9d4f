package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

func withRole(name string, role v1alpha1.Role) v1alpha1.Member {
	return v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: name, Role: role}
}

// setAccountMembers replaces acct's members, as an organization admin
// does with kubectl.
func setAccountMembers(acct *v1alpha1.Account, members ...v1alpha1.Member) error {
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), acct)).To(Succeed())
	patch := client.MergeFrom(acct.DeepCopy())
	acct.Spec.Members = members
	return k8sClient.Patch(ctx, acct, patch)
}

var _ = Describe("Account members", func() {
	It("reach their own workspace with their role, and nothing else of the organization", func() {
		org := newOrganization(uniqueName("acctm"), admin("root@acctm.example"))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
		web, db := newAccount(org.Name, "web"), newAccount(org.Name, "db")
		for _, a := range []*v1alpha1.Account{web, db} {
			Expect(k8sClient.Create(ctx, a)).To(Succeed())
			expectReady(a)
		}
		ann, vic := "ann@"+org.Name+".example", "vic@"+org.Name+".example"
		Expect(setAccountMembers(web, withRole(ann, v1alpha1.RoleMember), withRole(vic, v1alpha1.RoleViewer))).To(Succeed())

		By("a member edits in the account's workspace")
		Eventually(func() bool { return can(ann, "create", "apps", "deployments", web.Status.Namespace, "") }).Should(BeTrue())
		By("and reaches neither another workspace of the organization, nor its accounts, nor the Organization")
		for _, denied := range [][4]string{
			{"create", "apps", "deployments", db.Status.Namespace}, {"get", "apps", "deployments", db.Status.Namespace},
			{"list", "", "pods", db.Status.Namespace}, {"list", "orgplane.io", "accounts", org.NamespaceName()},
			{"get", "", "secrets", org.NamespaceName()}, {"create", "rbac.authorization.k8s.io", "rolebindings", web.Status.Namespace},
		} {
			Expect(can(ann, denied[0], denied[1], denied[2], denied[3], "")).To(BeFalse(), "%v", denied)
		}
		Expect(can(ann, "get", "orgplane.io", "organizations", "", org.Name)).To(BeFalse())

		By("a viewer reads the workspace, no Secret, and writes nothing")
		Eventually(func() bool { return can(vic, "list", "apps", "deployments", web.Status.Namespace, "") }).Should(BeTrue())
		for _, denied := range [][4]string{
			{"get", "", "secrets", web.Status.Namespace}, {"create", "apps", "deployments", web.Status.Namespace},
			{"delete", "", "pods", web.Status.Namespace}, {"list", "apps", "deployments", db.Status.Namespace},
		} {
			Expect(can(vic, denied[0], denied[1], denied[2], denied[3], "")).To(BeFalse(), "%v", denied)
		}

		By("an account admin administers that workspace only")
		Expect(setAccountMembers(web, withRole(ann, v1alpha1.RoleAdmin))).To(Succeed())
		Eventually(func() bool {
			return can(ann, "create", "rbac.authorization.k8s.io", "rolebindings", web.Status.Namespace, "")
		}).Should(BeTrue())
		Expect(can(ann, "create", "rbac.authorization.k8s.io", "rolebindings", db.Status.Namespace, "")).To(BeFalse())
		Expect(can(ann, "update", "orgplane.io", "accounts", org.NamespaceName(), "web")).To(BeFalse())

		By("a removed member loses the workspace")
		Expect(setAccountMembers(web)).To(Succeed())
		Eventually(func() bool { return can(ann, "get", "apps", "deployments", web.Status.Namespace, "") }).Should(BeFalse())
		Eventually(func() bool { return can(vic, "get", "apps", "deployments", web.Status.Namespace, "") }).Should(BeFalse())
	})

	It("count in the organization's users limit, each subject once, and are refused over it", func() {
		org, _ := licensedOrganization("acctu", license.Limits{Accounts: 3, Users: 3, Deployments: 3})
		web, db := newAccount(org.Name, "web"), newAccount(org.Name, "db")
		for _, a := range []*v1alpha1.Account{web, db} {
			Expect(k8sClient.Create(ctx, a)).To(Succeed())
			expectReady(a)
		}
		ann, bo, cy := "ann@"+org.Name+".example", "bo@"+org.Name+".example", "cy@"+org.Name+".example"
		By("root plus ann and bo are three users; ann in a second account is still one")
		Expect(setAccountMembers(web, withRole(ann, v1alpha1.RoleMember), withRole(bo, v1alpha1.RoleViewer))).To(Succeed())
		Expect(setAccountMembers(db, withRole(ann, v1alpha1.RoleAdmin))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(org.Status.Usage.Users).To(Equal(int64(3)))
		}).Should(Succeed())

		By("a fourth user, on an account or on the organization, is refused")
		err := setAccountMembers(db, withRole(ann, v1alpha1.RoleAdmin), withRole(cy, v1alpha1.RoleMember))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("has reached its limit of 3 users"))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.Members = append(org.Spec.Members, member(cy))
		err = k8sClient.Patch(ctx, org, patch)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("has reached its limit of 3 users"))

		By("an account created with a new member over the limit is refused too")
		extra := newAccount(org.Name, "extra")
		extra.Spec.Members = []v1alpha1.Member{withRole(cy, v1alpha1.RoleMember)}
		err = k8sClient.Create(ctx, extra)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
	})

	It("refuse a built-in group", func() {
		org := newOrganization(uniqueName("acctg"), admin("root@acctg.example"))
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		expectReady(org)
		acct := newAccount(org.Name, "web")
		acct.Spec.Members = []v1alpha1.Member{{Kind: v1alpha1.SubjectGroup, Name: "system:authenticated", Role: v1alpha1.RoleViewer}}
		err := k8sClient.Create(ctx, acct)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("a built-in group"))
	})
})
