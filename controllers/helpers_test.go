package controllers_test

import (
	"fmt"
	"sync/atomic"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

var seq atomic.Int64

// uniqueName returns prefix-N, unique in this test run.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

func admin(name string) v1alpha1.Member {
	return v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: name, Role: v1alpha1.RoleAdmin}
}

func member(name string) v1alpha1.Member {
	return v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: name, Role: v1alpha1.RoleMember}
}

func newOrganization(name string, members ...v1alpha1.Member) *v1alpha1.Organization {
	return &v1alpha1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.OrganizationSpec{DisplayName: "Org " + name, Members: members},
	}
}

func newAccount(org, name string) *v1alpha1.Account {
	return &v1alpha1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "org-" + org},
		Spec:       v1alpha1.AccountSpec{DisplayName: "Account " + name},
	}
}

// can asks the API server's authorizer whether user may do verb on a resource.
// The authorizer sees a new RoleBinding through its informer a moment after
// the write, so a check that access was granted waits with Eventually.
func can(user, verb, group, resource, namespace, name string) bool {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Namespace: namespace, Name: name,
		},
	}}
	ExpectWithOffset(1, k8sClient.Create(ctx, sar)).To(Succeed())
	return sar.Status.Allowed
}

// canCreateAccount is `kubectl auth can-i create accounts -n org-<org> --as user`.
func canCreateAccount(user, org string) bool {
	return can(user, "create", v1alpha1.GroupVersion.Group, "accounts", "org-"+org, "")
}

// expectReady waits until obj is Ready and kstatus computes Current for it.
// kstatus alone says Current for an object no controller has touched yet,
// so the Ready condition is checked too.
func expectReady(obj client.Object) {
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		ready := condition(obj, v1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil(), "no Ready condition yet")
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "conditions: %+v", conditions(obj))
		g.Expect(kstatus(obj)).To(Equal(status.CurrentStatus), "conditions: %+v", conditions(obj))
	}).Should(Succeed())
}

func kstatus(obj client.Object) status.Status {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kindOf(obj)))
	res, err := status.Compute(u)
	Expect(err).NotTo(HaveOccurred())
	return res.Status
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *v1alpha1.Organization:
		return "Organization"
	case *v1alpha1.Account:
		return "Account"
	case *v1alpha1.User:
		return "User"
	}
	return "License"
}

func conditions(obj client.Object) []metav1.Condition {
	switch o := obj.(type) {
	case *v1alpha1.Organization:
		return o.Status.Conditions
	case *v1alpha1.Account:
		return o.Status.Conditions
	case *v1alpha1.User:
		return o.Status.Conditions
	case *v1alpha1.License:
		return o.Status.Conditions
	}
	return nil
}

func condition(obj client.Object, t string) *metav1.Condition {
	return meta.FindStatusCondition(conditions(obj), t)
}

// expectStalled waits until obj reports Stalled with reason and a message
// containing message.
func expectStalled(obj client.Object, reason, message string) {
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		c := condition(obj, v1alpha1.ConditionStalled)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(reason))
		g.Expect(c.Message).To(ContainSubstring(message))
	}).Should(Succeed())
}

// planOf is the organization's recorded plan, or a zero one before the
// reconciler decided it.
func planOf(o *v1alpha1.Organization) v1alpha1.Plan {
	if o.Status.Plan == nil {
		return v1alpha1.Plan{}
	}
	return *o.Status.Plan
}
