package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Issue 19, item 11 (the smaller side doors), attacked with a client of
// the tenant's own (what kubectl does), and by a writer with every right
// (a GitOps pipeline): the rules live in admission, for every writer.

var _ = Describe("Issue 19, item 11: look-alike display names through kubectl", func() {
	It("a tenant cannot rename its organization to a Cyrillic look-alike of another's (Аcme)", func() {
		victim := newOrganization(uniqueName("acme"), admin("victim@lookalike.example"))
		victim.Spec.DisplayName = "Acme " + victim.Name
		Expect(k8sClient.Create(ctx, victim)).To(Succeed())
		mallory := "mallory@lookalike.example"
		org := tenantOrganization(uniqueName("mallory"), mallory)
		org.Spec.DisplayName = "\u0410cme " + victim.Name // Cyrillic А
		err := tenant(mallory).Update(ctx, org)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "the look-alike was stored: %v", err)
		Expect(err.Error()).To(ContainSubstring(`character 1 "А" (U+0410 CYRILLIC CAPITAL LETTER A) is Cyrillic in a name written in Latin`))
	})

	It("nor to the same name with a zero-width space or a bidi control in it", func() {
		mallory := "mallory@invisible.example"
		org := tenantOrganization(uniqueName("invisible"), mallory)
		for name, want := range map[string]string{
			"Glo\u200Bbex": "character 4 (U+200B ZERO WIDTH SPACE) is not shown",
			"Globex\u200F": "must not contain bidi controls: character 7 (U+200F RIGHT-TO-LEFT MARK)",
		} {
			Expect(k8sClient.Get(ctx, types.NamespacedName{Name: org.Name}, org)).To(Succeed())
			org.Spec.DisplayName = name
			err := tenant(mallory).Update(ctx, org)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%q was stored: %v", name, err)
			Expect(err.Error()).To(ContainSubstring(want))
		}
	})

	It("a pipeline with every right cannot create one either", func() {
		o := newOrganization(uniqueName("gitops"), admin("ops@lookalike.example"))
		o.Spec.DisplayName = "Gl\u03BFbex " + o.Name // Greek omicron
		err := k8sClient.Create(ctx, o)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring(`(U+03BF GREEK SMALL LETTER OMICRON) is Greek`))
	})
})

var _ = Describe("Issue 19, item 11: spec.auth0.id names one organization", func() {
	It("tenant B cannot link its organization to tenant A's SSO organization (spec.auth0.id)", func() {
		alice, bob := "alice@sso-a.example", "bob@sso-b.example"
		a := tenantOrganization(uniqueName("sso-a"), alice)
		b := tenantOrganization(uniqueName("sso-b"), bob)
		id := "org_" + uniqueName("Xq7")
		a.Spec.Auth0 = &v1alpha1.Auth0{ID: id, Name: a.Name}
		Expect(tenant(alice).Update(ctx, a)).To(Succeed())
		expectReady(a) // the manager's cache has seen it

		b.Spec.Auth0 = &v1alpha1.Auth0{ID: id, Name: "mine"}
		err := tenant(bob).Update(ctx, b)
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "B took A's SSO organization: %v", err)
		Expect(err.Error()).To(ContainSubstring(`spec.auth0.id "` + id + `" is already linked to another organization`))
		Expect(err.Error()).NotTo(ContainSubstring(a.Name+`"`), "the refusal names A's organization")

		By("nor can a new organization take it")
		c := newOrganization(uniqueName("sso-c"), admin("carol@sso-c.example"))
		c.Spec.Auth0 = &v1alpha1.Auth0{ID: id}
		Expect(apierrors.IsConflict(k8sClient.Create(ctx, c))).To(BeTrue())

		By("A may still change its own link, and give the id up for another to take")
		updateAs(alice, a, func(o *v1alpha1.Organization) { o.Spec.Auth0.Name = "renamed" })
		updateAs(alice, a, func(o *v1alpha1.Organization) { o.Spec.Auth0 = nil })
		expectReady(a)
		updateAs(bob, b, func(o *v1alpha1.Organization) { o.Spec.Auth0 = &v1alpha1.Auth0{ID: id} })
	})
})

// updateAs changes org as user, reading it again should the controller
// have written it in between.
func updateAs(user string, org *v1alpha1.Organization, change func(*v1alpha1.Organization)) {
	EventuallyWithOffset(1, func() error {
		if err := k8sClient.Get(ctx, types.NamespacedName{Name: org.Name}, org); err != nil {
			return err
		}
		change(org)
		return tenant(user).Update(ctx, org)
	}).Should(Succeed())
}
