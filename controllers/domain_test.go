package controllers_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/report"
	"github.com/orgplane/orgplane/internal/tenancy"
)

// domainOrganization creates a Ready organization and returns it.
func domainOrganization() *v1alpha1.Organization {
	name := uniqueName("dom")
	org := newOrganization(name, admin("admin@"+name+".example"))
	ExpectWithOffset(1, k8sClient.Create(ctx, org)).To(Succeed())
	expectReady(org)
	return org
}

func newDomain(namespace, domain string) *v1alpha1.Domain {
	return &v1alpha1.Domain{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("domain"), Namespace: namespace},
		Spec:       v1alpha1.DomainSpec{Domain: domain},
	}
}

// claim creates a Domain for domain in org's namespace.
func claim(org *v1alpha1.Organization, domain string) *v1alpha1.Domain {
	d := newDomain(v1alpha1.OrganizationNamespace(org.Name), domain)
	ExpectWithOffset(1, k8sClient.Create(ctx, d)).To(Succeed())
	return d
}

// token is the record value that proves org's claim of domain: the manager
// keys it with the seed of the installation's usage-report key.
func token(org *v1alpha1.Organization, domain string) string {
	key, err := report.EnsureKey(ctx, k8sClient, tenancy.SystemNamespace)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return domains.Token(string(org.UID), domain, key.Seed())
}

// expectDomainPhase waits until d's current generation is reconciled to
// phase, with a reason containing each of reason.
func expectDomainPhase(d *v1alpha1.Domain, phase v1alpha1.DomainPhase, reason ...string) {
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		g.Expect(d.Status.Phase).To(Equal(phase), "reason: %s", d.Status.Reason)
		for _, s := range reason {
			g.Expect(d.Status.Reason).To(ContainSubstring(s))
		}
	}).Should(Succeed())
}

// reverify raises d's spec.reverify.
func reverify(d *v1alpha1.Domain) {
	EventuallyWithOffset(1, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		d.Spec.Reverify++
		return k8sClient.Update(ctx, d)
	}).Should(Succeed())
}

func domainCondition(d *v1alpha1.Domain, t string) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(d.Status.Conditions, t); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

