package manager

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// requireClientCert makes the webhook server refuse every caller without a
// client certificate signed by the CA in caFile: only kube-apiserver (its
// --admission-control-config-file kubeconfig) may call the webhooks. The file
// is re-read when it changes, so the CA can be rotated without a restart.
func requireClientCert(caFile string) func(*tls.Config) {
	pool := &clientCAPool{file: caFile}
	return func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		// Cloned at each handshake: the server sets GetCertificate after
		// its TLS options run. The clone's own GetConfigForClient is not
		// called again.
		c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cas, err := pool.get()
			if err != nil {
				return nil, err
			}
			conf := c.Clone()
			conf.ClientCAs = cas
			return conf, nil
		}
	}
}

// clientCAPool caches the parsed CA file, keyed on its modification time.
type clientCAPool struct {
	file    string
	mu      sync.Mutex
	modTime time.Time
	pool    *x509.CertPool
}

func (p *clientCAPool) get() (*x509.CertPool, error) {
	info, err := os.Stat(p.file)
	if err != nil {
		return nil, fmt.Errorf("webhook client CA: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pool != nil && info.ModTime().Equal(p.modTime) {
		return p.pool, nil
	}
	data, err := os.ReadFile(p.file)
	if err != nil {
		return nil, fmt.Errorf("webhook client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("webhook client CA %s holds no PEM certificate", p.file)
	}
	p.pool, p.modTime = pool, info.ModTime()
	return pool, nil
}
