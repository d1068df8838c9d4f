package rest_test

import (
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The viewer role, through kube-apiserver", func() {
	It("an admin adds a viewer, who reads the organization and is refused every write", func() {
		admin, viewer := tenant("ada@viewers.example"), tenant("vic@viewers.example")
		org := createOrg(admin, "Viewers Guild")

		out, err := throughAPIServerDo("POST", admin, "/organizations/"+org+"/members", `{"email":"vic@viewers.example","role":"viewer"}`)
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(decodeJSON(out)).To(HaveKeyWithValue("role", "viewer"))

		out, err = throughAPIServer(admin, "/organizations/"+org+"/members")
		Expect(err).NotTo(HaveOccurred(), string(out))
		var members struct{ Members []struct{ Name, Role string } }
		Expect(json.Unmarshal(out, &members)).To(Succeed())
		Expect(members.Members).To(ContainElement(And(HaveField("Name", viewer), HaveField("Role", "viewer"))))

		out, err = throughAPIServer(viewer, "/organizations/"+org)
		Expect(err).NotTo(HaveOccurred(), string(out))

		out, err = throughAPIServerDo("POST", viewer, "/organizations/"+org+"/members", `{"email":"friend@viewers.example"}`)
		Expect(statusCode(err)).To(Equal(http.StatusForbidden))
		Expect(statusMessage(out)).To(ContainSubstring("Only admins of organization " + org + " may do this; you are a viewer"))
		out, err = throughAPIServerDo("PATCH", viewer, "/organizations/"+org+"/metadata", `{"name":"Taken Over"}`)
		Expect(statusCode(err)).To(Equal(http.StatusForbidden), string(out))
	})

	It("a role that does not exist is refused with 400 naming the roles, and nothing is written", func() {
		admin := tenant("ada@roles.example")
		org := createOrg(admin, "Role Players")
		out, err := throughAPIServerDo("POST", admin, "/organizations/"+org+"/members", `{"email":"own@roles.example","role":"owner"}`)
		Expect(statusCode(err)).To(Equal(http.StatusBadRequest))
		Expect(statusMessage(out)).To(ContainSubstring(`Field "role" must be admin, member or viewer, not "owner"`))
		out, err = throughAPIServer(admin, "/organizations/"+org+"/members")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).NotTo(ContainSubstring("own@roles.example"))
	})
})
