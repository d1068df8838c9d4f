package devenv

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/internal/license"
)

// VendorKeyPath is the dev vendor key pair's path without extension.
func VendorKeyPath(dir string) string { return filepath.Join(dir, "vendor", "license-signing") }

// ensureKeyPair writes an Ed25519 key pair at path(.key|.pub) once and
// returns path.
func ensureKeyPair(path string) (string, error) {
	if _, err := os.Stat(path + ".key"); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	privPEM, pubPEM, err := license.GenerateKey()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".key", privPEM, 0o600); err != nil {
		return "", err
	}
	return path, os.WriteFile(path+".pub", pubPEM, 0o644)
}

// DemoGuardrails are the guardrails of acme's demo license: every workspace
// may run 2 Pods and request 1 CPU, and acme's workspaces together 2 CPUs
// (shared among them as ResourceQuota orgplane-organization-share). The
// container defaults (100m CPU) let Pods without requests in.
var DemoGuardrails = &license.Guardrails{
	Workspace:    map[string]string{"pods": "2", "requests.cpu": "1"},
	Organization: map[string]string{"requests.cpu": "2"},
}

// applyDemoLicense gives acme a year-long team license with DemoGuardrails,
// unless it has one.
func applyDemoLicense(ctx context.Context, c client.Client, vendorKey string) error {
	priv, err := license.LoadPrivateKey(vendorKey + ".key")
	if err != nil {
		return err
	}
	now := time.Now()
	key, err := license.Issue(priv, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID: "demo-acme-team", IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.AddDate(1, 0, 0)),
		},
		Type: "team", Licensee: "Acme Corporation", Organization: "acme",
		Limits: license.Limits{Accounts: 10, Users: 25, Deployments: 50}, Guardrails: DemoGuardrails,
	})
	if err != nil {
		return err
	}
	lic := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "orgplane.io/v1alpha1", "kind": "License",
		"metadata": map[string]any{"name": "acme-team"},
		"spec":     map[string]any{"key": key, "organization": "acme"},
	}}
	err = c.Create(ctx, lic)
	return client.IgnoreAlreadyExists(err)
}
