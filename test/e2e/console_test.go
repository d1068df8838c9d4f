package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/orgplane/orgplane/internal/devenv"
	"github.com/orgplane/orgplane/internal/localcp"
	"github.com/orgplane/orgplane/internal/rest"
	"github.com/orgplane/orgplane/test/browser"
	"github.com/orgplane/orgplane/test/oidctest"
)

// console is make dev's stack seen through the console in Chromium, one
// tab (one sign-in) per person.
type console struct {
	s      *stack
	b      *browser.Browser
	tokens map[string]string
	links  map[string]string // the sign-in link make dev printed for each user
	axe    string
	shots  string          // where screenshots go: $SCREENSHOTS (make screenshots), else nowhere
	calls  map[string]bool // each "METHOD /path" the pages sent
}

func (c *console) as(t *testing.T, user string) *browser.Page {
	t.Helper()
	p := c.b.Page(t)
	p.Open(c.links[user])
	t.Cleanup(func() { // before the tab closes
		for _, call := range p.Calls() {
			c.calls[call] = true
		}
	})
	return p
}

// printedLink is a sign-in link as make dev prints it: user, then link.
var printedLink = regexp.MustCompile(`(?m)^ +(\S+@\S+) +(https://\S+/console/#token=\S+)$`)

// TestConsole plays the console's people on make dev's stack: alice (admin
// of acme), bob (member of acme, admin of globex) and vera (nobody, until
// alice makes her a viewer of globex).
func TestConsole(t *testing.T) {
	b := browser.New(t)
	issuer, err := oidctest.Start("orgplane-console", "alice@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	ca := filepath.Join(t.TempDir(), "issuer-ca.crt")
	if err := issuer.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	s := start(t, func(o *devenv.Options) {
		o.OIDC = &localcp.OIDC{IssuerURL: issuer.URL, ClientID: issuer.ClientID, CAFile: ca}
	})
	issuer.Register(s.base + "/console/")
	tokens, err := devenv.Tokens(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, m := range printedLink.FindAllStringSubmatch(s.out.String(), -1) {
		links[m[1]] = m[2]
	}
	for _, user := range devenv.ConsoleUsers {
		if links[user] != s.base+"/console/#token="+tokens[user] {
			t.Fatalf("make dev printed no sign-in link for %s with its token:\n%s", user, s.out.String())
		}
	}
	c := &console{s: s, b: b, tokens: tokens, axe: browser.AxePath(root), links: links, shots: os.Getenv("SCREENSHOTS"),
		calls: map[string]bool{}}
	t.Run("the page is served with a strict policy and holds the token in memory only", func(t *testing.T) {
		pageHeaders(t, c)
	})
	t.Run("bob invites alice to globex; she accepts and switches to it by keyboard", func(t *testing.T) {
		joinGlobex(t, c)
	})
	t.Run("alice creates an account and sees its key once", func(t *testing.T) { accountKeyOnce(t, c) })
	t.Run("alice adds members by keyboard and removes one", func(t *testing.T) { addRemoveMember(t, c) })
	t.Run("over the plan's limit, the refusal is shown as text", func(t *testing.T) { overLimit(t, c) })
	t.Run("alice applies a license and sees the plan change", func(t *testing.T) { applyLicense(t, c) })
	t.Run("vera declines an invitation; bob revokes another", func(t *testing.T) { declineRevoke(t, c) })
	t.Run("bob, a member of acme, sees no admin button and a forged write is refused", func(t *testing.T) {
		memberView(t, c)
	})
	t.Run("vera, a viewer of globex, sees read-only pages", func(t *testing.T) { viewerView(t, c) })
	t.Run("alice creates an organization and deletes it after confirming", func(t *testing.T) { createDelete(t, c) })
	t.Run("a bad token is refused with a message", func(t *testing.T) { badToken(t, c) })
	t.Run("alice signs in with OIDC (authorization code with PKCE)", func(t *testing.T) { oidcSignIn(t, c, issuer) })
	t.Run("every request the console sent is a route of the OpenAPI document", func(t *testing.T) { onlyPublicAPI(t, c) })
}

// pageHeaders: the console's own files carry the policy that keeps script
// to the console's own files and its calls to its own origin, and the token
// leaves the address bar at once and is never stored.
func pageHeaders(t *testing.T, c *console) {
	p := c.as(t, "alice@acme.example")
	var got struct {
		URL, Storage string
		Cookies      string
	}
	raw := p.Eval(`({URL: location.href, Storage: JSON.stringify(localStorage) + JSON.stringify(sessionStorage),
		Cookies: document.cookie})`)
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.URL, "token") || got.Storage != "{}{}" || got.Cookies != "" {
		t.Errorf("after sign-in: address %q, storage %s, cookies %q: the token must live in memory only",
			got.URL, got.Storage, got.Cookies)
	}
	csp := string(p.Eval(`fetch("/console/").then(r => r.headers.get("Content-Security-Policy"))`))
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'",
		"frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %s lacks %s", csp, want)
		}
	}
	// A script the page did not ship is not run: the policy refuses it.
	p.Eval(`(() => { const s = document.createElement("script"); s.textContent = "window.injected = true";
		document.body.appendChild(s); return true })()`)
	if string(p.Eval(`window.injected === true`)) != "false" {
		t.Error("an inline script ran: the Content-Security-Policy does not hold")
	}
}

