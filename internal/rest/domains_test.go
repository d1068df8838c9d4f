package rest_test

// E-mail domains through REST: an admin claims a domain, proves it with
// the TXT record the reconciler shows (served by the suite's test DNS
// zone), and people with the domain's addresses join, by asking (suggest)
// or on their first call of the identity routes (auto), within the seats.

import (
	"encoding/json"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

type domainBody struct {
	ID, Domain, Enrollment, DefaultRole, Phase, Reason, RecordName, RecordValue string
}

type joinRequestBody struct {
	ID, Organization, Email, Domain, Role, Phase, DecidedBy string
}

func domainsPath(org string) string { return "/v1/organizations/" + org + "/domains" }

// listDomains is org's domains as admin sees them.
func listDomains(g Gomega, admin, org string) []domainBody {
	code, body := direct("GET", admin, domainsPath(org), "", nil)
	g.Expect(code).To(Equal(http.StatusOK), string(body))
	out := struct{ Domains []domainBody }{}
	g.Expect(json.Unmarshal(body, &out)).To(Succeed())
	return out.Domains
}

// domainNamed is org's domain id, once the reconciler has judged it.
func domainNamed(g Gomega, admin, org, id string) domainBody {
	for _, d := range listDomains(g, admin, org) {
		if d.ID == id {
			g.Expect(d.Phase).NotTo(BeEmpty(), "the reconciler has not judged %s yet", id)
			return d
		}
	}
	g.Expect(id).To(BeEmpty(), "organization %s claims no domain %s", org, id)
	return domainBody{}
}

// claimDomain claims domain for org as admin with enrollment and returns
// it with the TXT record that proves it.
func claimDomain(admin, org, domain, enrollment string) domainBody {
	code, body := direct("POST", admin, domainsPath(org),
		fmt.Sprintf(`{"domain":%q,"enrollment":%q}`, domain, enrollment), nil)
	ExpectWithOffset(1, code).To(Equal(http.StatusCreated), string(body))
	created := domainBody{}
	ExpectWithOffset(1, json.Unmarshal(body, &created)).To(Succeed())
	ExpectWithOffset(1, created.ID).To(Equal(domain))
	ExpectWithOffset(1, created.Enrollment).To(Equal(enrollment))
	var d domainBody
	EventuallyWithOffset(1, func(g Gomega) {
		d = domainNamed(g, admin, org, domain)
		g.Expect(d.RecordName).To(Equal("_orgplane-challenge." + domain))
		g.Expect(d.RecordValue).NotTo(BeEmpty())
	}).Should(Succeed())
	return d
}

// proveDomain puts d's record into the zone, asks for a check and waits
// until d is Verified.
func proveDomain(admin, org string, d domainBody) {
	zone.Set(d.RecordName, "v=spf1 -all", d.RecordValue)
	code, body := direct("POST", admin, domainsPath(org)+"/"+d.ID+"/verify", "", nil)
	ExpectWithOffset(1, code).To(Equal(http.StatusOK), string(body))
	EventuallyWithOffset(1, func(g Gomega) string {
		return domainNamed(g, admin, org, d.ID).Phase
	}).Should(Equal(string(v1alpha1.DomainVerified)))
}

// verifiedDomain claims and proves domain for a new organization of a new
// admin, and returns the organization.
func verifiedDomain(admin, displayName, domain, enrollment string) string {
	org := createOrg(tenant(admin), displayName)
	proveDomain(admin, org, claimDomain(admin, org, domain, enrollment))
	return org
}

// joinRequests is org's join requests as admin sees them.
func joinRequests(g Gomega, admin, org string) []joinRequestBody {
	code, body := direct("GET", admin, "/v1/organizations/"+org+"/join-requests", "", nil)
	g.Expect(code).To(Equal(http.StatusOK), string(body))
	out := struct{ JoinRequests []joinRequestBody }{}
	g.Expect(json.Unmarshal(body, &out)).To(Succeed())
	return out.JoinRequests
}

func askToJoin(username, org string) (int, []byte) {
	return direct("POST", username, "/v1/identity/organizations/"+org+"/join", "", nil)
}

// identityOrganizationIDs lists username's organizations through the
// identity routes (which auto-join first), by id (uid).
func identityOrganizationIDs(g Gomega, username string) []string {
	code, body := direct("GET", username, "/v1/identity/organizations", "", nil)
	g.Expect(code).To(Equal(http.StatusOK), string(body))
	out := struct{ Organizations []struct{ ID string } }{}
	g.Expect(json.Unmarshal(body, &out)).To(Succeed())
	ids := make([]string, 0, len(out.Organizations))
	for _, o := range out.Organizations {
		ids = append(ids, o.ID)
	}
	return ids
}

func orgMembers(name string) []v1alpha1.Member {
	org := &v1alpha1.Organization{}
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Name: name}, org)).To(Succeed())
	return org.Spec.Members
}

