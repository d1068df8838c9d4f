package main

import (
	"context"
	"os"
	"runtime/pprof"
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

// profileSelf starts a CPU profile of this process into path (nothing when
// path is empty) and returns what stops it.
func profileSelf(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}
