package rest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Resource is an object in the seeds' shape.
type Resource struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       any      `json:"spec"`
	Status     any      `json:"status"`
}

// Metadata is the seeds' metadata block.
type Metadata struct {
	AdditionalInfo  AdditionalInfo    `json:"additionalInfo"`
	DateModified    string            `json:"dateModified"`
	Deprecated      bool              `json:"deprecated"`
	Description     string            `json:"description"`
	DisplayName     string            `json:"displayName"`
	Hash            string            `json:"hash"`
	Icon            string            `json:"icon"`
	ID              string            `json:"id"`
	Labels          map[string]string `json:"labels"`
	Name            string            `json:"name"`
	ResourceDocLink string            `json:"resourceDocLink"`
	Stability       string            `json:"stability"`
	Version         int64             `json:"version"`
	Warning         string            `json:"warning"`
}

// AdditionalInfo is the seeds' documentation block.
type AdditionalInfo struct {
	Documentation []Link `json:"documentation"`
	Message       string `json:"message"`
}

// Link is a documentation link.
type Link struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Parameter is a parameter as the seeds show it.
type Parameter struct {
	Credential bool    `json:"credential"`
	Name       string  `json:"name"`
	Sensitive  bool    `json:"sensitive"`
	Value      *string `json:"value"`
}

// OrganizationSpec is an organization's spec as the seeds show it.
type OrganizationSpec struct {
	Auth0      Auth0       `json:"auth0"`
	Parameters []Parameter `json:"parameters"`
}

// Auth0 is the SSO link as the seeds show it: every key present, empty
// strings for an organization without SSO.
type Auth0 struct {
	DisplayName string `json:"displayName"`
	ID          string `json:"id"`
	Name        string `json:"name"`
}

// AccountSpec is an account's spec as the seeds show it; the keys are
// shown to organization admins only.
type AccountSpec struct {
	AlternateSecretKeys []string        `json:"alternateSecretKeys"`
	Members             []AccountMember `json:"members" desc:"Members of this account only, with their role in its workspace"`
	Parameters          []Parameter     `json:"parameters"`
	SecretKey           string          `json:"secretKey"`
}

// AccountMember is a member of one account only.
type AccountMember struct {
	Kind      string        `json:"kind" enum:"User,Group,ServiceAccount"`
	Name      string        `json:"name"`
	Namespace string        `json:"namespace,omitempty"`
	Role      v1alpha1.Role `json:"role"`
}

// UserSpec is a user's spec as the seeds show it.
type UserSpec struct {
	ActiveAccount    string `json:"activeAccount"`
	Email            string `json:"email"`
	NextLoginAccount string `json:"nextLoginAccount"`
	RequestedMFA     bool   `json:"requestedMFA"`
}

func metadata(obj metav1.Object, displayName, description string, spec any, conds []metav1.Condition) Metadata {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	return Metadata{
		AdditionalInfo: AdditionalInfo{Documentation: []Link{}},
		DateModified:   modified(obj, conds).UTC().Format(time.RFC3339),
		Description:    description, DisplayName: displayName, Hash: hash(obj, spec),
		ID: string(obj.GetUID()), Labels: labels, Name: obj.GetName(),
		Stability: "alpha", Version: obj.GetGeneration(),
	}
}

// modified is the latest of creation and the conditions' transitions.
func modified(obj metav1.Object, conds []metav1.Condition) time.Time {
	t := obj.GetCreationTimestamp().Time
	for _, c := range conds {
		if c.LastTransitionTime.After(t) {
			t = c.LastTransitionTime.Time
		}
	}
	return t
}

// hashes memoizes spec hashes by uid and generation (the spec of one
// generation never changes); it is emptied when it reaches maxHashes.
var hashes = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxHashes = 100000

func hash(obj metav1.Object, spec any) string {
	key := fmt.Sprintf("%s/%d", obj.GetUID(), obj.GetGeneration())
	hashes.Lock()
	defer hashes.Unlock()
	if h, ok := hashes.m[key]; ok {
		return h
	}
	b, _ := json.Marshal(spec)
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:8])
	if len(hashes.m) >= maxHashes {
		hashes.m = map[string]string{}
	}
	hashes.m[key] = h
	return h
}

// valueOf is the value of a parameter that a caller is shown, or nil.
type valueOf func(p v1alpha1.Parameter) *string

func parameters(ps []v1alpha1.Parameter, value valueOf) []Parameter {
	out := make([]Parameter, 0, len(ps))
	for _, p := range ps {
		out = append(out, Parameter{Credential: p.Credential, Name: p.Name, Sensitive: p.Sensitive, Value: value(p)})
	}
	return out
}

// renderOrganization renders an organization with the parameter values
// its caller is shown.
func renderOrganization(o *v1alpha1.Organization, values valueOf) Resource {
	spec := OrganizationSpec{Parameters: parameters(o.Spec.Parameters, values)}
	if a := o.Spec.Auth0; a != nil {
		spec.Auth0 = Auth0{DisplayName: a.DisplayName, ID: a.ID, Name: a.Name}
	}
	return Resource{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "Organization",
		Metadata: metadata(o, o.Spec.DisplayName, o.Spec.Description, o.Spec, o.Status.Conditions),
		Spec:     spec, Status: o.Status,
	}
}

// renderAccount renders an account with the parameter values its caller is
// shown; keys (its Secret) are given for admins only.
func renderAccount(a *v1alpha1.Account, keys *corev1.Secret, values valueOf) Resource {
	spec := AccountSpec{AlternateSecretKeys: []string{}, Members: []AccountMember{}, Parameters: parameters(a.Spec.Parameters, values)}
	for _, m := range a.Spec.Members {
		spec.Members = append(spec.Members, AccountMember{Kind: m.Kind, Name: m.Name, Namespace: m.Namespace, Role: m.Role})
	}
	if keys != nil {
		spec.SecretKey = string(keys.Data["secretKey"])
		_ = json.Unmarshal(keys.Data["alternateSecretKeys"], &spec.AlternateSecretKeys)
	}
	return Resource{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "Account",
		Metadata: metadata(a, a.Spec.DisplayName, a.Spec.Description, a.Spec, a.Status.Conditions),
		Spec:     spec, Status: a.Status,
	}
}

// renderUser renders a user as a member of org: of their memberships only
// the one in org, and their active and next-login accounts only to
// themselves, and only when they are in org. An organization's routes never
// show what a member does elsewhere.
func renderUser(u *v1alpha1.User, org, caller string) Resource {
	status := v1alpha1.UserStatus{ObservedGeneration: u.Status.ObservedGeneration, Conditions: u.Status.Conditions,
		Organizations: []v1alpha1.OrganizationMembership{}}
	for _, m := range u.Status.Organizations {
		if m.Name == org {
			status.Organizations = append(status.Organizations, m)
		}
	}
	spec := UserSpec{Email: u.Spec.Email, RequestedMFA: u.Spec.RequestedMFA}
	if u.Spec.Username == caller {
		spec.ActiveAccount = inOrganization(u.Spec.ActiveAccount, org)
		spec.NextLoginAccount = inOrganization(u.Spec.NextLoginAccount, org)
	}
	return Resource{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "User",
		Metadata: metadata(u, u.Spec.Username, "", spec, u.Status.Conditions),
		Spec:     spec, Status: status,
	}
}

// inOrganization is account ("<organization>/<account>") when it is in org, else "".
func inOrganization(account, org string) string {
	if strings.HasPrefix(account, org+"/") {
		return account
	}
	return ""
}
