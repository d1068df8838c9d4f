package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/usage"
)

// Names of the objects the guardrails write into every workspace.
const (
	QuotaName         = usage.QuotaName
	LimitRangeName    = "orgplane-limits"
	NetworkPolicyName = "orgplane-network"
)

// Container defaults of the LimitRange, each lowered to the quota when the
// quota is smaller, so that Pods without requests or limits are admitted
// and counted against the quota.
var (
	defaultRequest = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	defaultLimit   = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")}
)

// GuardrailsReconciler writes the guardrails of an organization's
// effective plan into each of its workspaces: a ResourceQuota, a
// LimitRange and a NetworkPolicy, put back when changed by hand and removed
// when the plan has none.
type GuardrailsReconciler struct {
	client.Client
	APIReader client.Reader
}

// +kubebuilder:rbac:groups=core,resources=resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=core,resources=resourcequotas/status,verbs=update
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// Reconcile brings a workspace's quota, limits and network policy to what
// its organization's plan says.
func (r *GuardrailsReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, req.NamespacedName, ns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ns.DeletionTimestamp.IsZero() || !isWorkspace.Generic(event.GenericEvent{Object: ns}) {
		return ctrl.Result{}, nil
	}
	g, ok, err := r.guardrails(ctx, ns.Labels[v1alpha1.LabelOrganization])
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	for _, step := range []func(context.Context, *corev1.Namespace, *v1alpha1.Guardrails) error{
		r.reconcileQuota, r.reconcileLimits, r.reconcileNetwork,
	} {
		if err := step(ctx, ns, g); err != nil {
			return ctrl.Result{}, err
		}
	}
	var retry time.Duration
	if len(g.Organization) == 0 {
		err = r.remove(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: ShareQuotaName, Namespace: ns.Name}})
	} else {
		retry, err = r.reconcileShares(ctx, ns.Labels[v1alpha1.LabelOrganization], g)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: retry}, r.recordQuota(ctx, ns)
}

// guardrails are those of the organization's plan, as the organization
// reconciler decided it; ok is false when the organization is gone or
// going (its workspaces go with it), or has no plan yet.
func (r *GuardrailsReconciler) guardrails(ctx context.Context, name string) (*v1alpha1.Guardrails, bool, error) {
	org := &v1alpha1.Organization{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, org); err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	if !org.DeletionTimestamp.IsZero() {
		return nil, false, nil
	}
	if org.Status.Plan == nil {
		return nil, false, nil // the organization's plan, when decided, wakes its workspaces
	}
	return org.Status.Plan.Guardrails.Inherit(nil), true, nil
}

func (r *GuardrailsReconciler) reconcileQuota(ctx context.Context, ns *corev1.Namespace, g *v1alpha1.Guardrails) error {
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: QuotaName, Namespace: ns.Name}}
	if len(g.Workspace) == 0 {
		return r.remove(ctx, quota)
	}
	_, err := ensure(ctx, r.Client, r.APIReader, quota, func() error {
		mergeLabels(quota, guardrailLabels(ns))
		quota.Spec = corev1.ResourceQuotaSpec{Hard: g.Workspace.DeepCopy()}
		return nil
	})
	if err != nil {
		return err
	}
	return enforceNow(ctx, r.Client, quota)
}

// enforceNow makes kube-apiserver's quota admission count every resource
// of q's spec at once. It ignores a quota whose status.hard is empty
// (kubernetes/kubernetes#73698) and a resource missing from status.hard,
// until kube-controller-manager's quota controller syncs it: till then a
// new workspace, or a resource newly added to a plan, would have no quota
// at all. So orgplane copies what is missing from spec.hard into
// status.hard itself, and no usage: quota admission refuses what a quota
// has no usage for ("status unknown for quota"), so nothing is admitted
// until the quota controller reports the real usage. The write is
// conditional on the resourceVersion read, never overwrites what the quota
// controller wrote, and the controller owns the status from then on
// (docs/licenses.md#when-a-quota-starts-to-count).
func enforceNow(ctx context.Context, c client.Client, q *corev1.ResourceQuota) error {
	if quotaEnforced(q) {
		return nil
	}
	hard := q.Status.Hard.DeepCopy()
	if hard == nil {
		hard = corev1.ResourceList{}
	}
	for name, h := range q.Spec.Hard {
		if _, ok := hard[name]; !ok {
			hard[name] = h
		}
	}
	q.Status.Hard = hard
	if err := c.Status().Update(ctx, q); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to write the status.hard of ResourceQuota %s/%s: %w", q.Namespace, q.Name, err)
	}
	return nil
}

// quotaEnforced says whether kube-apiserver's quota admission counts every
// resource of q's spec: it ignores what is not in status.hard.
func quotaEnforced(q *corev1.ResourceQuota) bool {
	for name := range q.Spec.Hard {
		if _, ok := q.Status.Hard[name]; !ok {
			return false
		}
	}
	return len(q.Status.Hard) > 0
}

func (r *GuardrailsReconciler) reconcileLimits(ctx context.Context, ns *corev1.Namespace, g *v1alpha1.Guardrails) error {
	limits := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: LimitRangeName, Namespace: ns.Name}}
	item, ok := containerDefaults(g.Workspace)
	if !ok {
		return r.remove(ctx, limits)
	}
	_, err := ensure(ctx, r.Client, r.APIReader, limits, func() error {
		mergeLabels(limits, guardrailLabels(ns))
		limits.Spec = corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{item}}
		return nil
	})
	return err
}

