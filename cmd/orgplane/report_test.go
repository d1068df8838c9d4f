package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgplane/orgplane/internal/report"
)

// runLicense runs 'orgplane license args...' with stdin and returns stdout.
func runLicense(stdin string, args ...string) (string, error) {
	cmd := licenseCommand()
	out := &bytes.Buffer{}
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// signedReport returns a signed report of one organization and the PEM
// public key of the key that signed it.
func signedReport(t *testing.T) (token string, pubPEM []byte, kid string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	token, err = report.Sign(priv, report.Report{
		GeneratedAt: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC),
		PeriodStart: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
		Organizations: []report.Organization{{Name: "acme", Plan: "team", Phase: "Active",
			Limits: report.Counts{Accounts: 10, Users: 25, Deployments: 50},
			Usage:  report.Counts{Accounts: 3, Users: 7, Deployments: 12},
			Peak:   report.Counts{Accounts: 4, Users: 9, Deployments: 20}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pubPEM, err = report.PublicKeyPEM(priv); err != nil {
		t.Fatal(err)
	}
	return token, pubPEM, report.KeyID(priv)
}

// changeByte changes the byte at i of token to another base64url character.
func changeByte(token string, i int) string {
	c := byte('A')
	if token[i] == c {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLicenseVerifyReport(t *testing.T) {
	token, pubPEM, kid := signedReport(t)
	_, otherPEM, _ := signedReport(t)
	pub, other := writeFile(t, "i.pub", pubPEM), writeFile(t, "o.pub", otherPEM)
	tests := map[string]struct {
		pub, stdin string
		args       []string
		want       string // part of the output, or of the error when refused
		refused    bool
	}{
		"file": {pub, "", []string{writeFile(t, "r.jws", []byte(token+"\n"))},
			"signed by installation " + kid, false},
		"stdin":           {pub, token, []string{"-"}, "acme team Active 3/10 7/25 12/50 4/9/20", false},
		"changed payload": {pub, changeByte(token, len(token)/2), nil, "report refused: ", true},
		"changed signature": {pub, changeByte(token, len(token)-10), nil,
			"report refused: the report's signature does not match", true},
		"other key": {other, token, nil, "not signed by the installation whose public key was given", true},
		"no report": {pub, "", nil, "report refused: the report is not a well-formed", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := runLicense(tc.stdin, append([]string{"verify-report", "--public-key", tc.pub}, tc.args...)...)
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want one containing %q", err, tc.want)
				}
				if strings.Contains(out, "verified") {
					t.Errorf("refused report printed as verified:\n%s", out)
				}
				return
			}
			if err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), tc.want) {
				t.Fatalf("err %v, output\n%s\nwant it containing %q", err, out, tc.want)
			}
		})
	}
}

// reportServer serves body over TLS at the usage report path to callers
// with the bearer token "secret", and writes a kubeconfig pointing at it.
func reportServer(t *testing.T, status int, body any) (kubeconfig string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/api.orgplane.io/v1/usage-report" || r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, "wrong path or credentials", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return writeFile(t, "kubeconfig", fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, certificate-authority-data: %s}}]
users: [{name: u, user: {token: secret}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`, srv.URL, base64.StdEncoding.EncodeToString(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))))
}

func TestLicenseReportFetch(t *testing.T) {
	token, pubPEM, kid := signedReport(t)
	kubeconfig := reportServer(t, http.StatusOK, map[string]string{"report": token, "publicKey": string(pubPEM)})
	dir := t.TempDir()
	out, pub := filepath.Join(dir, "r.jws"), filepath.Join(dir, "i.pub")
	if _, err := runLicense("", "report", "--kubeconfig", kubeconfig, "-o", out, "--public-key-output", pub); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(out); err != nil || strings.TrimSpace(string(got)) != token {
		t.Fatalf("wrote %q (err %v), want the served token", got, err)
	}
	verified, err := runLicense("", "verify-report", "--public-key", pub, out)
	if err != nil || !strings.Contains(verified, kid) {
		t.Fatalf("err %v, output\n%s", err, verified)
	}
	stdout, err := runLicense("", "report", "--kubeconfig", kubeconfig)
	if err != nil || strings.TrimSpace(stdout) != token {
		t.Fatalf("stdout %q (err %v), want the served token", stdout, err)
	}
}

func TestLicenseReportFetchRefused(t *testing.T) {
	token, pubPEM, _ := signedReport(t)
	_, otherPEM, _ := signedReport(t)
	tests := map[string]struct {
		status int
		body   any
		want   string
	}{
		"forbidden": {http.StatusForbidden, map[string]any{"kind": "Status", "message": "usage-report is forbidden"},
			"403 Forbidden: usage-report is forbidden"},
		"not a report body": {http.StatusOK, map[string]string{"kind": "Organization"}, "the answer is not"},
		"key does not match": {http.StatusOK, map[string]string{"report": token, "publicKey": string(otherPEM)},
			"does not verify against the served public key"},
		"tampered": {http.StatusOK,
			map[string]string{"report": changeByte(token, len(token)-10), "publicKey": string(pubPEM)},
			"signature does not match"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.jws")
			_, err := runLicense("", "report", "--kubeconfig", reportServer(t, tc.status, tc.body), "-o", out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused report was written (stat err %v)", err)
			}
		})
	}
}
