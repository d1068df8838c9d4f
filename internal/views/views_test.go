package views

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	myv1 "github.com/orgplane/orgplane/api/my/v1"
	"github.com/orgplane/orgplane/api/v1alpha1"
)

// admins is the platform admins of the specs: by name.
type admins map[string]bool

func (a admins) Is(_ context.Context, u user.Info) (bool, error) { return a[u.GetName()], nil }

// fixture is an index fed by hand, as the informers feed it, with
// resourceVersions counting up.
type fixture struct {
	t  *testing.T
	ix *Index
	rv int
}

func newFixture(t *testing.T, history, buffer int) *fixture {
	ix := NewIndex(history, buffer)
	ix.syncedOrg, ix.syncedAcc = func() bool { return true }, func() bool { return true }
	return &fixture{t: t, ix: ix}
}

func (f *fixture) nextRV() string { f.rv++; return strconv.Itoa(f.rv) }

func (f *fixture) org(name string, lbls map[string]string, members ...v1alpha1.Member) *v1alpha1.Organization {
	o := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls, ResourceVersion: f.nextRV()},
		Spec: v1alpha1.OrganizationSpec{DisplayName: name, Members: members}}
	f.ix.apply(o, false)
	return o
}

func (f *fixture) account(org, name string, members ...v1alpha1.Member) {
	f.ix.apply(&v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "org-" + org, ResourceVersion: f.nextRV()},
		Spec: v1alpha1.AccountSpec{Members: members}}, false)
}

func member(name string, role v1alpha1.Role) v1alpha1.Member {
	return v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: name, Role: role}
}

func as(name string, groups ...string) context.Context {
	return genericapirequest.WithUser(context.Background(), &user.DefaultInfo{Name: name, Groups: groups})
}

func (f *fixture) storage(k *kind) *storage {
	return &storage{kind: k, ix: f.ix, admins: admins{"root": true}}
}

func names(t *testing.T, obj runtime.Object) []string {
	t.Helper()
	var out []string
	switch l := obj.(type) {
	case *myv1.OrganizationList:
		for _, o := range l.Items {
			out = append(out, o.Name+"="+o.Status.Role)
		}
	case *myv1.AccountList:
		for _, a := range l.Items {
			out = append(out, a.Name+"="+a.Status.Role)
		}
	}
	return out
}

