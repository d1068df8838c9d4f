package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/manager"
)

// Flood is issue 19, item 9: tenant A floods dry-run Deployment creates in
// its workspaces while tenant B creates Deployments, for real, in its own;
// B's latency is measured quiet and during the flood.
type Flood struct {
	AttackerOrgs       int     `json:"attackerOrganizations"`
	AttackerWorkspaces int     `json:"attackerWorkspacesPerOrganization"`
	AttackerClients    int     `json:"attackerClients"`
	Creates            int     `json:"creates"`
	QuietP50ms         float64 `json:"quietP50ms"`
	QuietP99ms         float64 `json:"quietP99ms"`
	FloodP50ms         float64 `json:"floodP50ms"`
	FloodP99ms         float64 `json:"floodP99ms"`
	FloodErrors        int     `json:"floodCreateErrors"`
	AttackerRPS        float64 `json:"attackerRequestsPerSecond"`
	AttackerRefused    int64   `json:"attackerTooManyRequests"`
	AttackerAdmitted   int64   `json:"attackerAdmitted"`
	// APIReadsPerSecond are the GETs and LISTs kube-apiserver served during
	// the flood, from every client: the admission reads the flood costs.
	APIReadsPerSecond float64 `json:"apiReadsPerSecond"`
}

// floodParams size the flood measurement.
type floodParams struct {
	orgs, workspaces, clients, creates int
	interval                           time.Duration
}

// flood measures tenant B's Deployment creates (one every interval, under
// any per-user rate) quiet, then while tenant A's clients send dry-run
// creates back to back, never waiting on a Retry-After (an attacker does not).
func (s *stack) flood(ctx context.Context, p floodParams) (Flood, error) {
	f := Flood{AttackerOrgs: p.orgs, AttackerWorkspaces: p.workspaces, AttackerClients: p.clients, Creates: p.creates}
	attacker, victim := "attacker@flood.example", "victim@flood.example"
	var aWorkspaces []string // organization by organization, round robin
	for i := range p.orgs {
		ws, err := s.tenantWorkspaces(ctx, fmt.Sprintf("flood-a%d", i), attacker, p.workspaces, 10)
		if err != nil {
			return f, err
		}
		aWorkspaces = append(aWorkspaces, ws...)
	}
	aWorkspaces = interleave(aWorkspaces, p.orgs)
	bWorkspaces, err := s.tenantWorkspaces(ctx, "flood-b", victim, 1, int64(2*p.creates+10))
	if err != nil {
		return f, err
	}
	aCfg, _, err := s.cp.AddUser(attacker)
	if err != nil {
		return f, err
	}
	bCfg, _, err := s.cp.AddUser(victim)
	if err != nil {
		return f, err
	}
	aCfg.QPS, aCfg.Burst = 5000, 5000
	aCS, err := kubernetes.NewForConfig(aCfg)
	if err != nil {
		return f, err
	}
	bCfg.QPS, bCfg.Burst = 100, 100
	b, err := client.New(bCfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return f, err
	}
	// RBAC reaches the authorizer a moment after orgplane binds it.
	if err := untilAllowed(ctx, func() error {
		return b.Create(ctx, benchDeployment(bWorkspaces[0], "probe"), client.DryRunAll)
	}); err != nil {
		return f, err
	}
	if err := untilAllowed(ctx, func() error { return dryRunCreate(ctx, aCS, aWorkspaces[0], "probe") }); err != nil {
		return f, err
	}
	create := func(phase string) ([]time.Duration, int) {
		lat := make([]time.Duration, 0, p.creates)
		errs := 0
		tick := time.NewTicker(p.interval)
		defer tick.Stop()
		for i := range p.creates {
			<-tick.C
			t := time.Now()
			if err := b.Create(ctx, benchDeployment(bWorkspaces[0], fmt.Sprintf("%s-%d", phase, i))); err != nil {
				errs++
				fmt.Println("bench: victim create:", err)
			}
			lat = append(lat, time.Since(t))
		}
		return lat, errs
	}
	quiet, _ := create("quiet")
	f.QuietP50ms, f.QuietP99ms = percentiles(quiet)

	fctx, stop := context.WithCancel(ctx)
	var sent, refused, admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range p.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; fctx.Err() == nil; n++ {
				err := dryRunCreate(fctx, aCS, aWorkspaces[(i+n)%len(aWorkspaces)], fmt.Sprintf("f%d-%d", i, n))
				sent.Add(1)
				switch {
				case err == nil:
					admitted.Add(1)
				case apierrors.IsTooManyRequests(err):
					refused.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Second) // the flood at full speed before measuring
	start, before := time.Now(), sent.Load()
	reqsBefore, err := s.apiserverRequests(ctx)
	if err != nil {
		stop()
		return f, err
	}
	flooded, errs := create("flood")
	elapsed := time.Since(start).Seconds()
	f.AttackerRPS = float64(sent.Load()-before) / elapsed
	reqsAfter, err := s.apiserverRequests(ctx)
	if err != nil {
		stop()
		return f, err
	}
	for k, n := range diff(reqsAfter, reqsBefore) {
		if strings.HasPrefix(k, "GET ") || strings.HasPrefix(k, "LIST ") {
			f.APIReadsPerSecond += n / elapsed
		}
	}
	stop()
	wg.Wait()
	f.FloodP50ms, f.FloodP99ms = percentiles(flooded)
	f.FloodErrors, f.AttackerRefused, f.AttackerAdmitted = errs, refused.Load(), admitted.Load()
	return f, nil
}

// dryRunCreate is kubectl create --dry-run=server of a Deployment, with no
// retry on 429.
func dryRunCreate(ctx context.Context, cs *kubernetes.Clientset, namespace, name string) error {
	return cs.AppsV1().RESTClient().Post().Namespace(namespace).Resource("deployments").
		Param("dryRun", metav1.DryRunAll).Body(benchDeployment(namespace, name)).MaxRetries(0).Do(ctx).Error()
}

// untilAllowed retries f while it is Forbidden (RBAC not there yet).
func untilAllowed(ctx context.Context, f func() error) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		err := f()
		if apierrors.IsForbidden(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// tenantWorkspaces creates organization name administered by owner, with
// a license for accounts accounts and deployments Deployments, and its
// accounts; it returns their workspace namespaces once they exist.
func (s *stack) tenantWorkspaces(
	ctx context.Context, name, owner string, accounts int, deployments int64,
) ([]string, error) {
	org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.OrganizationSpec{DisplayName: name,
			Members: []v1alpha1.Member{{Kind: v1alpha1.SubjectUser, Name: owner, Role: v1alpha1.RoleAdmin}}}}
	if err := s.admin.Create(ctx, org); err != nil {
		return nil, err
	}
	now := time.Now()
	key, err := license.Issue(s.vendorKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: name, NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
		Type: "bench", Licensee: name, Organization: name,
		Limits: license.Limits{Accounts: int64(accounts), Users: 10, Deployments: deployments},
	})
	if err != nil {
		return nil, err
	}
	if err := s.admin.Create(ctx, &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.LicenseSpec{Key: key, Organization: name}}); err != nil {
		return nil, err
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true,
		func(ctx context.Context) (bool, error) {
			err := s.admin.Get(ctx, client.ObjectKeyFromObject(org), org)
			return err == nil && org.Status.Plan != nil && org.Status.Plan.Limits.Accounts == int64(accounts) &&
				org.Status.Namespace != "", err
		}); err != nil {
		return nil, fmt.Errorf("organization %s: %w", name, err)
	}
	var out []string
	for i := range accounts {
		acct := &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i), Namespace: org.NamespaceName()}}
		if err := s.admin.Create(ctx, acct); err != nil {
			return nil, err
		}
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true,
			func(ctx context.Context) (bool, error) {
				err := s.admin.Get(ctx, client.ObjectKeyFromObject(acct), acct)
				return err == nil && acct.Status.Namespace != "", err
			}); err != nil {
			return nil, fmt.Errorf("account %s: %w", acct.Name, err)
		}
		out = append(out, acct.Status.Namespace)
	}
	return out, nil
}

