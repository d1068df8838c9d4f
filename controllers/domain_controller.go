package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/domains"
)

// ConditionVerified is True while a Domain is Verified: its organization
// holds the domain. `kubectl wait --for=condition=Verified` waits for it.
const ConditionVerified = "Verified"

const (
	// defaultRecheck is how often a verified domain is looked up again when
	// Recheck is not set.
	defaultRecheck = 6 * time.Hour
	// pendingRecheck is how often a domain waiting for its record is looked
	// up again.
	pendingRecheck = time.Minute
)

// DomainReconciler proves the e-mail domains organizations claim with a
// DNS TXT record, re-checks them periodically, and settles which
// organization holds each domain.
type DomainReconciler struct {
	client.Client
	Recorder recorder.EventRecorder
	// Resolver looks the TXT records up.
	Resolver domains.Resolver
	// Secret keys the record values (domains.Token).
	Secret []byte
	// Consumer lists the consumer e-mail domains no organization may claim.
	Consumer domains.Consumer
	// Recheck is how often a verified domain is looked up again.
	Recheck time.Duration
}

// +kubebuilder:rbac:groups=orgplane.io,resources=domains,verbs=get;list;watch
// +kubebuilder:rbac:groups=orgplane.io,resources=domains/status,verbs=get;update;patch

