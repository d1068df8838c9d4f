package main

import (
	"context"
	"os"
	"strconv"
)

// profileAPIServer writes a CPU profile of kube-apiserver, taken over the
// given seconds, to path. It is for finding where convergence spends
// kube-apiserver's time (go tool pprof path).
func (s *stack) profileAPIServer(ctx context.Context, path string, seconds int) error {
	b, err := s.adminCS.RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", strconv.Itoa(seconds)).DoRaw(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
