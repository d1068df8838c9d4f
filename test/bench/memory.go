package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Memory is the process's memory after convergence. The manager runs in
// this process, with the bench's own clients; the heap is measured after a
// GC, so it is the cache and the clients' live data.
type Memory struct {
	RSSBytes          int64   `json:"rssBytes"`
	HeapBytes         uint64  `json:"heapBytes"`
	CachedObjects     int     `json:"cachedObjects"`
	HeapPerObjectByte float64 `json:"heapPerCachedObjectBytes"`
	// Kinds are, per kind the manager caches, how many it holds and the
	// heap one more copy of each takes, as the cache's transforms left them
	// (the cache's indexes come on top).
	Kinds []KindMemory `json:"kinds"`
}

// KindMemory is what one kind costs the manager's cache.
type KindMemory struct {
	Kind           string  `json:"kind"`
	Objects        int     `json:"objects"`
	BytesPerObject float64 `json:"bytesPerObject"`
}

func (s *stack) memory(ctx context.Context) (Memory, error) {
	runtime.GC()
	if err := writeHeapProfile(); err != nil {
		return Memory{}, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := Memory{RSSBytes: rssBytes(), HeapBytes: ms.HeapAlloc}
	for _, k := range cachedKinds() {
		km, err := s.kindMemory(ctx, k.name, k.list, k.opts...)
		if err != nil {
			return m, err
		}
		m.Kinds = append(m.Kinds, km)
		m.CachedObjects += km.Objects
	}
	m.HeapPerObjectByte = float64(m.HeapBytes) / float64(m.CachedObjects)
	return m, nil
}

// cachedKinds are what the manager's cache holds: every orgplane object,
// and the Namespaces, Secrets and RBAC objects orgplane labels.
func cachedKinds() []struct {
	name string
	list client.ObjectList
	opts []client.ListOption
} {
	managed := client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}
	return []struct {
		name string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"organizations", &v1alpha1.OrganizationList{}, nil},
		{"accounts", &v1alpha1.AccountList{}, nil},
		{"users", &v1alpha1.UserList{}, nil},
		{"licenses", &v1alpha1.LicenseList{}, nil},
		{"namespaces", &corev1.NamespaceList{}, []client.ListOption{managed}},
		{"secrets", &corev1.SecretList{}, []client.ListOption{managed}},
		{"roles", &rbacv1.RoleList{}, []client.ListOption{managed}},
		{"rolebindings", &rbacv1.RoleBindingList{}, []client.ListOption{managed}},
		{"clusterroles", &rbacv1.ClusterRoleList{}, []client.ListOption{managed}},
		{"clusterrolebindings", &rbacv1.ClusterRoleBindingList{}, []client.ListOption{managed}},
	}
}

// kindMemory copies every cached object of one kind out of the manager's
// cache and measures the heap the copies hold.
func (s *stack) kindMemory(ctx context.Context, kind string, list client.ObjectList,
	opts ...client.ListOption) (KindMemory, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := s.cache.List(ctx, list, opts...); err != nil {
		return KindMemory{}, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := meta.LenList(list)
	runtime.KeepAlive(list)
	km := KindMemory{Kind: kind, Objects: n}
	if n > 0 {
		km.BytesPerObject = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	}
	return km, nil
}

// heapProfile, when set (-heapprofile), is where the first memory
// measurement writes this process's heap profile (go tool pprof
// -sample_index=inuse_space): what the cache holds, by allocation site.
var heapProfile string

func writeHeapProfile() error {
	if heapProfile == "" {
		return nil
	}
	f, err := os.Create(heapProfile)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	heapProfile = ""
	return pprof.WriteHeapProfile(f)
}