// joinGlobex: bob invites alice from globex's members page; alice sees the
// invitation by the switcher, accepts it, and switches to globex with the
// keyboard alone.
func joinGlobex(t *testing.T, c *console) {
	bob := c.as(t, "bob@globex.example")
	bob.Go(c.s.base, "#/org/globex/members", "#invite")
	bob.Fill("#invite-email", "alice@acme.example")
	bob.Select("#invite-role", "admin")
	bob.Click("#invite button[type=submit]")
	bob.WaitText("#notice", "alice@acme.example")

	alice := c.as(t, "alice@acme.example")
	alice.WaitText("#invitations", "Globex")
	alice.Screenshot(c.shots, "console-switcher")
	alice.Axe(c.axe, "the switcher with an invitation")
	alice.Click("#invitations button.accept")
	alice.WaitText("#org-switcher", "Globex")
	// Keyboard only, on a page just opened (the console puts the focus on
	// its heading): back with Shift+Tab to the switcher, then choose
	// globex with the arrows.
	alice = c.as(t, "alice@acme.example")
	eventually(t, 10*time.Second, func() error {
		if f := alice.Focused(); !strings.HasPrefix(f, "h1:") {
			return fmt.Errorf("the focus is on %s, not the page's heading", f)
		}
		return nil
	})
	for i := 0; i < 10 && alice.Focused() != "#org-switcher"; i++ {
		alice.Do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	}
	if alice.Focused() != "#org-switcher" {
		t.Fatalf("Shift+Tab never reached the organization switcher (focus: %s)", alice.Focused())
	}
	for i := 0; i < 5 && !strings.Contains(string(alice.Eval(`location.hash`)), "globex"); i++ {
		alice.Keys(kb.ArrowDown)
	}
	alice.WaitText("main", "Globex")
	alice.WaitText("#role", "admin")
}

