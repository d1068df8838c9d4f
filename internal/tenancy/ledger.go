package tenancy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// SystemNamespace is orgplane's own namespace: the manager's Secrets (the
// serving certificate, the usage-report key, the revocation list in force)
// and Leases (leader election, creators' ledgers, display-name claims).
const SystemNamespace = "orgplane-system"

// LedgerNamespace holds the creators' ledgers (beside the display-name claims).
const LedgerNamespace = SystemNamespace

// annotationPending, on a creator's ledger Lease, holds the organizations
// admitted for that creator that the cache may not show yet: a JSON object
// of organization name to the RFC 3339 instant the entry lapses.
const annotationPending = "orgplane.io/pending-organizations"

// annotationTrials, on a creator's ledger Lease, lists (JSON) the
// organizations that creator has taken self-issued licenses for. It only
// grows: deleting the organization gives no trial back.
const annotationTrials = "orgplane.io/trials"

// ledgerTTL is how long an admitted organization counts while the cache
// does not show it (a create refused after admission never appears).
const ledgerTTL = 30 * time.Second

// maxAttempts bounds the compare-and-swap retries between replicas.
const maxAttempts = 50

// Reserve admits organization org for the creator recorded as createdBy
// when that creator (CreatorKey) is within MaxPerUser, exactly, however many
// creates arrive at once, from any replica. As the object limits do, it
// counts the organizations the cache shows plus those admitted but not yet
// shown, and records org in the creator's ledger Lease with an update
// conditional on the Lease's resourceVersion: concurrent admissions
// conflict and count again. A dry run writes nothing.
func (c *Creators) Reserve(ctx context.Context, createdBy, org string, dryRun bool) error {
	if c.MaxPerUser <= 0 || createdBy == "" {
		return nil
	}
	for range maxAttempts {
		err := c.tryReserve(ctx, index.CreatorKey(createdBy), createdBy, org, dryRun)
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return apierrors.NewTooManyRequests(fmt.Sprintf("%s is creating many organizations at once; retry", createdBy), 1)
}

func (c *Creators) tryReserve(ctx context.Context, key, createdBy, org string, dryRun bool) error {
	lease, pending, err := c.ledger(ctx, key)
	if err != nil {
		return err
	}
	orgs := &v1alpha1.OrganizationList{}
	if err := c.Reader.List(ctx, orgs, client.MatchingFields{index.CreatedBy: key}); err != nil {
		return fmt.Errorf("failed to count the organizations %s created: %w", createdBy, err)
	}
	now := time.Now()
	for _, o := range orgs.Items {
		delete(pending, o.Name) // shown by the cache: counted there
	}
	maps.DeleteFunc(pending, func(name string, until time.Time) bool { return !now.Before(until) })
	if _, ok := pending[org]; ok {
		return nil // admitted already and not yet shown: counted once
	}
	if n := len(orgs.Items) + len(pending); n >= c.MaxPerUser {
		return overCap(createdBy, n)
	}
	if dryRun {
		return nil
	}
	pending[org] = now.Add(ledgerTTL).Truncate(time.Second)
	return c.writeLedger(ctx, lease, pending)
}

// ledger reads the creator's Lease live, or a new one to create.
func (c *Creators) ledger(ctx context.Context, key string) (*coordinationv1.Lease, map[string]time.Time, error) {
	lease := &coordinationv1.Lease{}
	err := c.Live.Get(ctx, types.NamespacedName{Namespace: LedgerNamespace, Name: ledgerName(key)}, lease)
	if apierrors.IsNotFound(err) {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: ledgerName(key), Namespace: LedgerNamespace,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}}}, map[string]time.Time{}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read the ledger of creator %s: %w", key, err)
	}
	pending := map[string]time.Time{}
	if raw := lease.Annotations[annotationPending]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &pending); err != nil {
			pending = map[string]time.Time{} // unreadable: what the cache shows still counts
		}
	}
	return lease, pending, nil
}

func (c *Creators) writeLedger(ctx context.Context, lease *coordinationv1.Lease, pending map[string]time.Time) error {
	raw, err := json.Marshal(pending)
	if err != nil {
		return err
	}
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[annotationPending] = string(raw)
	if lease.ResourceVersion == "" {
		return c.Writer.Create(ctx, lease)
	}
	return c.Writer.Update(ctx, lease)
}

// ledgerName is a creator's Lease: a hash, since creator keys are not
// object names.
func ledgerName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "orgplane-creator-" + hex.EncodeToString(sum[:10])
}

func overCap(createdBy string, n int) error {
	who := createdBy + " has"
	if k := index.CreatorKey(createdBy); k != "user:"+createdBy {
		who = "the ServiceAccounts of namespace " + strings.TrimPrefix(k, "serviceaccounts:") + " together have"
	}
	return apierrors.NewForbidden(organizations, "", fmt.Errorf(
		"%s created %d organizations, the most one creator may create here; delete one or ask a platform admin", who, n))
}

// TakeTrial records that the requester takes a self-issued license for
// organization org, or refuses (403) once they have taken MaxTrials for
// other organizations. Like Reserve, the count is exact under concurrent
// requests (a conditional update of the requester's ledger).
func (c *Creators) TakeTrial(ctx context.Context, requester, org string) error {
	if c.MaxTrials <= 0 || requester == "" {
		return nil
	}
	key := index.CreatorKey(requester)
	for range maxAttempts {
		err := c.tryTakeTrial(ctx, key, requester, org)
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return apierrors.NewTooManyRequests(fmt.Sprintf("%s is asking for many licenses at once; retry", requester), 1)
}

func (c *Creators) tryTakeTrial(ctx context.Context, key, requester, org string) error {
	lease, pending, err := c.ledger(ctx, key)
	if err != nil {
		return err
	}
	var trials []string
	if raw := lease.Annotations[annotationTrials]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &trials) // unreadable: counted as none
	}
	if slices.Contains(trials, org) {
		return nil // this organization's own trial: issuing it again is refused by its name
	}
	if len(trials) >= c.MaxTrials {
		return apierrors.NewForbidden(organizations, org, fmt.Errorf(
			"%s has taken %d self-issued licenses (for %s), the most one requester may take here; send a licenseKey",
			requester, len(trials), strings.Join(trials, ", ")))
	}
	raw, err := json.Marshal(append(trials, org))
	if err != nil {
		return err
	}
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[annotationTrials] = string(raw)
	return c.writeLedger(ctx, lease, pending)
}