func TestWhoSeesWhat(t *testing.T) {
	f := newFixture(t, 100, 10)
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin), v1alpha1.Member{Kind: v1alpha1.SubjectGroup, Name: "ops", Role: v1alpha1.RoleViewer})
	f.org("globex", nil, member("bob", v1alpha1.RoleAdmin), member("alice", v1alpha1.RoleMember))
	f.org("initech", nil, member("bob", v1alpha1.RoleAdmin))
	f.account("initech", "web", member("carol", v1alpha1.RoleMember))
	f.account("initech", "db")
	f.account("acme", "api", member("alice", v1alpha1.RoleViewer), member("dora", v1alpha1.RoleAdmin))
	gone := f.org("hooli", nil, member("alice", v1alpha1.RoleAdmin))
	now := metav1.Now()
	gone = gone.DeepCopy()
	gone.DeletionTimestamp, gone.ResourceVersion = &now, f.nextRV()
	f.ix.apply(gone, false)

	for _, tc := range []struct {
		ctx           context.Context
		orgs, account []string
	}{
		{as("alice"), []string{"acme=admin", "globex=member"}, []string{"acme.api=admin"}},
		{as("bob"), []string{"globex=admin", "initech=admin"}, []string{"initech.db=admin", "initech.web=admin"}},
		{as("carol"), []string{"initech=account"}, []string{"initech.web=member"}},
		{as("dora"), []string{"acme=account"}, []string{"acme.api=admin"}},
		{as("gus", "ops"), []string{"acme=viewer"}, []string{"acme.api=viewer"}},
		{as("nobody"), nil, nil},
		{as("group:ops"), nil, nil}, // a user named like a group key is not the group
		{as("root"), []string{"acme=platform-admin", "globex=platform-admin", "initech=platform-admin"},
			[]string{"acme.api=platform-admin", "initech.db=platform-admin", "initech.web=platform-admin"}},
	} {
		u, _ := genericapirequest.UserFrom(tc.ctx)
		orgs, err := f.storage(organizations).List(tc.ctx, &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		accts, err := f.storage(accounts).List(tc.ctx, &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(names(t, orgs)); got != fmt.Sprint(tc.orgs) {
			t.Errorf("%s sees organizations %s, want %v", u.GetName(), got, tc.orgs)
		}
		if got := fmt.Sprint(names(t, accts)); got != fmt.Sprint(tc.account) {
			t.Errorf("%s sees accounts %s, want %v", u.GetName(), got, tc.account)
		}
		// get agrees with list, and a name one may not see is not found.
		for _, name := range []string{"acme", "globex", "initech", "hooli", "nothing"} {
			_, err := f.storage(organizations).Get(tc.ctx, name, nil)
			listed := false
			for _, n := range names(t, orgs) {
				listed = listed || n[:len(name)+1] == name+"="
			}
			if listed != (err == nil) || (err != nil && !apierrors.IsNotFound(err)) {
				t.Errorf("%s: get %s = %v, listed %v", u.GetName(), name, err, listed)
			}
		}
	}
}

func TestAnAccountMemberIsNotShownTheOrganizationsPlan(t *testing.T) {
	f := newFixture(t, 100, 10)
	o := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme", ResourceVersion: f.nextRV()},
		Spec: v1alpha1.OrganizationSpec{Members: []v1alpha1.Member{member("alice", v1alpha1.RoleAdmin)}},
		Status: v1alpha1.OrganizationStatus{Plan: &v1alpha1.Plan{Type: "team", Phase: "Active"},
			Seats: &v1alpha1.Seats{Summary: "2/5"}, UsageSummary: "1/3 accounts"}}
	f.ix.apply(o, false)
	f.account("acme", "web", member("carol", v1alpha1.RoleMember))
	for name, want := range map[string]string{"alice": "admin team Active 2/5 1/3 accounts", "carol": "account    "} {
		got, err := f.storage(organizations).Get(as(name), "acme", nil)
		if err != nil {
			t.Fatal(err)
		}
		st := got.(*myv1.Organization).Status
		if s := fmt.Sprint(st.Role, " ", st.Plan, " ", st.Phase, " ", st.Seats, " ", st.Usage); s != want {
			t.Errorf("%s sees %q, want %q", name, s, want)
		}
	}
}

