package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
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
}

func (s *stack) memory(ctx context.Context) (Memory, error) {
	n, err := s.cachedObjects(ctx)
	if err != nil {
		return Memory{}, err
	}
	runtime.GC()
	if err := writeHeapProfile(); err != nil {
		return Memory{}, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Memory{RSSBytes: rssBytes(), HeapBytes: ms.HeapAlloc, CachedObjects: n,
		HeapPerObjectByte: float64(ms.HeapAlloc) / float64(n)}, nil
}

// cachedObjects counts what the manager's cache holds: every orgplane
// object, and the Namespaces, Secrets and RBAC objects orgplane labels.
func (s *stack) cachedObjects(ctx context.Context) (int, error) {
	managed := client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}
	lists := []struct {
		list client.ObjectList
		opts []client.ListOption
	}{
		{&v1alpha1.OrganizationList{}, nil},
		{&v1alpha1.AccountList{}, nil},
		{&v1alpha1.UserList{}, nil},
		{&v1alpha1.LicenseList{}, nil},
		{&corev1.NamespaceList{}, []client.ListOption{managed}},
		{&corev1.SecretList{}, []client.ListOption{managed}},
		{&rbacv1.RoleList{}, []client.ListOption{managed}},
		{&rbacv1.RoleBindingList{}, []client.ListOption{managed}},
		{&rbacv1.ClusterRoleList{}, []client.ListOption{managed}},
		{&rbacv1.ClusterRoleBindingList{}, []client.ListOption{managed}},
	}
	total := 0
	for _, l := range lists {
		if err := s.admin.List(ctx, l.list, l.opts...); err != nil {
			return 0, err
		}
		total += len(mustItems(l.list))
	}
	return total, nil
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
