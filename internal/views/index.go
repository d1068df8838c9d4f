// Package views serves my.orgplane.io/v1: each person's own organizations
// and accounts, read-only, with k8s.io/apiserver's generic API server
// (discovery, OpenAPI, tables, selectors, paging, watch), filtered by
// membership from an index the manager's informers keep.
package views

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// position is a point in the two streams the views follow, each ordered by
// kube-apiserver: the resourceVersion of the last Organization and of the
// last Account applied. Its string form, "<organizations>.<accounts>", is
// the views' resourceVersion: every replica follows the same two streams,
// so a position one replica gave means the same on another.
type position struct{ orgs, accounts uint64 }

func (p position) String() string { return fmt.Sprintf("%d.%d", p.orgs, p.accounts) }

// covers says whether p includes c: whether a list at p already showed it.
func (p position) covers(c *change) bool {
	if c.stream == orgStream {
		return c.rv <= p.orgs
	}
	return c.rv <= p.accounts
}

// before says whether p is older, on either stream, than q.
func (p position) before(q position) bool { return p.orgs < q.orgs || p.accounts < q.accounts }

// max is the later of p and q on each stream.
func (p position) max(q position) position {
	return position{orgs: max(p.orgs, q.orgs), accounts: max(p.accounts, q.accounts)}
}

// parsePosition reads a resourceVersion the views gave.
func parsePosition(s string) (position, error) {
	o, a, ok := strings.Cut(s, ".")
	orgs, err1 := strconv.ParseUint(o, 10, 64)
	accounts, err2 := strconv.ParseUint(a, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return position{}, fmt.Errorf("resourceVersion %q is not one this API gave: list again and use the list's metadata.resourceVersion", s)
	}
	return position{orgs: orgs, accounts: accounts}, nil
}

type stream int

const (
	orgStream stream = iota
	accountStream
)

// snapshot is one organization and its accounts as of one change. It is
// never changed once made: watchers read it without a lock.
type snapshot struct {
	name string
	// org is nil while the organization is not (or no longer) known and
	// only accounts of its namespace are.
	org      *v1alpha1.Organization
	accounts []*v1alpha1.Account // sorted by name
	at       position
}

// keys are the member keys (index.SubjectKey) of the organization's and
// its accounts' members.
func (s *snapshot) keys() []string {
	var keys []string
	if s.org != nil {
		keys = index.MemberSubjects(s.org)
	}
	for _, a := range s.accounts {
		for _, m := range a.Spec.Members {
			keys = append(keys, index.SubjectKey(m))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// change is one Organization or Account event: the snapshot of its
// organization before and after. A change with no snapshots is a bookmark.
type change struct {
	stream        stream
	rv            uint64
	at            position
	before, after *snapshot
}

// Index holds, for every organization, its latest snapshot, indexed by
// member key, and a bounded history of changes that watches resume from.
// Informer handlers feed it (Handlers).
type Index struct {
	mu        sync.RWMutex
	orgs      map[string]*snapshot
	byKey     map[string]map[string]struct{} // member key → organization names
	at        position
	floor     position // a watch from before it answers 410
	history   []*change
	maxHist   int
	watchers  map[*watcher]struct{}
	buffer    int
	syncedOrg func() bool
	syncedAcc func() bool
}

// NewIndex keeps history changes for resuming watches and gives each
// watcher a buffer of buffer changes.
func NewIndex(history, buffer int) *Index {
	return &Index{orgs: map[string]*snapshot{}, byKey: map[string]map[string]struct{}{},
		maxHist: history, buffer: buffer, watchers: map[*watcher]struct{}{},
		syncedOrg: func() bool { return false }, syncedAcc: func() bool { return false }}
}

// Informer is what the index needs of an informer.
type Informer interface {
	AddEventHandler(handler cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error)
}

// Follow feeds the index from the Organization and Account informers.
func (ix *Index) Follow(orgs, accounts Informer) error {
	r1, err := orgs.AddEventHandler(ix.handler())
	if err != nil {
		return err
	}
	r2, err := accounts.AddEventHandler(ix.handler())
	if err != nil {
		return err
	}
	ix.mu.Lock()
	ix.syncedOrg, ix.syncedAcc = r1.HasSynced, r2.HasSynced
	ix.mu.Unlock()
	return nil
}

// Synced says whether both informers have delivered their initial lists.
func (ix *Index) Synced() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.syncedOrg() && ix.syncedAcc()
}

func (ix *Index) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { ix.apply(obj, false) },
		UpdateFunc: func(old, obj any) {
			if old.(interface{ GetResourceVersion() string }).GetResourceVersion() !=
				obj.(interface{ GetResourceVersion() string }).GetResourceVersion() {
				ix.apply(obj, false)
			}
		},
		DeleteFunc: func(obj any) { ix.apply(obj, true) },
	}
}

