package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// Admission is 200 concurrent Account creates against a limit of 50.
type Admission struct {
	Attempts int     `json:"attempts"`
	Limit    int     `json:"limit"`
	Admitted int     `json:"admitted"`
	Refused  int     `json:"refused"`
	Other    int     `json:"otherErrors"`
	Seconds  float64 `json:"seconds"`
}

func (s *stack) admission(ctx context.Context) (Admission, error) {
	a := Admission{Attempts: 200, Limit: 50}
	org, err := s.licensedOrganization(ctx, "admission", int64(a.Limit))
	if err != nil {
		return a, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := range a.Attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.admin.Create(ctx, &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{
				Name:      fmt.Sprintf("a%d", i),
				Namespace: org.NamespaceName(),
			}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				a.Admitted++
			case strings.Contains(err.Error(), "has reached its limit"):
				a.Refused++
			default:
				a.Other++
			}
		}()
	}
	wg.Wait()
	a.Seconds = time.Since(start).Seconds()
	return a, nil
}

// licensedOrganization creates an organization with a license allowing
// accounts accounts, and waits until its status shows the limit.
func (s *stack) licensedOrganization(ctx context.Context, name string, accounts int64) (*v1alpha1.Organization, error) {
	org := &v1alpha1.Organization{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.OrganizationSpec{
			DisplayName: name,
			Members:     []v1alpha1.Member{{Kind: v1alpha1.SubjectUser, Name: "owner@bench.example", Role: "admin"}},
		},
	}
	if err := s.admin.Create(ctx, org); err != nil {
		return nil, err
	}
	now := time.Now()
	key, err := license.Issue(s.vendorKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        name,
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Type:         "bench",
		Licensee:     name,
		Organization: name,
		Limits:       license.Limits{Accounts: accounts, Users: 10, Deployments: 10},
	})
	if err != nil {
		return nil, err
	}
	lic := &v1alpha1.License{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.LicenseSpec{Key: key, Organization: name},
	}
	if err := s.admin.Create(ctx, lic); err != nil {
		return nil, err
	}
	limited := func(ctx context.Context) (bool, error) {
		if err := s.admin.Get(ctx, client.ObjectKeyFromObject(org), org); err != nil {
			return false, err
		}
		return org.Status.Plan != nil && org.Status.Plan.Limits.Accounts == accounts && org.Status.Namespace != "", nil
	}
	return org, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, limited)
}

// rssBytes is this process's resident set size, from /proc.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
