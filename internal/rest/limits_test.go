package rest

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/orgs"
)

// repoRoot is the repository's root, from this package's directory.
var repoRoot = filepath.Join("..", "..")

// crdField is a field of a CRD in config/crd/bases: the CRD's plural and
// the field's path from the object's root, [] stepping into array items.
type crdField struct {
	plural, path string
}

// crdFields are the CRD fields whose limits a maxLengths entry repeats:
// where a request value ends up.
var crdFields = map[string][]crdField{
	"displayName":        {{"organizations", "spec.displayName"}},
	"accountDisplayName": {{"accounts", "spec.displayName"}},
	"description":        {{"organizations", "spec.description"}},
	"licenseKey":         {{"licenses", "spec.key"}},
	"memberName":         {{"organizations", "spec.members[].name"}},
	"invitationEmail":    {{"invitations", "spec.email"}},
	"accountName":        {{"invitations", "spec.account"}},
	"domainName":         {{"domains", "spec.domain"}},
}

// noCRDField are the maxLengths entries that hold a value no CRD field
// limits, and why.
var noCRDField = map[string]string{
	"objectName":  "an object's metadata.name (a DNS-1123 subdomain, the API server's limit) or uid",
	"licenseType": "a name of the license offers the installation issues itself; no object holds it",
	"memberID":    "a member id, made of a member's name and, for a ServiceAccount, its namespace",
}

// TestLimitsOfV1alpha1MatchTheCRDs checks the constants of
// api/v1alpha1/limits.go against the generated CRDs, which take their
// limits from the kubebuilder markers.
func TestLimitsOfV1alpha1MatchTheCRDs(t *testing.T) {
	crds := loadCRDs(t)
	for _, c := range []struct {
		name      string
		limit     int
		maxItems  bool
		crdFields []crdField
	}{
		{"MaxDisplayNameLength", v1alpha1.MaxDisplayNameLength, false,
			[]crdField{{"organizations", "spec.displayName"}, {"accounts", "spec.displayName"}}},
		{"MaxDescriptionLength", v1alpha1.MaxDescriptionLength, false,
			[]crdField{{"organizations", "spec.description"}, {"accounts", "spec.description"}}},
		{"MaxMemberNameLength", v1alpha1.MaxMemberNameLength, false,
			[]crdField{{"organizations", "spec.members[].name"}, {"accounts", "spec.members[].name"}}},
		{"MaxMembers", v1alpha1.MaxMembers, true,
			[]crdField{{"organizations", "spec.members"}, {"accounts", "spec.members"}}},
		{"MaxParameterNameLength", v1alpha1.MaxParameterNameLength, false,
			[]crdField{{"organizations", "spec.parameters[].name"}, {"accounts", "spec.parameters[].name"}}},
		{"MaxParameterValueLength", v1alpha1.MaxParameterValueLength, false,
			[]crdField{{"organizations", "spec.parameters[].value"}, {"accounts", "spec.parameters[].value"}}},
		{"MaxParameters", v1alpha1.MaxParameters, true,
			[]crdField{{"organizations", "spec.parameters"}, {"accounts", "spec.parameters"}}},
		{"MaxLicenseKeyLength", v1alpha1.MaxLicenseKeyLength, false, []crdField{{"licenses", "spec.key"}}},
		{"MaxUsernameLength", v1alpha1.MaxUsernameLength, false, []crdField{{"users", "spec.username"}}},
		{"MaxEmailLength", v1alpha1.MaxEmailLength, false, []crdField{{"users", "spec.email"}}},
	} {
		for _, f := range c.crdFields {
			s := crdSchema(t, crds, f)
			got := s.MaxLength
			if c.maxItems {
				got = s.MaxItems
			}
			if got == nil || *got != int64(c.limit) {
				t.Errorf("v1alpha1.%s is %d, but %s %s has limit %s", c.name, c.limit, f.plural, f.path, show(got))
			}
		}
	}
	// The REST API's own checks (before the API server's) use the same limits.
	if displayname.MaxLength != v1alpha1.MaxDisplayNameLength {
		t.Errorf("displayname.MaxLength is %d, v1alpha1.MaxDisplayNameLength %d", displayname.MaxLength, v1alpha1.MaxDisplayNameLength)
	}
	if orgs.MaxDescription != v1alpha1.MaxDescriptionLength {
		t.Errorf("orgs.MaxDescription is %d, v1alpha1.MaxDescriptionLength %d", orgs.MaxDescription, v1alpha1.MaxDescriptionLength)
	}
}

