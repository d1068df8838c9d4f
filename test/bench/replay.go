package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/localcp"
)

// The replayed floor writes again, into a fresh control plane with no
// controller and no webhooks, the objects convergence left — the same
// kinds, sizes and RBAC checks, as the manager's identity — and as many
// updates and status writes of each kind as convergence made. It is the time
// kube-apiserver takes to accept the writes orgplane made, were they made
// with nothing to wait for between them.

// replayKind is one kind of object convergence writes, in the order the
// replay creates them: owners and namespaces before what they hold.
type replayKind struct {
	resource string
	gvk      schema.GroupVersionKind
	// all captures every object of the kind, not only orgplane-labelled ones.
	all   bool
	phase int
}

var replayKinds = []replayKind{
	{"organizations", v1alpha1.GroupVersion.WithKind("Organization"), true, 0},
	{"namespaces", schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, false, 1},
	{"users", v1alpha1.GroupVersion.WithKind("User"), true, 1},
	{"clusterroles", rbacGVK("ClusterRole"), false, 1},
	{"clusterrolebindings", rbacGVK("ClusterRoleBinding"), false, 2},
	{"accounts", v1alpha1.GroupVersion.WithKind("Account"), true, 2},
	{"roles", rbacGVK("Role"), false, 2},
	{"events", schema.GroupVersionKind{Group: "events.k8s.io", Version: "v1", Kind: "Event"}, true, 2},
	{"rolebindings", rbacGVK("RoleBinding"), false, 3},
	{"secrets", schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, false, 3},
}

const replayPhases = 4

func rbacGVK(kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: kind}
}

// capture is what convergence wrote: its objects by resource, and how many
// writes other than creates it made per resource ("accounts",
// "accounts/status").
type capture struct {
	objects map[string][]unstructured.Unstructured
	updates map[string]int
}

func (c *capture) writes() int {
	n := 0
	for _, objs := range c.objects {
		n += len(objs)
	}
	for _, u := range c.updates {
		n += u
	}
	return n
}

// capture lists what convergence left; requests are the writes
// kube-apiserver counted during it.
func (s *stack) capture(ctx context.Context, requests map[string]float64) (*capture, error) {
	c := &capture{objects: map[string][]unstructured.Unstructured{}, updates: map[string]int{}}
	for _, k := range replayKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		var opts []client.ListOption
		if !k.all {
			opts = append(opts, client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue})
		}
		if err := s.admin.List(ctx, list, opts...); err != nil {
			return nil, err
		}
		for _, o := range list.Items {
			if k.resource != "events" || strings.HasPrefix(fmt.Sprint(o.Object["reportingController"]), "orgplane") {
				c.objects[k.resource] = append(c.objects[k.resource], o)
			}
		}
	}
	for key, n := range requests {
		f := strings.Fields(key) // VERB resource code
		if len(f) == 3 && slices.Contains([]string{"PUT", "PATCH", "APPLY"}, f[0]) && strings.HasPrefix(f[2], "2") {
			if _, ok := c.objects[strings.TrimSuffix(f[1], "/status")]; ok {
				c.updates[f[1]] += int(n)
			}
		}
	}
	return c, nil
}

// replay stops the stack and measures the replayed floor of what
// convergence wrote, on a fresh control plane.
func (s *stack) replay(ctx context.Context, c *Convergence) error {
	s.stop()
	c.ReplayWrites = s.captured.writes()
	var err error
	c.ReplayFloorSeconds, c.ReplayFloorCPUSeconds, c.ReplayRetries, err = replayFloor(ctx, s.captured)
	c.ReplayRatio = c.Seconds / c.ReplayFloorSeconds
	return err
}

