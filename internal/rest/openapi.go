package rest

import (
	"net/http"
	"regexp"
	"strings"
)

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// OpenAPI is the OpenAPI 3 document of every route in the table.
func OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range table {
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = operation(rt)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "orgplane REST API", "version": Version,
			"description": "Served at /v1/... directly and at /apis/" + Group + "/" + Version + "/... through kube-apiserver."},
		"paths": paths,
		"components": map[string]any{"schemas": map[string]any{"Error": map[string]any{
			"type": "object", "required": []string{"code", "message"},
			"properties": map[string]any{"code": map[string]any{"type": "integer"}, "message": map[string]any{"type": "string"},
				"details": map[string]any{}},
		}}},
	}
}

func operation(rt route) map[string]any {
	matches := pathParam.FindAllStringSubmatch(rt.Path, -1)
	params := make([]any, 0, len(matches))
	for _, m := range matches {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	errorResponse := map[string]any{"description": "Error", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	return map[string]any{
		"summary": rt.Summary, "description": "Seed " + rt.Seed, "parameters": params,
		"responses": map[string]any{"2XX": map[string]any{"description": "Success"}, "4XX": errorResponse, "5XX": errorResponse},
	}
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, OpenAPI())
}

// Routes lists "METHOD path" of every route in the table.
func Routes() []string {
	out := make([]string, 0, len(table))
	for _, rt := range table {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}
