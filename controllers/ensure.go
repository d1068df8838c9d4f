package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// managedLabels are the labels on every object orgplane creates. The
// manager's cache only holds objects that carry them.
func managedLabels(org string) map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelOrganization: org}
}

// ensure creates obj or patches it to what mutate makes of it, writing only
// when something changed. The cache holds only objects with orgplane's
// labels, so an object whose labels were removed by hand looks absent: its
// create then conflicts, and ensure patches the live object instead.
func ensure(ctx context.Context, c client.Client, live client.Reader, obj client.Object, mutate controllerutil.MutateFn) (controllerutil.OperationResult, error) {
	op, err := controllerutil.CreateOrPatch(ctx, c, obj, mutate)
	if !apierrors.IsAlreadyExists(err) {
		return op, wrapEnsure(obj, err)
	}
	if err := live.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return controllerutil.OperationResultNone, wrapEnsure(obj, err)
	}
	before := obj.DeepCopyObject().(client.Object)
	if err := mutate(); err != nil {
		return controllerutil.OperationResultNone, wrapEnsure(obj, err)
	}
	return controllerutil.OperationResultUpdated, wrapEnsure(obj, c.Patch(ctx, obj, client.MergeFrom(before)))
}

func wrapEnsure(obj client.Object, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("failed to ensure %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
}

// mergeLabels sets want's labels on obj, keeping any others.
func mergeLabels(obj client.Object, want map[string]string) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range want {
		labels[k] = v
	}
	obj.SetLabels(labels)
}

// getOrCreateNamespace returns the namespace named like want from the cache,
// or creates want. The cache holds only orgplane's namespaces, so when the
// create finds one already there, it is read from the API server for the
// caller to check who owns it. created says whether want was created.
func getOrCreateNamespace(ctx context.Context, c client.Client, live client.Reader, want *corev1.Namespace) (ns *corev1.Namespace, created bool, err error) {
	ns = &corev1.Namespace{}
	err = c.Get(ctx, client.ObjectKeyFromObject(want), ns)
	if !apierrors.IsNotFound(err) {
		return ns, false, wrapNamespace(want.Name, err)
	}
	err = c.Create(ctx, want)
	if !apierrors.IsAlreadyExists(err) {
		return want, err == nil, wrapNamespace(want.Name, err)
	}
	return ns, false, wrapNamespace(want.Name, live.Get(ctx, client.ObjectKeyFromObject(want), ns))
}

func wrapNamespace(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("failed to get or create namespace %s: %w", name, err)
}