// replayFloor starts a fresh control plane and times the replay of c: the
// creates in four steps (owners and namespaces first), then the updates.
func replayFloor(ctx context.Context, c *capture) (float64, map[string]float64, int64, error) {
	cp, err := localcp.Start(localcp.Options{CRDDir: filepath.Join("config", "crd", "bases")})
	if err != nil {
		return 0, nil, 0, err
	}
	defer func() { _ = cp.Stop() }()
	cfg, err := cp.AddManager(ctx, "config")
	if err != nil {
		return 0, nil, 0, err
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	w, err := client.New(cfg, client.Options{})
	if err != nil {
		return 0, nil, 0, err
	}
	settle(30 * time.Second)
	r := &replayer{c: w, uids: map[types.UID]types.UID{}}
	steps := []func() error{}
	for phase := range replayPhases {
		steps = append(steps, func() error { return r.create(ctx, c, phase) })
	}
	steps = append(steps, func() error { return r.update(ctx, c) })
	seconds, cpu, err := timeSteps(steps)
	return seconds, cpu, r.retries.Load(), err
}

// timeSteps runs steps one after the other and sums the time and CPU they
// took. Before each, kube-apiserver gets a second to catch up (its RBAC
// checks read the roles just created from its own cache); that is not timed.
func timeSteps(steps []func() error) (float64, map[string]float64, error) {
	var seconds float64
	cpu := map[string]float64{}
	for _, step := range steps {
		time.Sleep(time.Second)
		before, start := cpuSeconds(), time.Now()
		if err := step(); err != nil {
			return 0, nil, err
		}
		seconds += time.Since(start).Seconds()
		for k, v := range diff(cpuSeconds(), before) {
			cpu[k] += v
		}
	}
	return seconds, cpu, nil
}

// replayer writes captured objects as new ones, pointing owner references
// at the owners' new UIDs.
type replayer struct {
	c client.Client
	// retries counts creates refused because a referenced role was not
	// visible yet, and made again.
	retries atomic.Int64
	mu      sync.Mutex
	uids    map[types.UID]types.UID // captured UID → replayed UID
}

func (r *replayer) create(ctx context.Context, c *capture, phase int) error {
	var objs []unstructured.Unstructured
	for _, k := range replayKinds {
		if k.phase == phase {
			objs = append(objs, c.objects[k.resource]...)
		}
	}
	return parallelOn(floorClients, len(objs), func(i int) error {
		o := r.fresh(objs[i])
		if err := r.createOne(ctx, o); err != nil {
			return fmt.Errorf("replaying %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		r.mu.Lock()
		r.uids[objs[i].GetUID()] = o.GetUID()
		r.mu.Unlock()
		return nil
	})
}

// createOne creates o, retrying while kube-apiserver has yet to see the
// role a binding refers to (its RBAC checks read roles from its own cache).
func (r *replayer) createOne(ctx context.Context, o *unstructured.Unstructured) error {
	created := func(ctx context.Context) (bool, error) {
		err := r.c.Create(ctx, o)
		if apierrors.IsNotFound(err) {
			r.retries.Add(1)
		}
		return err == nil, client.IgnoreNotFound(err)
	}
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, created)
}

// fresh is o without what the API server sets, owned by the replayed owners.
func (r *replayer) fresh(o unstructured.Unstructured) *unstructured.Unstructured {
	u := o.DeepCopy()
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	delete(u.Object, "status")
	r.mu.Lock()
	defer r.mu.Unlock()
	refs := u.GetOwnerReferences()[:0]
	for _, ref := range u.GetOwnerReferences() {
		if uid, ok := r.uids[ref.UID]; ok {
			ref.UID = uid
			refs = append(refs, ref)
		}
	}
	u.SetOwnerReferences(refs)
	return u
}

// update makes as many writes of each kind as convergence made besides
// creates, spread over the replayed objects: an annotation for the object
// itself, a condition message for its status, so that each one is stored.
func (r *replayer) update(ctx context.Context, c *capture) error {
	type write struct {
		obj    *unstructured.Unstructured
		status bool
		n      int
	}
	var writes []write
	for resource, n := range c.updates {
		objs := c.objects[strings.TrimSuffix(resource, "/status")]
		for i := range n {
			writes = append(writes, write{&objs[i%len(objs)], strings.HasSuffix(resource, "/status"), i})
		}
	}
	return parallelOn(floorClients, len(writes), func(i int) error {
		w := writes[i]
		patch, err := variant(w.obj, w.status, w.n)
		if err != nil {
			return err
		}
		o := w.obj.DeepCopy()
		if w.status {
			err = r.c.Status().Patch(ctx, o, client.RawPatch(types.MergePatchType, patch))
		} else {
			err = r.c.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch))
		}
		if err != nil {
			return fmt.Errorf("replaying a write to %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		return nil
	})
}

// variant is a merge patch that changes o: its captured status with the
// first condition's message numbered n, or an annotation numbered n.
func variant(o *unstructured.Unstructured, status bool, n int) ([]byte, error) {
	if !status {
		annotations := map[string]string{"bench.orgplane.io/replay": strconv.Itoa(n)}
		return json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	}
	st, _, _ := unstructured.NestedMap(o.Object, "status")
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	if len(conds) > 0 {
		first := conds[0].(map[string]any)
		first["message"] = fmt.Sprintf("%v (replay %d)", first["message"], n)
		st["conditions"] = conds
	}
	return json.Marshal(map[string]any{"status": st})
}
