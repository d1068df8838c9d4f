package devenv

import (
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ConsoleUsers sign in to the console with a bearer token kube-apiserver
// knows from the token file (--token-auth-file): the demo users, and vera,
// who belongs to no organization until an admin adds her.
var ConsoleUsers = []string{DemoUsers[0].Name, DemoUsers[1].Name, "vera@acme.example"}

// TokenFile is where `make dev` keeps its console users' tokens.
func TokenFile(dir string) string { return filepath.Join(dir, "tokens.csv") }

// ensureTokens returns each console user's token from the token file,
// writing a new file (readable by its owner only) when it lacks one.
func ensureTokens(dir string) (map[string]string, error) {
	tokens, err := readTokens(TokenFile(dir))
	if err == nil && len(tokens) == len(ConsoleUsers) {
		return tokens, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tokens = map[string]string{}
	var rows [][]string
	for i, name := range ConsoleUsers {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		tokens[name] = hex.EncodeToString(b)
		rows = append(rows, []string{tokens[name], name, fmt.Sprintf("console-user-%d", i)})
	}
	f, err := os.OpenFile(TokenFile(dir), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		_ = f.Close()
		return nil, err
	}
	return tokens, f.Close()
}

// readTokens reads a token file: token,user,uid per line.
func readTokens(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	tokens := map[string]string{}
	for _, row := range rows {
		if len(row) >= 2 {
			tokens[row[1]] = row[0]
		}
	}
	return tokens, nil
}

// Tokens reads the console users' tokens `make dev` wrote into dir.
func Tokens(dir string) (map[string]string, error) { return readTokens(TokenFile(dir)) }