// Reconcile looks a Domain's record up and sets its phase. A failed lookup
// keeps the last verdict and is retried with backoff.
func (r *DomainReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	d := &v1alpha1.Domain{}
	if err := r.Get(ctx, req.NamespacedName, d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !d.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	before := d.DeepCopy()
	failed := r.judge(ctx, d)
	if failed != nil {
		failed = fmt.Errorf("looking the domain up failed and will be retried: %w", failed)
	}
	setDomainConditions(d, failed)
	if err := patchStatus(ctx, r.Client, before, d); err != nil {
		return ctrl.Result{}, err
	}
	r.recordPhase(d, before.Status.Phase)
	if failed != nil {
		return ctrl.Result{}, failed
	}
	return ctrl.Result{RequeueAfter: r.requeueAfter(d.Status.Phase)}, nil
}

// judge sets the Domain's phase, reason and record from its organization,
// its record in DNS and the other Domains claiming the same domain. An
// error is transient: the phase is left as it was.
func (r *DomainReconciler) judge(ctx context.Context, d *v1alpha1.Domain) error {
	org, err := r.organization(ctx, d.Namespace)
	if err != nil {
		return err
	}
	if org == nil {
		refuse(d, "namespace %s is not an organization's: create the Domain in the namespace of the "+
			"organization that claims it (%s<organization>)", d.Namespace, v1alpha1.OrganizationNamespacePrefix)
		return nil
	}
	name, why := r.claimable(d.Spec.Domain)
	if why != "" {
		refuse(d, "%s", why)
		return nil
	}
	d.Status.RecordName = domains.TXTName(name)
	d.Status.RecordValue = domains.Token(string(org.UID), name, r.Secret)
	res, err := r.Resolver.Check(ctx, name, d.Status.RecordValue)
	if err != nil {
		return err
	}
	now := metav1.Now().Rfc3339Copy()
	d.Status.CheckedAt = &now
	if !res.Verified {
		unproven(d, res.Reason)
		return nil
	}
	holder, err := r.holder(ctx, d)
	if err != nil {
		return err
	}
	if holder != nil {
		conflict(d, holder)
		return nil
	}
	verified(d, res.Reason, now)
	return nil
}

// organization is the organization whose namespace holds a Domain, or nil
// when the namespace is no organization's.
func (r *DomainReconciler) organization(ctx context.Context, namespace string) (*v1alpha1.Organization, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	name := ns.Labels[v1alpha1.LabelOrganization]
	if name == "" {
		return nil, nil
	}
	org := &v1alpha1.Organization{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, org); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(ns, org) {
		return nil, nil
	}
	return org, nil
}

// claimable returns the domain in normalized form, or why it cannot be
// claimed: it does not normalize, is not written normalized, or is a
// consumer e-mail domain.
func (r *DomainReconciler) claimable(domain string) (string, string) {
	name, err := domains.Normalize(domain)
	switch {
	case err != nil:
		return "", err.Error()
	case name != domain:
		return "", fmt.Sprintf("spec.domain %q is not in normalized form: spec.domain cannot change, so delete "+
			"this Domain and create one with spec.domain %q", domain, name)
	case r.Consumer.Is(name):
		return "", fmt.Sprintf("%s is a consumer e-mail domain: anyone can have an address there, "+
			"so no organization may claim it", name)
	}
	return name, ""
}

// holder is the Domain holding d's domain when it is not d: another Domain
// for the same domain that is Verified. A Domain that is not Verified yet
// never takes the domain from a holder; of two Verified ones (both proved
// it before either saw the other), the one verified first holds it, ties
// broken by namespace and name.
func (r *DomainReconciler) holder(ctx context.Context, d *v1alpha1.Domain) (*v1alpha1.Domain, error) {
	others, err := r.sameDomain(ctx, d)
	if err != nil {
		return nil, err
	}
	var first *v1alpha1.Domain
	for i := range others {
		o := &others[i]
		if o.Status.Phase == v1alpha1.DomainVerified && o.Status.VerifiedAt != nil &&
			(first == nil || heldBefore(o, first)) {
			first = o
		}
	}
	held := d.Status.Phase == v1alpha1.DomainVerified && d.Status.VerifiedAt != nil
	if first == nil || (held && heldBefore(d, first)) {
		return nil, nil
	}
	return first, nil
}

// heldBefore orders Verified Domains: verified first, then by namespace and
// name.
func heldBefore(a, b *v1alpha1.Domain) bool {
	ta, tb := a.Status.VerifiedAt.Time, b.Status.VerifiedAt.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// sameDomain lists the other Domains, in every namespace, with d's
// spec.domain.
func (r *DomainReconciler) sameDomain(ctx context.Context, d *v1alpha1.Domain) ([]v1alpha1.Domain, error) {
	all := &v1alpha1.DomainList{}
	if err := r.List(ctx, all); err != nil {
		return nil, err
	}
	var same []v1alpha1.Domain
	for _, o := range all.Items {
		if o.Spec.Domain == d.Spec.Domain && o.UID != d.UID {
			same = append(same, o)
		}
	}
	return same, nil
}

// refuse sets phase Refused: the Domain cannot be claimed, so it shows no
// record to add.
func refuse(d *v1alpha1.Domain, format string, args ...any) {
	d.Status.Phase, d.Status.Reason = v1alpha1.DomainRefused, fmt.Sprintf(format, args...)
	d.Status.RecordName, d.Status.RecordValue = "", ""
}

// unproven sets phase Pending, or Lapsed when the domain was verified
// before.
func unproven(d *v1alpha1.Domain, reason string) {
	if d.Status.VerifiedAt == nil {
		d.Status.Phase, d.Status.Reason = v1alpha1.DomainPending, reason
		return
	}
	d.Status.Phase = v1alpha1.DomainLapsed
	d.Status.Reason = fmt.Sprintf("%s was verified, but its record no longer proves it: enrolment through it stops; "+
		"nobody is removed. %s", d.Spec.Domain, reason)
}

// conflict sets phase Conflict, naming the organization that holds the
// domain.
func conflict(d, holder *v1alpha1.Domain) {
	d.Status.Phase = v1alpha1.DomainConflict
	if holder.Namespace == d.Namespace {
		d.Status.Reason = fmt.Sprintf("%s is held by Domain %s of this organization, which proved it first; "+
			"delete one of the two", d.Spec.Domain, holder.Name)
		return
	}
	org := strings.TrimPrefix(holder.Namespace, v1alpha1.OrganizationNamespacePrefix)
	d.Status.Reason = fmt.Sprintf("%s is held by organization %s, which proved it first; ask them to remove "+
		"their Domain, then raise spec.reverify", d.Spec.Domain, org)
}

// verified sets phase Verified; verifiedAt keeps the first time.
func verified(d *v1alpha1.Domain, reason string, now metav1.Time) {
	d.Status.Phase, d.Status.Reason = v1alpha1.DomainVerified, reason
	if d.Status.VerifiedAt == nil {
		d.Status.VerifiedAt = &now
	}
}

// setDomainConditions sets Verified from the phase, and Ready, Reconciling
// and Stalled the kstatus way: Pending and Lapsed are rechecked on their
// own (Reconciling), Refused and Conflict need a person (Stalled), a failed
// lookup is retried.
func setDomainConditions(d *v1alpha1.Domain, failed error) {
	s := &d.Status
	s.ObservedGeneration = d.Generation
	if s.Phase != "" {
		status := metav1.ConditionFalse
		if s.Phase == v1alpha1.DomainVerified {
			status = metav1.ConditionTrue
		}
		set(&s.Conditions, d.Generation, ConditionVerified, status, string(s.Phase), s.Reason)
	}
	err := failed
	if err == nil {
		switch s.Phase {
		case v1alpha1.DomainPending, v1alpha1.DomainLapsed:
			err = waiting("%s", s.Reason)
		case v1alpha1.DomainRefused, v1alpha1.DomainConflict:
			err = stalled(string(s.Phase), "%s", s.Reason)
		}
	}
	setKstatusConditions(&s.Conditions, d.Generation, err, s.Reason)
}

// recordPhase emits an event when the phase changed: Normal for Pending and
// Verified, Warning for the others.
func (r *DomainReconciler) recordPhase(d *v1alpha1.Domain, old v1alpha1.DomainPhase) {
	if d.Status.Phase == old || d.Status.Phase == "" {
		return
	}
	kind := corev1.EventTypeWarning
	if d.Status.Phase == v1alpha1.DomainVerified || d.Status.Phase == v1alpha1.DomainPending {
		kind = corev1.EventTypeNormal
	}
	r.Recorder.Eventf(d, nil, kind, string(d.Status.Phase), "Verify", "%s", d.Status.Reason)
}

// requeueAfter is when the record is looked up again: Recheck for a
// verified domain, every minute (at most Recheck) for one awaiting its
// record; never for Refused and Conflict, which wait for a person or for
// the holder to change.
func (r *DomainReconciler) requeueAfter(phase v1alpha1.DomainPhase) time.Duration {
	recheck := cmp.Or(r.Recheck, defaultRecheck)
	switch phase {
	case v1alpha1.DomainVerified:
		return recheck
	case v1alpha1.DomainPending, v1alpha1.DomainLapsed:
		return min(pendingRecheck, recheck)
	}
	return 0
}

// SetupWithManager watches Domains: a spec change (spec.reverify) looks
// the record up at once, and a Domain deleted or changing phase wakes the
// others claiming the same domain.
func (r *DomainReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if len(r.Secret) == 0 {
		return errors.New("domain reconciler needs a secret")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Domain{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.Domain{}, handler.EnqueueRequestsFromMapFunc(r.othersClaiming),
			builder.WithPredicates(holdingChanged)).
		Named("domain").
		Complete(r)
}

// othersClaiming maps a Domain to the other Domains with its spec.domain.
func (r *DomainReconciler) othersClaiming(ctx context.Context, o client.Object) []reconcile.Request {
	d, ok := o.(*v1alpha1.Domain)
	if !ok {
		return nil
	}
	same, err := r.sameDomain(ctx, d)
	if err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(same))
	for _, s := range same {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
	}
	return reqs
}

// holdingChanged passes what can change who holds a domain: a deletion,
// or a change of phase or verifiedAt.
var holdingChanged = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*v1alpha1.Domain)
		cur, okNew := e.ObjectNew.(*v1alpha1.Domain)
		return !okOld || !okNew || old.Status.Phase != cur.Status.Phase ||
			!old.Status.VerifiedAt.Equal(cur.Status.VerifiedAt)
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}
