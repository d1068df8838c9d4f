package controllers_test

import (
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// roundRobin is a TCP load balancer in front of several webhook servers,
// as a Service is in front of a Deployment's replicas.
type roundRobin struct {
	ln       net.Listener
	backends []string
	next     atomic.Uint64
}

func startRoundRobin(addr string, backends []string) *roundRobin {
	var ln net.Listener
	Eventually(func() (err error) { ln, err = net.Listen("tcp", addr); return err }).Should(Succeed())
	rr := &roundRobin{ln: ln, backends: backends}
	go rr.serve()
	return rr
}

func (rr *roundRobin) serve() {
	for {
		conn, err := rr.ln.Accept()
		if err != nil {
			return
		}
		backend := rr.backends[rr.next.Add(1)%uint64(len(rr.backends))]
		go pipe(conn, backend)
	}
}

func pipe(conn net.Conn, backend string) {
	defer func() { _ = conn.Close() }()
	up, err := net.DialTimeout("tcp", backend, 5*time.Second)
	if err != nil {
		return
	}
	defer func() { _ = up.Close() }()
	go func() { _, _ = io.Copy(up, conn) }()
	_, _ = io.Copy(conn, up)
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

var _ = Describe("Two manager replicas behind one webhook address", Ordered, func() {
	var replicas []*replica
	var rr *roundRobin

	BeforeAll(func() {
		stopManager()
		host := cp.Webhook.LocalServingHost
		backends := make([]string, 0, 2)
		for range 2 {
			port := freePort()
			replicas = append(replicas, runReplica(port, true))
			backends = append(backends, net.JoinHostPort(host, strconv.Itoa(port)))
		}
		rr = startRoundRobin(net.JoinHostPort(host, strconv.Itoa(cp.Webhook.LocalServingPort)), backends)
		waitForWebhooks()
		DeferCleanup(func() {
			_ = rr.ln.Close()
			for _, r := range replicas {
				r.stop()
			}
			startManager()
		})
	})

	It("still admit exactly 10 of 50 concurrent account creates on a 10-account license", func() {
		expectTenOfFiftyAccounts("twin")
		Expect(rr.next.Load()).To(BeNumerically(">=", 2), "both replicas were called")
	})
})
