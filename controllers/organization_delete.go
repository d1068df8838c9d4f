package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// reconcileDelete removes, in order, the organization's accounts (each
// removes its workspace), its cluster RBAC, then its namespace, and only then
// lets the Organization go.
func (r *OrganizationReconciler) reconcileDelete(ctx context.Context, org *v1alpha1.Organization) error {
	before := org.DeepCopy()
	err := r.deleteChildren(ctx, org)
	if err != nil {
		setKstatusConditions(&org.Status.Conditions, org.Generation, err, "")
		if perr := patchStatus(ctx, r.Client, before, org); perr != nil {
			return perr
		}
		return resultError(err)
	}
	ctrl.LoggerFrom(ctx).Info("Deleted organization's accounts, RBAC and namespace")
	forgetUsage(org.Name)
	return removeFinalizer(ctx, r.Client, org)
}

func (r *OrganizationReconciler) deleteChildren(ctx context.Context, org *v1alpha1.Organization) error {
	if err := r.deleteAccounts(ctx, org); err != nil {
		return err
	}
	if err := r.deleteClusterRBAC(ctx, org); err != nil {
		return err
	}
	if err := r.unassignLicenses(ctx, org); err != nil {
		return err
	}
	if err := r.claims().Release(ctx, org); err != nil {
		return err
	}
	return r.deleteNamespace(ctx, org)
}

func (r *OrganizationReconciler) deleteAccounts(ctx context.Context, org *v1alpha1.Organization) error {
	accounts := &v1alpha1.AccountList{}
	if err := r.List(ctx, accounts, client.InNamespace(org.NamespaceName())); err != nil {
		return fmt.Errorf("failed to list accounts: %w", err)
	}
	for i := range accounts.Items {
		if err := client.IgnoreNotFound(r.Delete(ctx, &accounts.Items[i])); err != nil {
			return fmt.Errorf("failed to delete account %s: %w", accounts.Items[i].Name, err)
		}
	}
	if n := len(accounts.Items); n > 0 {
		return waiting("Deleting: waiting for %d accounts to be deleted", n)
	}
	return nil
}

func (r *OrganizationReconciler) deleteClusterRBAC(ctx context.Context, org *v1alpha1.Organization) error {
	for _, role := range []v1alpha1.Role{v1alpha1.RoleAdmin, v1alpha1.RoleMember} {
		if err := r.deleteOrgClusterRBAC(ctx, org, role); err != nil {
			return err
		}
	}
	return nil
}

// deleteOrgClusterRBAC deletes the ClusterRoleBinding and ClusterRole that
// role's members of org have (the members' ones only earlier versions
// made), those the cache holds: nothing is sent for what is already gone.
func (r *OrganizationReconciler) deleteOrgClusterRBAC(ctx context.Context, org *v1alpha1.Organization, role v1alpha1.Role) error {
	meta := metav1.ObjectMeta{Name: orgClusterRoleName(org.Name, role)}
	for _, obj := range []client.Object{&rbacv1.ClusterRoleBinding{ObjectMeta: meta}, &rbacv1.ClusterRole{ObjectMeta: meta}} {
		if err := r.Get(ctx, client.ObjectKeyFromObject(obj), obj); apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := client.IgnoreNotFound(r.Delete(ctx, obj)); err != nil {
			return fmt.Errorf("failed to delete %T %s: %w", obj, meta.Name, err)
		}
	}
	return nil
}

// deleteNamespace deletes the organization's namespace if orgplane created
// it for this organization, and waits until it is gone.
func (r *OrganizationReconciler) deleteNamespace(ctx context.Context, org *v1alpha1.Organization) error {
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: org.NamespaceName()}, ns)
	if apierrors.IsNotFound(err) || (err == nil && !metav1.IsControlledBy(ns, org)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to get namespace: %w", err)
	}
	if ns.DeletionTimestamp.IsZero() {
		if err := client.IgnoreNotFound(r.Delete(ctx, ns)); err != nil {
			return fmt.Errorf("failed to delete namespace %s: %w", ns.Name, err)
		}
	}
	return waiting("Deleting: waiting for namespace %s to be deleted", ns.Name)
}

// unassignLicenses frees the organization's licenses for another use.
func (r *OrganizationReconciler) unassignLicenses(ctx context.Context, org *v1alpha1.Organization) error {
	licenses := &v1alpha1.LicenseList{}
	if err := r.List(ctx, licenses, client.MatchingFields{index.LicenseOrganization: org.Name}); err != nil {
		return fmt.Errorf("failed to list licenses: %w", err)
	}
	for i := range licenses.Items {
		l := &licenses.Items[i]
		patch := client.MergeFrom(l.DeepCopy())
		l.Spec.Organization, l.Spec.OrganizationUID = "", ""
		if err := client.IgnoreNotFound(r.Patch(ctx, l, patch)); err != nil {
			return fmt.Errorf("failed to unassign license %s: %w", l.Name, err)
		}
	}
	return nil
}
