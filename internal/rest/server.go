// Package rest serves the aggregated API api.orgplane.io/v1: the routes of
// the seed documents, at /v1/... directly and at /apis/api.orgplane.io/v1/...
// through kube-apiserver, with the same handler. Callers are authenticated
// by k8s.io/apiserver's delegating authentication (front-proxy headers with
// the proxy's client certificate, bearer tokens by TokenReview, client
// certificates) and authorized by organization membership.
package rest

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/orgs"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/tenancy"
	"github.com/orgplane/orgplane/internal/views"
)

// Group and version of the aggregated API.
const (
	Group   = "api.orgplane.io"
	Version = "v1"
)

// Options configure the REST server.
type Options struct {
	// Addr is host:port to listen on.
	Addr string
	// CertDir holds tls.crt and tls.key.
	CertDir string
	// Config is the manager's client configuration, used for delegated
	// authentication (TokenReview, the cluster's client and front-proxy CAs).
	Config *rest.Config
	// Issuer issues self-issued licenses (createLicenseType); nil when the
	// manager has no issuer key.
	Issuer *license.SelfIssuer
	// Verifier verifies license keys before they are assigned.
	Verifier *license.Verifier
	// Recorder records who asked for each write.
	Recorder events.EventRecorder
	// Creators says who may create organizations (admission applies it too).
	Creators *tenancy.Creators
	// Plan answers for organizations whose plan is not recorded yet.
	Plan plan.Settings
	// Consumer lists the consumer e-mail domains no organization may claim.
	Consumer domains.Consumer
	// ReportKey signs usage reports: the installation's own key.
	ReportKey ed25519.PrivateKey
	// Console serves the web console at /console/ when set: static files
	// that call this API from the same origin (internal/console).
	Console http.Handler
}

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=orgplane.io,resources=organizations,verbs=create;delete
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=get;list;watch,namespace=kube-system

// Server is the REST API. It is a manager Runnable that serves on every
// replica, not only the leader, and reads from the manager's cache.
type Server struct {
	opts      Options
	informers crcache.Informers
	cache     client.Reader
	live      client.Reader
	writer    client.Client
	// admins answers who is a platform admin; set by Start.
	admins *tenancy.PlatformAdmins
	// orgs runs the operations on organizations; set by Start.
	orgs *orgs.Service
}

var _ manager.LeaderElectionRunnable = &Server{}

// New returns a server reading from mgr's cache.
func New(mgr ctrl.Manager, opts Options) *Server {
	return &Server{opts: opts, informers: mgr.GetCache(), cache: mgr.GetClient(), live: mgr.GetAPIReader(), writer: mgr.GetClient()}
}

// NeedLeaderElection is false: every replica serves.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	authn, err := newAuthenticator(ctx, s.opts.Config)
	if err != nil {
		return err
	}
	if s.admins, err = tenancy.NewPlatformAdmins(s.opts.Config); err != nil {
		return err
	}
	s.orgs = &orgs.Service{Cache: s.cache, Live: s.live, Writer: s.writer, Admins: s.admins, Recorder: s.opts.Recorder,
		Creators: s.opts.Creators, Verifier: s.opts.Verifier, Issuer: s.opts.Issuer, Consumer: s.opts.Consumer}
	watcher, err := certwatcher.New(filepath.Join(s.opts.CertDir, "tls.crt"), filepath.Join(s.opts.CertDir, "tls.key"))
	if err != nil {
		return fmt.Errorf("failed to load the REST serving certificate: %w", err)
	}
	go func() { _ = watcher.Start(ctx) }()
	mine, err := s.views(ctx, authn)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", authn.wrap(s.routes()))
	for _, path := range views.Paths {
		mux.Handle(path, mine)
	}
	if s.opts.Console != nil {
		// The console's files hold no data: they are served to anyone, and
		// every call they make is authenticated by the routes.
		mux.Handle("/console/", s.opts.Console)
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	}
	srv := &http.Server{
		Addr:              s.opts.Addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// A body is at most maxBody: reading it takes no more than this.
		ReadTimeout: 30 * time.Second,
		// Longer than the longest route: a create waits up to orgs.ReadyTimeout
		// for its organization, then for its account.
		WriteTimeout: 3*orgs.ReadyTimeout + 30*time.Second,
		IdleTimeout:  120 * time.Second,
		TLSConfig: &tls.Config{
			GetCertificate: watcher.GetCertificate,
			// Client certificates are verified by the authenticator,
			// against the cluster's client CA or the front-proxy CA.
			ClientAuth: tls.RequestClientCert,
			MinVersion: tls.VersionTLS12,
		},
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	ctrl.Log.WithName("rest").Info("Serving the REST API", "addr", s.opts.Addr)
	if err := srv.ListenAndServeTLS("", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// ListenAndServeTLS returns as soon as Shutdown begins: wait for the
	// requests in flight to be answered, or the process exits under them
	// (kube-apiserver then resets the streams it was proxying to us).
	<-drained
	return nil
}

// Views answer at most this many changes behind before a watcher is
// dropped, and resume watches from this many changes back.
const (
	viewsBuffer    = 256
	viewsHistory   = 1024
	viewsBookmarks = 30 * time.Second
)

// views is the handler of my.orgplane.io, fed by the manager's
// Organization and Account informers.
func (s *Server) views(ctx context.Context, a *authn) (http.Handler, error) {
	organizations, err := s.informers.GetInformer(ctx, &v1alpha1.Organization{})
	if err != nil {
		return nil, err
	}
	accounts, err := s.informers.GetInformer(ctx, &v1alpha1.Account{})
	if err != nil {
		return nil, err
	}
	ix := views.NewIndex(viewsHistory, viewsBuffer)
	if err := ix.Follow(organizations, accounts); err != nil {
		return nil, err
	}
	go ix.Bookmarks(ctx, viewsBookmarks)
	h, err := views.NewHandler(views.Options{Authenticator: a.auth, RequestHeader: a.requestHeader,
		Loopback: s.opts.Config, Admins: s.admins, Index: ix})
	if err != nil {
		return nil, fmt.Errorf("failed to set up my.orgplane.io: %w", err)
	}
	return views.NoWriteDeadline(h), nil
}