// apply records one Organization or Account event.
func (ix *Index) apply(obj any, deleted bool) {
	tombstone := false
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, tombstone = t.Obj, true
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var c *change
	switch o := obj.(type) {
	case *v1alpha1.Organization:
		c = ix.changeOrg(o, deleted)
	case *v1alpha1.Account:
		c = ix.changeAccount(o, deleted)
	}
	if c == nil {
		return
	}
	synced := ix.syncedOrg() && ix.syncedAcc()
	if tombstone || !synced {
		// Before the initial lists are in, or after an informer relisted
		// (a deletion it did not see happen), no watch resumes from before.
		ix.floor = ix.at
	}
	if !synced {
		return
	}
	ix.history = append(ix.history, c)
	if len(ix.history) > ix.maxHist {
		ix.floor = ix.floor.max(ix.history[0].at)
		ix.history = slices.Delete(ix.history, 0, 1)
	}
	ix.publish(c)
}

func (ix *Index) changeOrg(o *v1alpha1.Organization, deleted bool) *change {
	before := ix.orgs[o.Name]
	after := &snapshot{name: o.Name, org: o}
	if deleted {
		after.org = nil
	}
	if before != nil {
		after.accounts = before.accounts
	}
	return ix.record(orgStream, o.ResourceVersion, before, after)
}

func (ix *Index) changeAccount(a *v1alpha1.Account, deleted bool) *change {
	org, ok := strings.CutPrefix(a.Namespace, v1alpha1.OrganizationNamespacePrefix)
	if !ok {
		return nil
	}
	before := ix.orgs[org]
	after := &snapshot{name: org}
	if before != nil {
		after.org = before.org
		after.accounts = slices.DeleteFunc(slices.Clone(before.accounts), func(x *v1alpha1.Account) bool { return x.Name == a.Name })
	}
	if !deleted {
		i, _ := slices.BinarySearchFunc(after.accounts, a.Name, func(x *v1alpha1.Account, name string) int { return strings.Compare(x.Name, name) })
		after.accounts = slices.Insert(after.accounts, i, a)
	}
	return ix.record(accountStream, a.ResourceVersion, before, after)
}

// record moves the index to after, at resourceVersion rv of stream s.
func (ix *Index) record(s stream, resourceVersion string, before, after *snapshot) *change {
	rv, _ := strconv.ParseUint(resourceVersion, 10, 64)
	if s == orgStream {
		ix.at.orgs = max(ix.at.orgs, rv)
	} else {
		ix.at.accounts = max(ix.at.accounts, rv)
	}
	after.at = ix.at
	if before != nil {
		ix.unindex(before)
	}
	if after.org == nil && len(after.accounts) == 0 {
		delete(ix.orgs, after.name)
	} else {
		ix.orgs[after.name] = after
		for _, k := range after.keys() {
			if ix.byKey[k] == nil {
				ix.byKey[k] = map[string]struct{}{}
			}
			ix.byKey[k][after.name] = struct{}{}
		}
	}
	return &change{stream: s, rv: rv, at: ix.at, before: before, after: after}
}

func (ix *Index) unindex(s *snapshot) {
	for _, k := range s.keys() {
		delete(ix.byKey[k], s.name)
		if len(ix.byKey[k]) == 0 {
			delete(ix.byKey, k)
		}
	}
}

// publish hands c to every watcher; one whose buffer is full is dropped.
func (ix *Index) publish(c *change) {
	for w := range ix.watchers {
		select {
		case w.in <- c:
		default:
			ix.drop(w)
		}
	}
}

func (ix *Index) drop(w *watcher) {
	if _, ok := ix.watchers[w]; ok {
		delete(ix.watchers, w)
		close(w.dropped)
	}
}

// Bookmark hands every watcher a bookmark at the current position.
func (ix *Index) Bookmark() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.publish(&change{at: ix.at})
}

// visible is the snapshots the caller may see something of (every one for
// a platform admin), sorted by organization name, and the index's position.
func (ix *Index) visible(v viewer) ([]*snapshot, position) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.visibleLocked(v), ix.at
}

func (ix *Index) visibleLocked(v viewer) []*snapshot {
	var out []*snapshot
	if v.platform {
		out = make([]*snapshot, 0, len(ix.orgs))
		for _, s := range ix.orgs {
			out = append(out, s)
		}
	} else {
		seen := map[string]struct{}{}
		for _, k := range v.keys {
			for name := range ix.byKey[k] {
				if _, ok := seen[name]; !ok {
					seen[name] = struct{}{}
					out = append(out, ix.orgs[name])
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b *snapshot) int { return strings.Compare(a.name, b.name) })
	return out
}

// snapshotOf is organization name's snapshot, or nil.
func (ix *Index) snapshotOf(name string) *snapshot {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.orgs[name]
}

// Bookmarks hands every watcher a bookmark every interval until ctx ends,
// so that a client resuming a quiet watch does not fall behind the history.
func (ix *Index) Bookmarks(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ix.Bookmark()
		}
	}
}
