package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// reconcileDelete removes the account's API-key Secret and workspace
// namespace, waits for the namespace to be gone, then lets the Account go.
func (r *AccountReconciler) reconcileDelete(ctx context.Context, acct *v1alpha1.Account) error {
	before := acct.DeepCopy()
	if err := r.deleteChildren(ctx, acct); err != nil {
		setKstatusConditions(&acct.Status.Conditions, acct.Generation, err, "")
		if perr := patchStatus(ctx, r.Client, before, acct); perr != nil {
			return perr
		}
		return resultError(err)
	}
	return removeFinalizer(ctx, r.Client, acct)
}

func (r *AccountReconciler) deleteChildren(ctx context.Context, acct *v1alpha1.Account) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: acct.APIKeySecretName(), Namespace: acct.Namespace}}
	if err := client.IgnoreNotFound(r.Delete(ctx, secret)); err != nil {
		return fmt.Errorf("failed to delete API-key secret: %w", err)
	}
	if acct.Status.Namespace == "" {
		return nil
	}
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: acct.Status.Namespace}, ns)
	if apierrors.IsNotFound(err) || (err == nil && ns.Labels[LabelAccountUID] != string(acct.UID)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to get namespace: %w", err)
	}
	if ns.DeletionTimestamp.IsZero() {
		if err := client.IgnoreNotFound(r.Delete(ctx, ns)); err != nil {
			return fmt.Errorf("failed to delete namespace %s: %w", ns.Name, err)
		}
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, "NamespaceDeleted", "Delete", "Deleted workspace namespace %s", ns.Name)
	}
	return waiting("Deleting: waiting for namespace %s to be deleted", ns.Name)
}
