package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/orgplane/orgplane/internal/license"
)

func licenseCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "license", Short: "Issue and inspect license keys (vendor tools, offline)"}
	cmd.AddCommand(keygenCommand(), issueCommand(), inspectCommand(), revokeCommand(),
		verifyReportCommand(), reportCommand())
	return cmd
}

func keygenCommand() *cobra.Command {
	var dir, name string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Write a new Ed25519 key pair: <name>.key (keep secret) and <name>.pub (give to the manager)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			privPEM, pubPEM, err := license.GenerateKey()
			if err != nil {
				return err
			}
			privPath, pubPath := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
			for _, f := range []struct {
				path string
				data []byte
				mode os.FileMode
			}{{privPath, privPEM, 0o600}, {pubPath, pubPEM, 0o644}} {
				if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
					return err
				}
			}
			keys, _ := license.ParsePublicKeys(pubPEM)
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s and %s (key id %s)\n", privPath, pubPath, license.KeyID(keys[0]))
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the key pair to")
	cmd.Flags().StringVar(&name, "name", "license-signing", "file name of the key pair, without extension")
	return cmd
}

func issueCommand() *cobra.Command {
	var keyFile, notBefore, quota, total, network string
	var validFor time.Duration
	var grace, restricted float64
	c := license.Claims{}
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Sign a license key and print it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, err := license.LoadPrivateKey(keyFile)
			if err != nil {
				return err
			}
			start := time.Now()
			if notBefore != "" {
				if start, err = time.Parse(time.RFC3339, notBefore); err != nil {
					return fmt.Errorf("--not-before: %w (use RFC 3339, e.g. 2027-01-01T00:00:00Z)", err)
				}
			}
			if c.Guardrails, err = guardrailsFlags(quota, total, network); err != nil {
				return err
			}
			if c.ID == "" {
				c.ID = uuid.NewString()
			}
			c.IssuedAt = jwt.NewNumericDate(time.Now())
			c.NotBefore = jwt.NewNumericDate(start)
			c.ExpiresAt = jwt.NewNumericDate(start.Add(validFor))
			c.GraceDays = changedDays(cmd, "grace-days", grace)
			c.RestrictedDays = changedDays(cmd, "restricted-days", restricted)
			key, err := license.Issue(priv, c)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), key)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "license-signing.key", "private key written by 'orgplane license keygen'")
	f.StringVar(&c.ID, "id", "", "license id (default: a new UUID)")
	f.StringVar(&c.Type, "type", "team", "license type: trial, team, enterprise, ...")
	f.StringVar(&c.Licensee, "licensee", "", "who the license is issued to (required)")
	f.StringVar(&c.Organization, "organization", "", "bind the license to this organization (default: any)")
	f.Int64Var(&c.Limits.Accounts, "accounts", 10, "accounts allowed")
	f.Int64Var(&c.Limits.Users, "users", 25, "members allowed")
	f.Int64Var(&c.Limits.Deployments, "deployments", 50, "deployments allowed")
	f.StringVar(&quota, "workspace-quota", "",
		"quota of each workspace, name=quantity,... of "+strings.Join(resourceNames(), ", ")+" (default: none)")
	f.StringVar(&total, "organization-quota", "",
		"total of all the organization's workspaces, name=quantity,... of the same resources (default: none)")
	f.StringVar(&network, "network", "", "network isolation of each workspace: isolated or organization (default: none)")
	f.StringVar(&notBefore, "not-before", "", "start of validity, RFC 3339 (default: now)")
	f.DurationVar(&validFor, "valid-for", 365*24*time.Hour, "length of validity")
	f.Int64Var(&c.Sequence, "sequence", 0,
		"renewal sequence: a key with the same --id and a higher sequence (or a later issue time) replaces this one")
	f.Float64Var(&grace, "grace-days", 0,
		"days the plan is kept after expiry (default: the installation's, 14 unless configured)")
	f.Float64Var(&restricted, "restricted-days", 0,
		"days after the grace period when nothing new may be created (default: the installation's, 14 unless configured)")
	f.StringSliceVar(&c.Entitlements, "entitlements", nil, "feature codes the license switches on, e.g. sso,audit")
	_ = cmd.MarkFlagRequired("licensee")
	return cmd
}

// changedDays is the flag's value when it was given, else nil (the
// installation's default applies).
func changedDays(cmd *cobra.Command, name string, v float64) *float64 {
	if !cmd.Flags().Changed(name) {
		return nil
	}
	return &v
}

// guardrailsFlags makes the guardrails the flags ask for; nil when none.
func guardrailsFlags(quota, total, network string) (*license.Guardrails, error) {
	workspace, err := license.ParseQuota(quota)
	if err != nil {
		return nil, fmt.Errorf("--workspace-quota: %w", err)
	}
	organization, err := license.ParseQuota(total)
	if err != nil {
		return nil, fmt.Errorf("--organization-quota: %w", err)
	}
	if workspace == nil && organization == nil && network == "" {
		return nil, nil
	}
	g := &license.Guardrails{Workspace: workspace, Organization: organization, Network: license.NetworkMode(network)}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("--network: %w", err)
	}
	return g, nil
}

func resourceNames() []string {
	names := make([]string, len(license.WorkspaceResources))
	for i, r := range license.WorkspaceResources {
		names[i] = string(r)
	}
	return names
}

func inspectCommand() *cobra.Command {
	var pubFiles []string
	cmd := &cobra.Command{
		Use:   "inspect [KEY|-]",
		Short: "Verify a license key against public keys and print its claims and validity",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := readKeyArg(cmd.InOrStdin(), args)
			if err != nil {
				return err
			}
			v, err := license.LoadVerifier(pubFiles)
			if err != nil {
				return err
			}
			claims, phase, verr := v.Verify(key, time.Now())
			if errors.Is(verr, license.ErrMissingClaims) {
				if ok, err := inspectRevocations(cmd.OutOrStdout(), v, key); ok {
					return err
				}
			}
			out := map[string]any{"phase": phase, "claims": claims}
			if verr != nil {
				out["reason"] = verr.Error()
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				return err
			}
			if phase != license.Valid {
				return fmt.Errorf("license is %s: %w", phase, verr)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&pubFiles, "public-key", []string{"license-signing.pub"},
		"trusted public key files (repeatable)")
	return cmd
}

func readKeyArg(stdin io.Reader, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return strings.TrimSpace(args[0]), nil
	}
	b, err := io.ReadAll(stdin)
	return strings.TrimSpace(string(b)), err
}