// TestRequestLimitsMatchTheCRDs walks every request schema and path
// parameter of the generated document: each string has a maxLength, and
// where the value ends up in a CRD field, the CRD's maxLength (and
// maxItems) is the document's.
func TestRequestLimitsMatchTheCRDs(t *testing.T) {
	crds := loadCRDs(t)
	for name := range maxLengths {
		_, crd := crdFields[name]
		_, none := noCRDField[name]
		if crd == none {
			t.Errorf("maxLengths[%q] must be in exactly one of crdFields and noCRDField (limits_test.go)", name)
		}
	}
	doc := OpenAPI()
	checked := 0
	for _, c := range components {
		if !c.request {
			continue
		}
		schema := doc.Components.Schemas[c.name].Value
		t.Run(c.name, func(t *testing.T) {
			typ := reflect.TypeOf(c.value)
			for i := range typ.NumField() {
				f := typ.Field(i)
				prop, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				ref := schema.Properties[prop]
				if ref == nil || ref.Value == nil {
					t.Fatalf("%s.%s is not an inline property of the document", c.name, prop)
				}
				checkLimits(t, crds, c.name+"."+prop, ref.Value, f.Tag.Get("limit"))
				checked++
			}
		})
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				where := method + " " + path + " " + p.Value.In + " " + p.Value.Name
				if p.Value.In == openapi3.ParameterInPath {
					checkLimits(t, crds, where, p.Value.Schema.Value, paramMaxLengths[p.Value.Name])
					checked++
					continue
				}
				if s := p.Value.Schema.Value; s.Type.Is(openapi3.TypeString) && s.Enum == nil && s.MaxLength == nil {
					t.Errorf("%s: a string without maxLength or enum", where)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d request fields and parameters checked; the walk is broken", checked)
	}
}

// checkLimits checks the schema s of a request value (what names it) that
// the tag limit bounds.
func checkLimits(t *testing.T, crds map[string]*apiextensionsv1.CustomResourceDefinition, what string, s *openapi3.Schema, limit string) {
	t.Helper()
	switch {
	case s.Type.Includes(openapi3.TypeArray) && s.MaxItems == nil:
		t.Errorf("%s: an array without maxItems", what)
	case !s.Type.Includes(openapi3.TypeString) || s.Enum != nil:
		return
	case s.MaxLength == nil:
		t.Errorf("%s: a string without maxLength", what)
		return
	}
	if s.MaxLength != nil && !sameBound(int64(maxLengths[limit]), *s.MaxLength) {
		t.Errorf("%s: maxLength %d, but maxLengths[%q] is %d", what, *s.MaxLength, limit, maxLengths[limit])
	}
	for _, f := range crdFields[limit] {
		c := crdSchema(t, crds, f)
		if s.MaxLength != nil && (c.MaxLength == nil || !sameBound(*c.MaxLength, *s.MaxLength)) {
			t.Errorf("%s: maxLength %d in the OpenAPI document, %s in the CRD's %s %s", what, *s.MaxLength, show(c.MaxLength), f.plural, f.path)
		}
		if c.MaxItems != nil && (s.MaxItems == nil || !sameBound(*c.MaxItems, *s.MaxItems)) {
			t.Errorf("%s: maxItems %d in the CRD's %s %s, not in the OpenAPI document", what, *c.MaxItems, f.plural, f.path)
		}
	}
}

// sameBound reports whether the bound n (int64, as CRDs and maxLengths hold
// it) is the bound u (uint64, as the OpenAPI document holds it).
func sameBound(n int64, u uint64) bool {
	return n >= 0 && uint64(n) == u
}

func show(n *int64) string {
	if n == nil {
		return "none"
	}
	return strconv.FormatInt(*n, 10)
}

// loadCRDs reads config/crd/bases, by plural.
func loadCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	bases := os.DirFS(filepath.Join(repoRoot, "config", "crd", "bases"))
	files, err := fs.Glob(bases, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	out := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, file := range files {
		b, err := fs.ReadFile(bases, file)
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out[crd.Spec.Names.Plural] = crd
	}
	return out
}

// crdSchema is the schema of field f in the CRD's served version.
func crdSchema(t *testing.T, crds map[string]*apiextensionsv1.CustomResourceDefinition, f crdField) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	crd, ok := crds[f.plural]
	if !ok {
		t.Fatalf("no CRD %s in config/crd/bases", f.plural)
	}
	var s *apiextensionsv1.JSONSchemaProps
	for _, v := range crd.Spec.Versions {
		if v.Name == v1alpha1.GroupVersion.Version {
			s = v.Schema.OpenAPIV3Schema
		}
	}
	if s == nil {
		t.Fatalf("CRD %s has no version %s", f.plural, v1alpha1.GroupVersion.Version)
	}
	for _, step := range strings.Split(f.path, ".") {
		name, items := strings.CutSuffix(step, "[]")
		p, ok := s.Properties[name]
		if !ok {
			t.Fatalf("CRD %s has no field %s", f.plural, f.path)
		}
		s = &p
		if items {
			if s.Items == nil || s.Items.Schema == nil {
				t.Fatalf("CRD %s: %s is not an array of objects", f.plural, f.path)
			}
			s = s.Items.Schema
		}
	}
	return s
}

// TestMaxOffsetIsParsePages checks the offset parameter's maximum against
// what orgs.ParsePage takes.
func TestMaxOffsetIsParsePages(t *testing.T) {
	if _, err := orgs.ParsePage(strconv.Itoa(maxOffset), ""); err != nil {
		t.Errorf("ParsePage refuses offset %d, the document's maximum: %v", maxOffset, err)
	}
	if _, err := orgs.ParsePage(strconv.Itoa(maxOffset+1), ""); err == nil {
		t.Errorf("ParsePage takes offset %d, over the document's maximum", maxOffset+1)
	}
}

// TestSpectralOverridesListTheResponseSchemas keeps .spectral.yaml's one
// override, which turns the OWASP input limits off for response-only
// schemas, to exactly the document's response-only schemas: a request
// schema in it would go unchecked.
func TestSpectralOverridesListTheResponseSchemas(t *testing.T) {
	b, err := fs.ReadFile(os.DirFS(repoRoot), ".spectral.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ruleset struct {
		Overrides []struct {
			Files []string `json:"files"`
		} `json:"overrides"`
	}
	if err := yaml.Unmarshal(b, &ruleset); err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, o := range ruleset.Overrides {
		for _, f := range o.Files {
			name, ok := strings.CutPrefix(f, "**#/components/schemas/")
			if !ok {
				t.Errorf(".spectral.yaml overrides %q, not a schema component", f)
			}
			listed = append(listed, name)
		}
	}
	var want []string
	for _, c := range components {
		if !c.request {
			want = append(want, c.name)
		}
	}
	sort.Strings(listed)
	sort.Strings(want)
	if !reflect.DeepEqual(listed, want) {
		t.Errorf(".spectral.yaml's overrides list\n%v\nbut the response-only schemas are\n%v", listed, want)
	}
}
