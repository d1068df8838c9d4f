package controllers

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/tenancy"
)

// RevocationsSecret, in orgplane's namespace, keeps the revocation list in
// force: the one with the highest sequence this installation has seen. It
// outlives the RevocationList objects, so applying an older list, or
// deleting the newer one, un-revokes nothing.
const RevocationsSecret = "orgplane-revocations" //nolint:gosec // a Secret's name, not a credential

// revocationsKey is the Secret's data key holding the signed list.
const revocationsKey = "list"

// RevocationListReconciler keeps the revocation list in force and reports
// on every RevocationList whether it is the one in force.
type RevocationListReconciler struct {
	client.Client
	Verifier *license.Verifier
	Recorder recorder.EventRecorder
}

// +kubebuilder:rbac:groups=orgplane.io,resources=revocationlists,verbs=get;list;watch
// +kubebuilder:rbac:groups=orgplane.io,resources=revocationlists/status,verbs=get;update;patch

// allLists is the one request the reconciler works on: the lists are
// judged together.
var allLists = reconcile.Request{NamespacedName: types.NamespacedName{Name: "revocation-lists"}}

// Reconcile keeps the list with the highest sequence in the Secret and
// sets every list's status.
func (r *RevocationListReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	lists := &v1alpha1.RevocationListList{}
	if err := r.List(ctx, lists); err != nil {
		return ctrl.Result{}, err
	}
	kept, err := inForceRevocations(ctx, r.Client, r.Verifier)
	if err != nil {
		return ctrl.Result{}, err
	}
	inForce, token := kept, ""
	verified := make([]*license.Revocations, len(lists.Items))
	for i := range lists.Items {
		verified[i], _ = r.Verifier.VerifyRevocations(lists.Items[i].Spec.List)
		if license.Newer(verified[i], inForce) {
			inForce, token = verified[i], lists.Items[i].Spec.List
		}
	}
	if token != "" {
		if err := r.keep(ctx, token); err != nil {
			return ctrl.Result{}, err
		}
		log.FromContext(ctx).Info("revocation list in force", "sequence", inForce.Sequence, "revoked", len(inForce.Revoked))
	}
	for i := range lists.Items {
		if err := r.setStatus(ctx, &lists.Items[i], verified[i], inForce); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// keep writes token, newer than the list kept, into the Secret: an update
// conditional on the version read with the kept list, so a stale read
// conflicts instead of replacing a newer list.
func (r *RevocationListReconciler) keep(ctx context.Context, token string) error {
	s := &corev1.Secret{}
	key := types.NamespacedName{Namespace: tenancy.SystemNamespace, Name: RevocationsSecret}
	err := r.Get(ctx, key, s)
	if apierrors.IsNotFound(err) {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}},
			Data: map[string][]byte{revocationsKey: []byte(token)}}
		return r.Create(ctx, s)
	}
	if err != nil {
		return err
	}
	s.Data = map[string][]byte{revocationsKey: []byte(token)}
	return r.Update(ctx, s)
}

func (r *RevocationListReconciler) setStatus(ctx context.Context, l *v1alpha1.RevocationList, v, inForce *license.Revocations) error {
	before := l.DeepCopy()
	s := &l.Status
	s.ObservedGeneration, s.InForceSequence = l.Generation, 0
	if inForce != nil {
		s.InForceSequence = inForce.Sequence
	}
	var err error
	if v == nil {
		_, verr := r.Verifier.VerifyRevocations(l.Spec.List)
		s.Phase, s.Reason, s.Sequence, s.Revoked, s.IssuedAt = v1alpha1.RevocationListInvalid, verr.Error(), 0, nil, nil
		err = stalled(string(s.Phase), "Revocation list is invalid: %v", verr)
	} else {
		s.Sequence, s.Revoked, s.IssuedAt = v.Sequence, v.Revoked, timeOf(v.IssuedAt)
		s.Phase, s.Reason = v1alpha1.RevocationListInForce, ""
		if v.Sequence < s.InForceSequence {
			s.Phase = v1alpha1.RevocationListSuperseded
			s.Reason = fmt.Sprintf("a list with the higher sequence %d is in force; an older list never replaces a newer one", s.InForceSequence)
		}
	}
	setKstatusConditions(&s.Conditions, l.Generation, err, fmt.Sprintf("Revocation list %d is %s", s.Sequence, s.Phase))
	if err := patchStatus(ctx, r.Client, before, l); err != nil {
		return err
	}
	recordTransition(r.Recorder, l, before.Status.Conditions, s.Conditions)
	return nil
}

// inForceRevocations is the list kept in the Secret, or nil. A Secret
// whose list does not verify keeps nothing in force and is logged: only
// the manager writes it, after verifying.
func inForceRevocations(ctx context.Context, c client.Reader, v *license.Verifier) (*license.Revocations, error) {
	s := &corev1.Secret{}
	err := c.Get(ctx, types.NamespacedName{Namespace: tenancy.SystemNamespace, Name: RevocationsSecret}, s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the revocation list in force: %w", err)
	}
	revs, err := v.VerifyRevocations(string(s.Data[revocationsKey]))
	if err != nil {
		log.FromContext(ctx).Error(err, "the revocation list kept in Secret "+RevocationsSecret+" does not verify; it is ignored")
		return nil, nil
	}
	return revs, nil
}

// SetupWithManager watches RevocationLists and the Secret that keeps the
// one in force.
func (r *RevocationListReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Verifier == nil {
		return errors.New("revocation list reconciler needs a verifier")
	}
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{allLists}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("revocationlist").
		Watches(&v1alpha1.RevocationList{}, all, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, all, builder.WithPredicates(isRevocations)).
		Complete(r)
}

// isRevocations passes the Secret that keeps the list in force.
var isRevocations = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetNamespace() == tenancy.SystemNamespace && o.GetName() == RevocationsSecret
})
