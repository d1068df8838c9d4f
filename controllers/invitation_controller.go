package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/plan"
)

// InvitationReconciler moves invitations through their phases: it sets
// the expiry on each send, expires them on time (not only when someone
// looks), and makes the invitee a member once they accept.
type InvitationReconciler struct {
	client.Client
	Recorder recorder.EventRecorder
}

// Reconcile brings an invitation's status to what its spec and the clock say.
func (r *InvitationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	inv := &v1alpha1.Invitation{}
	if err := r.Get(ctx, req.NamespacedName, inv); err != nil || !inv.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := inv.DeepCopy()
	now := time.Now()
	send(inv, now)
	err := r.settle(ctx, inv, now)
	inv.Status.ObservedGeneration = inv.Generation
	setKstatusConditions(&inv.Status.Conditions, inv.Generation, err, "Invitation is "+string(inv.Status.Phase))
	if perr := patchStatus(ctx, r.Client, before, inv); perr != nil {
		return ctrl.Result{}, perr
	}
	if before.Status.Phase != inv.Status.Phase {
		r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, "Invitation"+string(inv.Status.Phase), "Invite", "Invitation to %s is %s",
			inv.Spec.Email, inv.Status.Phase)
	}
	if err != nil {
		return ctrl.Result{}, resultError(err)
	}
	if inv.Status.Phase == v1alpha1.InvitationPending {
		return ctrl.Result{RequeueAfter: inv.Status.ExpiresAt.Sub(now) + time.Second}, nil
	}
	return ctrl.Result{}, nil
}

// send starts the expiry on the first send and on each resend, and
// records it in the history.
func send(inv *v1alpha1.Invitation, now time.Time) {
	s := &inv.Status
	s.InvitedBy = inv.Annotations[v1alpha1.AnnotationCreatedBy]
	validFor := time.Duration(inv.Spec.ExpiresInDays * float64(plan.Day))
	switch {
	case s.ExpiresAt == nil:
		at := inv.CreationTimestamp
		s.ExpiresAt = &metav1.Time{Time: at.Add(validFor)}
		s.History = append(s.History, v1alpha1.InvitationEvent{Event: "Sent", At: at, By: s.InvitedBy})
	case inv.Spec.Resend != s.Resent && s.Phase != v1alpha1.InvitationAccepted && s.Phase != v1alpha1.InvitationDeclined &&
		s.Phase != v1alpha1.InvitationRevoked:
		s.ExpiresAt = &metav1.Time{Time: now.Add(validFor).Truncate(time.Second)}
		s.History = append(s.History, v1alpha1.InvitationEvent{Event: "Resent", At: metav1.NewTime(now.Truncate(time.Second))})
		s.Phase = v1alpha1.InvitationPending
	}
	s.Resent = inv.Spec.Resend
}

// settle sets the phase: revoked, declined, accepted (once the invitee is
// a member), expired, or pending.
func (r *InvitationReconciler) settle(ctx context.Context, inv *v1alpha1.Invitation, now time.Time) error {
	s := &inv.Status
	switch {
	case inv.Spec.Revoked:
		enter(inv, v1alpha1.InvitationRevoked, now, "")
	case inv.Spec.Response == v1alpha1.ResponseDeclined:
		enter(inv, v1alpha1.InvitationDeclined, now, inv.Spec.RespondedBy)
	case inv.Spec.Response == v1alpha1.ResponseAccepted:
		if s.Phase == v1alpha1.InvitationAccepted {
			return nil
		}
		if err := r.join(ctx, inv); err != nil {
			return err
		}
		s.AcceptedBy = inv.Spec.Email
		enter(inv, v1alpha1.InvitationAccepted, now, inv.Spec.RespondedBy)
	case !now.Before(s.ExpiresAt.Time):
		enter(inv, v1alpha1.InvitationExpired, now, "")
	default:
		s.Phase = v1alpha1.InvitationPending
	}
	return nil
}

// join makes the invitee a member of the organization or the account.
func (r *InvitationReconciler) join(ctx context.Context, inv *v1alpha1.Invitation) error {
	org := inv.Namespace[len(v1alpha1.OrganizationNamespacePrefix):]
	m := v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: inv.Spec.Email, Role: inv.Spec.Role, JoinedVia: "invitation"}
	if err := addMember(ctx, r.Client, org, inv.Spec.Account, m); err != nil {
		return fmt.Errorf("failed to add %s as a member: %w", inv.Spec.Email, err)
	}
	return nil
}

// enter moves inv to phase, once, recording it in the history.
func enter(inv *v1alpha1.Invitation, phase v1alpha1.InvitationPhase, now time.Time, by string) {
	if inv.Status.Phase == phase {
		return
	}
	inv.Status.Phase = phase
	inv.Status.History = append(inv.Status.History, v1alpha1.InvitationEvent{Event: string(phase), At: metav1.NewTime(now.Truncate(time.Second)), By: by})
}

// SetupWithManager watches Invitations.
func (r *InvitationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Invitation{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("invitation").
		Complete(r)
}
