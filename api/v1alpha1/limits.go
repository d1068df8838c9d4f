package v1alpha1

// Limits of the CRDs' fields, for code that must state them elsewhere: the
// REST API's OpenAPI document (internal/rest/schemas.go) gives its request
// fields the limits of the CRD fields their values end up in. The
// kubebuilder markers on the types cannot name a constant, so they repeat
// these numbers; internal/rest/limits_test.go fails when a limit below and
// the generated CRD (config/crd/bases) disagree.
const (
	// MaxDisplayNameLength is the longest spec.displayName of an
	// Organization or an Account, in characters.
	MaxDisplayNameLength = 100
	// MaxDescriptionLength is the longest spec.description of an
	// Organization or an Account, in characters.
	MaxDescriptionLength = 1024
	// MaxMemberNameLength is the longest spec.members[].name of an
	// Organization or an Account (a username, group or service account
	// name; a member added by email has the email as its name).
	MaxMemberNameLength = 253
	// MaxMembers is the most spec.members an Organization or an Account
	// may have.
	MaxMembers = 1000
	// MaxParameterNameLength and MaxParameterValueLength bound a
	// spec.parameters[] entry; MaxParameters is the most there may be.
	MaxParameterNameLength  = 253
	MaxParameterValueLength = 4096
	MaxParameters           = 100
	// MaxLicenseKeyLength is the longest spec.key of a License.
	MaxLicenseKeyLength = 16384
	// MaxUsernameLength is the longest spec.username of a User.
	MaxUsernameLength = 253
	// MaxEmailLength is the longest spec.email of a User.
	MaxEmailLength = 254
)
