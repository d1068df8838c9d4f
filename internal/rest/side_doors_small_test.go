package rest_test

// Issue 19, item 11 (the smaller side doors), each attacked through the
// REST API as the attacker would: display names that read as another
// organization's, and a form posted by a page on another site.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
)

// organizationDisplayed says whether an organization is displayed as name.
func organizationDisplayed(name string) bool {
	list := &v1alpha1.OrganizationList{}
	ExpectWithOffset(1, k8sClient.List(ctx, list)).To(Succeed())
	for _, o := range list.Items {
		if o.Spec.DisplayName == name {
			return true
		}
	}
	return false
}

var _ = Describe("Issue 19, item 11: display names that read as another organization's", func() {
	// "Аcme Corporation" with a Cyrillic А (U+0410) reads as acme's.
	const cyrillicAcme = "\u0410cme Corporation"

	It("a tenant cannot create an organization named like Acme Corporation with a Cyrillic А, through the form route (422)", func() {
		mallory := tenant("mallory@lookalike-form.example")
		code, body := direct("POST", mallory, "/v1/organizations", "name="+url.QueryEscape(cyrillicAcme), form)
		Expect(code).To(Equal(http.StatusUnprocessableEntity), string(body))
		Expect(string(body)).To(ContainSubstring(`character 1 \"А\" (U+0410 CYRILLIC CAPITAL LETTER A) is Cyrillic in a name written in Latin`))
		Expect(organizationDisplayed(cyrillicAcme)).To(BeFalse())
	})

	It("a tenant cannot create an organization named like Acme Corporation with a Cyrillic А, through JSON and kube-apiserver", func() {
		mallory := tenant("mallory@lookalike-json.example")
		code, body := direct("POST", mallory, "/v1/identity/organizations", fmt.Sprintf(`{"name":%q}`, cyrillicAcme), nil)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		Expect(string(body)).To(ContainSubstring("U+0410 CYRILLIC CAPITAL LETTER A"))
		out, err := throughAPIServerDo("POST", mallory, "/organizations",
			fmt.Sprintf(`{"organizationName":%q,"accountName":"Main"}`, "Gl\u043Ebex"))
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "got %v", err)
		Expect(string(out)).To(ContainSubstring("U+043E CYRILLIC SMALL LETTER O"))
		Expect(organizationDisplayed(cyrillicAcme)).To(BeFalse())
		Expect(organizationDisplayed("Gl\u043Ebex")).To(BeFalse())
	})

	It("a tenant cannot create Acme Corporation with a zero-width space or a bidi override in it", func() {
		mallory := tenant("mallory@invisible.example")
		for name, want := range map[string]string{
			"Acme\u200BCorporation":  "character 5 (U+200B ZERO WIDTH SPACE) is not shown",
			"Acme Corporation\u202E": "character 17 (U+202E RIGHT-TO-LEFT OVERRIDE) is invisible and reorders",
			"Acme\uFEFF Corporation": "character 5 (U+FEFF ZERO WIDTH NO-BREAK SPACE)",
			"\u2066Acme Corporation": "U+2066 LEFT-TO-RIGHT ISOLATE",
		} {
			code, body := direct("POST", mallory, "/v1/organizations", "name="+url.QueryEscape(name), form)
			Expect(code).To(Equal(http.StatusUnprocessableEntity), "%q: %s", name, body)
			Expect(string(body)).To(ContainSubstring(want), "%q", name)
			Expect(organizationDisplayed(name)).To(BeFalse(), "%q", name)
		}
	})

	It("a tenant cannot rename its organization to a look-alike of another's", func() {
		mallory := tenant("mallory@rename-lookalike.example")
		org := createOrg(mallory, "Mallory Lookalike Rename")
		code, body := direct("PATCH", mallory, "/v1/organizations/"+org, "name="+url.QueryEscape(cyrillicAcme), form)
		Expect(code).To(Equal(http.StatusUnprocessableEntity), string(body))
		Expect(string(body)).To(ContainSubstring("U+0410 CYRILLIC CAPITAL LETTER A"))
	})

	It("names in one non-Latin script, or Japanese's scripts together, are still created", func() {
		// (Their object name is made of their digits: a-z and 0-9 only.)
		for _, name := range []string{"\u041C\u043E\u0441\u043A\u0432\u0430 \u0422\u0435\u0445 471", "\u65E5\u672C\u306E\u30BD\u30D5\u30C8 472"} {
			code, body := direct("POST", tenant("someone@scripts.example"), "/v1/identity/organizations", fmt.Sprintf(`{"name":%q}`, name), nil)
			Expect(code).To(Equal(http.StatusOK), "%q: %s", name, body)
		}
	})
})

