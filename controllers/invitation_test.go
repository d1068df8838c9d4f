package controllers_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

func newInvitation(org, email string, role v1alpha1.Role) *v1alpha1.Invitation {
	return &v1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "inv-", Namespace: v1alpha1.OrganizationNamespace(org)},
		Spec:       v1alpha1.InvitationSpec{Email: email, Role: role},
	}
}

// platformAdmin is a platform admin with a name of its own, so that an
// answer given on someone's behalf records who gave it.
func platformAdmin() (client.Client, string) {
	name := "ops@platform.example"
	return tenant(name, "system:masters"), name
}

func eventuallyInvitation(inv *v1alpha1.Invitation, phase v1alpha1.InvitationPhase) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), inv)).To(Succeed())
		g.Expect(inv.Status.Phase).To(Equal(phase))
	}).Should(Succeed())
}

func seatsOf(org string) v1alpha1.Seats {
	o := &v1alpha1.Organization{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
	if o.Status.Seats == nil {
		return v1alpha1.Seats{}
	}
	return *o.Status.Seats
}

// answer records an answer to inv as c, whose username is by.
func answer(c client.Client, inv *v1alpha1.Invitation, response v1alpha1.InvitationResponse, by string) error {
	GinkgoHelper()
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), inv)).To(Succeed())
	inv.Spec.Response, inv.Spec.RespondedBy = response, by
	return c.Update(ctx, inv)
}

