package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/plan"
)

// JoinRequestTTL is how long a join request waits for an admin.
const JoinRequestTTL = 30 * plan.Day

// JoinRequestReconciler makes an approved join request's person a member,
// through the seat ledger like every way of joining, and only while the
// organization holds their e-mail domain, verified.
type JoinRequestReconciler struct {
	client.Client
	Recorder recorder.EventRecorder
}

// Reconcile settles a join request's phase.
func (r *JoinRequestReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	jr := &v1alpha1.JoinRequest{}
	if err := r.Get(ctx, req.NamespacedName, jr); err != nil || !jr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := jr.DeepCopy()
	err := r.settle(ctx, jr)
	jr.Status.ObservedGeneration = jr.Generation
	setKstatusConditions(&jr.Status.Conditions, jr.Generation, err, "Join request is "+string(jr.Status.Phase))
	if perr := patchStatus(ctx, r.Client, before, jr); perr != nil {
		return ctrl.Result{}, perr
	}
	if before.Status.Phase != jr.Status.Phase {
		r.Recorder.Eventf(jr, nil, corev1.EventTypeNormal, "JoinRequest"+string(jr.Status.Phase), "Join", "%s: %s", jr.Spec.Email, jr.Status.Phase)
	}
	if err != nil {
		return ctrl.Result{}, resultError(err)
	}
	if jr.Status.Phase == v1alpha1.JoinPending {
		return ctrl.Result{RequeueAfter: time.Until(jr.CreationTimestamp.Add(JoinRequestTTL)) + time.Second}, nil
	}
	return ctrl.Result{}, nil
}

func (r *JoinRequestReconciler) settle(ctx context.Context, jr *v1alpha1.JoinRequest) error {
	s := &jr.Status
	if s.Phase != "" && s.Phase != v1alpha1.JoinPending {
		return nil
	}
	switch {
	case jr.Spec.Decision == v1alpha1.JoinDenied:
		s.Phase, s.Reason = v1alpha1.JoinDenied, "Denied by "+jr.Spec.DecidedBy
	case jr.Spec.Decision == v1alpha1.JoinApproved:
		return r.approve(ctx, jr)
	case time.Since(jr.CreationTimestamp.Time) >= JoinRequestTTL:
		s.Phase, s.Reason = v1alpha1.JoinExpired, "No admin answered within 30 days; ask again"
	default:
		s.Phase, s.Reason = v1alpha1.JoinPending, "Waiting for an admin of the organization"
	}
	return nil
}

// approve adds the person, once the domain check passes.
func (r *JoinRequestReconciler) approve(ctx context.Context, jr *v1alpha1.JoinRequest) error {
	org := jr.Namespace[len(v1alpha1.OrganizationNamespacePrefix):]
	held, err := domains.HeldBy(ctx, r.Client, org, jr.Spec.Email)
	if err != nil {
		return err
	}
	if held == nil {
		return stalled("DomainNotVerified", "Organization %s does not hold the domain of %s, verified: joining through it stops, nobody is removed",
			org, jr.Spec.Email)
	}
	m := v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: jr.Spec.Email, Role: jr.Spec.Role, JoinedVia: "domain"}
	if err := addMember(ctx, r.Client, org, "", m); apierrors.IsForbidden(err) {
		// Admission refused (the seats): a person must act.
		return stalled("NotAdded", "Approved by %s, but %s could not be added: %v", jr.Spec.DecidedBy, jr.Spec.Email, err)
	} else if err != nil {
		return err // a lost race with the organization's status: retried
	}
	jr.Status.Phase, jr.Status.Reason = v1alpha1.JoinApproved, "Approved by "+jr.Spec.DecidedBy
	return nil
}

// SetupWithManager watches JoinRequests.
func (r *JoinRequestReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.JoinRequest{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("joinrequest").
		Complete(r)
}