func (r *GuardrailsReconciler) reconcileNetwork(ctx context.Context, ns *corev1.Namespace, g *v1alpha1.Guardrails) error {
	policy := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: NetworkPolicyName, Namespace: ns.Name}}
	if g.Network == "" {
		return r.remove(ctx, policy)
	}
	_, err := ensure(ctx, r.Client, r.APIReader, policy, func() error {
		mergeLabels(policy, guardrailLabels(ns))
		policy.Spec = networkPolicySpec(license.NetworkMode(g.Network), ns.Labels[v1alpha1.LabelOrganization])
		return nil
	})
	return err
}

// remove deletes obj when the cache holds it (orgplane's labels are on it).
func (r *GuardrailsReconciler) remove(ctx context.Context, obj client.Object) error {
	if err := r.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := client.IgnoreNotFound(r.Delete(ctx, obj)); err != nil {
		return fmt.Errorf("failed to delete %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// guardrailLabels are the workspace's own orgplane labels.
func guardrailLabels(ns *corev1.Namespace) map[string]string {
	labels := managedLabels(ns.Labels[v1alpha1.LabelOrganization])
	labels[v1alpha1.LabelAccount] = ns.Labels[v1alpha1.LabelAccount]
	labels[LabelAccountUID] = ns.Labels[LabelAccountUID]
	return labels
}

// containerDefaults are the LimitRange's container defaults for the cpu
// and memory a quota names; ok is false when it names none. A default
// limit is set only where the quota bounds limits, and every default
// request is at most its default limit.
func containerDefaults(quota corev1.ResourceList) (corev1.LimitRangeItem, bool) {
	item := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{}, DefaultRequest: corev1.ResourceList{}}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		reqQuota, hasReq := quota["requests."+res]
		limQuota, hasLim := quota["limits."+res]
		req := defaultRequest[res]
		if hasLim {
			limit := smaller(defaultLimit[res], limQuota)
			item.Default[res] = limit
			req = smaller(req, limit)
		}
		if hasReq {
			req = smaller(req, reqQuota)
		}
		if hasReq || hasLim {
			item.DefaultRequest[res] = req
		}
	}
	if len(item.Default) == 0 {
		item.Default = nil
	}
	return item, len(item.DefaultRequest) > 0
}

func smaller(a, b resource.Quantity) resource.Quantity {
	if b.Cmp(a) < 0 {
		return b.DeepCopy()
	}
	return a.DeepCopy()
}

// networkPolicySpec admits traffic to and from the workspace's peers (the
// workspace itself, or every workspace of the organization) and DNS to
// the cluster's kube-dns.
func networkPolicySpec(mode license.NetworkMode, org string) networkingv1.NetworkPolicySpec {
	peers := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	if mode == license.NetworkOrganization {
		peers = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels:      map[string]string{v1alpha1.LabelOrganization: org, v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: LabelAccountUID, Operator: metav1.LabelSelectorOpExists}},
		}}}
	}
	udp, tcp, port := corev1.ProtocolUDP, corev1.ProtocolTCP, intstr.FromInt32(53)
	dns := networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: metav1.NamespaceSystem}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &port}, {Protocol: &tcp, Port: &port}},
	}
	return networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
		Egress:      []networkingv1.NetworkPolicyEgressRule{{To: peers}, dns},
	}
}

// statusGuardrails are a verified key's guardrails as the License status
// shows them; nil when it has none.
// isManaged passes objects carrying orgplane's managed-by label.
var isManaged = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetLabels()[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue
})

// quotaEnforcedNow passes a quota kube-apiserver starts to enforce.
var quotaEnforcedNow = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	return !quotaEnforced(e.ObjectOld.(*corev1.ResourceQuota)) && quotaEnforced(e.ObjectNew.(*corev1.ResourceQuota))
}}

// quotaSpecChanged ignores the quota controller's status updates.
var quotaSpecChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	o, n := e.ObjectOld.(*corev1.ResourceQuota), e.ObjectNew.(*corev1.ResourceQuota)
	return !equality.Semantic.DeepEqual(o.Spec, n.Spec) || !equality.Semantic.DeepEqual(o.Labels, n.Labels)
}}

// SetupWithManager watches workspaces, the objects written into them, and
// their organizations' plans.
func (r *GuardrailsReconciler) SetupWithManager(mgr ctrl.Manager) error {
	toWorkspace := handler.EnqueueRequestsFromMapFunc(namespaceOf)
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Namespace{}, builder.WithPredicates(isWorkspace)).
		Watches(&corev1.ResourceQuota{}, toWorkspace, builder.WithPredicates(isManaged, predicate.Or(quotaSpecChanged, quotaUsageChanged))).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.siblingWorkspaces), builder.WithPredicates(isWorkspace, deleted)).
		Watches(&corev1.LimitRange{}, toWorkspace, builder.WithPredicates(isManaged)).
		Watches(&networkingv1.NetworkPolicy{}, toWorkspace, builder.WithPredicates(isManaged)).
		Watches(&v1alpha1.Organization{}, handler.EnqueueRequestsFromMapFunc(r.organizationToWorkspaces), builder.WithPredicates(planChanged)).
		Named("guardrails").
		Complete(r)
}

func namespaceOf(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.GetNamespace()}}}
}

// organizationToWorkspaces maps an organization whose plan changed to its
// workspaces.
func (r *GuardrailsReconciler) organizationToWorkspaces(ctx context.Context, o client.Object) []reconcile.Request {
	return r.workspacesOf(ctx, o.GetName())
}

// workspacesOf are requests for the workspaces of org.
func (r *GuardrailsReconciler) workspacesOf(ctx context.Context, org string) []reconcile.Request {
	if org == "" {
		return nil
	}
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list, client.MatchingFields{index.WorkspaceOrganization: org}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ns := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: ns.Name}})
	}
	return reqs
}