func TestSelectorsNarrowAndNeverWiden(t *testing.T) {
	f := newFixture(t, 100, 10)
	f.org("acme", map[string]string{"tier": "gold"}, member("alice", v1alpha1.RoleAdmin))
	f.org("globex", map[string]string{"tier": "silver"}, member("alice", v1alpha1.RoleViewer))
	f.org("initech", map[string]string{"tier": "gold"}, member("bob", v1alpha1.RoleAdmin))
	for sel, want := range map[string][]string{
		"":                            {"acme=admin", "globex=viewer"},
		"tier=gold":                   {"acme=admin"},
		"tier in (gold,silver)":       {"acme=admin", "globex=viewer"},
		"!missing":                    {"acme=admin", "globex=viewer"},
		"tier notin (bronze)":         {"acme=admin", "globex=viewer"},
		"field:metadata.name!=x":      {"acme=admin", "globex=viewer"},
		"field:metadata.name=initech": nil,
		"field:status.role=viewer":    {"globex=viewer"},
	} {
		opts := &metainternalversion.ListOptions{}
		if f, ok := cutPrefix(sel, "field:"); ok {
			opts.FieldSelector = fields.ParseSelectorOrDie(f)
		} else {
			opts.LabelSelector = labels.SelectorFromSet(nil)
			if sel != "" {
				s, err := labels.Parse(sel)
				if err != nil {
					t.Fatal(err)
				}
				opts.LabelSelector = s
			}
		}
		got, err := f.storage(organizations).List(as("alice"), opts)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(names(t, got)) != fmt.Sprint(want) {
			t.Errorf("selector %q: got %v, want %v", sel, names(t, got), want)
		}
	}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func TestPagesNeitherRepeatNorSkip(t *testing.T) {
	f := newFixture(t, 100, 10)
	for i := range 7 {
		f.org(fmt.Sprintf("org-%d", i), nil, member("alice", v1alpha1.RoleAdmin))
	}
	var seen []string
	opts := &metainternalversion.ListOptions{Limit: 3}
	for range 10 {
		page, err := f.storage(organizations).List(as("alice"), opts)
		if err != nil {
			t.Fatal(err)
		}
		l := page.(*myv1.OrganizationList)
		for _, o := range l.Items {
			seen = append(seen, o.Name)
		}
		if opts.Continue = l.Continue; l.Continue == "" {
			break
		}
	}
	if fmt.Sprint(seen) != "[org-0 org-1 org-2 org-3 org-4 org-5 org-6]" {
		t.Errorf("pages gave %v", seen)
	}
	if _, err := f.storage(organizations).List(as("alice"), &metainternalversion.ListOptions{Continue: "%%%"}); !apierrors.IsBadRequest(err) {
		t.Errorf("a bad continue token: %v, want 400", err)
	}
}

// next is the watch's next event, or fails after a while.
func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("the watch ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return watch.Event{}
}

func event(ev watch.Event) string {
	m := ev.Object.(metav1.Object)
	return string(ev.Type) + " " + m.GetName()
}

func TestWatchFollowsMembership(t *testing.T) {
	f := newFixture(t, 100, 10)
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin))
	f.org("globex", nil, member("bob", v1alpha1.RoleAdmin))
	w, err := f.storage(organizations).Watch(as("dave"), &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	f.org("globex", nil, member("bob", v1alpha1.RoleAdmin), member("dave", v1alpha1.RoleViewer))
	if got := event(next(t, w)); got != "ADDED globex" {
		t.Fatalf("dave added: %s", got)
	}
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin), member("erin", v1alpha1.RoleViewer)) // not dave's
	f.org("globex", nil, member("bob", v1alpha1.RoleAdmin), member("dave", v1alpha1.RoleMember))
	ev := next(t, w)
	if got := event(ev); got != "MODIFIED globex" || ev.Object.(*myv1.Organization).Status.Role != "member" {
		t.Fatalf("dave's role raised: %s %+v", got, ev.Object)
	}
	f.org("globex", nil, member("bob", v1alpha1.RoleAdmin))
	ev = next(t, w)
	if got := event(ev); got != "DELETED globex" {
		t.Fatalf("dave removed: %s", got)
	}
	if rv := ev.Object.(metav1.Object).GetResourceVersion(); rv != f.ix.at.String() {
		t.Errorf("the DELETED event's resourceVersion %s, want the position of the change %s", rv, f.ix.at)
	}
}

func TestWatchResumesFromAPositionOr410(t *testing.T) {
	f := newFixture(t, 3, 10)
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin))
	list, err := f.storage(organizations).List(as("alice"), &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := list.(*myv1.OrganizationList).ResourceVersion
	f.org("globex", nil, member("alice", v1alpha1.RoleAdmin))
	f.account("acme", "web")
	w, err := f.storage(accounts).Watch(as("alice"), &metainternalversion.ListOptions{ResourceVersion: from})
	if err != nil {
		t.Fatal(err)
	}
	if got := event(next(t, w)); got != "ADDED acme.web" {
		t.Errorf("resumed from %s: %s", from, got)
	}
	w.Stop()
	for i := range 4 { // the history keeps 3 changes
		f.org(fmt.Sprintf("o%d", i), nil, member("bob", v1alpha1.RoleAdmin))
	}
	_, err = f.storage(organizations).Watch(as("alice"), &metainternalversion.ListOptions{ResourceVersion: from})
	if !apierrors.IsResourceExpired(err) {
		t.Errorf("a watch from before the history: %v, want 410", err)
	}
	_, err = f.storage(organizations).Watch(as("alice"), &metainternalversion.ListOptions{ResourceVersion: "42"})
	if !apierrors.IsResourceExpired(err) {
		t.Errorf("a resourceVersion the views did not give: %v, want 410", err)
	}
}

