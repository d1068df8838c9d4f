package rest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// TestOpenAPINoTypeListedTwice walks the whole encoded document, as a
// client reads it: no schema lists a type twice (a nullable field whose
// schema allows null already was made ["string","null","null"], which
// JSON Schema forbids), and no required or enum list repeats an entry.
func TestOpenAPINoTypeListedTwice(t *testing.T) {
	b, err := json.Marshal(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := 0
	walk(doc, "#", func(path string, obj map[string]any) {
		for _, key := range []string{"type", "required", "enum"} {
			list, ok := obj[key].([]any)
			if !ok {
				continue
			}
			if key == "type" {
				schemas++
			}
			seen := map[string]bool{}
			for _, v := range list {
				k := fmt.Sprint(v)
				if seen[k] {
					t.Errorf("%s/%s lists %q twice: %v", path, key, k, list)
				}
				seen[k] = true
			}
		}
	})
	if schemas == 0 {
		t.Fatal("no schema with a list of types in the document; the walk is broken")
	}

	// The one that was doubled: metav1.Time, null when zero, behind a
	// pointer without omitempty.
	expiresAt := OpenAPI().Components.Schemas["LicenseDetails"].Value.Properties["expiresAt"].Value
	if got := expiresAt.Type.Slice(); !reflect.DeepEqual(got, []string{"string", "null"}) {
		t.Errorf("LicenseDetails.expiresAt has type %v, want [string null]", got)
	}
}

// walk calls visit on every object of the decoded JSON v, with its JSON
// pointer.
func walk(v any, path string, visit func(string, map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		visit(path, v)
		for k, child := range v {
			walk(child, path+"/"+k, visit)
		}
	case []any:
		for i, child := range v {
			walk(child, fmt.Sprintf("%s/%d", path, i), visit)
		}
	}
}
