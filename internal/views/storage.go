package views

import (
	"context"
	"encoding/base64"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/orgplane/orgplane/internal/index"
)

// PlatformAdmins says whether a user is a platform admin (tenancy.PlatformAdmins).
type PlatformAdmins interface {
	Is(ctx context.Context, u user.Info) (bool, error)
}

// storage serves one kind read-only from the index.
type storage struct {
	kind   *kind
	ix     *Index
	admins PlatformAdmins
}

var (
	_ rest.Storage              = &storage{}
	_ rest.Scoper               = &storage{}
	_ rest.Getter               = &storage{}
	_ rest.Lister               = &storage{}
	_ rest.Watcher              = &storage{}
	_ rest.ShortNamesProvider   = &storage{}
	_ rest.SingularNameProvider = &storage{}
)

func (s *storage) New() runtime.Object     { return s.kind.newObj() }
func (s *storage) NewList() runtime.Object { return s.kind.list(nil, metav1.ListMeta{}) }
func (s *storage) Destroy()                {}
func (s *storage) NamespaceScoped() bool   { return false }
func (s *storage) ShortNames() []string    { return s.kind.shortNames }
func (s *storage) GetSingularName() string { return s.kind.singular }

// viewer is the caller of ctx, once the index is ready to answer.
func (s *storage) viewer(ctx context.Context) (viewer, error) {
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok || u.GetName() == user.Anonymous {
		return viewer{}, apierrors.NewUnauthorized("sign in: anonymous callers have no organizations")
	}
	if !s.ix.Synced() {
		return viewer{}, apierrors.NewServiceUnavailable("orgplane is still reading the cluster's organizations: try again in a few seconds")
	}
	platform, err := s.admins.Is(ctx, u)
	if err != nil {
		return viewer{}, apierrors.NewInternalError(fmt.Errorf("could not review the caller's access"))
	}
	return viewer{keys: index.CallerKeys(u.GetName(), u.GetGroups()), platform: platform}, nil
}

// Get answers 404 for a name the caller may not see, exactly as for one
// that does not exist.
func (s *storage) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	v, err := s.viewer(ctx)
	if err != nil {
		return nil, err
	}
	if snap := s.ix.snapshotOf(s.kind.org(name)); snap != nil {
		for _, it := range s.kind.items(v, snap) {
			if it.meta.Name == name {
				return it.obj, nil
			}
		}
	}
	return nil, apierrors.NewNotFound(s.kind.groupResource(), name)
}

// List is the caller's views, by name, narrowed by the selectors, a page
// at a time (limit, continue).
func (s *storage) List(ctx context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	v, err := s.viewer(ctx)
	if err != nil {
		return nil, err
	}
	pred, after, err := s.options(opts)
	if err != nil {
		return nil, err
	}
	snaps, at := s.ix.visible(v)
	var items []item
	lm := metav1.ListMeta{ResourceVersion: at.String()}
	for _, snap := range snaps {
		for _, it := range s.kind.items(v, snap) {
			if it.meta.Name <= after || !pred.matches(it) {
				continue
			}
			if opts != nil && opts.Limit > 0 && int64(len(items)) == opts.Limit {
				lm.Continue = continueToken(items[len(items)-1].meta.Name)
				return s.kind.list(items, lm), nil
			}
			items = append(items, it)
		}
	}
	return s.kind.list(items, lm), nil
}

// options reads a list's selectors and continue token.
func (s *storage) options(opts *metainternalversion.ListOptions) (predicate, string, error) {
	var p predicate
	if opts == nil {
		return p, "", nil
	}
	p.labels, p.fields = opts.LabelSelector, opts.FieldSelector
	if opts.Continue == "" {
		return p, "", nil
	}
	after, err := base64.RawURLEncoding.DecodeString(opts.Continue)
	if err != nil || len(after) == 0 {
		return p, "", apierrors.NewBadRequest("the continue token is not one this API gave: list again from the start")
	}
	return p, string(after), nil
}

// continueToken resumes a list after name. Names are listed in order, so
// a page never repeats or skips an object that exists throughout.
func continueToken(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

// Watch streams the caller's views: ADDED when one becomes visible
// (including when the caller is added to an organization), MODIFIED,
// DELETED when it goes or the caller is removed, and bookmarks.
func (s *storage) Watch(ctx context.Context, opts *metainternalversion.ListOptions) (watch.Interface, error) {
	v, err := s.viewer(ctx)
	if err != nil {
		return nil, err
	}
	pred, _, err := s.options(opts)
	if err != nil {
		return nil, err
	}
	w := &watcher{ix: s.ix, kind: s.kind, v: v, pred: pred, bookmarks: opts.AllowWatchBookmarks}
	fromNow := opts.ResourceVersion == "" || opts.ResourceVersion == "0"
	switch {
	case opts.SendInitialEvents != nil && *opts.SendInitialEvents:
		fromNow, w.wantInitial, w.initialEnd = true, true, true
	case fromNow:
		w.wantInitial = opts.SendInitialEvents == nil
	default:
		if w.from, err = parsePosition(opts.ResourceVersion); err != nil {
			return nil, apierrors.NewResourceExpired(err.Error())
		}
	}
	if err := s.ix.subscribe(w, fromNow); err != nil {
		return nil, err
	}
	return w, nil
}

// ConvertToTable makes kubectl's table of one view or a list of them.
func (s *storage) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{ColumnDefinitions: s.kind.columns}
	add := func(o runtime.Object) {
		table.Rows = append(table.Rows, metav1.TableRow{Cells: s.kind.cells(o), Object: runtime.RawExtension{Object: o}})
	}
	switch l := obj.(type) {
	case interface{ GetListMeta() metav1.ListInterface }:
		lm := l.GetListMeta()
		table.ResourceVersion, table.Continue = lm.GetResourceVersion(), lm.GetContinue()
		items, err := apimeta.ExtractList(obj)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			add(o)
		}
	default:
		add(obj)
	}
	return table, nil
}