// interleave orders ws, n groups of equal length, as the first of each
// group, then the second of each, and so on.
func interleave(ws []string, n int) []string {
	per := len(ws) / n
	out := make([]string, 0, len(ws))
	for j := range per {
		for i := range n {
			out = append(out, ws[i*per+j])
		}
	}
	return out
}

func benchDeployment(namespace, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}},
		},
	}
}

func percentiles(lat []time.Duration) (p50, p99 float64) {
	if len(lat) == 0 {
		return 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100])
}

// runFlood starts the stack and runs only the flood measurement.
func runFlood(p floodParams) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, err := startStack(ctx)
	if err != nil {
		return err
	}
	defer env.stop()
	f, err := env.flood(ctx, p)
	if err != nil {
		return err
	}
	fmt.Printf("flood: tenant A, %d organizations of %d workspaces, %d clients of dry-run Deployment creates "+
		"(%.0f requests/s: %d refused 429, %d admitted); kube-apiserver served %.0f GET+LIST/s\n",
		f.AttackerOrgs, f.AttackerWorkspaces, f.AttackerClients, f.AttackerRPS, f.AttackerRefused, f.AttackerAdmitted,
		f.APIReadsPerSecond)
	fmt.Printf("flood: tenant B, %d Deployment creates one every %s: quiet p50 %.1f ms p99 %.1f ms; "+
		"during the flood p50 %.1f ms p99 %.1f ms (%d errors)\n",
		f.Creates, p.interval, f.QuietP50ms, f.QuietP99ms, f.FloodP50ms, f.FloodP99ms, f.FloodErrors)
	return nil
}
