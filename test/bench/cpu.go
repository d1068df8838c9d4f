package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every Linux this runs on.
const clockTicks = 100

// cpuSeconds returns the CPU time (user + system) used so far by this
// process and by each process it started, keyed by command name: the bench
// process (manager, REST server, bench clients), etcd, kube-apiserver and
// kube-controller-manager.
func cpuSeconds() map[string]float64 {
	out := map[string]float64{}
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		comm, ppid, cpu, ok := procStat(dir)
		if !ok {
			continue
		}
		switch {
		case filepath.Base(dir) == self:
			out["bench process (manager + clients)"] += cpu
		case ppid == self:
			out[comm] += cpu
		}
	}
	return out
}

// procStat reads a process's command name, parent PID and CPU seconds.
func procStat(dir string) (comm, ppid string, cpu float64, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return "", "", 0, false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", "", 0, false
	}
	// Fields after the command: state ppid ... utime(12th) stime(13th).
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return "", "", 0, false
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return s[open+1 : end], f[1], (utime + stime) / clockTicks, true
}

// settle waits, at most max, until this process and its children use less
// than a tenth of a core: a control plane just started keeps busy for a
// while (bootstrap RBAC, OpenAPI for the CRDs), and a measurement should
// not pay for that.
func settle(max time.Duration) {
	const window = 2 * time.Second
	for end := time.Now().Add(max); time.Now().Before(end); {
		before := cpuSeconds()
		time.Sleep(window)
		if sum(diff(cpuSeconds(), before)) < 0.1*window.Seconds() {
			return
		}
	}
}