var _ = Describe("Invitations", func() {
	It("holds a seat while pending, lets only the invitee's side answer, and makes the invitee a member as a direct add would", func() {
		org := uniqueName("invite")
		owner := "owner@" + org + ".example"
		tenantOrganization(org, owner)
		inv := newInvitation(org, "new@"+org+".example", v1alpha1.RoleMember)
		Expect(tenant(owner).Create(ctx, inv)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationPending)
		Expect(inv.Status.InvitedBy).To(Equal(owner))
		Expect(inv.Status.ExpiresAt.Time).To(BeTemporally("~", inv.CreationTimestamp.Add(7*24*time.Hour), time.Second))
		Expect(inv.Status.History[0].Event).To(Equal("Sent"))
		Eventually(func() int64 { return seatsOf(org).Pending }).Should(BeEquivalentTo(1))
		Expect(seatsOf(org).Used).To(BeEquivalentTo(2), "the owner and the pending invitee")

		By("the admin answering for the invitee")
		err := answer(tenant(owner), inv, v1alpha1.ResponseAccepted, "new@"+org+".example")
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("only the invitee answers"))

		By("a platform admin accepting on the invitee's behalf")
		ops, opsName := platformAdmin()
		Expect(answer(ops, inv, v1alpha1.ResponseAccepted, opsName)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationAccepted)
		Expect(inv.Status.AcceptedBy).To(Equal("new@" + org + ".example"))
		Expect(inv.Status.History[len(inv.Status.History)-1].By).To(Equal(opsName))
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
		Expect(o.Spec.Members).To(ContainElement(v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: "new@" + org + ".example",
			Role: v1alpha1.RoleMember, JoinedVia: "invitation"}))
		Eventually(func() bool {
			return canCreateAccount("new@"+org+".example", org) || can("new@"+org+".example", "get",
				v1alpha1.GroupVersion.Group, "accounts", "org-"+org, "")
		}).Should(BeTrue(), "the new member has a member's RBAC")
		Eventually(func() v1alpha1.Seats { return seatsOf(org) }).Should(And(
			HaveField("Used", BeEquivalentTo(2)), HaveField("Pending", BeEquivalentTo(0))), "the seat passed to the member")
	})

	It("invites to one account: accepting makes an account-level member, nothing in the organization", func() {
		org, owner, acct := tenantAccount("acctinv", "web")
		inv := newInvitation(org, "contractor@"+org+".example", v1alpha1.RoleMember)
		inv.Spec.Account = acct.Name
		Expect(tenant(owner).Create(ctx, inv)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationPending)
		ops, opsName := platformAdmin()
		Expect(answer(ops, inv, v1alpha1.ResponseAccepted, opsName)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationAccepted)
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), acct)).To(Succeed())
		Expect(acct.Spec.Members).To(ContainElement(HaveField("Name", "contractor@"+org+".example")))
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
		Expect(o.Spec.Members).NotTo(ContainElement(HaveField("Name", "contractor@"+org+".example")))
		err := tenant(owner).Create(ctx, func() *v1alpha1.Invitation {
			i := newInvitation(org, "nobody@"+org+".example", v1alpha1.RoleMember)
			i.Spec.Account = "no-such-account"
			return i
		}())
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`account "no-such-account" does not exist`))
	})

	It("declines and revokes, each freeing the seat and keeping the history", func() {
		org := uniqueName("decline")
		owner := "owner@" + org + ".example"
		tenantOrganization(org, owner)
		declined := newInvitation(org, "no@"+org+".example", v1alpha1.RoleViewer)
		revoked := newInvitation(org, "gone@"+org+".example", v1alpha1.RoleMember)
		Expect(tenant(owner).Create(ctx, declined)).To(Succeed())
		Expect(tenant(owner).Create(ctx, revoked)).To(Succeed())
		Eventually(func() int64 { return seatsOf(org).Pending }).Should(BeEquivalentTo(2))
		ops, opsName := platformAdmin()
		Expect(answer(ops, declined, v1alpha1.ResponseDeclined, opsName)).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(revoked), revoked)).To(Succeed())
		revoked.Spec.Revoked = true
		Expect(tenant(owner).Update(ctx, revoked)).To(Succeed())
		eventuallyInvitation(declined, v1alpha1.InvitationDeclined)
		eventuallyInvitation(revoked, v1alpha1.InvitationRevoked)
		Expect(revoked.Status.History).To(HaveLen(2))
		Eventually(func() int64 { return seatsOf(org).Pending }).Should(BeEquivalentTo(0))
		revoked.Spec.Revoked = false
		err := tenant(owner).Update(ctx, revoked)
		Expect(err).To(MatchError(ContainSubstring("a revoked invitation stays revoked")))
	})

	It("expires on time by the reconciler (nobody has to look), freeing the seat; a resend opens it again", func() {
		org := uniqueName("expire")
		owner := "owner@" + org + ".example"
		tenantOrganization(org, owner)
		inv := newInvitation(org, "late@"+org+".example", v1alpha1.RoleMember)
		inv.Spec.ExpiresInDays = (3 * time.Second).Hours() / 24
		Expect(tenant(owner).Create(ctx, inv)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationPending)
		Eventually(func() int64 { return seatsOf(org).Pending }).Should(BeEquivalentTo(1))
		eventuallyInvitation(inv, v1alpha1.InvitationExpired)
		Eventually(func() int64 { return seatsOf(org).Pending }).Should(BeEquivalentTo(0))
		ops, opsName := platformAdmin()
		err := answer(ops, inv, v1alpha1.ResponseAccepted, opsName)
		Expect(err).To(MatchError(ContainSubstring("the invitation is expired")))

		By("resending it")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), inv)).To(Succeed())
		inv.Spec.Resend++
		Expect(tenant(owner).Update(ctx, inv)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationPending)
		events := make([]string, 0, len(inv.Status.History))
		for _, e := range inv.Status.History {
			events = append(events, e.Event)
		}
		Expect(events).To(Equal([]string{"Sent", "Expired", "Resent"}))
	})

	It("caps the role at the inviter's own: a member invites members and viewers, not admins; a viewer invites nobody", func() {
		org := uniqueName("ceiling")
		owner, mem, view := "owner@"+org+".example", "mem@"+org+".example", "view@"+org+".example"
		o := newOrganization(org, admin(owner), member(mem), v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: view, Role: v1alpha1.RoleViewer})
		Expect(k8sClient.Create(ctx, o)).To(Succeed())
		expectReady(o)
		Eventually(func() bool {
			return can(mem, "create", v1alpha1.GroupVersion.Group, "invitations", "org-"+org, "")
		}).Should(BeTrue())
		err := tenant(mem).Create(ctx, newInvitation(org, "boss@"+org+".example", v1alpha1.RoleAdmin))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("may invite with role member at most"))
		Expect(tenant(mem).Create(ctx, newInvitation(org, "peer@"+org+".example", v1alpha1.RoleMember))).To(Succeed())
		err = tenant(view).Create(ctx, newInvitation(org, "friend@"+org+".example", v1alpha1.RoleViewer))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("viewers change nothing"))
	})

	It("keeps holding the seat after admission's reservation lapses: the ledger counts pending invitations themselves", func() {
		org, _ := licensedOrganization("ledger", license.Limits{Accounts: 3, Users: 2, Deployments: 3})
		Expect(k8sClient.Create(ctx, newInvitation(org.Name, "held@"+org.Name+".example", v1alpha1.RoleMember))).To(Succeed())
		Expect(reservations(org.Name)).NotTo(BeEmpty(), "admission reserved the invitee's seat")
		Eventually(func() bool {
			for _, r := range reservations(org.Name) {
				if time.Now().Before(r.Expires.Time) {
					return false
				}
			}
			return true
		}, time.Minute, time.Second).Should(BeTrue(), "the reservation lapses")
		err := addDirectly(org.Name, "direct@"+org.Name+".example")
		Expect(err).To(MatchError(ContainSubstring("limit of 2 users")))
		err = k8sClient.Create(ctx, newInvitation(org.Name, "another@"+org.Name+".example", v1alpha1.RoleMember))
		Expect(err).To(MatchError(ContainSubstring("limit of 2 users")))
	})

	It("bounds invitations per hour by the plan's claim: beyond it 429 saying when to retry", func() {
		org, _ := licensedOrganization("rate", license.Limits{Accounts: 3, Users: 50, Deployments: 3, InvitationsPerHour: 3})
		for i := range 3 {
			Expect(k8sClient.Create(ctx, newInvitation(org.Name, fmt.Sprintf("r%d@%s.example", i, org.Name), v1alpha1.RoleMember))).To(Succeed())
		}
		Eventually(func() error { // the cache the count is read from sees the three
			err := k8sClient.Create(ctx, newInvitation(org.Name, "r3@"+org.Name+".example", v1alpha1.RoleMember), client.DryRunAll)
			if err == nil {
				return fmt.Errorf("a fourth invitation in the hour was admitted")
			}
			return nil
		}).Should(Succeed())
		err := k8sClient.Create(ctx, newInvitation(org.Name, "r3@"+org.Name+".example", v1alpha1.RoleMember))
		Expect(apierrors.IsTooManyRequests(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(MatchRegexp(`3 invitations in the last hour, the most its plan allows; retry in 3[56][0-9][0-9] seconds`))
	})

	It("freezes invitations after a downgrade and removes nobody", func() {
		org, lic := licensedOrganization("downgrade", license.Limits{Accounts: 3, Users: 10, Deployments: 3})
		for i := range 5 {
			Expect(addDirectly(org.Name, fmt.Sprintf("m%d@%s.example", i, org.Name))).To(Succeed())
		}
		inv := newInvitation(org.Name, "pending@"+org.Name+".example", v1alpha1.RoleMember)
		Expect(k8sClient.Create(ctx, inv)).To(Succeed())
		eventuallyInvitation(inv, v1alpha1.InvitationPending)
		By("the license goes: the free plan allows 5 users, 7 seats are in use")
		Expect(k8sClient.Delete(ctx, lic)).To(Succeed())
		Eventually(func() int64 { return seatsOf(org.Name).Limit }).Should(BeEquivalentTo(5))
		ops, opsName := platformAdmin()
		err := answer(ops, inv, v1alpha1.ResponseAccepted, opsName)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("invitations are frozen and nobody is removed"))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
		Expect(org.Spec.Members).To(HaveLen(6), "the admin and five members stay")
	})

	It("seats under concurrency: invitations and direct adds at once against 4 free seats end with exactly the limit", func() {
		org, _ := licensedOrganization("seats", license.Limits{Accounts: 3, Users: 5, Deployments: 3})
		errs := make([]error, 20)
		succeeded := succeededAtOnce(20, func(i int) error {
			email := fmt.Sprintf("p%d@%s.example", i, org.Name)
			if i%4 == 3 {
				errs[i] = addDirectly(org.Name, email)
			} else {
				errs[i] = k8sClient.Create(ctx, newInvitation(org.Name, email, v1alpha1.RoleMember))
			}
			return errs[i]
		})
		Expect(succeeded).To(Equal(4), "one seat was taken by the admin, four were free")
		for _, err := range errs {
			if err != nil {
				Expect(err.Error()).To(ContainSubstring("limit of 5 users"))
			}
		}
		By("accepting every invitation that was admitted: all become members, nobody is removed")
		ops, opsName := platformAdmin()
		list := &v1alpha1.InvitationList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(org.NamespaceName()))).To(Succeed())
		for i := range list.Items {
			Expect(answer(ops, &list.Items[i], v1alpha1.ResponseAccepted, opsName)).To(Succeed())
		}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			g.Expect(org.Spec.Members).To(HaveLen(5))
		}).Should(Succeed())
		Consistently(func() int {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(org), org)).To(Succeed())
			return len(org.Spec.Members)
		},
			2*time.Second).Should(Equal(5))
		Expect(k8sClient.Create(ctx, newInvitation(org.Name, "late@"+org.Name+".example", v1alpha1.RoleMember))).To(
			MatchError(ContainSubstring("limit of 5 users")))
	})
})

// addDirectly adds email to org as a member the way a platform team does
// (an update of the Organization), retrying lost races; a refusal ends it.
func addDirectly(org, email string) error {
	for {
		o := &v1alpha1.Organization{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: org}, o); err != nil {
			return err
		}
		o.Spec.Members = append(o.Spec.Members, v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: email, Role: v1alpha1.RoleMember})
		if err := k8sClient.Update(ctx, o); !apierrors.IsConflict(err) {
			return err
		}
	}
}