var _ = Describe("Issue 19, item 11: a form posted by a page on another site", func() {
	crossSite := []struct {
		what    string
		headers map[string]string
	}{
		{"a current browser (Sec-Fetch-Site cross-site, Origin)", map[string]string{
			"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"a sibling site (Sec-Fetch-Site same-site)", map[string]string{
			"Sec-Fetch-Site": "same-site", "Origin": "https://evil.orgplane.example"}},
		{"an older browser (Origin only)", map[string]string{"Origin": "https://evil.example"}},
		{"a sandboxed page (Origin null)", map[string]string{"Origin": "null"}},
	}
	for i, c := range crossSite {
		It("a page on evil.example cannot make a victim's browser create an organization with a form post: "+c.what, func() {
			victim := tenant(fmt.Sprintf("victim-%d@csrf.example", i))
			name := fmt.Sprintf("Evil Corp CSRF %d", i)
			headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			for k, v := range c.headers {
				headers[k] = v
			}
			code, body := direct("POST", victim, "/v1/organizations", "name="+url.QueryEscape(name), headers)
			Expect(code).To(Equal(http.StatusForbidden), string(body))
			Expect(string(body)).To(ContainSubstring("Cross-site form post refused"))
			Expect(organizationDisplayed(name)).To(BeFalse(), "the victim's browser created %q", name)
		})
	}

	It("nor rename the victim's organization with a cross-site form", func() {
		victim := tenant("victim-rename@csrf.example")
		org := createOrg(victim, "Victim CSRF Rename")
		code, body := direct("PATCH", victim, "/v1/organizations/"+org, "name=Pwned",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		Expect(code).To(Equal(http.StatusForbidden), string(body))
	})

	It("curl (neither header), the server's own page (same-origin) and a typed URL (none) still create", func() {
		for i, h := range []map[string]string{
			{},
			{"Sec-Fetch-Site": "same-origin", "Origin": fmt.Sprintf("https://127.0.0.1:%d", restPort)},
			{"Sec-Fetch-Site": "none"},
			{"Origin": fmt.Sprintf("https://127.0.0.1:%d", restPort)},
		} {
			headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			for k, v := range h {
				headers[k] = v
			}
			name := fmt.Sprintf("Legit Form %d", i)
			code, body := direct("POST", tenant(fmt.Sprintf("legit-%d@csrf.example", i)), "/v1/organizations", "name="+url.QueryEscape(name), headers)
			Expect(code).To(Equal(http.StatusOK), "%v: %s", h, body)
		}
	})
})

// TestWrappedAPIErrorsKeepTheirStatus: an API server's refusal wrapped
// with fmt.Errorf("...: %w") keeps its code and message, as the REST API
// answers with them (writeError); anything else is no status (a 500).
func TestWrappedAPIErrorsKeepTheirStatus(t *testing.T) {
	gr := schema.GroupResource{Group: "orgplane.io", Resource: "organizations"}
	refusals := map[string]error{
		"Conflict":        apierrors.NewConflict(gr, "acme", errors.New("the display name is taken")),
		"Forbidden":       apierrors.NewForbidden(gr, "acme", errors.New("only admins may")),
		"Invalid":         apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("Organization").GroupKind(), "acme", nil),
		"NotFound":        apierrors.NewNotFound(gr, "acme"),
		"TooManyRequests": apierrors.NewTooManyRequests("slow down", 3),
	}
	for name, refusal := range refusals {
		want := refusal.(apierrors.APIStatus).Status()
		for _, err := range []error{
			refusal,
			fmt.Errorf("failed to review access: %w", refusal),
			fmt.Errorf("organization acme did not become ready: %w", fmt.Errorf("twice: %w", refusal)),
			errors.Join(errors.New("first"), refusal),
		} {
			got := orgs.APIStatus(err)
			if got == nil || got.Code != want.Code || got.Message != want.Message {
				t.Errorf("%s: APIStatus(%q) = %+v, want code %d and message %q", name, err, got, want.Code, want.Message)
			}
		}
	}
	if name := "TooManyRequests"; orgs.APIStatus(fmt.Errorf("x: %w", refusals[name])).Details.RetryAfterSeconds != 3 {
		t.Errorf("%s lost its Retry-After", name)
	}
	for _, err := range []error{errors.New("etcd at 10.0.0.7:2379"), fmt.Errorf("wrapped: %w", errors.New("x"))} {
		if got := orgs.APIStatus(err); got != nil {
			t.Errorf("APIStatus(%q) = %+v, want none", err, got)
		}
	}
}
