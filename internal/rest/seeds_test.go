package rest_test

import (
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func decodeJSON(body []byte) map[string]any {
	out := map[string]any{}
	ExpectWithOffset(1, json.Unmarshal(body, &out)).To(Succeed(), string(body))
	return out
}

var form = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

var _ = Describe("Seed 001: /v1/identity/organizations", func() {
	It("pages the caller's organizations", func() {
		code, body := direct("GET", bob, "/v1/identity/organizations?offset=1&limit=1", "", nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		page := decodeJSON(body)
		Expect(page["totalResults"]).To(BeEquivalentTo(2))
		Expect(page["offset"]).To(BeEquivalentTo(1))
		Expect(page["limit"]).To(BeEquivalentTo(1))
		Expect(page["organizations"]).To(ConsistOf(HaveKeyWithValue("id", orgID("globex"))))
		code, body = direct("GET", bob, "/v1/identity/organizations?limit=101", "", nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(string(body)).To(ContainSubstring("limit must be an integer from 1 to 100"))
	})

	It("shows one organization with the caller's role, and creates with createdBy", func() {
		code, body := direct("GET", bob, "/v1/identity/organizations/acme", "", nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(decodeJSON(body)["organizationMembership"]).To(Equal(map[string]any{"role": "member"}))

		code, body = direct("POST", "dave@nowhere.example", "/v1/identity/organizations", `{"name":"Vandelay Industries"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		created := decodeJSON(body)
		Expect(created["createdBy"]).To(Equal(map[string]any{"userId": "dave@nowhere.example", "type": "user"}))
		Expect(created["id"]).NotTo(BeEmpty())
		Expect(created["createdAt"]).NotTo(BeEmpty())
	})
})

var _ = Describe("Seed 004: members, license, deployments, active", func() {
	It("adds and removes members, admins only, at /v1 and the seed's own paths", func() {
		code, _ := direct("POST", bob, "/v1/organizations/acme/members", `{"email":"erin@acme.example"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden))
		code, body := direct("POST", alice, "/v1/organizations/acme/members", `{"email":"erin@acme.example"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		code, body = direct("GET", bob, "/organizations/acme/members", "", nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(decodeJSON(body)["members"]).To(ContainElement(And(HaveKeyWithValue("name", "erin@acme.example"), HaveKeyWithValue("role", "member"))),
			"the caller reads what they wrote")
		code, _ = direct("DELETE", alice, "/organizations/acme/members/erin@acme.example", "", nil)
		Expect(code).To(Equal(http.StatusNoContent))
		code, body = direct("POST", alice, "/v1/organizations/acme/members", `{"email":"not-an-email"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(string(body)).To(ContainSubstring("must be an email address"))
	})

	It("shows the free plan without a license, deployments, and filters inactive organizations", func() {
		code, body := direct("POST", "dave@nowhere.example", "/organizations", `{"name":"Hooli","description":"Making the world a better place"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Eventually(func() any {
			_, body := direct("GET", "dave@nowhere.example", "/v1/organizations/hooli/license", "", nil)
			return decodeJSON(body)["plan"]
		}).Should(Equal("free"))
		code, body = direct("GET", "dave@nowhere.example", "/organizations/hooli/deployments", "", nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(decodeJSON(body)["deployments"]).To(BeEmpty())

		// Only platform admins suspend (issue 11, break 5).
		code, _ = direct("PUT", "platform-admin", "/organizations/hooli", `{"active":false}`, nil)
		Expect(code).To(Equal(http.StatusOK))
		Eventually(func() []string {
			_, body := direct("GET", "dave@nowhere.example", "/v1/organizations?active_only=true", "", nil)
			return organizationNames(body)
		}).ShouldNot(ContainElement("hooli"))
		_, body = direct("GET", "dave@nowhere.example", "/organizations", "", nil)
		Expect(organizationNames(body)).To(ContainElement("hooli"))
	})
})

var _ = Describe("Seed 000: form-encoded create and update", func() {
	It("creates with name=, updates name, refuses a slug change and unknown fields with 422", func() {
		code, body := direct("POST", "dave@nowhere.example", "/v1/organizations", "name=Pied+Piper", form)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(decodeJSON(body)).To(HaveKey("response"))

		code, body = direct("PATCH", "dave@nowhere.example", "/v1/organizations/pied-piper", "slug=middle-out", form)
		Expect(code).To(Equal(http.StatusUnprocessableEntity))
		Expect(string(body)).To(ContainSubstring("cannot change"))
		code, _ = direct("PATCH", "dave@nowhere.example", "/v1/organizations/pied-piper", "name=Pied+Piper+Inc&color=green", form)
		Expect(code).To(Equal(http.StatusUnprocessableEntity))
		code, body = direct("PATCH", "dave@nowhere.example", "/v1/organizations/pied-piper", "name=Pied+Piper+Inc&slug=pied-piper", form)
		Expect(code).To(Equal(http.StatusOK), string(body))
		Expect(string(body)).To(ContainSubstring(`"displayName":"Pied Piper Inc"`))
	})
})