// declineRevoke: vera declines alice's invitation to acme and does not
// join it; bob revokes the invitation he sent zed to globex, which stays
// listed as Revoked with no button. Both seats come back. (Run on
// enterprise limits: a seat a revoked invitation held stays reserved for
// admission's 30 s ledger, docs/licenses.md.)
func declineRevoke(t *testing.T, c *console) {
	alice := c.as(t, "alice@acme.example")
	alice.Go(c.s.base, "#/org/acme/members", "#invite")
	alice.Fill("#invite-email", "vera@acme.example")
	alice.Click("#invite button[type=submit]")
	alice.WaitText("#notice", "vera@acme.example")
	vera := c.as(t, "vera@acme.example")
	vera.WaitText("#invitations", "Acme Corporation")
	vera.Click("#invitations button.decline")
	vera.WaitText("#notice", "You declined the invitation to Acme Corporation")
	if strings.Contains(vera.Text("#org-switcher"), "Acme") {
		t.Error("vera declined, yet acme is in her switcher")
	}

	bob := c.as(t, "bob@globex.example")
	bob.Go(c.s.base, "#/org/globex/members", "#invite")
	bob.Fill("#invite-email", "zed@globex.example")
	bob.Click("#invite button[type=submit]")
	bob.WaitText("#notice", "zed@globex.example")
	zed := `#org-invitations tr[data-name="zed@globex.example"]`
	bob.Click(zed + " button.revoke")
	bob.WaitText("#notice", "Invitation to zed@globex.example revoked")
	bob.WaitText(zed, "Revoked")
	if bob.Count(zed+" button") != 0 {
		t.Error("a revoked invitation still offers a button")
	}
	for ns, want := range map[string]string{"org-acme": "Declined", "org-globex": "Revoked"} {
		out := c.s.must(t, "get", "invitations", "-n", ns, "-o", "jsonpath={.items[*].status.phase}")
		if !strings.Contains(out, want) {
			t.Errorf("kubectl shows %s's invitations in phases %q, none %s", ns, out, want)
		}
	}
	// zed's seat comes back: bob, ci/deployer, alice and vera hold four.
	eventually(t, 30*time.Second, func() error {
		bob.Go(c.s.base, "#/org/globex/overview", "#seats")
		if seats := bob.Text("#seats"); !strings.Contains(seats, "4 of 30") {
			return fmt.Errorf("globex's overview shows %q", seats)
		}
		return nil
	})
}

// accountKeyOnce: the new account's key is shown once, and on no other
// page or visit.
func accountKeyOnce(t *testing.T, c *console) {
	alice := c.as(t, "alice@acme.example")
	alice.Go(c.s.base, "#/org/globex/accounts", "#create-account")
	alice.Fill("#account-display-name", "Reports")
	alice.Click("#create-account button[type=submit]")
	alice.WaitText("#api-key", "not be shown again")
	key := alice.Text("#api-key-value")
	if !strings.HasPrefix(key, "opk_") {
		t.Fatalf("the key shown is %q", key)
	}
	alice.WaitText("#accounts", "Reports")
	alice.Screenshot(c.shots, "console-accounts")
	alice.Axe(c.axe, "accounts, with a new key")
	alice.Click("#api-key button")
	alice.Go(c.s.base, "#/org/globex/overview", "#plan")
	alice.Go(c.s.base, "#/org/globex/accounts", "#accounts")
	alice.WaitText("#accounts", "Reports")
	if body := alice.Text("body"); strings.Contains(body, key) || alice.Count("#api-key") != 0 {
		t.Error("the key is shown again after it was dismissed")
	}
	alice.Click("#accounts tr[data-name=reports] button.rotate")
	alice.WaitText("#api-key", "not be shown again")
	if rotated := alice.Text("#api-key-value"); rotated == key || !strings.HasPrefix(rotated, "opk_") {
		t.Errorf("rotating gave %q (was %q)", rotated, key)
	}
	alice.Click("#api-key button")
	alice.Click("#accounts tr[data-name=reports] button.rename")
	alice.Fill("#rename-input-reports", "Reports EU")
	alice.Click("#accounts tr[data-name=reports] button[type=submit]")
	alice.WaitText("#accounts tr[data-name=reports]", "Reports EU")
	out := c.s.must(t, "get", "account", "reports", "-n", "org-globex", "-o", "jsonpath={.spec.displayName}")
	if out != "Reports EU" {
		t.Errorf("after the rename kubectl shows the account's display name %q", out)
	}
}

