package rest_test

// The seat ledger under concurrency: every way of joining an organization
// (invitations, their acceptance, direct adds and domain auto-joins) sent
// at the same instant, through REST, ends with exactly the plan's users
// limit in use, and every refusal names the limit.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// raceAnswer is what one call of the race got: no assertion is made in the
// goroutine that sent it.
type raceAnswer struct {
	method, path, who, what string
	code                    int
	header                  http.Header
	body                    []byte
	err                     error
}

func (a raceAnswer) String() string {
	return fmt.Sprintf("%s %s as %s (%s): %d %v %s", a.method, a.path, a.who, a.what, a.code, a.err, a.body)
}

// message is the message of an error answer.
func (a raceAnswer) message() string {
	e := struct{ Message string }{}
	_ = json.Unmarshal(a.body, &e)
	return e.Message
}

// raceClient calls the REST server itself as username, as direct does,
// but reports failures instead of asserting, for use in goroutines.
func raceClient(username string) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.Aggregation.CABundle)
	c, err := tls.X509KeyPair(users[username].CertData, users[username].KeyData)
	Expect(err).NotTo(HaveOccurred())
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{c}}
	// Generous: the manager may share the CPU with another test run; this
	// only keeps a lost request from hanging the suite.
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}, Timeout: 5 * time.Minute}
}

func raceCall(hc *http.Client, a raceAnswer, body string) raceAnswer {
	url := fmt.Sprintf("https://127.0.0.1:%d%s", restPort, a.path)
	req, err := http.NewRequest(a.method, url, strings.NewReader(body))
	if err != nil {
		a.err = err
		return a
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		a.err = err
		return a
	}
	defer func() { _ = resp.Body.Close() }()
	a.code, a.header = resp.StatusCode, resp.Header
	a.body, a.err = io.ReadAll(resp.Body)
	return a
}

// seatsInUse is org's seats as its admin reads them through REST: the
// members plus the invitations pending.
func seatsInUse(g Gomega, admin, org string) (members []string, pending []string) {
	code, body := direct("GET", admin, "/v1/organizations/"+org+"/members", "", nil)
	g.Expect(code).To(Equal(http.StatusOK), string(body))
	ms := struct{ Members []struct{ Name string } }{}
	g.Expect(json.Unmarshal(body, &ms)).To(Succeed())
	for _, m := range ms.Members {
		members = append(members, m.Name)
	}
	code, body = direct("GET", admin, "/v1/organizations/"+org+"/invitations", "", nil)
	g.Expect(code).To(Equal(http.StatusOK), string(body))
	invs := struct{ Invitations []invitationBody }{}
	g.Expect(json.Unmarshal(body, &invs)).To(Succeed())
	for _, inv := range invs.Invitations {
		if inv.Phase == string(v1alpha1.InvitationPending) {
			pending = append(pending, inv.Email)
		}
	}
	return members, pending
}

