package localcp

import (
	"bytes"
	"strings"
	"sync"
)

// SyncBuffer collects a process's output while it runs (make dev's, a
// kubectl watch's) for a test to read at any time.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines are the output's lines, each with its runs of spaces collapsed.
func (b *SyncBuffer) Lines() []string {
	lines := strings.Split(b.String(), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}