// addRemoveMember: alice adds vera as a viewer with the keyboard alone,
// adds dave, and removes him.
func addRemoveMember(t *testing.T, c *console) {
	alice := c.as(t, "alice@acme.example")
	alice.Go(c.s.base, "#/org/globex/members", "#add-member")
	alice.Do(chromedp.Focus(chromedp.CSS("#member-email")))
	alice.Keys("vera@acme.example")
	alice.Keys(kb.Tab)
	if alice.Focused() != "#member-role" {
		t.Fatalf("Tab from the e-mail went to %s, not the role", alice.Focused())
	}
	for i := 0; i < 3 && string(alice.Eval(`document.querySelector("#member-role").value`)) != `"viewer"`; i++ {
		alice.Keys(kb.ArrowDown)
	}
	alice.Keys(kb.Tab)
	alice.Keys(kb.Enter)
	alice.WaitText("#members", "vera@acme.example")
	alice.Fill("#member-email", "dave@globex.example")
	alice.Click("#add-member button[type=submit]")
	alice.WaitText("#members", "dave@globex.example")
	alice.Screenshot(c.shots, "console-members")
	alice.Axe(c.axe, "members")
	alice.Select(`#members tr[data-name="dave@globex.example"] select.role`, "admin")
	alice.Click(`#members tr[data-name="dave@globex.example"] button.save`)
	alice.WaitText("#notice", "dave@globex.example is now an admin")
	role := `jsonpath={.spec.members[?(@.name=="dave@globex.example")].role}`
	if out := c.s.must(t, "get", "organization", "globex", "-o", role); out != "admin" {
		t.Errorf("after the role change kubectl shows dave's role %q", out)
	}
	alice.Click(`#members tr[data-name="dave@globex.example"] button.remove`)
	alice.Click(`#members tr[data-name="dave@globex.example"] button.confirm`)
	alice.WaitText("#notice", "dave@globex.example")
	if strings.Contains(alice.Text("#members"), "dave@globex.example") {
		t.Error("dave is still listed after his removal")
	}
}

// overLimit: globex is on the free plan (3 accounts, 2 made): the fourth is
// refused, and admission's reason is shown to alice as text.
func overLimit(t *testing.T, c *console) {
	alice := c.as(t, "alice@acme.example")
	alice.Go(c.s.base, "#/org/globex/accounts", "#create-account")
	alice.Fill("#account-display-name", "Billing")
	alice.Click("#create-account button[type=submit]")
	alice.WaitText("#accounts", "Billing")
	alice.Click("#api-key button")
	alice.Fill("#account-display-name", "One too many")
	alice.Click("#create-account button[type=submit]")
	alice.WaitText("#error", "limit")
	if strings.Contains(alice.Text("#accounts"), "One too many") {
		t.Error("the account over the limit is listed")
	}
	alice.Screenshot(c.shots, "console-over-limit")
	alice.Click("#accounts tr[data-name=billing] button.delete")
	alice.Click("#accounts tr[data-name=billing] button.confirm")
	alice.WaitText("#notice", "billing deleted")
	eventually(t, 60*time.Second, func() error {
		if out, err := c.s.run("get", "account", "billing", "-n", "org-globex"); err == nil {
			return fmt.Errorf("account billing is still there: %s", out)
		}
		return nil
	})
}

// applyLicense: alice pastes a vendor key; the plan changes from free.
func applyLicense(t *testing.T, c *console) {
	alice := c.as(t, "alice@acme.example")
	alice.Go(c.s.base, "#/org/globex/overview", "#plan")
	alice.WaitText("#plan", "free")
	alice.Go(c.s.base, "#/org/globex/license", "#apply-license")
	alice.Fill("#license-key", strings.TrimSpace(string(issueLicense(t, c.s))))
	alice.Click("#apply-license button[type=submit]")
	alice.WaitText("#license-claims", "Globex")
	alice.WaitText("#license-claims", "enterprise")
	alice.Screenshot(c.shots, "console-license")
	alice.Axe(c.axe, "license")
	alice.Go(c.s.base, "#/org/globex/overview", "#plan")
	alice.WaitText("#plan", "enterprise")
	alice.WaitText("#usage", "20")
	alice.Screenshot(c.shots, "console-overview")
	alice.Axe(c.axe, "overview")
}

