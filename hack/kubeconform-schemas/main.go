// Command kubeconform-schemas writes the JSON schemas `kubeconform -strict`
// checks orgplane's manifests against, with nothing downloaded:
//
//   - every built-in kind, from the OpenAPI v3 documents Kubernetes ships
//     in its source (k8s.io/kubernetes/api/openapi-spec/v3, in the Go
//     module cache);
//   - orgplane's own kinds, from the openAPIV3Schema of each version of the
//     CustomResourceDefinitions in config/crd/bases, with metadata checked
//     as the built-in ObjectMeta.
//
// Each schema is standalone (its references are in its own definitions) and
// named as openapi2jsonschema names them, which kubeconform finds with
// -schema-location 'DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json':
// deployment-apps-v1.json, service-v1.json, account-orgplane-v1alpha1.json.
// Objects with properties get additionalProperties: false (unless marked
// x-kubernetes-preserve-unknown-fields), so an unknown or misspelt field is
// an error. CEL rules (x-kubernetes-validations) and formats are not checked.
//
//	go run ./hack/kubeconform-schemas -openapi <k8s.io/kubernetes>/api/openapi-spec/v3 \
//	    -crds config/crd/bases -out bin/kubeconform-schemas
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/yaml"
)

const (
	componentsPrefix = "#/components/schemas/"
	definitionsPath  = "#/definitions/"
	objectMeta       = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)

// keywords are the JSON Schema draft-04 keywords kept from the OpenAPI
// schemas; everything else (descriptions, defaults, formats, x-kubernetes-*
// extensions) is dropped.
var keywords = map[string]bool{
	"type": true, "enum": true, "required": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true,
	"uniqueItems": true, "minProperties": true, "maxProperties": true, "multipleOf": true,
}

// schemas is one set of named OpenAPI schemas (components.schemas).
type schemas map[string]map[string]any

// gvk is one x-kubernetes-group-version-kind entry.
type gvk struct {
	Group, Version, Kind string
}

// output collects the schema files to write, by file name.
type output struct {
	files map[string]map[string]any
	kinds map[string]gvk
}

func main() {
	openapiDir := flag.String("openapi", "", "directory of Kubernetes' OpenAPI v3 documents (api/openapi-spec/v3)")
	crdDir := flag.String("crds", "config/crd/bases", "directory of CustomResourceDefinition YAML files")
	outDir := flag.String("out", "bin/kubeconform-schemas", "directory to write the schemas into")
	flag.Parse()
	if err := run(*openapiDir, *crdDir, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "kubeconform-schemas:", err)
		os.Exit(1)
	}
}

func run(openapiDir, crdDir, outDir string) error {
	if openapiDir == "" {
		return errors.New("-openapi is required")
	}
	out := &output{files: map[string]map[string]any{}, kinds: map[string]gvk{}}
	core, err := builtins(os.DirFS(openapiDir), out)
	if err != nil {
		return err
	}
	if err := crds(os.DirFS(crdDir), core, out); err != nil {
		return err
	}
	return out.write(outDir)
}

