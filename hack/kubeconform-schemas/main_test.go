package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileName(t *testing.T) {
	cases := map[gvk]string{
		{Version: "v1", Kind: "Service"}:                                   "service-v1.json",
		{Group: "apps", Version: "v1", Kind: "Deployment"}:                 "deployment-apps-v1.json",
		{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}: "networkpolicy-networking-v1.json",
		{Group: "orgplane.io", Version: "v1alpha1", Kind: "Account"}:       "account-orgplane-v1alpha1.json",
	}
	for k, want := range cases {
		if got := fileName(k); got != want {
			t.Errorf("fileName(%v) = %q, want %q", k, got, want)
		}
	}
}

func TestConvert(t *testing.T) {
	in := decode(t, `{
		"type": "object", "description": "dropped",
		"properties": {
			"ref": {"allOf": [{"$ref": "#/components/schemas/io.k8s.X"}], "default": {}},
			"port": {"x-kubernetes-int-or-string": true},
			"note": {"type": "string", "nullable": true, "format": "byte"},
			"free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}},
			"labels": {"type": "object", "additionalProperties": {"type": "string"}}
		}
	}`)
	want := decode(t, `{
		"type": "object", "additionalProperties": false,
		"properties": {
			"ref": {"allOf": [{"$ref": "#/definitions/io.k8s.X"}]},
			"port": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
			"note": {"type": ["string", "null"]},
			"free": {"type": "object", "properties": {"a": {"type": "string"}}},
			"labels": {"type": "object", "additionalProperties": {"type": "string"}}
		}
	}`)
	if diff := cmp.Diff(want, convert(in)); diff != "" {
		t.Errorf("convert (-want +got):\n%s", diff)
	}
}

func TestClosure(t *testing.T) {
	defs := schemas{
		"A": decode(t, `{"properties": {"b": {"$ref": "#/components/schemas/B"}}}`),
		"B": decode(t, `{"properties": {
			"a": {"$ref": "#/components/schemas/A"},
			"c": {"items": {"$ref": "#/components/schemas/C"}}}}`),
		"C": decode(t, `{"type": "string"}`),
		"D": decode(t, `{"type": "string"}`),
	}
	got := closure(defs, "A")
	if len(got) != 3 || got["A"] == nil || got["B"] == nil || got["C"] == nil {
		t.Errorf("closure(A) = %v, want A, B and C", got)
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
