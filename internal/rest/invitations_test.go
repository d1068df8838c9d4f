package rest_test

import (
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

type invitationBody struct {
	ID, Email, Role, Phase, InvitedBy string
}

var _ = Describe("Invitations through REST", func() {
	It("binds acceptance to the invited identity: anyone else gets 404, the invitee becomes a member", func() {
		owner := tenant("inviter@example.com")
		invitee := tenant("invitee@example.com")
		stranger := tenant("stranger@example.com")
		org := createOrg(owner, "Invite Co")

		code, body := direct("POST", owner, "/v1/organizations/"+org+"/invitations", `{"email":"Invitee@Example.com","role":"member"}`, nil)
		Expect(code).To(Equal(http.StatusCreated), string(body))
		inv := invitationBody{}
		Expect(json.Unmarshal(body, &inv)).To(Succeed())
		Expect(inv.Email).To(Equal("invitee@example.com"), "addresses are case-folded")
		Expect(inv.InvitedBy).To(Equal(owner))

		mine := struct{ Invitations []invitationBody }{}
		Eventually(func(g Gomega) {
			code, body := direct("GET", invitee, "/v1/identity/invitations", "", nil)
			g.Expect(code).To(Equal(http.StatusOK))
			g.Expect(json.Unmarshal(body, &mine)).To(Succeed())
			g.Expect(mine.Invitations).To(ContainElement(HaveField("ID", inv.ID)))
		}).Should(Succeed())
		code, body = direct("GET", stranger, "/v1/identity/invitations", "", nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(string(body)).NotTo(ContainSubstring(inv.ID))

		By("a stranger accepting, directly and through kube-apiserver")
		code, body = direct("POST", stranger, "/v1/identity/invitations/"+inv.ID+"/accept", "", nil)
		Expect(code).To(Equal(http.StatusNotFound), string(body))
		_, err := throughAPIServerDo("POST", stranger, "/identity/invitations/"+inv.ID+"/accept", "")
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
		By("the inviter accepting for the invitee")
		code, _ = direct("POST", owner, "/v1/identity/invitations/"+inv.ID+"/accept", "", nil)
		Expect(code).To(Equal(http.StatusNotFound))

		By("the invitee accepting through kube-apiserver")
		out, err := throughAPIServerDo("POST", invitee, "/identity/invitations/"+inv.ID+"/accept", "")
		Expect(err).NotTo(HaveOccurred(), string(out))
		Eventually(func() int {
			code, _ := direct("GET", invitee, "/v1/organizations/"+org, "", nil)
			return code
		}).Should(Equal(http.StatusOK), "the invitee is a member")
		Eventually(func() string {
			_, body := direct("GET", owner, "/v1/organizations/"+org+"/invitations", "", nil)
			return string(body)
		}).Should(ContainSubstring(`"phase":"Accepted"`))
		code, _ = direct("POST", invitee, "/v1/identity/invitations/"+inv.ID+"/decline", "", nil)
		Expect(code).To(Equal(http.StatusNotFound), "an answered invitation waits for nothing")
	})

	It("caps the role at the inviter's own, and lets admins resend and revoke", func() {
		owner := tenant("ceiling-owner@example.com")
		mem := tenant("ceiling-member@example.com")
		org := createOrg(owner, "Ceiling Co")
		addMember(owner, org, mem)
		code, body := direct("POST", mem, "/v1/organizations/"+org+"/invitations", `{"email":"boss@example.com","role":"admin"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("role member at most"))
		code, body = direct("POST", mem, "/v1/organizations/"+org+"/invitations", `{"email":"peer@example.com"}`, nil)
		Expect(code).To(Equal(http.StatusCreated), string(body))
		code, body = direct("POST", owner, "/v1/organizations/"+org+"/invitations", `{"email":"someone@example.com","role":"admin"}`, nil)
		Expect(code).To(Equal(http.StatusCreated), string(body))
		inv := invitationBody{}
		Expect(json.Unmarshal(body, &inv)).To(Succeed())

		code, body = direct("POST", owner, "/v1/organizations/"+org+"/invitations/"+inv.ID+"/resend", "", nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		code, body = direct("DELETE", owner, "/v1/organizations/"+org+"/invitations/"+inv.ID, "", nil)
		Expect(code).To(Equal(http.StatusNoContent), string(body))
		Eventually(func() string {
			_, body := direct("GET", owner, "/v1/organizations/"+org+"/invitations", "", nil)
			return string(body)
		}).Should(And(ContainSubstring(`"phase":"Revoked"`), ContainSubstring(`"event":"Resent"`)))
	})
})