// builtins adds a schema for every kind of every OpenAPI document in fsys,
// and returns the schemas of the core document (for ObjectMeta).
func builtins(fsys fs.FS, out *output) (schemas, error) {
	names, err := fs.Glob(fsys, "*_openapi.json")
	if err != nil {
		return nil, fmt.Errorf("no OpenAPI documents (*_openapi.json) found: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("no OpenAPI documents (*_openapi.json) found")
	}
	var core schemas
	for _, name := range names {
		defs, err := readOpenAPI(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := addKinds(defs, out); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if name == "api__v1_openapi.json" {
			core = defs
		}
	}
	if core[objectMeta] == nil {
		return nil, errors.New("api__v1_openapi.json has no " + objectMeta)
	}
	return core, nil
}

func readOpenAPI(fsys fs.FS, name string) (schemas, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Components struct {
			Schemas schemas `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return doc.Components.Schemas, nil
}

func addKinds(defs schemas, out *output) error {
	for _, name := range sortedKeys(defs) {
		for _, k := range kindsOf(defs[name]) {
			if err := out.add(k, standalone(defs, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// kindsOf decodes a schema's x-kubernetes-group-version-kind list.
func kindsOf(s map[string]any) []gvk {
	raw, ok := s["x-kubernetes-group-version-kind"]
	if !ok {
		return nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	var kinds []gvk
	if json.Unmarshal(data, &kinds) != nil {
		return nil
	}
	return kinds
}

// standalone is the schema called name, with every schema it refers to
// (transitively) under its definitions.
func standalone(defs schemas, name string) map[string]any {
	root := convert(defs[name])
	root["definitions"] = closure(defs, name)
	return root
}

// closure converts the schemas name refers to, directly or not.
func closure(defs schemas, name string) map[string]any {
	seen := map[string]any{}
	todo := refsOf(defs[name])
	for len(todo) > 0 {
		next := todo[0]
		todo = todo[1:]
		if _, ok := seen[next]; ok || defs[next] == nil {
			continue
		}
		seen[next] = convert(defs[next])
		todo = append(todo, refsOf(defs[next])...)
	}
	return seen
}

// refsOf lists the component names a schema refers to.
func refsOf(node any) []string {
	return appendRefs(nil, node)
}

func appendRefs(refs []string, node any) []string {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok && strings.HasPrefix(ref, componentsPrefix) {
			refs = append(refs, strings.TrimPrefix(ref, componentsPrefix))
		}
		for _, v := range n {
			refs = appendRefs(refs, v)
		}
	case []any:
		for _, v := range n {
			refs = appendRefs(refs, v)
		}
	}
	return refs
}

// convert turns one OpenAPI v3 schema into a strict draft-04 JSON schema.
func convert(s map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		switch k {
		case "$ref":
			out[k] = strings.Replace(fmt.Sprint(v), componentsPrefix, definitionsPath, 1)
		case "properties":
			out[k] = convertMap(v)
		case "items", "not", "additionalProperties":
			out[k] = convertAny(v)
		case "allOf", "anyOf", "oneOf":
			out[k] = convertList(v)
		default:
			if keywords[k] {
				out[k] = v
			}
		}
	}
	nullable(s, out)
	intOrString(s, out)
	strict(s, out)
	return out
}

func convertAny(v any) any {
	if m, ok := v.(map[string]any); ok {
		return convert(m)
	}
	return v
}

func convertMap(v any) map[string]any {
	out := map[string]any{}
	props, _ := v.(map[string]any)
	for name, sub := range props {
		out[name] = convertAny(sub)
	}
	return out
}

func convertList(v any) []any {
	list, _ := v.([]any)
	out := make([]any, 0, len(list))
	for _, sub := range list {
		out = append(out, convertAny(sub))
	}
	return out
}

// nullable lets a nullable: true schema be null too.
func nullable(s, out map[string]any) {
	if t, ok := out["type"].(string); ok && s["nullable"] == true {
		out["type"] = []any{t, "null"}
	}
}

// intOrString makes x-kubernetes-int-or-string: true an integer or a string.
func intOrString(s, out map[string]any) {
	if s["x-kubernetes-int-or-string"] != true || out["anyOf"] != nil || out["oneOf"] != nil {
		return
	}
	delete(out, "type")
	out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
}

// strict refuses properties a schema does not list, as -strict means.
func strict(s, out map[string]any) {
	_, hasProps := out["properties"]
	_, hasAdditional := out["additionalProperties"]
	if hasProps && !hasAdditional && s["x-kubernetes-preserve-unknown-fields"] != true {
		out["additionalProperties"] = false
	}
}

// crds adds a schema for every version of every CustomResourceDefinition in
// fsys, its metadata checked as core's ObjectMeta.
func crds(fsys fs.FS, core schemas, out *output) error {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return fmt.Errorf("no CustomResourceDefinitions (*.yaml) found: %w", err)
	}
	if len(names) == 0 {
		return errors.New("no CustomResourceDefinitions (*.yaml) found")
	}
	for _, name := range names {
		if err := addCRDFile(fsys, name, core, out); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// crd is the part of a CustomResourceDefinition a schema is made of.
type crd struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Schema struct {
				OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

func addCRDFile(fsys fs.FS, name string, core schemas, out *output) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var c crd
		if err := dec.Decode(&c); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := addCRD(c, core, out); err != nil {
			return err
		}
	}
}

func addCRD(c crd, core schemas, out *output) error {
	if c.Kind != "CustomResourceDefinition" {
		return nil
	}
	for _, v := range c.Spec.Versions {
		if v.Schema.OpenAPIV3Schema == nil {
			return fmt.Errorf("%s %s has no openAPIV3Schema", c.Spec.Names.Kind, v.Name)
		}
		k := gvk{Group: c.Spec.Group, Version: v.Name, Kind: c.Spec.Names.Kind}
		if err := out.add(k, crdSchema(v.Schema.OpenAPIV3Schema, core)); err != nil {
			return err
		}
	}
	return nil
}

// crdSchema is a CRD version's schema with metadata checked as ObjectMeta.
func crdSchema(s map[string]any, core schemas) map[string]any {
	root := convert(s)
	props, ok := root["properties"].(map[string]any)
	if !ok {
		return root
	}
	props["metadata"] = map[string]any{"$ref": definitionsPath + objectMeta}
	defs := closure(core, objectMeta)
	defs[objectMeta] = convert(core[objectMeta])
	root["definitions"] = defs
	return root
}

// fileName names a kind's schema as kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.
func fileName(k gvk) string {
	name := strings.ToLower(k.Kind)
	if k.Group != "" {
		name += "-" + strings.ToLower(strings.Split(k.Group, ".")[0])
	}
	return name + "-" + strings.ToLower(k.Version) + ".json"
}

// add records a kind's schema. A built-in kind appears in several OpenAPI
// documents (DeleteOptions in every group): the first one is kept. Two kinds
// may not share a file name.
func (o *output) add(k gvk, schema map[string]any) error {
	file := fileName(k)
	if prev, ok := o.kinds[file]; ok {
		if prev != k {
			return fmt.Errorf("%s: both %v and %v", file, prev, k)
		}
		return nil
	}
	o.kinds[file] = k
	o.files[file] = schema
	return nil
}

func (o *output) write(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, file := range sortedKeys(o.files) {
		data, err := json.Marshal(o.files[file])
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			return err
		}
	}
	fmt.Printf("kubeconform-schemas: wrote %d schemas into %s\n", len(o.files), dir)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
