package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/manager"
)

// Convergence compares orgplane reaching Ready with kube-apiserver's floor.
type Convergence struct {
	Organizations int `json:"organizations"`
	Accounts      int `json:"accounts"`
	// Users are the User objects orgplane made for the members.
	Users        int     `json:"users"`
	Seconds      float64 `json:"seconds"`
	APIWrites    float64 `json:"apiWrites"`
	FloorSeconds float64 `json:"floorSeconds"`
	Ratio        float64 `json:"ratio"`
	// ReconcilesPerObject is reconciles over the objects reconciled:
	// organizations, accounts, users and workspaces (one per account, which
	// the workspace and guardrails controllers reconcile).
	ReconcilesPerObject    float64 `json:"reconcilesPerObject"`
	APIWritesPerObject     float64 `json:"apiWritesPerObject"`
	WritesAfterConvergence float64 `json:"writesAfterConvergence"`
	// Reconciles counts reconciles during convergence by controller/result.
	Reconciles map[string]float64 `json:"reconciles"`
	// CPUSeconds is the CPU time each process used during convergence, and
	// FloorCPUSeconds during the floor.
	CPUSeconds      map[string]float64 `json:"cpuSeconds"`
	FloorCPUSeconds map[string]float64 `json:"floorCPUSeconds"`
	// Requests is what kube-apiserver served during convergence, from all
	// clients, keyed "VERB resource code".
	Requests map[string]float64 `json:"requests"`
	// ReplayFloorSeconds is the replayed floor (replay.go): the same objects
	// and as many writes of each kind, into a fresh control plane with no
	// controller. ReplayWrites is how many writes it made.
	ReplayFloorSeconds float64 `json:"replayFloorSeconds"`
	ReplayWrites       int     `json:"replayWrites"`
	// ReplayRetries are replayed creates made again because kube-apiserver
	// had yet to see the role a binding names (not counted in ReplayWrites).
	ReplayRetries         int64              `json:"replayRetries"`
	ReplayRatio           float64            `json:"replayRatio"`
	ReplayFloorCPUSeconds map[string]float64 `json:"replayFloorCPUSeconds"`
}

// workers is how many clients create the organizations and accounts.
const workers = 16

// floorClients is how many clients write the floors: enough to keep
// kube-apiserver busy (at 16 the replayed floor left a third of the 2 cores
// idle; 48 and 96 took the same time).
var floorClients = 64

func (s *stack) convergence(ctx context.Context, p Params) (Convergence, error) {
	c := Convergence{Organizations: p.Organizations, Accounts: p.Organizations * p.Accounts}
	c0, err := s.counts(ctx)
	if err != nil {
		return c, err
	}
	octx, stopObserving := context.WithCancel(ctx)
	defer stopObserving()
	obs, err := s.observe(octx)
	if err != nil {
		return c, err
	}
	before, cpu, start := reconciles(), cpuSeconds(), time.Now()
	if p.APIServerProfile != "" {
		go func() {
			if err := s.profileAPIServer(ctx, p.APIServerProfile, 60); err != nil {
				fmt.Println("bench: profiling kube-apiserver:", err)
			}
		}()
	}
	stopProfile, err := profileSelf(p.ManagerProfile)
	if err != nil {
		return c, err
	}
	if err := s.createAll(ctx, obs, p); err != nil {
		return c, err
	}
	if err := obs.waitAllReady(ctx, p); err != nil {
		return c, err
	}
	c.Seconds = time.Since(start).Seconds()
	stopProfile()
	stopObserving()
	c.CPUSeconds = diff(cpuSeconds(), cpu)
	after, err := s.apiserverRequests(ctx)
	if err != nil {
		return c, err
	}
	c.Requests = diff(after, c0.requests)
	w1, err := s.apiWrites(ctx)
	if err != nil {
		return c, err
	}
	objects := float64(c.Organizations + c.Accounts)
	c.APIWrites = w1 - c0.writes
	users := &v1alpha1.UserList{}
	if err := s.admin.List(ctx, users); err != nil {
		return c, err
	}
	c.Users = len(users.Items)
	c.Reconciles = diff(reconciles(), before)
	c.ReconcilesPerObject = sum(c.Reconciles) / float64(c.Organizations+2*c.Accounts+c.Users)
	c.APIWritesPerObject = (c.APIWrites - objects) / objects
	time.Sleep(5 * time.Second)
	w2, err := s.apiWrites(ctx)
	if err != nil {
		return c, err
	}
	c.WritesAfterConvergence = w2 - w1
	cpu = cpuSeconds()
	c.FloorSeconds, err = s.floor(ctx, int(c.APIWrites))
	c.FloorCPUSeconds = diff(cpuSeconds(), cpu)
	c.Ratio = c.Seconds / c.FloorSeconds
	return c, err
}

// observer is the bench's view of the cluster through a watch, as a GitOps
// tool or kubectl wait has: it creates an organization's accounts once its
// namespace exists, and counts what is Ready without polling kube-apiserver.
type observer struct {
	cache      cache.Cache
	namespaces chan string // organizations whose namespace was created
}