// adminOnly are the forms and buttons only admins are shown.
var adminOnly = []string{"#create-account", "#add-member", "#apply-license", "#rename-org", "#delete-org",
	"button.remove", "button.rotate", "button.rename", "button.delete", "button.revoke", "select.role"}

// memberView: bob is a member of acme: no admin form or button on any
// page, and the write the button would have made, sent anyway from his
// page with his own token, is refused by the server.
func memberView(t *testing.T, c *console) {
	bob := c.as(t, "bob@globex.example")
	readOnly(t, c, bob, "acme", "member", adminOnly)
	// acme's demo license has guardrails: its overview shows the quota.
	bob.Go(c.s.base, "#/org/acme/overview", "#quota")
	bob.WaitText("#quota", "pods")
	bob.Screenshot(c.shots, "console-member")
	token := c.tokens["bob@globex.example"]
	if status := forge(bob, token, "/v1/organizations/acme/accounts", `{"displayName": "Forged"}`); status != "403" {
		t.Errorf("bob's forged account create answered %s, not 403", status)
	}
	if out, err := c.s.run("get", "account", "forged", "-n", "org-acme"); err == nil {
		t.Errorf("the forged account was created: %s", out)
	}
	body := `{"email": "mallory@evil.example", "role": "admin"}`
	if status := forge(bob, token, "/v1/organizations/acme/members", body); status != "403" {
		t.Errorf("bob's forged member add answered %s, not 403", status)
	}
	out := c.s.must(t, "get", "organization", "acme", "-o", "jsonpath={.spec.members[*].name}")
	if strings.Contains(out, "mallory") {
		t.Errorf("acme's members after the forged request: %s", out)
	}
}

// forge sends, from page p, the POST an admin's button would send, with
// token, and answers the status.
func forge(p *browser.Page, token, path, body string) string {
	js := `fetch(%q, {method: "POST", body: %q,
		headers: {"Authorization": "Bearer %s", "Content-Type": "application/json"}}).then(r => r.status)`
	return string(p.Eval(fmt.Sprintf(js, path, body, token)))
}

// pageContent is, for each page of an organization, an element that is
// there once the page has loaded what it shows, so that what is absent
// then is absent for good.
var pageContent = map[string]string{"overview": "#plan", "accounts": "#accounts", "members": "#members",
	"license": "#license-claims", "settings": "#org-details"}

// readOnly: on every page of org, p (with role) is shown none of hidden.
func readOnly(t *testing.T, c *console, p *browser.Page, org, role string, hidden []string) {
	t.Helper()
	for page, content := range pageContent {
		p.Go(c.s.base, "#/org/"+org+"/"+page, content)
		p.WaitText("#role", role)
		for _, sel := range hidden {
			if n := p.Count(sel); n != 0 {
				t.Errorf("a %s of %s sees %d %s on its %s page", role, org, n, sel, page)
			}
		}
	}
}

// viewerView: vera, whom alice made a viewer of globex, reads every page,
// with no form to write, not even an invitation.
func viewerView(t *testing.T, c *console) {
	vera := c.as(t, "vera@acme.example")
	readOnly(t, c, vera, "globex", "viewer", append(slices.Clone(adminOnly), "#invite"))
	vera.Go(c.s.base, "#/org/globex/accounts", "#accounts")
	vera.WaitText("#accounts", "Reports")
}

