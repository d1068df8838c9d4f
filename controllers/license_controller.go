package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/custody"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
)

// LicenseReconciler verifies license keys against the trusted public keys
// and reports what they grant, and where each is in its lifecycle.
type LicenseReconciler struct {
	client.Client
	Verifier *license.Verifier
	Recorder recorder.EventRecorder
	// Plan has the installation's grace and restricted periods.
	Plan plan.Settings
	// ReportKey is the public key (PEM) usage reports are signed with.
	ReportKey string
}

// +kubebuilder:rbac:groups=orgplane.io,resources=licenses,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=orgplane.io,resources=licenses/status,verbs=get;update;patch

// Reconcile verifies a License's key, sets its phase and wakes itself when
// the phase of a key of its organization changes by the clock.
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
	if phase == license.Invalid {
		claims = nil
	}
	st, next, err := r.state(ctx, lic, claims, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.setStatus(lic, claims, st, verr)
	if err := patchStatus(ctx, r.Client, before, lic); err != nil {
		return ctrl.Result{}, err
	}
	recordTransition(r.Recorder, lic, before.Status.Conditions, lic.Status.Conditions)
	recordPhase(r.Recorder, lic, before.Status.Phase)
	recordExpiry(lic.Name, lic)
	return ctrl.Result{RequeueAfter: until(next, now)}, nil
}

// state is the License's phase among the keys of its organization (a
// renewal supersedes it, the revocation list in force revokes it) and
// when a key of the organization next changes phase.
func (r *LicenseReconciler) state(ctx context.Context, lic *v1alpha1.License, claims *license.Claims, now time.Time) (plan.State, *metav1.Time, error) {
	keys := []plan.Key{{Name: lic.Name, Claims: claims}}
	kr := keyReader{Reader: r.Client, Verifier: r.Verifier}
	if uid := custody.BoundTo(lic); uid != "" && claims != nil {
		list := &v1alpha1.LicenseList{}
		if err := r.List(ctx, list, client.MatchingFields{index.LicenseOrganization: lic.Spec.Organization}); err != nil {
			return plan.State{}, nil, fmt.Errorf("failed to list licenses: %w", err)
		}
		var err error
		if keys, err = kr.keys(ctx, withSelf(list.Items, lic), uid); err != nil {
			return plan.State{}, nil, err
		}
	} else if claims != nil {
		revs, err := inForceRevocations(ctx, r.Client, r.Verifier)
		if err != nil {
			return plan.State{}, nil, err
		}
		keys[0].Revoked = revs.Revokes(claims.ID)
	}
	return r.Plan.States(keys, now)[lic.Name], r.Plan.NextChange(keys, now), nil
}

// withSelf is list with lic as it is now in place of its cached copy.
func withSelf(list []v1alpha1.License, lic *v1alpha1.License) []v1alpha1.License {
	out := []v1alpha1.License{*lic}
	for _, l := range list {
		if l.Name != lic.Name {
			out = append(out, l)
		}
	}
	return out
}

