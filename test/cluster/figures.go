package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// report collects the figures the suite writes into docs/operations.md.
type report struct {
	Install    string
	Ready      time.Duration // make deploy to both replicas Ready and the APIService Available
	Disrupt    []Figures
	Down       time.Duration // how long every replica was kept down
	StaleAfter time.Duration // from the last replica gone to discovery marking the group Stale
	NSGone     time.Duration // a namespace deleted while every replica was gone: until it was gone
	NSBlocked  bool          // it was still there when the replicas came back
	NSResumed  time.Duration // from the replicas back to the namespace gone
	NSReason   string        // the namespace's deletion conditions seen while it waited
	// Side doors: forged AdmissionReviews refused; a tenant's flood of
	// labelled 1 MiB Secrets, and the manager's heap in use around it.
	ForgedRefused, FloodCreated, FloodRefused int
	HeapBefore, HeapAfter                     int64
}

// machine describes where the figures were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func (r report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `make test-cluster` on %s, %s; "+
		"one node (kubelet, containerd 2.4.2, kube-proxy iptables, Kubernetes 1.37.2), installed with %s; "+
		"20 clients each sending `GET %s` through kube-apiserver every 50 ms.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), r.Install, restPath)
	fmt.Fprintf(&b, "- install to both replicas Ready and the APIService Available: %.1f s\n\n",
		r.Ready.Seconds())
	b.WriteString("| disruption | requests sent | failed | APIService unavailable | duration |\n" +
		"|---|---:|---:|---:|---:|\n")
	for _, f := range r.Disrupt {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f s | %.0f s |\n",
			f.Name, f.Sent, f.Failed, f.Unavailable.Seconds(), f.Took.Seconds())
	}
	if r.ForgedRefused > 0 {
		fmt.Fprintf(&b, "\n- side doors: %d forged AdmissionReviews POSTed to the webhook Service without kube-apiserver's "+
			"client certificate, all refused at the TLS handshake; a tenant's 600 creates of 1 MiB Secrets labelled "+
			"as orgplane's: %d created, %d refused; the manager's heap in use %.1f MiB before, %.1f MiB after.\n",
			r.ForgedRefused, r.FloodCreated, r.FloodRefused, float64(r.HeapBefore)/(1<<20), float64(r.HeapAfter)/(1<<20))
	}
	if r.Down == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "\n- every replica stopped: kube-apiserver's discovery marked `api.orgplane.io/v1` Stale "+
		"%.1f s after the last one was gone. ", r.StaleAfter.Seconds())
	if r.NSBlocked {
		fmt.Fprintf(&b, "A namespace deleted then stayed Terminating (%s) for the %.0f s orgplane was kept down, "+
			"and finished by itself %.1f s after the replicas were started again (%.1f s in all).\n",
			r.NSReason, r.Down.Seconds(), r.NSResumed.Seconds(), r.NSGone.Seconds())
	} else {
		fmt.Fprintf(&b, "A namespace deleted then was gone after %.1f s, while orgplane was still down "+
			"(conditions seen: %s).\n", r.NSGone.Seconds(), r.NSReason)
	}
	return b.String()
}

// writeFigures replaces the figures block of docs/operations.md for this
// install method, keeping the other's.
func writeFigures(path string, r report) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin, end := "<!-- test/cluster figures: begin "+r.Install+" -->", "<!-- test/cluster figures: end "+r.Install+" -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q block", path, begin, end)
	}
	s = s[:i+len(begin)] + "\n" + r.markdown() + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
