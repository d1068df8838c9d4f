package rest

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// The OpenAPI schemas are made by reflection from the Go types the
// handlers encode (Metadata, Member, IdentityOrganization, the v1alpha1
// statuses, ...). Where a handler encodes a map or a Resource (whose spec
// and status are `any`), a doc-only type below says its shape; the REST
// suites validate every response against the document, so these types
// cannot drift from what the handlers send.
//
// Response objects list every field encoded without omitempty as required
// and refuse fields they do not list (additionalProperties: false). Tags on
// doc-only types: `enum:"a,b"`, `desc:"..."`, `format:"email"`, and on
// request fields `required:"true"` and `limit:"..."`, which names the
// maxLength of the field in maxLengths (every request string has one).

type organizationResource struct {
	APIVersion string                      `json:"apiVersion" enum:"orgplane.io/v1alpha1"`
	Kind       string                      `json:"kind" enum:"Organization"`
	Metadata   Metadata                    `json:"metadata"`
	Spec       OrganizationSpec            `json:"spec"`
	Status     v1alpha1.OrganizationStatus `json:"status"`
}

type accountResource struct {
	APIVersion string                 `json:"apiVersion" enum:"orgplane.io/v1alpha1"`
	Kind       string                 `json:"kind" enum:"Account"`
	Metadata   Metadata               `json:"metadata"`
	Spec       AccountSpec            `json:"spec"`
	Status     v1alpha1.AccountStatus `json:"status"`
}

type userResource struct {
	APIVersion string              `json:"apiVersion" enum:"orgplane.io/v1alpha1"`
	Kind       string              `json:"kind" enum:"User"`
	Metadata   Metadata            `json:"metadata"`
	Spec       UserSpec            `json:"spec"`
	Status     v1alpha1.UserStatus `json:"status"`
}

type organizationList struct {
	Organizations []organizationResource `json:"organizations"`
}

type organizationBody struct {
	Organization organizationResource `json:"organization"`
}

type createdOrganization struct {
	Account      accountResource      `json:"account" desc:"The first account, with its API keys (its creator is an admin)"`
	Organization organizationResource `json:"organization"`
}

type clientInfo struct {
	User string `json:"user" desc:"The caller's username"`
}

type wrappedOrganization struct {
	Response organizationResource `json:"response"`
	Client   clientInfo           `json:"client"`
}

type accountList struct {
	Accounts []accountResource `json:"accounts"`
}

type organizationAccounts struct {
	Accounts     []accountResource    `json:"accounts"`
	Organization organizationResource `json:"organization"`
	SSOEnabled   bool                 `json:"ssoEnabled"`
}

type allAccounts struct {
	ActiveAccountID      string                 `json:"activeAccountId" desc:"id (uid) of the caller's active account, or empty"`
	OrganizationAccounts []organizationAccounts `json:"organizationAccounts"`
}

type userList struct {
	Users []userResource `json:"users"`
}

type verifyResult struct {
	Valid bool `json:"valid" desc:"true when no organization uses the display name (compared ignoring case)"`
}

type licenseDetails struct {
	ID          string                `json:"id" desc:"Name of the License object"`
	LicenseID   string                `json:"licenseId"`
	Type        string                `json:"type"`
	Licensee    string                `json:"licensee"`
	Phase       v1alpha1.LicensePhase `json:"phase" desc:"Active, Grace, Restricted, Expired, NotYetValid, Superseded, Revoked or Invalid"`
	Limits      *v1alpha1.Limits      `json:"limits"`
	ExpiresAt   *metav1.Time          `json:"expiresAt"`
	GraceEndsAt *metav1.Time          `json:"graceEndsAt" desc:"When the organization becomes restricted unless a renewed key is applied"`
}

