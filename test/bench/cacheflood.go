package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// runCacheFlood measures what issue 19's cache flood costs the manager
// running in this process: its heap in use before and after n Secrets of
// 1 MiB labelled as orgplane's are written. They are written as cluster
// admin, whom the policy orgplane-managed-labels lets through: that is what
// any workspace editor could do before the policy (the manager's cache
// selects by the label alone). test/cluster measures the tenant's attempt
// with the policy on (every create refused).
func runCacheFlood(n int) error {
	ctx := context.Background()
	s, err := startStack(ctx)
	if err != nil {
		return err
	}
	defer s.stop()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cache-flood"}}
	if err := s.admin.Create(ctx, ns); err != nil {
		return err
	}
	before := heapInUse()
	blob := bytes.Repeat([]byte{'x'}, 1<<20-512)
	for i := range n {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("flood-%d", i), Namespace: ns.Name,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}}, Data: map[string][]byte{"blob": blob}}
		if err := s.admin.Create(ctx, secret); err != nil {
			return err
		}
	}
	time.Sleep(10 * time.Second) // the watch delivers them to the cache
	after := heapInUse()
	fmt.Printf("cache flood: %d labelled 1 MiB Secrets; the manager's process heap in use "+
		"%.0f MiB before, %.0f MiB after\n", n, float64(before)/(1<<20), float64(after)/(1<<20))
	return nil
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