func (s *stack) observe(ctx context.Context) (*observer, error) {
	managed := labels.SelectorFromSet(labels.Set{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue})
	c, err := cache.New(s.adminCfg, cache.Options{Scheme: manager.Scheme(),
		ByObject: map[client.Object]cache.ByObject{&corev1.Namespace{}: {Label: managed}}})
	if err != nil {
		return nil, err
	}
	o := &observer{cache: c, namespaces: make(chan string, 1<<16)}
	inf, err := c.GetInformer(ctx, &corev1.Namespace{})
	if err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		ns := obj.(*corev1.Namespace)
		if org := ns.Labels[v1alpha1.LabelOrganization]; ns.Name == "org-"+org {
			o.namespaces <- org
		}
	}}); err != nil {
		return nil, err
	}
	for _, obj := range []client.Object{&v1alpha1.Organization{}, &v1alpha1.Account{}, &v1alpha1.User{}} {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the bench's cache did not sync")
	}
	return o, nil
}

// createAll creates the organizations from 16 clients and, as each one's
// namespace appears, its accounts.
func (s *stack) createAll(ctx context.Context, o *observer, p Params) error {
	errs := make(chan error, 2)
	go func() {
		errs <- parallel(p.Organizations, func(i int) error { return s.createOrganization(ctx, i, p) })
	}()
	go func() {
		errs <- parallel(p.Organizations, func(int) error {
			select {
			case org := <-o.namespaces:
				return s.createAccounts(ctx, org, p)
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return errors.Join(<-errs, <-errs)
}

// createOrganization creates organization i with its members.
func (s *stack) createOrganization(ctx context.Context, i int, p Params) error {
	name := fmt.Sprintf("bench-%d", i)
	members := []v1alpha1.Member{
		{Kind: v1alpha1.SubjectUser, Name: fmt.Sprintf("owner-%d@bench.example", i), Role: "admin"},
	}
	for j := 1; j < p.Members; j++ {
		members = append(members,
			v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: fmt.Sprintf("m%d-%d@bench.example", j, i), Role: "member"})
	}
	if i < 5 {
		members[len(members)-1].Name = benchUser
	}
	return s.admin.Create(ctx, &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.OrganizationSpec{DisplayName: "Bench " + name, Members: members}})
}

func (s *stack) createAccounts(ctx context.Context, org string, p Params) error {
	for j := range p.Accounts {
		acct := &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("a%d", j), Namespace: "org-" + org}}
		if err := s.admin.Create(ctx, acct); err != nil {
			return err
		}
	}
	return nil
}

// waitAllReady waits until every organization, account and User is Ready.
func (o *observer) waitAllReady(ctx context.Context, p Params) error {
	allReady := func(ctx context.Context) (bool, error) {
		orgs, accounts, users := &v1alpha1.OrganizationList{}, &v1alpha1.AccountList{}, &v1alpha1.UserList{}
		for _, l := range []client.ObjectList{orgs, accounts, users} {
			// Read-only, and no copies: at N=5 000 copying 35 000 objects
			// ten times a second took the bench's own share of the CPU.
			if err := o.cache.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
				return false, err
			}
		}
		orgConds := func(o v1alpha1.Organization) []metav1.Condition { return o.Status.Conditions }
		accountConds := func(a v1alpha1.Account) []metav1.Condition { return a.Status.Conditions }
		userConds := func(u v1alpha1.User) []metav1.Condition { return u.Status.Conditions }
		return countReady(orgs.Items, orgConds) >= p.Organizations &&
			countReady(accounts.Items, accountConds) >= p.Organizations*p.Accounts &&
			countReady(users.Items, userConds) >= expectedUsers(p), nil
	}
	// Each look visits every object: look less often as there are more
	// (every 100 ms at N=500, every second at 5 000), so that the bench's
	// own share of the CPU stays what it is at N=500.
	every := 100 * time.Millisecond * time.Duration(max(1, p.Organizations/500))
	return wait.PollUntilContextTimeout(ctx, every, time.Hour, true, allReady)
}

// expectedUsers is how many Users the members make: every member is a
// different user but benchUser, who belongs to the first 5 organizations.
func expectedUsers(p Params) int {
	shared := min(p.Organizations, 5)
	return p.Organizations*p.Members - shared + min(shared, 1)
}

func countReady[T any](items []T, conds func(T) []metav1.Condition) int {
	n := 0
	for _, it := range items {
		if meta.IsStatusConditionTrue(conds(it), v1alpha1.ConditionReady) {
			n++
		}
	}
	return n
}

// floor is how long kube-apiserver takes to accept n writes (ConfigMap
// creates from 16 clients) with no controller doing anything.
func (s *stack) floor(ctx context.Context, n int) (float64, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "floor"}}
	if err := s.admin.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return 0, err
	}
	start := time.Now()
	err := parallelOn(floorClients, n, func(i int) error {
		return s.admin.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w-%d", i), Namespace: "floor"},
			Data:       map[string]string{"k": "v"},
		})
	})
	return time.Since(start).Seconds(), err
}

// parallel runs f(0..n-1) on 16 workers and returns the first error.
func parallel(n int, f func(int) error) error { return parallelOn(workers, n, f) }

// parallelOn runs f(0..n-1) on w workers and returns the first error.
func parallelOn(w, n int, f func(int) error) error {
	jobs, errs := make(chan int), make(chan error, n)
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs
}

func diff(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
