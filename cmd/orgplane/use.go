package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/orgplane/orgplane/internal/views"
)

// useCommand switches the kubeconfig's namespace to one of the caller's
// organizations or accounts. Installed as kubectl-orgplane on the PATH, it
// is `kubectl orgplane use acme.web`.
func useCommand() *cobra.Command {
	var kubeconfig, kubeContext string
	cmd := &cobra.Command{
		Use:   "use ORGANIZATION[.ACCOUNT]",
		Short: "Point the current kubeconfig context at one of your organizations' namespaces or accounts' workspaces",
		Long: "Looks the organization or account up in your own views (my.orgplane.io: a name you may not see is " +
			"not found) and sets the context's namespace to the organization's namespace or the account's workspace.\n" +
			"List yours with `kubectl get myorgs` and `kubectl get myaccounts`.",
		Example: "  orgplane use acme.web\n  kubectl orgplane use acme   # with this binary on the PATH as kubectl-orgplane",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			msg, err := views.Use(cmd.Context(), rules, kubeContext, args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), msg)
			return err
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "kubeconfig context to change (default: the current one)")
	return cmd
}
