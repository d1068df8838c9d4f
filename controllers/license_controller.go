package controllers

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// LicenseReconciler verifies license keys against the trusted public keys
// and reports what they grant and until when.
type LicenseReconciler struct {
	client.Client
	Verifier *license.Verifier
	Recorder recorder.EventRecorder
}

// +kubebuilder:rbac:groups=orgplane.io,resources=licenses,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=orgplane.io,resources=licenses/status,verbs=get;update;patch

// Reconcile verifies a License's key and wakes itself at its next date
// (not-before or expiry).
func (r *LicenseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	lic := &v1alpha1.License{}
	if err := r.Get(ctx, req.NamespacedName, lic); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := lic.DeepCopy()
	now := time.Now()
	claims, phase, verr := r.Verifier.Verify(lic.Spec.Key, now)
	if verr == nil && claims.Organization != "" && lic.Spec.Organization != "" && claims.Organization != lic.Spec.Organization {
		phase, verr = license.Invalid, license.ErrWrongAudience
	}
	setLicenseStatus(lic, claims, phase, verr)
	if err := patchStatus(ctx, r.Client, before, lic); err != nil {
		return ctrl.Result{}, err
	}
	recordTransition(r.Recorder, lic, before.Status.Conditions, lic.Status.Conditions)
	return ctrl.Result{RequeueAfter: nextDate(claims, phase, now)}, nil
}

// nextDate is how long until the license's phase changes by itself.
func nextDate(c *license.Claims, phase license.Phase, now time.Time) time.Duration {
	switch {
	case c == nil:
		return 0
	case phase == license.NotYetValid:
		return c.NotBefore.Sub(now) + time.Second
	case phase == license.Valid:
		return c.ExpiresAt.Sub(now) + time.Second
	}
	return 0
}

func setLicenseStatus(lic *v1alpha1.License, c *license.Claims, phase license.Phase, verr error) {
	s := &lic.Status
	s.ObservedGeneration = lic.Generation
	s.Phase = v1alpha1.LicensePhase(phase)
	s.Reason = ""
	if verr != nil {
		s.Reason = verr.Error()
	}
	if c != nil {
		s.LicenseID, s.Type, s.Licensee = c.ID, c.Type, c.Licensee
		s.Limits = &v1alpha1.Limits{Accounts: c.Limits.Accounts, Users: c.Limits.Users, Deployments: c.Limits.Deployments}
		s.IssuedAt, s.NotBefore, s.ExpiresAt = timeOf(c.IssuedAt), timeOf(c.NotBefore), timeOf(c.ExpiresAt)
	}
	var err error
	if phase != license.Valid {
		err = stalled(string(phase), "License is %s: %v", phase, verr)
	}
	setKstatusConditions(&s.Conditions, lic.Generation, err, "License is valid until "+s.ExpiresAt.UTC().Format(time.RFC3339))
}

func timeOf(d *jwt.NumericDate) *metav1.Time {
	if d == nil {
		return nil
	}
	t := metav1.NewTime(d.Truncate(time.Second))
	return &t
}

// SetupWithManager watches Licenses.
func (r *LicenseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Verifier == nil {
		return errors.New("license reconciler needs a verifier")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.License{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("license").
		Complete(r)
}

// licenseToOrganization wakes the organization a License is assigned to;
// on a reassignment it is called for the old and the new object.
func licenseToOrganization(_ context.Context, o client.Object) []reconcile.Request {
	org := o.(*v1alpha1.License).Spec.Organization
	if org == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: org}}}
}
