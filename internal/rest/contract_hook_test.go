package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	"k8s.io/client-go/rest"

	"github.com/orgplane/orgplane/internal/rest/contract"
)

// Every response the suite receives from orgplane, directly or through
// kube-apiserver, is validated against the OpenAPI document: an
// undocumented status, or a body with a field the document lacks, fails
// the spec that received it.

var (
	validator     = sync.OnceValues(contract.New)
	validatorLock sync.Mutex
)

// checkContract fails the running spec unless the response is as the
// document says.
func checkContract(method, target string, status int, header http.Header, body []byte) {
	GinkgoHelper()
	v, err := validator()
	if err != nil {
		Fail(err.Error())
	}
	validatorLock.Lock()
	err = v.Check(method, target, status, header, body)
	validatorLock.Unlock()
	if err != nil {
		Fail(err.Error())
	}
}

// checked returns a copy of cfg whose responses are validated, except
// kube-apiserver's own answers, which orgplane does not send: a Kubernetes
// Status, or the aggregator's 503 while the APIService is not yet
// available.
func checked(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper { return checkingTransport{next} })
	return cfg
}

type checkingTransport struct{ next http.RoundTripper }

func (t checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, err
	}
	if resp.StatusCode != http.StatusServiceUnavailable && !isKubernetesStatus(body) {
		checkContract(req.Method, req.URL.RequestURI(), resp.StatusCode, resp.Header, body)
	}
	return resp, nil
}

func isKubernetesStatus(body []byte) bool {
	var s struct{ Kind, APIVersion string }
	return json.Unmarshal(body, &s) == nil && s.Kind == "Status" && s.APIVersion == "v1"
}
