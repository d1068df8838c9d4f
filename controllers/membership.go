package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// addMember makes m a member of organization org or, when account is set,
// of that account: the one way every way of joining (an accepted
// invitation, an approved join request, a domain's auto-join) becomes a
// membership. Admission counts it against the seats like a direct add; a
// member already there is left as is. The write is conditional on the
// version read.
func addMember(ctx context.Context, c client.Client, org, account string, m v1alpha1.Member) error {
	var obj client.Object
	var members *[]v1alpha1.Member
	if account == "" {
		o := &v1alpha1.Organization{}
		obj, members = o, &o.Spec.Members
		if err := c.Get(ctx, types.NamespacedName{Name: org}, o); err != nil {
			return fmt.Errorf("failed to read organization %s: %w", org, err)
		}
	} else {
		a := &v1alpha1.Account{}
		obj, members = a, &a.Spec.Members
		if err := c.Get(ctx, types.NamespacedName{Namespace: v1alpha1.OrganizationNamespace(org), Name: account}, a); err != nil {
			return fmt.Errorf("failed to read account %s of %s: %w", account, org, err)
		}
	}
	for _, have := range *members {
		if index.SubjectKey(have) == index.SubjectKey(m) {
			return nil
		}
	}
	before := obj.DeepCopyObject().(client.Object)
	*members = append(*members, m)
	return c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}
