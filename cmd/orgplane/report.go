package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/report"
)

// reportBody is what the orgplane REST API serves at the usage report path.
type reportBody struct {
	// Report is the signed usage report (a compact JWS).
	Report string `json:"report"`
	// PublicKey is the installation's public key, PEM.
	PublicKey string `json:"publicKey"`
}

func verifyReportCommand() *cobra.Command {
	var pubFile string
	cmd := &cobra.Command{
		Use:   "verify-report --public-key FILE [REPORT-FILE|-]",
		Short: "Verify a signed usage report offline with the installation's public key, and print it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(pubFile)
			if err != nil {
				return err
			}
			pub, err := onePublicKey(data)
			if err != nil {
				return fmt.Errorf("%s: %w", pubFile, err)
			}
			token, err := readReportArg(cmd.InOrStdin(), args)
			if err != nil {
				return err
			}
			r, err := report.Verify(pub, token)
			if err != nil {
				return fmt.Errorf("report refused: %w", err)
			}
			return printReport(cmd.OutOrStdout(), r)
		},
	}
	cmd.Flags().StringVar(&pubFile, "public-key", "",
		"the installation's public key (PEM), e.g. from 'orgplane license report --public-key-output'")
	_ = cmd.MarkFlagRequired("public-key")
	return cmd
}

func reportCommand() *cobra.Command {
	var kubeconfig, kubeContext, serverPath, output, keyOutput string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Fetch this installation's signed usage report, to send to the vendor",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := fetchReport(cmd.Context(), kubeconfig, kubeContext, serverPath)
			if err != nil {
				return err
			}
			if err := writeReport(cmd.OutOrStdout(), output, body.Report+"\n"); err != nil {
				return err
			}
			if keyOutput == "" {
				return nil
			}
			return os.WriteFile(keyOutput, []byte(body.PublicKey), 0o600)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&kubeContext, "context", "", "kubeconfig context (default: the current one)")
	f.StringVar(&serverPath, "server-path", "/apis/api.orgplane.io/v1/usage-report",
		"path of the usage report on the API server")
	f.StringVarP(&output, "output", "o", "", "file to write the signed report to (default: stdout)")
	f.StringVar(&keyOutput, "public-key-output", "",
		"file to write the installation's public key (PEM) to (default: none)")
	return cmd
}

// fetchReport GETs the report body from the API server with the caller's
// kubeconfig and checks that the report verifies against the served key.
func fetchReport(ctx context.Context, kubeconfig, kubeContext, serverPath string) (*reportBody, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	data, err := get(ctx, cfg, serverPath)
	if err != nil {
		return nil, err
	}
	body := &reportBody{}
	if err := json.Unmarshal(data, body); err != nil || body.Report == "" {
		return nil, fmt.Errorf("GET %s: the answer is not {\"report\": ..., \"publicKey\": ...}", serverPath)
	}
	return body, checkServed(body)
}

// get returns the body of a GET of path on the API server of cfg.
func get(ctx context.Context, cfg *rest.Config, path string) ([]byte, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, err
	}
	u := base.JoinPath(path).String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, statusMessage(data))
	}
	return data, nil
}

// statusMessage is the message of a Kubernetes Status, or the start of
// any other body.
func statusMessage(data []byte) string {
	status := metav1.Status{}
	if json.Unmarshal(data, &status) == nil && status.Message != "" {
		return status.Message
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// checkServed refuses a report that does not verify against the public key
// served with it: a transfer gone wrong or a server fault, better seen now
// than by the vendor.
func checkServed(body *reportBody) error {
	pub, err := onePublicKey([]byte(body.PublicKey))
	if err != nil {
		return fmt.Errorf("the served public key: %w", err)
	}
	if _, err := report.Verify(pub, body.Report); err != nil {
		return fmt.Errorf("the served report does not verify against the served public key: %w", err)
	}
	return nil
}

func onePublicKey(data []byte) (ed25519.PublicKey, error) {
	keys, err := license.ParsePublicKeys(data)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%d public keys found; give the one installation's key", len(keys))
	}
	return keys[0], nil
}

func writeReport(stdout io.Writer, output, text string) error {
	if output == "" || output == "-" {
		_, err := io.WriteString(stdout, text)
		return err
	}
	return os.WriteFile(output, []byte(text), 0o600)
}

// readReportArg reads the report from the file args name, or from stdin for
// none or "-".
func readReportArg(stdin io.Reader, args []string) (string, error) {
	var data []byte
	var err error
	if len(args) == 1 && args[0] != "-" {
		data, err = os.ReadFile(args[0])
	} else {
		data, err = io.ReadAll(stdin)
	}
	return strings.TrimSpace(string(data)), err
}

func printReport(w io.Writer, r *report.Report) error {
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	_, _ = fmt.Fprintf(w, "Report verified: signed by installation %s at %s\n", r.Installation, at(r.GeneratedAt))
	_, _ = fmt.Fprintf(w, "Period: %s to %s\n\n", at(r.PeriodStart), at(r.GeneratedAt))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ORGANIZATION\tPLAN\tPHASE\tACCOUNTS\tUSERS\tDEPLOYMENTS\tPEAK (A/U/D)")
	for _, o := range r.Organizations {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d/%d\t%d/%d\t%d/%d/%d\n", o.Name, o.Plan, o.Phase,
			o.Usage.Accounts, o.Limits.Accounts, o.Usage.Users, o.Limits.Users, o.Usage.Deployments, o.Limits.Deployments,
			o.Peak.Accounts, o.Peak.Users, o.Peak.Deployments)
	}
	return tw.Flush()
}
