package usage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// Invitees, in an Inventory, are the people holding a seat through a
// pending invitation who are not members yet.
const Invitees = "invitees"

// InviteeKey is the subject key an invitation to email holds a seat as:
// the key of the member it becomes, so that accepting it (or adding the
// person directly) counts once.
func InviteeKey(email string) string {
	return index.SubjectKey(v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: email})
}

// PendingInvitees are the keys of the people org's pending invitations
// hold seats for at now, leaving out members.
func PendingInvitees(ctx context.Context, r client.Reader, org *v1alpha1.Organization, members []string, now time.Time) (
	[]string, error) {
	list := &v1alpha1.InvitationList{}
	if err := r.List(ctx, list, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, fmt.Errorf("failed to list invitations: %w", err)
	}
	var out []string
	for i := range list.Items {
		key := InviteeKey(list.Items[i].Spec.Email)
		if list.Items[i].Holds(now) && !slices.Contains(members, key) && !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out, nil
}

// Seats are the seats inv shows against the users limit: members and
// pending invitees.
func Seats(inv Inventory, limit int64) *v1alpha1.Seats {
	used, pending := int64(len(inv[Users])+len(inv[Invitees])), int64(len(inv[Invitees]))
	s := &v1alpha1.Seats{Used: used, Pending: pending, Limit: limit}
	s.Summary = fmt.Sprintf("%d/%d", used, limit)
	if pending > 0 {
		s.Summary += fmt.Sprintf(" (%d pending)", pending)
	}
	return s
}

// InvitationWindow is how many of invitations were sent in the hour
// before now, and, when that reaches perHour, the seconds until the
// oldest of them leaves the hour (0 while more may be sent).
func InvitationWindow(invitations []v1alpha1.Invitation, perHour int64, now time.Time) (sent int64, retryAfter int) {
	oldest := now
	for _, i := range invitations {
		if t := i.CreationTimestamp.Time; now.Sub(t) < time.Hour {
			sent++
			if t.Before(oldest) {
				oldest = t
			}
		}
	}
	if sent < perHour {
		return sent, 0
	}
	return sent, int((time.Hour-now.Sub(oldest))/time.Second) + 1
}
