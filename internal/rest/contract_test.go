package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/orgplane/orgplane/internal/rest"
)

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "patch": true, "delete": true}

var _ = Describe("The OpenAPI document", func() {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	BeforeEach(func() {
		code, body := direct("GET", alice, "/v1/openapi.json", "", nil)
		Expect(code).To(Equal(http.StatusOK))
		Expect(json.Unmarshal(body, &doc)).To(Succeed())
	})

	It("describes only routes that are registered, and every one of them", func() {
		documented := []string{}
		for path, ops := range doc.Paths {
			concrete := strings.NewReplacer("{id}", "acme", "{user_id}", "nobody").Replace(path)
			for method := range ops {
				if !httpMethods[method] {
					continue // e.g. servers
				}
				documented = append(documented, strings.ToUpper(method)+" "+path)
				if path == "/v1/openapi.json" {
					continue // served to anyone
				}
				code, body := direct(strings.ToUpper(method), "", concrete, "", nil)
				Expect(code).To(Equal(http.StatusUnauthorized), "%s %s answered %d, so it is not registered: %s", method, path, code, body)
			}
		}
		Expect(documented).To(ConsistOf(append(append(rest.Routes(), rest.Seed004Routes()...), "GET /v1/openapi.json")))
		Expect(documented).To(HaveLen(47 + 12 + 1))
	})

	It("is listed route by route in docs/api.md", func() {
		md, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
		Expect(err).NotTo(HaveOccurred())
		for path, ops := range doc.Paths {
			for method := range ops {
				if !httpMethods[method] {
					continue
				}
				row := fmt.Sprintf("| %s | `%s` |", strings.ToUpper(method), path)
				Expect(string(md)).To(ContainSubstring(row))
			}
		}
	})

	It("is the same through kube-apiserver", func() {
		body, err := throughAPIServer(alice, "/openapi.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(ContainSubstring(`"/v1/organizations/accounts/all"`))
	})
})
