package admission

import (
	"cmp"
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/domains"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/tenancy"
)

// Options configure the webhooks.
type Options struct {
	// Consumer lists the consumer e-mail domains no organization may claim.
	Consumer domains.Consumer
	// InvitationMinExpiry is the shortest expiry an invitation may have.
	InvitationMinExpiry time.Duration
	// Plan has the free plan, for organizations with no plan recorded
	// yet and for the licenses being assigned.
	Plan     plan.Settings
	Verifier *license.Verifier
	// Creators says who may create organizations.
	Creators tenancy.Creators
	// Rate bounds each requester's admission requests (429 beyond it);
	// zero means DefaultRate, a PerSecond below zero no bound.
	Rate Rate
}

// Setup registers the webhooks with the manager's webhook server.
func Setup(mgr ctrl.Manager, opts Options) error {
	cached, live := mgr.GetClient(), mgr.GetAPIReader()
	self, err := tenancy.Self(context.Background(), mgr.GetConfig())
	if err != nil {
		return err
	}
	admins, err := tenancy.NewPlatformAdmins(mgr.GetConfig())
	if err != nil {
		return err
	}
	g := guard{self: self, admins: admins}
	claims := &displayname.Claims{Client: mgr.GetClient(), Reader: live, Cached: cached, IndexField: index.DisplayName}
	limiter := &Limiter{Client: mgr.GetClient(), Cached: cached, Live: live, Plan: opts.Plan, TTL: 30 * time.Second}
	if opts.Rate == (Rate{}) {
		opts.Rate = DefaultRate
	}
	rate := &requestLimit{users: NewPerUser(opts.Rate), self: self}
	res := reserver{limiter: limiter, namespaces: namespaceReader{cached: cached, live: live}}
	opts.Creators.Reader, opts.Creators.Live, opts.Creators.Writer = cached, live, mgr.GetClient()
	hooks := []func() error{
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Account{}).WithDefaulter(AccountDefaulter{}).WithValidator(limited[*v1alpha1.Account](&AccountValidator{res, g}, rate)).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &appsv1.Deployment{}).WithValidator(limited[*appsv1.Deployment](&DeploymentValidator{res}, rate)).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Organization{}).
				WithDefaulter(&OrganizationDefaulter{g}).
				WithValidator(limited[*v1alpha1.Organization](&OrganizationValidator{Plan: opts.Plan, guard: g, creators: &opts.Creators,
					namespaces: res.namespaces, claims: claims}, rate)).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.License{}).
				WithValidator(limited[*v1alpha1.License](&LicenseValidator{Verifier: opts.Verifier, Reader: live, Cached: cached, Admins: admins,
					Plan: opts.Plan}, rate)).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.User{}).WithValidator(UserValidator{}).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Domain{}).WithValidator(&DomainValidator{Consumer: opts.Consumer}).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Invitation{}).WithDefaulter(&InvitationDefaulter{g}).
				WithValidator(limited[*v1alpha1.Invitation](&InvitationValidator{guard: g, limiter: limiter, namespaces: res.namespaces,
					MinExpiry: cmp.Or(opts.InvitationMinExpiry, 24*time.Hour)}, rate)).Complete()
		},
	}
	for _, hook := range hooks {
		if err := hook(); err != nil {
			return fmt.Errorf("failed to register webhook: %w", err)
		}
	}
	return nil
}