// until is how long from now until t; 0 (no timer) for none.
func until(t *metav1.Time, now time.Time) time.Duration {
	if t == nil {
		return 0
	}
	return t.Sub(now) + time.Second
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

func (r *LicenseReconciler) setStatus(lic *v1alpha1.License, c *license.Claims, st plan.State, verr error) {
	s := &lic.Status
	s.ObservedGeneration, s.Phase, s.UsageReportKey = lic.Generation, st.Phase, r.ReportKey
	s.SupersededBy = st.SupersededBy
	if c != nil {
		s.LicenseID, s.Type, s.Licensee, s.Sequence = c.ID, c.Type, c.Licensee, c.Sequence
		s.Limits = &v1alpha1.Limits{Accounts: c.Limits.Accounts, Users: c.Limits.Users, Deployments: c.Limits.Deployments}
		s.Guardrails, s.Entitlements = plan.KeyGuardrails(c.Guardrails), c.Entitlements
		s.IssuedAt, s.NotBefore, s.ExpiresAt = timeOf(c.IssuedAt), timeOf(c.NotBefore), timeOf(c.ExpiresAt)
		s.GraceEndsAt, s.RestrictedEndsAt = metaTime(st.Dates.GraceEnds), metaTime(st.Dates.RestrictedEnds)
	}
	s.Reason = phaseReason(s, verr)
	var err error
	ready := "License is active"
	if s.Phase != v1alpha1.LicenseActive {
		err = stalled(string(s.Phase), "License is %s: %s", s.Phase, s.Reason)
	} else if s.ExpiresAt != nil {
		ready += " until " + s.ExpiresAt.UTC().Format(time.RFC3339)
	}
	setKstatusConditions(&s.Conditions, lic.Generation, err, ready)
}

// phaseReason explains a License's phase to a person, with what to do.
func phaseReason(s *v1alpha1.LicenseStatus, verr error) string {
	day := func(t *metav1.Time) string { return t.UTC().Format(time.RFC3339) }
	switch s.Phase {
	case v1alpha1.LicenseActive:
		return ""
	case v1alpha1.LicenseGrace:
		return fmt.Sprintf("the license expired at %s; its plan is kept until its grace period ends at %s, then nothing new may be created: apply a renewed key", day(s.ExpiresAt), day(s.GraceEndsAt))
	case v1alpha1.LicenseRestricted:
		return fmt.Sprintf("the grace period ended at %s: nothing new may be created (running workloads and access are untouched) until a renewed key is applied; the license stops applying at %s", day(s.GraceEndsAt), day(s.RestrictedEndsAt))
	case v1alpha1.LicenseExpired:
		return fmt.Sprintf("the license expired at %s and its grace and restricted periods ended at %s: the organization has its next license or the free plan", day(s.ExpiresAt), day(s.RestrictedEndsAt))
	case v1alpha1.LicenseSuperseded:
		return fmt.Sprintf("License %s renews this license id: its key is in force and this one is not", s.SupersededBy)
	case v1alpha1.LicenseRevoked:
		return fmt.Sprintf("the vendor revoked license id %s (revocation list in force)", s.LicenseID)
	}
	if verr != nil {
		return verr.Error()
	}
	return ""
}

func metaTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	m := metav1.NewTime(t)
	return &m
}

func timeOf(d *jwt.NumericDate) *metav1.Time {
	if d == nil {
		return nil
	}
	t := metav1.NewTime(d.Truncate(time.Second))
	return &t
}

// SetupWithManager watches Licenses (a License's phase depends on the
// others of its organization: a renewal supersedes it) and the revocation
// list in force.
func (r *LicenseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Verifier == nil {
		return errors.New("license reconciler needs a verifier")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.License{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Status too: a sibling counts once its binding is recorded.
		Watches(&v1alpha1.License{}, handler.EnqueueRequestsFromMapFunc(r.siblings)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.all), builder.WithPredicates(isRevocations)).
		Named("license").
		Complete(r)
}

// siblings are the other Licenses assigned to the same organization.
func (r *LicenseReconciler) siblings(ctx context.Context, o client.Object) []reconcile.Request {
	org := o.(*v1alpha1.License).Spec.Organization
	if org == "" {
		return nil
	}
	reqs := r.requests(ctx, client.MatchingFields{index.LicenseOrganization: org})
	return slices.DeleteFunc(reqs, func(q reconcile.Request) bool { return q.Name == o.GetName() })
}

// all are every License: the revocation list in force changed.
func (r *LicenseReconciler) all(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.requests(ctx)
}

func (r *LicenseReconciler) requests(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &v1alpha1.LicenseList{}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, l := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: l.Name}})
	}
	return reqs
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

// recordPhase counts and announces a License's move to a new phase.
func recordPhase(rec recorder.EventRecorder, lic *v1alpha1.License, before v1alpha1.LicensePhase) {
	now := lic.Status.Phase
	if now == before || now == "" {
		return
	}
	transitions.WithLabelValues(string(now)).Inc()
	kind := corev1.EventTypeWarning
	if now == v1alpha1.LicenseActive {
		kind = corev1.EventTypeNormal
	}
	msg := "License is " + string(now)
	if lic.Status.Reason != "" {
		msg += ": " + lic.Status.Reason
	}
	rec.Eventf(lic, nil, kind, "License"+string(now), "Lifecycle", "%s", msg)
}
