package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
	"github.com/orgplane/orgplane/internal/usage"
)

// clock is a PerUser's time, moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestLimiter(r Rate) (*PerUser, *clock) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	p := NewPerUser(r)
	p.now = c.now
	return p, c
}

func allowed(p *PerUser, user string, n int) int {
	ok := 0
	for range n {
		if p.Allow(user) {
			ok++
		}
	}
	return ok
}

func TestPerUserBurstThenRate(t *testing.T) {
	p, c := newTestLimiter(Rate{PerSecond: 20, Burst: 40})
	if got := allowed(p, "mallory", 100); got != 40 {
		t.Fatalf("a flood at once: %d allowed, want the burst of 40", got)
	}
	if got := allowed(p, "alice", 5); got != 5 {
		t.Errorf("another user during the flood: %d of 5 allowed", got)
	}
	c.t = c.t.Add(500 * time.Millisecond)
	if got := allowed(p, "mallory", 100); got != 10 {
		t.Errorf("half a second later: %d allowed, want 10 (20/s)", got)
	}
	c.t = c.t.Add(time.Hour)
	if got := allowed(p, "mallory", 100); got != 40 {
		t.Errorf("after an idle hour: %d allowed, want the burst of 40, no more", got)
	}
}

func TestPerUserForgetsIdleUsers(t *testing.T) {
	p, c := newTestLimiter(Rate{PerSecond: 1, Burst: 2})
	for _, u := range []string{"a", "b", "c"} {
		p.Allow(u)
	}
	c.t = c.t.Add(2 * time.Minute)
	p.Allow("d")
	if n := p.users(); n != 1 {
		t.Errorf("after two idle minutes %d buckets held, want only d's", n)
	}
}

func TestPerUserUnbounded(t *testing.T) {
	if p := NewPerUser(Rate{PerSecond: 0, Burst: 40}); p != nil || !p.Allow("anyone") {
		t.Errorf("a rate of 0 must bound nothing")
	}
}

func requestBy(user string) context.Context {
	return admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UserInfo: authenticationv1.UserInfo{Username: user}}})
}

func TestRequestLimitChargesTheRequesterNotTheManager(t *testing.T) {
	const self = "system:serviceaccount:orgplane-system:orgplane-manager"
	users, _ := newTestLimiter(Rate{PerSecond: 1, Burst: 1})
	l := &requestLimit{users: users, self: self}
	plain := &v1alpha1.Account{}
	viaREST := &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{orgs.AnnotationRequestedBy: "carol"}}}

	if err := l.check(requestBy("mallory"), plain, true); err != nil {
		t.Fatalf("first request: %v", err)
	}
	err := l.check(requestBy("mallory"), plain, true)
	if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "slow down: mallory sent more than 1 admission requests per second") {
		t.Errorf("second request: got %v, want 429 naming mallory", err)
	}
	// A tenant cannot charge someone else by writing the annotation.
	forged := &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{orgs.AnnotationRequestedBy: "bob"}}}
	if err := l.check(requestBy("mallory"), forged, true); !apierrors.IsTooManyRequests(err) {
		t.Errorf("mallory naming bob: got %v, want mallory's 429", err)
	}
	for i := range 5 {
		if err := l.check(requestBy(self), plain, true); err != nil {
			t.Fatalf("the manager's own create %d: %v", i, err)
		}
		if err := l.check(requestBy(self), viaREST, false); err != nil {
			t.Fatalf("the manager's update %d of an object the REST API created: %v", i, err)
		}
	}
	if err := l.check(requestBy(self), viaREST, true); err != nil {
		t.Fatalf("the REST caller's first create: %v", err)
	}
	if err := l.check(requestBy(self), viaREST, true); !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "carol") {
		t.Errorf("the REST caller's second create: got %v, want 429 naming carol", err)
	}
	if err := l.check(requestBy("bob"), plain, true); err != nil {
		t.Errorf("bob, during the others' floods: %v", err)
	}
}

// The limiter counts from the cache: a cache behind the API server must
// never let a create over the limit, and a dry-run reads nothing live.

func testScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func limitedOrg(accounts int64, reserved ...string) *v1alpha1.Organization {
	org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
		Status: v1alpha1.OrganizationStatus{Plan: &v1alpha1.Plan{Type: "team", Phase: v1alpha1.PlanPhaseActive,
			Limits: v1alpha1.Limits{Accounts: accounts, Users: 10, Deployments: 10}}}}
	for _, name := range reserved {
		org.Status.Reservations = append(org.Status.Reservations, v1alpha1.Reservation{
			Resource: usage.Accounts, Name: name, Expires: metav1.NewTime(time.Now().Add(time.Minute))})
	}
	return org
}

func accountObjects(names ...string) []client.Object {
	out := make([]client.Object, 0, len(names))
	for _, n := range names {
		out = append(out, &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "org-acme"}})
	}
	return out
}

// testLimiter: live holds org and the accounts live has; cached holds a
// copy of org and the accounts cached has.
func testLimiter(t *testing.T, org *v1alpha1.Organization, live, cached []string) (*Limiter, client.Client) {
	s := testScheme(t)
	liveClient := fake.NewClientBuilder().WithScheme(s).WithStatusSubresource(&v1alpha1.Organization{}).
		WithObjects(append(accountObjects(live...), org.DeepCopy())...).Build()
	cache := fake.NewClientBuilder().WithScheme(s).WithObjects(append(accountObjects(cached...), org.DeepCopy())...).Build()
	return &Limiter{Client: liveClient, Cached: cache, Live: liveClient, TTL: 30 * time.Second}, liveClient
}

func TestLimiterCacheBehindACreate(t *testing.T) {
	// a2 was admitted (reserved) and created; the cache has not seen it.
	l, _ := testLimiter(t, limitedOrg(2, "a2"), []string{"a1", "a2"}, []string{"a1"})
	err := l.Reserve(context.Background(), "acme", usage.Accounts, "a3", false)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "(2 in use") {
		t.Errorf("a third account: got %v, want refused with 2 in use", err)
	}
}

func TestLimiterKeepsReservationsTheCacheHasSeen(t *testing.T) {
	// This cache has seen a2; another replica's may not have: its
	// reservation must stay until it expires.
	l, live := testLimiter(t, limitedOrg(3, "a2"), []string{"a1", "a2"}, []string{"a1", "a2"})
	if err := l.Reserve(context.Background(), "acme", usage.Accounts, "a3", false); err != nil {
		t.Fatalf("a third account of 3: %v", err)
	}
	org := &v1alpha1.Organization{}
	if err := live.Get(context.Background(), client.ObjectKey{Name: "acme"}, org); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(org.Status.Reservations))
	for _, r := range org.Status.Reservations {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "a2,a3" {
		t.Errorf("reservations %v, want a2,a3", names)
	}
}

func TestLimiterCacheBehindADelete(t *testing.T) {
	// a2 is gone; the cache still shows it: refuse only on a live count.
	l, _ := testLimiter(t, limitedOrg(2), []string{"a1"}, []string{"a1", "a2"})
	if err := l.Reserve(context.Background(), "acme", usage.Accounts, "a3", false); err != nil {
		t.Errorf("a second account of 2 once a2 is deleted: %v", err)
	}
}

// failing fails every read: a dry-run must not read live.
type failing struct{ client.Reader }

func (failing) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("read live")
}

func (failing) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("read live")
}

func TestLimiterDryRunReadsTheCacheOnly(t *testing.T) {
	l, _ := testLimiter(t, limitedOrg(2), []string{"a1", "a2"}, []string{"a1"})
	l.Live, l.Client = failing{}, nil
	if err := l.Reserve(context.Background(), "acme", usage.Accounts, "a3", true); err != nil {
		t.Errorf("dry-run within the cached count: %v", err)
	}
	l, _ = testLimiter(t, limitedOrg(1), []string{"a1"}, []string{"a1"})
	l.Live, l.Client = failing{}, nil
	if err := l.Reserve(context.Background(), "acme", usage.Accounts, "a2", true); !apierrors.IsForbidden(err) {
		t.Errorf("dry-run over the cached count: got %v, want refused", err)
	}
}