// createDelete: alice creates Initech, which the switcher then offers, and
// deletes it only once she has typed its name.
func createDelete(t *testing.T, c *console) {
	alice := c.as(t, "alice@acme.example")
	alice.Go(c.s.base, "#/new", "#create-org")
	alice.Screenshot(c.shots, "console-new-organization")
	alice.Axe(c.axe, "new organization")
	alice.Fill("#org-name", "Initech")
	alice.Fill("#account-name", "Printers")
	alice.Click("#eula")
	alice.Click("#create-org button[type=submit]")
	alice.WaitText("#api-key", "not be shown again")
	alice.WaitText("#org-switcher", "Initech")
	alice.Go(c.s.base, "#/org/initech/settings", "#rename-org")
	alice.Fill("#org-display-name", "Initech Labs")
	alice.Click("#rename-org button[type=submit]")
	alice.WaitText("#org-switcher", "Initech Labs")
	if out := c.s.must(t, "get", "organization", "initech", "-o", "jsonpath={.spec.displayName}"); out != "Initech Labs" {
		t.Errorf("after the rename kubectl shows the display name %q", out)
	}
	alice.Screenshot(c.shots, "console-settings")
	alice.Axe(c.axe, "settings")
	alice.Fill("#confirm-delete", "not-initech")
	alice.Click("#delete-org button[type=submit]")
	alice.WaitText("#error", "initech")
	if out, err := c.s.run("get", "organization", "initech"); err != nil {
		t.Fatalf("initech was deleted without its name typed: %v %s", err, out)
	}
	alice.Fill("#confirm-delete", "initech")
	alice.Click("#delete-org button[type=submit]")
	alice.WaitText("#notice", "initech")
	eventuallyGone(t, c.s, "initech")
}

func eventuallyGone(t *testing.T, s *stack, org string) {
	t.Helper()
	eventually(t, 60*time.Second, func() error {
		if out, err := s.run("get", "organization", org); err == nil {
			return fmt.Errorf("organization %s is still there: %s", org, out)
		}
		return nil
	})
}

// badToken: a token kube-apiserver does not know leaves the person on the
// sign-in page with the reason.
func badToken(t *testing.T, c *console) {
	p := c.b.Page(t)
	p.Do(chromedp.Navigate(c.s.base + "/console/"))
	p.Do(chromedp.WaitVisible(chromedp.CSS("#signin")))
	p.Screenshot(c.shots, "console-sign-in")
	p.Axe(c.axe, "sign-in")
	p.Fill("#token", "not-a-token")
	p.Click("#signin button[type=submit]")
	p.WaitText("#error", "Authentication required")
	if p.Count("#org-switcher") != 0 {
		t.Error("a bad token signed in")
	}
}

// oidcSignIn: the console sends alice to the issuer with a PKCE challenge,
// exchanges the code it gets back with the verifier, and calls the API
// with the ID token, which kube-apiserver verifies; nothing of it is kept
// in storage or in the address bar.
func oidcSignIn(t *testing.T, c *console, issuer *oidctest.Issuer) {
	p := c.b.Page(t)
	p.Do(chromedp.Navigate(c.s.base+"/console/"), chromedp.WaitVisible(chromedp.CSS("#oidc")))
	p.Click("#oidc")
	p.Do(chromedp.WaitVisible(chromedp.CSS("#org-switcher")))
	p.WaitText("#org-switcher", "Acme Corporation")
	if issuer.Exchanged() != 1 {
		t.Errorf("the issuer exchanged %d codes for a matching verifier, not 1", issuer.Exchanged())
	}
	raw := string(p.Eval(`location.search + location.hash +
		JSON.stringify(localStorage) + JSON.stringify(sessionStorage)`))
	if strings.Contains(raw, "code") || strings.Contains(raw, "token") || strings.Contains(raw, "verifier") {
		t.Errorf("after the OIDC sign-in the page keeps: %s", raw)
	}
}

// onlyPublicAPI: the console is built on the public REST API alone; each
// request its pages sent matches a route of the OpenAPI document.
func onlyPublicAPI(t *testing.T, c *console) {
	mux := http.NewServeMux()
	for _, route := range rest.Routes() {
		mux.HandleFunc(route, func(http.ResponseWriter, *http.Request) {})
	}
	seen := c.calls
	if len(seen) < 10 {
		t.Fatalf("the pages sent only %d distinct requests: %v", len(seen), seen)
	}
	for call := range seen {
		method, path, _ := strings.Cut(call, " ")
		if strings.HasPrefix(path, "/console/") {
			continue // the console's own files (this test fetched one)
		}
		if _, pattern := mux.Handler(httptest.NewRequest(method, path, nil)); pattern == "" {
			t.Errorf("the console sent %s, which is no route of the REST API", call)
		}
	}
}
