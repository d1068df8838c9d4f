package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/orgplane/orgplane/internal/license"
)

// revocationManifest is the RevocationList object that carries a signed list
// into a cluster.
type revocationManifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		List string `json:"list"`
	} `json:"spec"`
}

func revokeCommand() *cobra.Command {
	var keyFile, from, name, output string
	var sequence int64
	var unrevoke []string
	cmd := &cobra.Command{
		Use:   "revoke [LICENSE-ID]...",
		Short: "Sign a revocation list of license ids and print it, as a token or a RevocationList manifest",
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "token" && output != "yaml" {
				return fmt.Errorf("-o %q: use token or yaml", output)
			}
			priv, err := license.LoadPrivateKey(keyFile)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("sequence") {
				sequence = time.Now().Unix()
			}
			ids, err := revokedIDs(priv, from, sequence, args, unrevoke)
			if err != nil {
				return err
			}
			token, err := license.IssueRevocations(priv, license.Revocations{
				RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(time.Now())},
				Sequence:         sequence,
				Revoked:          ids,
			})
			if err != nil {
				return err
			}
			return writeRevocations(cmd.OutOrStdout(), output, name, token)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "license-signing.key", "private key written by 'orgplane license keygen'")
	f.Int64Var(&sequence, "sequence", 0,
		"sequence of the list; must exceed the previous list's (default: the current Unix time)")
	f.StringVar(&from, "from", "", "previous signed list (token or manifest) whose ids to carry over")
	f.StringArrayVar(&unrevoke, "unrevoke", nil, "license id to drop from the list carried over by --from (repeatable)")
	f.StringVar(&name, "name", "license-revocations", "name of the RevocationList object (-o yaml)")
	f.StringVarP(&output, "output", "o", "token", "output: token or yaml")
	return cmd
}

// revokedIDs is the ids of the new list: those of the previous list in from
// (if any), less unrevoke, plus add.
func revokedIDs(priv ed25519.PrivateKey, from string, sequence int64, add, unrevoke []string) ([]string, error) {
	if from == "" {
		if len(unrevoke) > 0 {
			return nil, errors.New("--unrevoke needs --from: it drops ids carried over from the previous list")
		}
		return add, nil
	}
	prev, err := readRevocations(priv, from)
	if err != nil {
		return nil, err
	}
	if sequence <= prev.Sequence {
		return nil, fmt.Errorf("--sequence %d is not greater than the sequence %d of the list in %s; "+
			"pass a greater --sequence", sequence, prev.Sequence, from)
	}
	for _, id := range unrevoke {
		switch {
		case !prev.Revokes(id):
			return nil, fmt.Errorf("--unrevoke %q: the list in %s does not revoke it", id, from)
		case slices.Contains(add, id):
			return nil, fmt.Errorf("%q is both revoked and unrevoked", id)
		}
	}
	kept := slices.DeleteFunc(slices.Clone(prev.Revoked), func(id string) bool { return slices.Contains(unrevoke, id) })
	return append(kept, add...), nil
}

// readRevocations reads and verifies, with the public half of priv, the list
// in file: a bare token or a RevocationList manifest.
func readRevocations(priv ed25519.PrivateKey, file string) (*license.Revocations, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(string(data))
	var m revocationManifest
	if yaml.Unmarshal(data, &m) == nil && m.Spec.List != "" {
		token = strings.TrimSpace(m.Spec.List)
	}
	r, err := license.NewVerifier(priv.Public().(ed25519.PublicKey)).VerifyRevocations(token)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return r, nil
}

func writeRevocations(w io.Writer, output, name, token string) error {
	if output == "token" {
		_, err := fmt.Fprintln(w, token)
		return err
	}
	m := revocationManifest{APIVersion: "orgplane.io/v1alpha1", Kind: "RevocationList"}
	m.Metadata.Name, m.Spec.List = name, token
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// inspectRevocations prints the claims of key if it is a revocation list
// that v trusts, and says whether it did.
func inspectRevocations(w io.Writer, v *license.Verifier, key string) (bool, error) {
	r, err := v.VerifyRevocations(key)
	if err != nil {
		return false, nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return true, enc.Encode(map[string]any{"revocations": r})
}