var _ = Describe("E-mail domains through REST", func() {
	It("claims and proves a domain through REST", func() {
		admin := tenant("admin@dom-claim.example")
		member := tenant("mem@dom-claim.example")
		org := createOrg(admin, "Domain Claimers")
		addMember(admin, org, member)

		d := claimDomain(admin, org, "dom-claim.example", "suggest")
		Expect(d.Phase).To(Equal(string(v1alpha1.DomainPending)), d.Reason)
		Expect(d.Reason).To(ContainSubstring("no TXT record at _orgplane-challenge.dom-claim.example"))
		proveDomain(admin, org, d)

		By("a consumer e-mail domain is refused, saying why")
		code, body := direct("POST", admin, domainsPath(org), `{"domain":"gmail.com","enrollment":"suggest"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		Expect(string(body)).To(ContainSubstring("gmail.com is a consumer e-mail domain"))
		Expect(string(body)).To(ContainSubstring("no organization may claim it"))

		By("a member who is not an admin may not claim")
		code, body = direct("POST", member, domainsPath(org), `{"domain":"dom-claim-other.example"}`, nil)
		Expect(code).To(BeElementOf(http.StatusForbidden, http.StatusNotFound), string(body))
		code, body = direct("GET", member, domainsPath(org), "", nil)
		Expect(code).To(BeElementOf(http.StatusForbidden, http.StatusNotFound), string(body))
		Expect(listDomains(Default, admin, org)).To(HaveLen(1))
	})

	It("suggest: a person with the domain's address asks to join, an admin approves, "+
		"they become a member (joinedVia domain)", func() {
		admin := "admin@dom-suggest.example"
		org := verifiedDomain(admin, "Domain Suggesters", "dom-suggest.example", "suggest")

		ann := tenant("ann@dom-suggest.example")
		code, body := direct("GET", ann, "/v1/organizations/"+org, "", nil)
		Expect(code).To(Equal(http.StatusNotFound), string(body))
		code, body = askToJoin(ann, org)
		Expect(code).To(Equal(http.StatusCreated), string(body))
		asked := joinRequestBody{}
		Expect(json.Unmarshal(body, &asked)).To(Succeed())
		Expect(asked.Email).To(Equal(ann))
		Expect(asked.Domain).To(Equal("dom-suggest.example"))
		Expect(asked.Phase).To(Equal(string(v1alpha1.JoinPending)))

		Eventually(func(g Gomega) {
			g.Expect(joinRequests(g, admin, org)).To(ContainElement(And(HaveField("ID", asked.ID),
				HaveField("Email", ann), HaveField("Phase", string(v1alpha1.JoinPending)))))
		}).Should(Succeed())
		code, body = direct("POST", admin, "/v1/organizations/"+org+"/join-requests/"+asked.ID+"/approve", "", nil)
		Expect(code).To(Equal(http.StatusOK), string(body))

		Eventually(func() int {
			code, _ := direct("GET", ann, "/v1/organizations/"+org, "", nil)
			return code
		}).Should(Equal(http.StatusOK), "ann is a member")
		Expect(orgMembers(org)).To(ContainElement(And(HaveField("Name", ann),
			HaveField("Role", v1alpha1.RoleMember), HaveField("JoinedVia", "domain"))))
		Eventually(func(g Gomega) {
			g.Expect(joinRequests(g, admin, org)).To(ContainElement(And(HaveField("ID", asked.ID),
				HaveField("Phase", string(v1alpha1.JoinApproved)), HaveField("DecidedBy", admin))))
		}).Should(Succeed())

		By("a person of another domain asking")
		eve := tenant("eve@dom-elsewhere.example")
		code, body = askToJoin(eve, org)
		Expect(code).To(Equal(http.StatusNotFound), string(body))

		By("enrollment off")
		code, body = direct("PUT", admin, domainsPath(org)+"/dom-suggest.example", `{"enrollment":"off"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Eventually(func(g Gomega) string {
			return domainNamed(g, admin, org, "dom-suggest.example").Enrollment
		}).Should(Equal("off"))
		cid := tenant("cid@dom-suggest.example")
		Eventually(func() int {
			code, _ := askToJoin(cid, org)
			return code
		}).Should(Equal(http.StatusNotFound))
		Expect(joinRequests(Default, admin, org)).NotTo(ContainElement(HaveField("Email", cid)))
	})

	It("auto: a person joins on their first call of the identity routes, within the seats; "+
		"at the limit a join request is filed", func() {
		admin := "admin@dom-auto.example"
		org := verifiedDomain(admin, "Domain Autojoiners", "dom-auto.example", "auto")
		id := orgID(org)

		bob := tenant("bob@dom-auto.example")
		Eventually(func(g Gomega) []string {
			return identityOrganizationIDs(g, bob)
		}).Should(ContainElement(id), "bob joined on his first call")
		Expect(orgMembers(org)).To(ContainElement(And(HaveField("Name", bob),
			HaveField("Role", v1alpha1.RoleMember), HaveField("JoinedVia", "domain"))))
		code, body := direct("GET", bob, "/v1/organizations/"+org, "", nil)
		Expect(code).To(Equal(http.StatusOK), string(body))

		By("filling the organization to its users limit")
		var limit int64
		Eventually(func(g Gomega) {
			o := &v1alpha1.Organization{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
			g.Expect(o.Status.Plan).NotTo(BeNil())
			limit = o.Status.Plan.Limits.Users
		}).Should(Succeed())
		Expect(limit).To(BeNumerically(">", len(orgMembers(org))))
		for i := len(orgMembers(org)); i < int(limit); i++ {
			addMember(admin, org, fmt.Sprintf("seat%d@dom-auto-seats.example", i))
		}
		full := orgMembers(org)
		Expect(full).To(HaveLen(int(limit)))

		By("a person of the domain at the limit")
		dan := tenant("dan@dom-auto.example")
		Expect(identityOrganizationIDs(Default, dan)).NotTo(ContainElement(id))
		Eventually(func(g Gomega) {
			g.Expect(joinRequests(g, admin, org)).To(ContainElement(And(HaveField("Email", dan),
				HaveField("Domain", "dom-auto.example"), HaveField("Phase", string(v1alpha1.JoinPending)))))
		}).Should(Succeed())
		Consistently(func() []v1alpha1.Member { return orgMembers(org) }, "2s").Should(Equal(full),
			"nobody was added or removed")
		Expect(identityOrganizationIDs(Default, dan)).NotTo(ContainElement(id))
		code, body = direct("GET", dan, "/v1/organizations/"+org, "", nil)
		Expect(code).To(Equal(http.StatusNotFound), string(body))
		Expect(joinRequests(Default, admin, org)).To(HaveLen(1), "a second call files no second request")
	})
})