func seatsStatus(g Gomega, org string) v1alpha1.Seats {
	o := &v1alpha1.Organization{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
	g.Expect(o.Status.Seats).NotTo(BeNil())
	return *o.Status.Seats
}

var _ = Describe("Seats through REST", func() {
	It("Seats under concurrency: invitations, accepts, direct adds and domain auto-joins at once "+
		"end with exactly the limit", func() {
		const limitMessage = "limit of 5 users"
		admin := tenant("admin@seats-race.example")
		org := verifiedDomain(admin, "Seat Racers", "seats-race.example", "auto")
		invitations := "/v1/organizations/" + org + "/invitations"
		membersPath := "/v1/organizations/" + org + "/members"
		Eventually(func(g Gomega) {
			o := &v1alpha1.Organization{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
			g.Expect(o.Status.Plan).NotTo(BeNil())
			g.Expect(o.Status.Plan.Limits.Users).To(Equal(int64(5)), "the free plan allows 5 users")
		}).Should(Succeed())
		Expect(orgMembers(org)).To(ConsistOf(And(HaveField("Name", admin), HaveField("Role", v1alpha1.RoleAdmin))))

		By("inviting 2 people before the race: 2 seats held, 2 free")
		invitees := []string{tenant("first@seats-race-guests.example"), tenant("second@seats-race-guests.example")}
		invitationIDs := map[string]string{}
		for _, email := range invitees {
			code, body := direct("POST", admin, invitations, fmt.Sprintf(`{"email":%q}`, email), nil)
			Expect(code).To(Equal(http.StatusCreated), string(body))
			inv := invitationBody{}
			Expect(json.Unmarshal(body, &inv)).To(Succeed())
			invitationIDs[email] = inv.ID
		}
		for _, email := range invitees {
			Eventually(func(g Gomega) {
				code, body := direct("GET", email, "/v1/identity/invitations", "", nil)
				g.Expect(code).To(Equal(http.StatusOK), string(body))
				g.Expect(string(body)).To(ContainSubstring(invitationIDs[email]))
			}).Should(Succeed(), "%s sees their invitation", email)
		}
		Eventually(func(g Gomega) v1alpha1.Seats { return seatsStatus(g, org) }).Should(And(
			HaveField("Used", int64(3)), HaveField("Pending", int64(2)), HaveField("Limit", int64(5))))

		By("racing 2 accepts, 6 invitations, 6 direct adds and 6 auto-joins")
		domainUsers, added, invited := make([]string, 0, 6), make([]string, 0, 6), make([]string, 0, 6)
		for i := range 6 {
			domainUsers = append(domainUsers, tenant(fmt.Sprintf("joiner%d@seats-race.example", i)))
			added = append(added, fmt.Sprintf("added%d@seats-race-direct.example", i))
			invited = append(invited, fmt.Sprintf("invited%d@seats-race-late.example", i))
		}
		clients := map[string]*http.Client{admin: raceClient(admin)}
		for _, u := range append(slices.Clone(invitees), domainUsers...) {
			clients[u] = raceClient(u)
		}
		type call struct {
			a    raceAnswer
			body string
		}
		calls := make([]call, 0, len(invitees)+18)
		for _, email := range invitees {
			calls = append(calls, call{a: raceAnswer{method: "POST", who: email, what: "accept",
				path: "/v1/identity/invitations/" + invitationIDs[email] + "/accept"}})
		}
		for i := range 6 {
			calls = append(calls,
				call{raceAnswer{method: "POST", who: admin, what: "invite " + invited[i], path: invitations},
					fmt.Sprintf(`{"email":%q}`, invited[i])},
				call{raceAnswer{method: "POST", who: admin, what: "add " + added[i], path: membersPath},
					fmt.Sprintf(`{"email":%q}`, added[i])},
				call{raceAnswer{method: "GET", who: domainUsers[i], what: "auto-join",
					path: "/v1/identity/organizations"}, ""})
		}
		answers := make([]raceAnswer, len(calls))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range calls {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				<-start
				answers[i] = raceCall(clients[c.a.who], c.a, c.body)
			}()
		}
		close(start)
		wg.Wait()

		By("judging every answer")
		wonInvites, wonAdds := []string{}, []string{}
		for _, a := range answers {
			GinkgoWriter.Println(a.String())
			Expect(a.err).NotTo(HaveOccurred(), a.String())
			checkContract(a.method, a.path, a.code, a.header, a.body)
			switch {
			case a.what == "accept" || a.what == "auto-join":
				Expect(a.code).To(Equal(http.StatusOK), a.String())
			case a.code == http.StatusCreated && strings.HasPrefix(a.what, "invite "):
				wonInvites = append(wonInvites, strings.TrimPrefix(a.what, "invite "))
			case a.code == http.StatusOK && strings.HasPrefix(a.what, "add "):
				wonAdds = append(wonAdds, strings.TrimPrefix(a.what, "add "))
			default:
				Expect(a.code).To(BeNumerically(">=", 400), a.String())
				Expect(a.code).To(BeNumerically("<", 500), a.String())
				Expect(a.message()).To(ContainSubstring(limitMessage), a.String())
			}
		}

		By("the 2 accepted invitees become members, and the seats settle at exactly the limit")
		Eventually(func(g Gomega) {
			members, pending := seatsInUse(g, admin, org)
			g.Expect(members).To(ContainElements(admin, invitees[0], invitees[1]))
			g.Expect(pending).NotTo(ContainElement(invitees[0]))
			g.Expect(pending).NotTo(ContainElement(invitees[1]))
			g.Expect(len(members)+len(pending)).To(Equal(5), "members %v, pending %v", members, pending)
			g.Expect(seatsStatus(g, org)).To(And(HaveField("Used", int64(5)), HaveField("Limit", int64(5)),
				HaveField("Pending", int64(len(pending)))))
		}).Should(Succeed())
		members, pending := seatsInUse(Default, admin, org)
		Expect(pending).To(ConsistOf(wonInvites), "the pending invitations are the invitations answered 201")
		autoJoined := []string{}
		for _, u := range domainUsers {
			if slices.Contains(members, u) {
				autoJoined = append(autoJoined, u)
			}
		}
		want := append(append([]string{admin, invitees[0], invitees[1]}, wonAdds...), autoJoined...)
		Expect(members).To(ConsistOf(want),
			"the members are the admin, the invitees, the adds answered 200 and the auto-joins")
		Expect(len(wonInvites)+len(wonAdds)+len(autoJoined)).To(Equal(2), "exactly the 2 free seats were taken")
		Expect(orgMembers(org)).To(ContainElements(
			And(HaveField("Name", admin), HaveField("Role", v1alpha1.RoleAdmin)),
			And(HaveField("Name", invitees[0]), HaveField("JoinedVia", "invitation")),
			And(HaveField("Name", invitees[1]), HaveField("JoinedVia", "invitation"))),
			"nobody who was a member before the race was removed")
		Eventually(func(g Gomega) {
			code, body := direct("GET", admin, invitations, "", nil)
			g.Expect(code).To(Equal(http.StatusOK), string(body))
			invs := struct{ Invitations []invitationBody }{}
			g.Expect(json.Unmarshal(body, &invs)).To(Succeed())
			for _, email := range invitees {
				g.Expect(invs.Invitations).To(ContainElement(And(HaveField("Email", email),
					HaveField("Phase", string(v1alpha1.InvitationAccepted)))))
			}
		}).Should(Succeed())

		By("each auto-join that got no seat left a pending join request")
		Eventually(func(g Gomega) {
			requests := joinRequests(g, admin, org)
			for _, u := range domainUsers {
				var mine []joinRequestBody
				for _, jr := range requests {
					if jr.Email == u {
						mine = append(mine, jr)
					}
				}
				if slices.Contains(autoJoined, u) {
					g.Expect(mine).To(BeEmpty(), "%s joined", u)
					continue
				}
				g.Expect(mine).To(ConsistOf(And(HaveField("Domain", "seats-race.example"),
					HaveField("Phase", string(v1alpha1.JoinPending)))), "%s got no seat", u)
			}
		}).Should(Succeed())

		By("a second wave: one more invitation is refused, naming the limit")
		code, body := direct("POST", admin, invitations, `{"email":"one-more@seats-race-late.example"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring(limitMessage))
		members2, pending2 := seatsInUse(Default, admin, org)
		Expect(members2).To(ConsistOf(members))
		Expect(pending2).To(ConsistOf(pending))
	})
})
