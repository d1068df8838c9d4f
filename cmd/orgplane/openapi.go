package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/orgplane/orgplane/internal/rest"
)

// openAPICommand prints the REST API's OpenAPI document, the one served at
// /v1/openapi.json, so that clients can be generated offline.
func openAPICommand() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the REST API's OpenAPI 3.1 document (JSON), as served at /v1/openapi.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(rest.OpenAPI())
		},
	}
}
