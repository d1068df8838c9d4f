// Package browser drives Debian's Chromium with chromedp for the console's
// tests: in test/e2e against make dev's stack, and in test/cluster against
// the install on a real node, through its Service.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds each step of a Page: a page that never shows what a step
// waits for fails the test instead of hanging it.
var Timeout = 30 * time.Second

// Chromium is the browser's path: $CHROMIUM, or chromium on $PATH; "" when
// this machine has none.
func Chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// T is what a test gives the browser: *testing.T, or Ginkgo's GinkgoT().
type T interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Skip(args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Browser is headless Chromium with an empty profile.
type Browser struct {
	ctx context.Context
}

// New starts headless Chromium for the test; the test is skipped, saying
// why, when the machine has no Chromium (CI installs Debian's).
func New(t T) *Browser {
	t.Helper()
	path := Chromium()
	if path == "" {
		t.Skip("no Chromium on this machine (apt-get install chromium; .ci/run does): the console's browser tests need one")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		// The servers under test present certificates of their own test CAs.
		chromedp.IgnoreCertErrors,
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("failed to start Chromium (%s): %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// Page is one tab: its own memory, so its own sign-in.
type Page struct {
	t   T
	ctx context.Context
}

// Page opens a new tab.
func (b *Browser) Page(t T) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return &Page{t: t, ctx: ctx}
}

// Do runs steps, each within Timeout, and fails the test on an error.
func (p *Page) Do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	for _, step := range steps {
		ctx, cancel := context.WithTimeout(p.ctx, Timeout)
		err := chromedp.Do(ctx, step)
		cancel()
		if err != nil {
			p.t.Fatalf("%v\npage now:\n%s", err, p.Text("main"))
		}
	}
}

// Open opens a sign-in link (https://host:port/console/#token=...) and
// waits for the organization switcher.
func (p *Page) Open(link string) {
	p.t.Helper()
	p.Do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#org-switcher")))
	p.RecordCalls()
}

// SignIn opens the console at base (https://host:port) with token in the
// URL's fragment, as make dev's sign-in links do, and waits for the
// organization switcher.
func (p *Page) SignIn(base, token string) {
	p.t.Helper()
	p.Open(base + "/console/#token=" + token)
}

// RecordCalls makes the page note each request it sends from now on, for
// Calls. A hash route keeps the page, and so the note.
func (p *Page) RecordCalls() {
	p.t.Helper()
	p.Eval(`(() => { if (window.__calls) return true; window.__calls = []; const f = window.fetch;
		window.fetch = (url, opts) => { window.__calls.push(((opts && opts.method) || "GET") + " " +
			new URL(url, location.href).pathname); return f(url, opts) }; return true })()`)
}

// Calls lists "METHOD /path" of each request the page sent since RecordCalls.
func (p *Page) Calls() []string {
	var calls []string
	_ = p.evalInto(`window.__calls || []`, &calls)
	return calls
}

// Go opens a route of the console (#/org/acme/members) and waits for sel.
func (p *Page) Go(base, route, sel string) {
	p.t.Helper()
	p.Do(chromedp.Navigate(base+"/console/"+route), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Click clicks the element sel.
func (p *Page) Click(sel string) {
	p.t.Helper()
	p.Do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Fill replaces the value of the field sel with value.
func (p *Page) Fill(sel, value string) {
	p.t.Helper()
	p.Do(chromedp.WaitVisible(chromedp.CSS(sel)))
	p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ""; e.focus(); return true })()`, sel))
	p.Do(chromedp.SendKeys(chromedp.CSS(sel), value))
}

// Select chooses value in the <select> sel, as a person does, so its change
// event fires.
func (p *Page) Select(sel, value string) {
	p.t.Helper()
	p.Eval(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, sel, value))
}

// Text is the visible text of sel, or "" when nothing matches.
func (p *Page) Text(sel string) string {
	var s string
	_ = p.evalInto(fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel), &s)
	return strings.TrimSpace(s)
}

// WaitText waits until the text of sel contains want.
func (p *Page) WaitText(sel, want string) {
	p.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		got := p.Text(sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s shows %q, not %q\npage now:\n%s", sel, got, want, p.Text("body"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Count is how many elements match sel now.
func (p *Page) Count(sel string) int {
	var n int
	if err := p.evalInto(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// Eval runs JavaScript in the page (a promise is awaited) and returns its
// result as JSON.
func (p *Page) Eval(js string) []byte {
	p.t.Helper()
	var raw json.RawMessage
	if err := p.evalInto(js, &raw); err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return raw
}

func (p *Page) evalInto(js string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// Keys sends key presses to the focused element (kb constants for Tab, Enter).
func (p *Page) Keys(keys string) {
	p.t.Helper()
	p.Do(chromedp.KeyEvent(keys))
}

// Focused describes the focused element: its id, or its tag and text.
func (p *Page) Focused() string {
	var s string
	_ = p.evalInto(`(() => { const e = document.activeElement; return e.id ? "#" + e.id :
		e.tagName.toLowerCase() + ":" + (e.innerText || e.value || "").trim() })()`, &s)
	return s
}

// Screenshot saves the whole page as a PNG in dir (when dir is set).
func (p *Page) Screenshot(dir, name string) {
	p.t.Helper()
	if dir == "" {
		return
	}
	p.Eval(`window.scrollTo(0, 0), true`) // a sticky element shows where the top of the page has it
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o600)
	}
	if err != nil {
		p.t.Fatal(err)
	}
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// Axe runs axe-core (the file at axePath, from npm) in the page and fails
// the test on each violation whose impact is serious or critical.
func (p *Page) Axe(axePath, what string) {
	p.t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		p.t.Fatalf("axe-core is missing (make axe installs it from npm): %v", err)
	}
	p.Eval(string(src) + "\ntrue")
	var found []Violation
	raw := p.Eval(`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v =>
		({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))})))`)
	if err := json.Unmarshal(raw, &found); err != nil {
		p.t.Fatal(err)
	}
	for _, v := range found {
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Errorf("%s: axe-core %s (%s): %s at %v", what, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// AxePath is where `make axe` installs axe-core: $AXE_JS, or
// bin/axe-core-*/node_modules/axe-core/axe.min.js above dir.
func AxePath(dir string) string {
	if p := os.Getenv("AXE_JS"); p != "" {
		return p
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		matches, _ := filepath.Glob(filepath.Join(dir, "bin", "axe-core-*", "node_modules", "axe-core", "axe.min.js"))
		if len(matches) > 0 {
			return matches[len(matches)-1]
		}
	}
	return ""
}
