package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/orgplane/orgplane/internal/rest"
)

func TestOpenAPIPrintsTheServedDocument(t *testing.T) {
	cmd := openAPICommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var printed, served any
	want, err := json.Marshal(rest.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
		t.Fatalf("orgplane openapi printed no JSON: %v", err)
	}
	if err := json.Unmarshal(want, &served); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustJSON(t, printed), mustJSON(t, served)) {
		t.Error("orgplane openapi differs from the document served at /v1/openapi.json")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
