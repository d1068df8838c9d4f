package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
		if apierrors.IsNotFound(err) {
			recordExpiry(req.Name, nil)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := lic.DeepCopy()
	now := time.Now()
	if err := r.bind(ctx, lic); err != nil {
		return ctrl.Result{}, err
	}
	claims, phase, verr := r.Verifier.Verify(lic.Spec.Key, now)
	if verr == nil && lic.Spec.Organization != "" && !claims.Allows(lic.Status.Organization, lic.Status.OrganizationUID) {
		phase, verr = license.Invalid, license.ErrWrongAudience
	}
	setLicenseStatus(lic, claims, phase, verr)
	if err := patchStatus(ctx, r.Client, before, lic); err != nil {
		return ctrl.Result{}, err
	}
	recordTransition(r.Recorder, lic, before.Status.Conditions, lic.Status.Conditions)
	recordExpiry(lic.Name, lic)
	return ctrl.Result{RequeueAfter: nextDate(claims, phase, now)}, nil
}

// bind records the uid of the organization the license is assigned to:
// spec.organizationUID when set, else the uid the named organization has
// when the assignment is first seen. A binding is kept while the
// assignment stays the same, so an organization created later under the
// same name does not inherit the license.
func (r *LicenseReconciler) bind(ctx context.Context, lic *v1alpha1.License) error {
	s, spec := &lic.Status, lic.Spec
	switch {
	case spec.Organization == "":
		s.Organization, s.OrganizationUID = "", ""
	case spec.OrganizationUID != "":
		s.Organization, s.OrganizationUID = spec.Organization, spec.OrganizationUID
	case s.Organization == spec.Organization && s.OrganizationUID != "":
	default:
		org := &v1alpha1.Organization{}
		err := r.Get(ctx, types.NamespacedName{Name: spec.Organization}, org)
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("failed to read organization %s: %w", spec.Organization, err)
		}
		s.Organization, s.OrganizationUID = spec.Organization, ""
		if err == nil && org.DeletionTimestamp.IsZero() {
			s.OrganizationUID = string(org.UID)
		}
	}
	return nil
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
		s.Guardrails = statusGuardrails(c.Guardrails)
		s.IssuedAt, s.NotBefore, s.ExpiresAt = timeOf(c.IssuedAt), timeOf(c.NotBefore), timeOf(c.ExpiresAt)
	}
	var err error
	ready := "License is valid"
	if phase != license.Valid {
		err = stalled(string(phase), "License is %s: %v", phase, verr)
	} else if s.ExpiresAt != nil {
		ready += " until " + s.ExpiresAt.UTC().Format(time.RFC3339)
	}
	setKstatusConditions(&s.Conditions, lic.Generation, err, ready)
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