// A change of one stream is known by its own stream's position: an Account
// event delivered after an Organization event with a higher
// resourceVersion is still sent to a watch that resumes from between them.
func TestPositionsFollowEachStream(t *testing.T) {
	f := newFixture(t, 100, 10)
	f.ix.apply(&v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme", ResourceVersion: "20"},
		Spec: v1alpha1.OrganizationSpec{Members: []v1alpha1.Member{member("alice", v1alpha1.RoleAdmin)}}}, false)
	from := f.ix.at.String() // 20.0
	f.ix.apply(&v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "org-acme", ResourceVersion: "15"}}, false)
	w, err := f.storage(accounts).Watch(as("alice"), &metainternalversion.ListOptions{ResourceVersion: from})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := next(t, w)
	if got := event(ev); got != "ADDED acme.web" || ev.Object.(metav1.Object).GetResourceVersion() != "20.15" {
		t.Errorf("got %s at %s", got, ev.Object.(metav1.Object).GetResourceVersion())
	}
	if p, err := parsePosition("20.15"); err != nil || p.String() != "20.15" {
		t.Errorf("parse: %v %v", p, err)
	}
	for _, bad := range []string{"", "20", "a.b", "1.2.3", "-1.0"} {
		if _, err := parsePosition(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestASlowWatcherIsDroppedWithoutStallingAnother(t *testing.T) {
	f := newFixture(t, 1000, 4)
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin), member("bob", v1alpha1.RoleAdmin))
	slow, err := f.storage(organizations).Watch(as("bob"), &metainternalversion.ListOptions{ResourceVersion: f.ix.at.String()})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := f.storage(organizations).Watch(as("alice"), &metainternalversion.ListOptions{ResourceVersion: f.ix.at.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	received := make(chan int)
	go func() {
		n := 0
		for ev := range fast.ResultChan() {
			if ev.Type == watch.Modified {
				n++
			}
			if n == 50 {
				received <- n
				return
			}
		}
	}()
	for i := range 50 { // nobody reads the slow watcher: its buffer of 4 fills
		f.org("acme", map[string]string{"i": strconv.Itoa(i)}, member("alice", v1alpha1.RoleAdmin), member("bob", v1alpha1.RoleAdmin))
		time.Sleep(time.Millisecond)
	}
	select {
	case <-received:
	case <-time.After(5 * time.Second):
		t.Fatal("the fast watcher did not get its 50 changes")
	}
	f.ix.mu.RLock()
	_, kept := f.ix.watchers[slow.(*watcher)]
	f.ix.mu.RUnlock()
	if kept {
		t.Fatal("the slow watcher was not dropped")
	}
	// The dropped watch ends: its client sees the channel close (after the
	// one event it was blocked on, if it reads again).
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-slow.ResultChan():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the dropped watch did not end")
		}
	}
}

func TestBookmarksAndInitialEvents(t *testing.T) {
	f := newFixture(t, 100, 10)
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin))
	yes := true
	w, err := f.storage(organizations).Watch(as("alice"), &metainternalversion.ListOptions{
		SendInitialEvents: &yes, AllowWatchBookmarks: true, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if got := event(next(t, w)); got != "ADDED acme" {
		t.Fatalf("initial: %s", got)
	}
	ev := next(t, w)
	if ev.Type != watch.Bookmark || ev.Object.(metav1.Object).GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("initial events end: %v %+v", ev.Type, ev.Object)
	}
	f.org("globex", nil, member("bob", v1alpha1.RoleAdmin))
	f.ix.Bookmark()
	ev = next(t, w)
	if ev.Type != watch.Bookmark || ev.Object.(metav1.Object).GetResourceVersion() != f.ix.at.String() {
		t.Fatalf("bookmark: %v at %s, want %s", ev.Type, ev.Object.(metav1.Object).GetResourceVersion(), f.ix.at)
	}
}

func TestTableColumnsMatchCells(t *testing.T) {
	f := newFixture(t, 100, 10)
	f.org("acme", nil, member("alice", v1alpha1.RoleAdmin))
	f.account("acme", "web")
	for _, k := range []*kind{organizations, accounts} {
		l, err := f.storage(k).List(as("alice"), &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		table, err := f.storage(k).ConvertToTable(context.Background(), l, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(table.Rows) != 1 || len(table.Rows[0].Cells) != len(table.ColumnDefinitions) {
			t.Errorf("%s: %d rows, cells %v for %d columns", k.resource, len(table.Rows), table.Rows, len(table.ColumnDefinitions))
		}
		if table.ResourceVersion != f.ix.at.String() {
			t.Errorf("%s: table resourceVersion %q", k.resource, table.ResourceVersion)
		}
	}
}
