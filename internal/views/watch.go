package views

import (
	"net/http"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// watcher streams one caller's view of the index's changes. The index
// hands it changes through a bounded buffer and drops it when the buffer
// is full, so a watcher that is not read never slows the index or the
// other watchers.
type watcher struct {
	ix   *Index
	kind *kind
	v    viewer
	pred predicate
	// from is where the watch starts: changes it covers are not sent.
	from      position
	bookmarks bool
	// initial are sent as ADDED first; initialEnd ends them with a
	// bookmark (sendInitialEvents).
	wantInitial bool
	initial     []*snapshot
	initialEnd  bool

	in       chan *change
	out      chan watch.Event
	dropped  chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

var _ watch.Interface = &watcher{}

// ResultChan is the watch's events.
func (w *watcher) ResultChan() <-chan watch.Event { return w.out }

// Stop ends the watch (the client went away).
func (w *watcher) Stop() {
	w.stopOnce.Do(func() {
		close(w.done)
		w.ix.mu.Lock()
		delete(w.ix.watchers, w)
		w.ix.mu.Unlock()
	})
}

// subscribe registers w and starts it. A watch from a position given
// (from) replays the history after it, or answers 410 when the history no
// longer reaches back to it; one from now (fromNow) starts with the
// caller's current objects.
func (ix *Index) subscribe(w *watcher, fromNow bool) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var replay []*change
	if fromNow || w.from == (position{}) {
		w.from = ix.at
		if w.wantInitial {
			w.initial = ix.visibleLocked(w.v)
		}
	} else {
		if w.from.before(ix.floor) {
			return apierrors.NewResourceExpired("resourceVersion " + w.from.String() + " is too old: list again")
		}
		for _, c := range ix.history {
			if !w.from.covers(c) {
				replay = append(replay, c)
			}
		}
	}
	w.in = make(chan *change, ix.buffer+len(replay))
	for _, c := range replay {
		w.in <- c
	}
	w.out, w.dropped, w.done = make(chan watch.Event), make(chan struct{}), make(chan struct{})
	ix.watchers[w] = struct{}{}
	go w.run()
	return nil
}

func (w *watcher) run() {
	defer close(w.out)
	at := w.from
	for _, s := range w.initial {
		for _, it := range w.kind.items(w.v, s) {
			if w.pred.matches(it) && !w.send(watch.Added, it.obj) {
				return
			}
		}
	}
	if w.initialEnd && !w.bookmark(at, true) {
		return
	}
	for {
		select {
		case <-w.done:
			return
		case <-w.dropped:
			w.tooSlow()
			return
		case c := <-w.in:
			at = at.max(c.at)
			switch {
			case c.before == nil && c.after == nil:
				if w.bookmarks && !w.bookmark(at, false) {
					return
				}
			case !w.from.covers(c):
				if !w.changed(c, at) {
					return
				}
			}
		}
	}
}

// changed sends what c changed of the caller's view, at position at.
func (w *watcher) changed(c *change, at position) bool {
	var before []item
	if c.before != nil {
		before = w.kind.items(w.v, c.before)
	}
	after := w.kind.items(w.v, c.after)
	was := map[string]item{}
	for _, it := range before {
		if w.pred.matches(it) {
			was[it.meta.Name] = it
		}
	}
	for _, it := range after {
		if !w.pred.matches(it) {
			continue
		}
		old, ok := was[it.meta.Name]
		delete(was, it.meta.Name)
		it.meta.ResourceVersion = at.String()
		switch {
		case !ok:
			if !w.send(watch.Added, it.obj) {
				return false
			}
		case !sameView(old, it):
			if !w.send(watch.Modified, it.obj) {
				return false
			}
		}
	}
	for _, it := range before {
		if _, gone := was[it.meta.Name]; gone {
			it.meta.ResourceVersion = at.String()
			if !w.send(watch.Deleted, it.obj) {
				return false
			}
		}
	}
	return true
}

// sameView says whether two views of one object differ only in their
// resourceVersion: a change of the organization nobody sees in this view.
func sameView(a, b item) bool {
	a.meta.ResourceVersion = b.meta.ResourceVersion
	return equality.Semantic.DeepEqual(a.obj, b.obj)
}

func (w *watcher) bookmark(at position, initialEnd bool) bool {
	obj := w.kind.newObj()
	m := obj.(metav1.Object)
	m.SetResourceVersion(at.String())
	if initialEnd {
		m.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	return w.send(watch.Bookmark, obj)
}

func (w *watcher) send(t watch.EventType, obj runtime.Object) bool {
	select {
	case w.out <- watch.Event{Type: t, Object: obj}:
		return true
	case <-w.done:
		return false
	case <-w.dropped:
		w.tooSlow()
		return false
	}
}

// tooSlow tells a dropped watcher's client why, if it is still reading.
func (w *watcher) tooSlow() {
	status := &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone, Reason: metav1.StatusReasonExpired,
		Message: "this watch fell too far behind and was closed: list again and watch from the list's resourceVersion"}
	select {
	case w.out <- watch.Event{Type: watch.Error, Object: status}:
	default:
	}
}