type licenseView struct {
	Plan             string             `json:"plan" desc:"free without a license"`
	Phase            v1alpha1.PlanPhase `json:"phase" desc:"Free, Active, Grace (expired, plan kept) or Restricted (nothing new may be created)"`
	Limits           *v1alpha1.Limits   `json:"limits"`
	Entitlements     []string           `json:"entitlements" desc:"Feature codes the plan switches on (e.g. sso); unknown codes are kept"`
	ExpiresAt        *metav1.Time       `json:"expiresAt" desc:"When the license in force expires; absent on the free plan"`
	GraceEndsAt      *metav1.Time       `json:"graceEndsAt" desc:"When the grace period ends and the organization is restricted"`
	RestrictedEndsAt *metav1.Time       `json:"restrictedEndsAt" desc:"When the license stops applying: the next license or the free plan"`
	Usage            *v1alpha1.Usage    `json:"usage"`
	License          *licenseDetails    `json:"license"`
}

type assignedLicense struct {
	License      string `json:"license" desc:"Name of the License assigned"`
	Organization string `json:"organization"`
}

type memberList struct {
	Members []Member `json:"members"`
}

type deployment struct {
	Account   string `json:"account"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	ID        string `json:"id"`
}

type deploymentsBody struct {
	Deployments []deployment     `json:"deployments"`
	Limit       *v1alpha1.Limits `json:"limit"`
}

type identityPage struct {
	Organizations []IdentityOrganization `json:"organizations"`
	TotalResults  int                    `json:"totalResults"`
	Offset        int                    `json:"offset"`
	Limit         int                    `json:"limit"`
}

type membershipRole struct {
	Role v1alpha1.Role `json:"role"`
}

type identityOrganizationWithRole struct {
	Organization           IdentityOrganization `json:"organization"`
	OrganizationMembership membershipRole       `json:"organizationMembership"`
}

// Request bodies.

type createOrganizationRequest struct {
	AccountName      string `json:"accountName" required:"true" limit:"accountDisplayName" desc:"Display name of the first account"`
	EulaAccepted     bool   `json:"eulaAccepted"`
	LicenseType      string `json:"licenseType" limit:"licenseType" desc:"free (no license, the default) or a license type the installation issues itself, e.g. trial"`
	OrganizationName string `json:"organizationName" required:"true" limit:"displayName" desc:"Display name, unique ignoring case"`
	LicenseKey       string `json:"licenseKey" limit:"licenseKey" desc:"A signed license key to use instead of issuing one"`
}

type nameForm struct {
	Name string `json:"name" required:"true" limit:"displayName" desc:"The organization's display name"`
}

type updateForm struct {
	Name string `json:"name" limit:"displayName" desc:"The organization's display name"`
	Slug string `json:"slug" limit:"objectName" desc:"The organization's object name; it cannot change"`
}

type licenseRequest struct {
	LicenseKey        string `json:"licenseKey" limit:"licenseKey" desc:"A signed license key"`
	CreateLicenseType string `json:"createLicenseType" limit:"licenseType" desc:"A license type the installation issues itself, e.g. trial"`
	LicenseID         string `json:"license_id" limit:"objectName" desc:"Name or license id of an existing License to assign (seed 004)"`
}

type nameRequest struct {
	Name string `json:"name" required:"true" limit:"displayName" desc:"A display name"`
}

type nameDescriptionRequest struct {
	Name        string  `json:"name" required:"true" limit:"displayName"`
	Description *string `json:"description" limit:"description"`
}

type identityCreateRequest struct {
	Name        string `json:"name" required:"true" limit:"displayName"`
	Description string `json:"description" limit:"description"`
}

type updateRequest struct {
	Name        *string `json:"name" limit:"displayName"`
	Description *string `json:"description" limit:"description"`
	Active      *bool   `json:"active" desc:"false suspends the organization"`
}

type memberRequest struct {
	Email string        `json:"email" required:"true" format:"email" limit:"memberName" desc:"The user's email; it becomes the member's name"`
	Role  v1alpha1.Role `json:"role" desc:"admin, member (the default) or viewer (reads, no Secrets, changes nothing)"`
}

// limitObjectName is the limit of an object's name or uid.
const limitObjectName = "objectName"

// maxLengths are the maxLength of request strings by the name their
// `limit` tag (or, for path parameters, paramMaxLengths) gives: the limit
// of the CRD field the value ends up in, from api/v1alpha1 (limits_test.go
// checks each against config/crd/bases), or, where no CRD field holds the
// value, one chosen here.
var maxLengths = map[string]int{
	"displayName":        v1alpha1.MaxDisplayNameLength,        // Organization spec.displayName
	"accountDisplayName": v1alpha1.MaxDisplayNameLength,        // Account spec.displayName
	"description":        v1alpha1.MaxDescriptionLength,        // Organization spec.description
	"licenseKey":         v1alpha1.MaxLicenseKeyLength,         // License spec.key
	"memberName":         v1alpha1.MaxMemberNameLength,         // Organization spec.members[].name
	"invitationEmail":    v1alpha1.MaxEmailLength,              // Invitation spec.email
	"accountName":        validation.DNS1123LabelMaxLength,     // Invitation spec.account
	"domainName":         validation.DNS1123SubdomainMaxLength, // Domain spec.domain
	// No CRD field: an object's metadata.name (a DNS-1123 subdomain) or a
	// uid, which is shorter.
	limitObjectName: validation.DNS1123SubdomainMaxLength,
	// No CRD field limits it: the name of an offer the installation issues
	// itself (license.DefaultOffers: trial), which becomes a License's
	// status.type and an Organization's status.plan. A label's length is
	// far beyond any offer's name.
	"licenseType": validation.DNS1123LabelMaxLength,
	// A member id (index.SubjectKey): the longest is a ServiceAccount's,
	// user:system:serviceaccount:<namespace>:<name>.
	"memberID": len("user:system:serviceaccount:") + validation.DNS1123LabelMaxLength + len(":") + v1alpha1.MaxMemberNameLength,
}

// limited sets the maxLength of a request string to maxLengths[limit].
func limited(s *openapi3.Schema, limit string) {
	n, ok := maxLengths[limit]
	if !ok {
		panic(fmt.Sprintf("limit %q is not in maxLengths (schemas.go)", limit))
	}
	s.WithMaxLength(int64(n))
}

// components names the types that become #/components/schemas entries,
// marks the request bodies (required only where tagged) and describes some.
var components = []struct {
	name    string
	value   any
	request bool
	desc    string
}{
	{"Error", Error{}, false, "Every error: the HTTP status code and a message that says what is wrong and how to fix it"},
	{"Metadata", Metadata{}, false, "The seeds' metadata block: id is the uid, version the generation, hash a hash of the spec"},
	{"AdditionalInfo", AdditionalInfo{}, false, ""},
	{"Link", Link{}, false, ""},
	{"Parameter", Parameter{}, false, "A parameter of the organization or account; the value of a sensitive one is shown to admins only (null for others, and for values kept in a Secret)"},
	{"Condition", metav1.Condition{}, false, ""},
	{"Limits", v1alpha1.Limits{}, false, ""},
	{"Usage", v1alpha1.Usage{}, false, ""},
	{"Organization", organizationResource{}, false, "An organization in the seeds' shape"},
	{"OrganizationSpec", OrganizationSpec{}, false, ""},
	{"OrganizationStatus", v1alpha1.OrganizationStatus{}, false, ""},
	{"Account", accountResource{}, false, "An account (seed 002's project); secretKey and alternateSecretKeys are shown to admins only"},
	{"AccountSpec", AccountSpec{}, false, ""},
	{"AccountStatus", v1alpha1.AccountStatus{}, false, ""},
	{"User", userResource{}, false, "A user in the seeds' shape"},
	{"UserSpec", UserSpec{}, false, ""},
	{"UserStatus", v1alpha1.UserStatus{}, false, ""},
	{"OrganizationList", organizationList{}, false, ""},
	{"OrganizationBody", organizationBody{}, false, ""},
	{"CreatedOrganization", createdOrganization{}, false, "The organization and its first account, once both are ready"},
	{"WrappedOrganization", wrappedOrganization{}, false, "Seed 000's envelope: the organization and the client (caller)"},
	{"AccountList", accountList{}, false, ""},
	{"OrganizationAccounts", organizationAccounts{}, false, ""},
	{"AllAccounts", allAccounts{}, false, ""},
	{"UserList", userList{}, false, ""},
	{"VerifyResult", verifyResult{}, false, ""},
	{"LicenseView", licenseView{}, false, "The organization's plan, its phase in the license lifecycle, limits, entitlements and usage, and its license (null on the free plan)"},
	{"UsageReport", usageReportBody{}, false, "A signed usage report of every organization, for the vendor to verify offline"},
	{"Invitation", invitationResource{}, false, "An invitation to an organization or one of its accounts"},
	{"InvitationList", invitationList{}, false, ""},
	{"InvitationEvent", v1alpha1.InvitationEvent{}, false, "A step of an invitation's history"},
	{"InviteRequest", inviteRequest{}, true, ""},
	{"Domain", domainResource{}, false, "An e-mail domain the organization claims, and its proof"},
	{"DomainList", domainList{}, false, ""},
	{"DomainRequest", domainRequest{}, true, ""},
	{"JoinRequest", joinRequestResource{}, false, "A person asking to join through a verified domain"},
	{"JoinRequestList", joinRequestList{}, false, ""},
	{"LicenseDetails", licenseDetails{}, false, ""},
	{"AssignedLicense", assignedLicense{}, false, ""},
	{"Member", Member{}, false, "A member of an organization; id is the User's uid when the member is a known User"},
	{"MemberList", memberList{}, false, ""},
	{"Deployment", deployment{}, false, ""},
	{"DeploymentList", deploymentsBody{}, false, ""},
	{"IdentityOrganization", IdentityOrganization{}, false, "An organization in seed 001's shape"},
	{"IdentityPage", identityPage{}, false, ""},
	{"IdentityOrganizationWithRole", identityOrganizationWithRole{}, false, ""},
	{"CreateOrganizationRequest", createOrganizationRequest{}, true, ""},
	{"CreateOrganizationForm", nameForm{}, true, ""},
	{"UpdateOrganizationForm", updateForm{}, true, ""},
	{"LicenseRequest", licenseRequest{}, true, ""},
	{"NameRequest", nameRequest{}, true, ""},
	{"CreateOrgRequest", nameDescriptionRequest{}, true, ""},
	{"IdentityCreateRequest", identityCreateRequest{}, true, ""},
	{"UpdateOrganizationRequest", updateRequest{}, true, ""},
	{"MemberRequest", memberRequest{}, true, ""},
	{"CreateAccountRequest", createAccountRequest{}, true, ""},
	{"RenameAccountRequest", renameAccountRequest{}, true, ""},
	{"RoleRequest", roleRequest{}, true, ""},
}

// Media types of bodies.
const (
	contentJSON = "application/json"
	contentForm = "application/x-www-form-urlencoded"
)

// componentName is the name of the schema component of v's type.
func componentName(v any) string {
	t := reflect.TypeOf(v)
	for _, c := range components {
		if reflect.TypeOf(c.value) == t {
			return c.name
		}
	}
	panic(fmt.Sprintf("%T is not a schema component (schemas.go)", v))
}

// schemaGen makes schemas from Go types; types named in components are
// referenced, not inlined.
type schemaGen struct {
	names   map[reflect.Type]string
	request map[reflect.Type]bool
	schemas openapi3.Schemas
}

func newSchemaGen() *schemaGen {
	g := &schemaGen{names: map[reflect.Type]string{}, request: map[reflect.Type]bool{}, schemas: openapi3.Schemas{}}
	for _, c := range components {
		g.names[reflect.TypeOf(c.value)] = c.name
		g.request[reflect.TypeOf(c.value)] = c.request
	}
	for _, c := range components {
		t := reflect.TypeOf(c.value)
		s := g.schema(t, g.request[t])
		s.Description = c.desc
		g.schemas[c.name] = openapi3.NewSchemaRef("", s)
	}
	g.schemas["Error"].Value.Properties["details"].Value.Description =
		"What the message refers to, e.g. the missing fields, the limit violations, or a 5xx's request id"
	return g
}

// ref is the schema of a value of type t: a reference to its component, or
// inline. nullable allows null (a pointer encoded without omitempty).
func (g *schemaGen) ref(t reflect.Type, request, nullable bool) *openapi3.SchemaRef {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	} else {
		nullable = false
	}
	if name, ok := g.names[t]; ok {
		ref := openapi3.NewSchemaRef("#/components/schemas/"+name, nil)
		if nullable {
			return openapi3.NewSchemaRef("", &openapi3.Schema{AnyOf: openapi3.SchemaRefs{ref,
				openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}})}})
		}
		return ref
	}
	s := g.schema(t, request)
	// A schema that allows null already (metav1.Time) stays as it is: a
	// type listed twice makes the document invalid.
	if nullable && s.Type != nil && !s.Type.Includes(openapi3.TypeNull) {
		*s.Type = append(*s.Type, openapi3.TypeNull)
	}
	return openapi3.NewSchemaRef("", s)
}

var (
	metaTimeType = reflect.TypeOf(metav1.Time{})
	timeType     = reflect.TypeOf(time.Time{})
	roleType     = reflect.TypeOf(v1alpha1.Role(""))
	quantityType = reflect.TypeOf(resource.Quantity{})
)

func (g *schemaGen) schema(t reflect.Type, request bool) *openapi3.Schema {
	switch t {
	case metaTimeType:
		// metav1.Time encodes its zero value as null.
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString, openapi3.TypeNull}, Format: "date-time"}
	case timeType:
		return openapi3.NewDateTimeSchema()
	case roleType:
		return openapi3.NewStringSchema().WithEnum(string(v1alpha1.RoleAdmin), string(v1alpha1.RoleMember), string(v1alpha1.RoleViewer))
	case quantityType:
		// A Kubernetes quantity encodes as a string: "500m", "8Gi", "10".
		return openapi3.NewStringSchema()
	}
	switch t.Kind() {
	case reflect.Bool:
		return openapi3.NewBoolSchema()
	case reflect.Int32:
		return openapi3.NewInt32Schema()
	case reflect.Int:
		// Go's int is 64 bits wide on every platform orgplane builds for.
		return openapi3.NewInt64Schema()
	case reflect.Int64:
		return openapi3.NewInt64Schema()
	case reflect.String:
		return openapi3.NewStringSchema()
	case reflect.Slice:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: g.ref(t.Elem(), request, false)}
	case reflect.Map:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject},
			AdditionalProperties: openapi3.AdditionalProperties{Schema: g.ref(t.Elem(), request, false)}}
	case reflect.Struct:
		return g.object(t, request)
	}
	return &openapi3.Schema{} // any
}

// object is a struct's schema: its JSON fields (embedded structs inlined),
// the required ones, and no others.
func (g *schemaGen) object(t reflect.Type, request bool) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{},
		AdditionalProperties: openapi3.AdditionalProperties{Has: new(bool)}}
	g.fields(s, t, request)
	return s
}

func (g *schemaGen) fields(s *openapi3.Schema, t reflect.Type, request bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			g.fields(s, f.Type, request)
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		ref := g.ref(f.Type, request, !optional)
		if ref.Value != nil {
			field(ref.Value, f.Tag)
			if request && ref.Value.Type.Includes(openapi3.TypeString) && ref.Value.Enum == nil {
				limited(ref.Value, f.Tag.Get("limit"))
			}
		}
		s.Properties[name] = ref
		if (request && f.Tag.Get("required") == "true") || (!request && !optional) {
			s.Required = append(s.Required, name)
		}
	}
}

// field applies a doc-only type's tags to a field's schema.
func field(s *openapi3.Schema, tag reflect.StructTag) {
	if e := tag.Get("enum"); e != "" {
		for _, v := range strings.Split(e, ",") {
			s.Enum = append(s.Enum, v)
		}
	}
	s.Description = tag.Get("desc")
	s.Format += tag.Get("format")
}