var _ = Describe("Domain", func() {
	It("is Verified when its record is in DNS", func() {
		org := domainOrganization()
		name := uniqueName("acme") + ".example"
		want := token(org, name)
		dnsZone.Set(domains.TXTName(name), "v=spf1 -all", want)
		d := claim(org, name)
		expectDomainPhase(d, v1alpha1.DomainVerified)
		Expect(domainCondition(d, controllers.ConditionVerified)).To(Equal(metav1.ConditionTrue))
		Expect(domainCondition(d, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
		Expect(d.Status.RecordName).To(Equal("_orgplane-challenge." + name))
		Expect(d.Status.RecordValue).To(Equal(want))
		Expect(d.Status.VerifiedAt).NotTo(BeNil())
		Expect(d.Status.CheckedAt).NotTo(BeNil())
	})

	It("is Pending until the record is added and spec.reverify raised", func() {
		org := domainOrganization()
		name := uniqueName("acme") + ".example"
		d := claim(org, name)
		expectDomainPhase(d, v1alpha1.DomainPending, "no TXT record at _orgplane-challenge."+name)
		Expect(d.Status.Reason).To(ContainSubstring(d.Status.RecordValue))
		Expect(domainCondition(d, controllers.ConditionVerified)).To(Equal(metav1.ConditionFalse))
		Expect(domainCondition(d, v1alpha1.ConditionReconciling)).To(Equal(metav1.ConditionTrue))
		Expect(d.Status.VerifiedAt).To(BeNil())

		dnsZone.Set(d.Status.RecordName, d.Status.RecordValue)
		reverify(d)
		expectDomainPhase(d, v1alpha1.DomainVerified)
		Expect(domainCondition(d, controllers.ConditionVerified)).To(Equal(metav1.ConditionTrue))
	})

	It("lapses when the record is gone, and removes nobody", func() {
		org := domainOrganization()
		name := uniqueName("acme") + ".example"
		dnsZone.Set(domains.TXTName(name), token(org, name))
		d := claim(org, name)
		expectDomainPhase(d, v1alpha1.DomainVerified)
		verifiedAt := d.Status.VerifiedAt

		dnsZone.Delete(domains.TXTName(name))
		reverify(d)
		expectDomainPhase(d, v1alpha1.DomainLapsed, "nobody is removed", "no TXT record")
		Expect(domainCondition(d, controllers.ConditionVerified)).To(Equal(metav1.ConditionFalse))
		Expect(d.Status.VerifiedAt).To(Equal(verifiedAt))

		dnsZone.Set(domains.TXTName(name), token(org, name))
		reverify(d)
		expectDomainPhase(d, v1alpha1.DomainVerified)
		Expect(d.Status.VerifiedAt).To(Equal(verifiedAt), "verifiedAt keeps the first time")
	})

	It("keeps its phase while the lookup fails, and says it will retry", func() {
		org := domainOrganization()
		name := uniqueName("acme") + ".example"
		dnsZone.Set(domains.TXTName(name), token(org, name))
		d := claim(org, name)
		expectDomainPhase(d, v1alpha1.DomainVerified)

		dnsZone.Fail(domains.TXTName(name), true)
		reverify(d)
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
			ready := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Message).To(ContainSubstring("will be retried"))
		}).Should(Succeed())
		Expect(d.Status.Phase).To(Equal(v1alpha1.DomainVerified))
		Expect(domainCondition(d, controllers.ConditionVerified)).To(Equal(metav1.ConditionTrue))
		Expect(domainCondition(d, v1alpha1.ConditionReconciling)).To(Equal(metav1.ConditionTrue))

		dnsZone.Fail(domains.TXTName(name), false)
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
			g.Expect(domainCondition(d, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed(), "the retry succeeds")
	})

	It("refuses a consumer e-mail domain at admission, for every writer", func() {
		org := domainOrganization()
		err := k8sClient.Create(ctx, newDomain(v1alpha1.OrganizationNamespace(org.Name), "gmail.com"))
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("gmail.com is a consumer e-mail domain"))
		Expect(err.Error()).To(ContainSubstring("no organization may claim it"))
	})

	It("refuses a domain not written in normalized form at admission, saying how to write it", func() {
		org := domainOrganization()
		name := uniqueName("acme") + ".example"
		err := k8sClient.Create(ctx, newDomain(v1alpha1.OrganizationNamespace(org.Name), strings.ToUpper(name)))
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`write it "` + name + `"`))
	})

	It("refuses a Domain outside an organization's namespace", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("plain")}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		d := newDomain(ns.Name, uniqueName("acme")+".example")
		Expect(k8sClient.Create(ctx, d)).To(Succeed())
		expectDomainPhase(d, v1alpha1.DomainRefused, "not an organization's")
	})

	It("is held by the organization that proved it first; the other is Conflict until it is released", func() {
		first, second := domainOrganization(), domainOrganization()
		name := uniqueName("acme") + ".example"
		dnsZone.Set(domains.TXTName(name), token(first, name))
		held := claim(first, name)
		expectDomainPhase(held, v1alpha1.DomainVerified)

		dnsZone.Set(domains.TXTName(name), token(first, name), token(second, name))
		late := claim(second, name)
		expectDomainPhase(late, v1alpha1.DomainConflict, name+" is held by organization "+first.Name,
			"raise spec.reverify")
		Expect(domainCondition(late, controllers.ConditionVerified)).To(Equal(metav1.ConditionFalse))
		Expect(domainCondition(late, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))

		By("a Conflict never takes the domain from its holder")
		reverify(held)
		expectDomainPhase(held, v1alpha1.DomainVerified)
		reverify(late)
		expectDomainPhase(late, v1alpha1.DomainConflict)

		By("the holder removes its Domain")
		Expect(k8sClient.Delete(ctx, held)).To(Succeed())
		reverify(late)
		expectDomainPhase(late, v1alpha1.DomainVerified)
		Expect(late.Status.RecordValue).To(Equal(token(second, name)))
	})
})
