package controllers

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// stalledError is returned by a phase that cannot make progress until a
// person acts. The object reports Stalled with the reason; retrying is left
// to the watches, so it is not requeued with backoff.
type stalledError struct {
	reason  string
	message string
}

func (e *stalledError) Error() string { return e.message }

func stalled(reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// waitingError is returned by a phase that waits for something under way
// (a namespace terminating, accounts being deleted). The object reports
// Reconciling; the watch on that thing wakes the reconciler.
type waitingError struct{ message string }

func (e *waitingError) Error() string { return e.message }

func waiting(format string, args ...any) error {
	return &waitingError{message: fmt.Sprintf(format, args...)}
}

// setKstatusConditions sets Ready, Reconciling and Stalled from the outcome
// of a reconcile, the way kstatus reads them: Ready=True with neither
// Reconciling nor Stalled present means Current.
func setKstatusConditions(conds *[]metav1.Condition, generation int64, err error, readyMessage string) {
	var stall *stalledError
	var wait *waitingError
	switch {
	case err == nil:
		set(conds, generation, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, readyMessage)
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionStalled)
	case errors.As(err, &stall):
		set(conds, generation, v1alpha1.ConditionReady, metav1.ConditionFalse, stall.reason, stall.message)
		set(conds, generation, v1alpha1.ConditionStalled, metav1.ConditionTrue, stall.reason, stall.message)
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionReconciling)
	case errors.As(err, &wait):
		set(conds, generation, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonProgressing, wait.message)
		set(conds, generation, v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonProgressing, wait.message)
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionStalled)
	default:
		set(conds, generation, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonFailed, err.Error())
		set(conds, generation, v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonFailed, err.Error())
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionStalled)
	}
}

func set(conds *[]metav1.Condition, generation int64, t string, s metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: generation,
	})
}

// newObjectPatience is how long a new object may wait for something else
// (its organization's plan, a quota to be enforced) before its status says
// so: one status write for a brand-new account instead of two.
const newObjectPatience = 30 * time.Second

// briefWait says whether err is a wait that a new object, never reported
// on (no Ready condition), need not report yet, and when to look again if
// its watches have not woken it by then.
func briefWait(obj client.Object, conds []metav1.Condition, err error) (time.Duration, bool) {
	var wait *waitingError
	if !errors.As(err, &wait) || meta.FindStatusCondition(conds, v1alpha1.ConditionReady) != nil {
		return 0, false
	}
	left := newObjectPatience - time.Since(obj.GetCreationTimestamp().Time)
	return left, left > 0
}

// resultError turns a phase error into what Reconcile returns: nothing to
// retry for stalled or waiting objects (their watches wake them), the error
// itself otherwise.
func resultError(err error) error {
	var stall *stalledError
	var wait *waitingError
	if errors.As(err, &stall) || errors.As(err, &wait) {
		return nil
	}
	return err
}
