package controllers

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// addFinalizer adds orgplane's finalizer, patching only when it is missing.
func addFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	before := obj.DeepCopyObject().(client.Object)
	if !controllerutil.AddFinalizer(obj, v1alpha1.Finalizer) {
		return nil
	}
	if err := c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("failed to add finalizer: %w", err)
	}
	return nil
}

// removeFinalizer lets the API server finish deleting obj.
func removeFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	before := obj.DeepCopyObject().(client.Object)
	if !controllerutil.RemoveFinalizer(obj, v1alpha1.Finalizer) {
		return nil
	}
	if err := c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("failed to remove finalizer: %w", err)
	}
	return nil
}

// patchStatus writes the status of obj when it differs from before's.
func patchStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	if equality.Semantic.DeepEqual(statusOf(before), statusOf(obj)) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("failed to patch status: %w", client.IgnoreNotFound(err))
	}
	return nil
}

func statusOf(obj client.Object) any {
	switch o := obj.(type) {
	case *v1alpha1.Organization:
		return o.Status
	case *v1alpha1.Account:
		return o.Status
	case *v1alpha1.User:
		return o.Status
	case *v1alpha1.License:
		return o.Status
	case *v1alpha1.RevocationList:
		return o.Status
	case *v1alpha1.Invitation:
		return o.Status
	case *v1alpha1.JoinRequest:
		return o.Status
	case *v1alpha1.Domain:
		return o.Status
	}
	panic(fmt.Sprintf("no status for %T", obj))
}

// recordTransition emits an event when the Ready condition changes, and
// not when a new object first becomes Ready: that is the normal course of
// provisioning, which the condition itself shows (an event per object
// created would be a quarter of the writes a converging cluster makes;
// docs/benchmarks.md, the write budget).
func recordTransition(rec recorder.EventRecorder, obj client.Object, before, after []metav1.Condition) {
	old := meta.FindStatusCondition(before, v1alpha1.ConditionReady)
	cur := meta.FindStatusCondition(after, v1alpha1.ConditionReady)
	switch {
	case cur == nil, old != nil && old.Status == cur.Status && old.Reason == cur.Reason:
		return
	case cur.Status == metav1.ConditionTrue && (old == nil || old.Reason == v1alpha1.ReasonProgressing):
		return
	case cur.Reason == v1alpha1.ReasonProgressing:
		return // on its way: Ready or a failure follows, and is recorded
	}
	kind := corev1.EventTypeNormal
	if cur.Status != metav1.ConditionTrue && cur.Reason != v1alpha1.ReasonProgressing {
		kind = corev1.EventTypeWarning
	}
	rec.Eventf(obj, nil, kind, cur.Reason, "Reconcile", "%s", cur.Message)
}

func looksLikeEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s, ".")
}
