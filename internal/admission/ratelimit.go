package admission

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/internal/orgs"
)

// Rate bounds each requester's admission requests: Burst at once, then
// PerSecond. Admission cost is shared: every replica's reads, its client's
// QPS and kube-apiserver serve all tenants, so one tenant's flood (of
// kubectl create --dry-run=server, say) must not slow the others'.
type Rate struct {
	// PerSecond is the sustained rate; 0 or less means unbounded.
	PerSecond float64
	Burst     int
}

// DefaultRate is each requester's bound unless configured otherwise: far
// above what a person or a CI pipeline applying manifests sends, far below
// what would crowd other tenants out.
var DefaultRate = Rate{PerSecond: 20, Burst: 40}

// PerUser is a token bucket per username. A bucket left idle until full
// is forgotten (a full bucket and no bucket are the same), so memory is
// bounded by the users active in the last Burst/PerSecond seconds.
type PerUser struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewPerUser returns a limiter of rate per user, or nil (no bound) when
// rate.PerSecond is not positive.
func NewPerUser(rate Rate) *PerUser {
	if rate.PerSecond <= 0 {
		return nil
	}
	if rate.Burst < 1 {
		rate.Burst = 1
	}
	return &PerUser{rate: rate, now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes one token from user's bucket, or says false when it is empty.
func (p *PerUser) Allow(user string) bool {
	if p == nil {
		return true
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	b, ok := p.buckets[user]
	if !ok {
		b = &bucket{tokens: float64(p.rate.Burst), at: now}
		p.buckets[user] = b
	}
	b.refill(now, p.rate)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time, r Rate) {
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(float64(r.Burst), b.tokens+elapsed*r.PerSecond)
	}
	b.at = now
}

// sweep forgets, at most once a minute, the buckets that have refilled.
func (p *PerUser) sweep(now time.Time) {
	if now.Sub(p.swept) < time.Minute {
		return
	}
	p.swept = now
	for user, b := range p.buckets {
		b.refill(now, p.rate)
		if b.tokens >= float64(p.rate.Burst) {
			delete(p.buckets, user)
		}
	}
}

// users is how many buckets are held (tests).
func (p *PerUser) users() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buckets)
}

// requestLimit charges each admission request to its requester's bucket,
// before any read: a refused request costs a map lookup. The manager is
// not bounded (its reconcilers' writes must not wait on a tenant's), but
// the REST API writes as the manager, so a create it makes is charged to
// the REST caller it names in orgplane.io/requested-by; that annotation
// is only trusted on the manager's own requests.
type requestLimit struct {
	users *PerUser
	self  string
}

func (l *requestLimit) check(ctx context.Context, obj client.Object, create bool) error {
	if l == nil || l.users == nil {
		return nil
	}
	u, err := requester(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(u.GetGroups(), "system:masters") {
		return nil // the cluster's own admins are no tenant to bound
	}
	name := u.GetName()
	if name == l.self {
		if name = obj.GetAnnotations()[orgs.AnnotationRequestedBy]; name == "" || !create {
			return nil
		}
	}
	if l.users.Allow(name) {
		return nil
	}
	return apierrors.NewTooManyRequests(fmt.Sprintf("slow down: %s sent more than %g admission requests per second (burst %d); retry later",
		name, l.users.rate.PerSecond, l.users.rate.Burst), 1)
}

// rateLimited is a validator whose creates and updates are charged to the
// requester first; deletes are free (every validator here allows them).
type rateLimited[T interface {
	runtime.Object
	client.Object
}] struct {
	admission.Validator[T]
	limit *requestLimit
}

func limited[T interface {
	runtime.Object
	client.Object
}](v admission.Validator[T], l *requestLimit) admission.Validator[T] {
	return rateLimited[T]{Validator: v, limit: l}
}

func (v rateLimited[T]) ValidateCreate(ctx context.Context, obj T) (admission.Warnings, error) {
	if err := v.limit.check(ctx, obj, true); err != nil {
		return nil, err
	}
	return v.Validator.ValidateCreate(ctx, obj)
}

func (v rateLimited[T]) ValidateUpdate(ctx context.Context, old, obj T) (admission.Warnings, error) {
	if err := v.limit.check(ctx, obj, false); err != nil {
		return nil, err
	}
	return v.Validator.ValidateUpdate(ctx, old, obj)
}
