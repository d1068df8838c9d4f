package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Callers the REST specs never play, each through kubectl's door: a
// workspace editor, a workspace's ServiceAccount token, an organization
// member, and an organization admin reaching for the installation's lists.
var _ = Describe("Attack: joining and revoking from the side", func() {
	It("a workspace editor and a workspace's ServiceAccount cannot invite; a member cannot answer; an admin cannot revoke or un-revoke", func() {
		org, owner, acct := tenantAccount("sidejoin", "web")
		editor, mem := "editor@"+org+".example", "mem@"+org+".example"
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), acct)).To(Succeed())
		acct.Spec.Members = append(acct.Spec.Members, member(editor))
		Expect(k8sClient.Update(ctx, acct)).To(Succeed())
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
		o.Spec.Members = append(o.Spec.Members, member(mem))
		Expect(k8sClient.Update(ctx, o)).To(Succeed())
		robot := "system:serviceaccount:" + acct.Status.Namespace + ":robot"
		// Their grants exist before their refusals are asserted.
		Eventually(func() bool { return can(editor, "create", "apps", "deployments", acct.Status.Namespace, "") }).Should(BeTrue())
		Eventually(func() bool {
			return can(mem, "create", v1alpha1.GroupVersion.Group, "invitations", "org-"+org, "")
		}).Should(BeTrue())
		inv := newInvitation(org, "target@"+org+".example", v1alpha1.RoleMember)
		Expect(tenant(owner).Create(ctx, inv)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationPending)

		for _, c := range []client.Client{tenant(editor), tenant(robot, "system:serviceaccounts",
			"system:serviceaccounts:"+acct.Status.Namespace)} {
			err := c.Create(ctx, newInvitation(org, "friend@"+org+".example", v1alpha1.RoleMember))
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		}
		By("an organization member answering for the invitee")
		Expect(answer(tenant(mem), inv, v1alpha1.ResponseAccepted, "target@"+org+".example")).To(
			Satisfy(apierrors.IsForbidden))
		By("an organization admin applying a revocation list, or editing the one in force")
		err := tenant(owner).Create(ctx, &v1alpha1.RevocationList{ObjectMeta: metav1.ObjectMeta{Name: "mine-" + org},
			Spec: v1alpha1.RevocationListSpec{List: "x"}})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(can(owner, "update", "", "secrets", "orgplane-system", "orgplane-revocations")).To(BeFalse())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), inv)).To(Succeed())
		Expect(inv.Spec.Response).To(BeEmpty())
	})
})
