package admission

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
	"github.com/orgplane/orgplane/internal/delegated"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/license"
)

// Setup registers the validating webhooks with the manager's webhook server.
func Setup(mgr ctrl.Manager, free v1alpha1.Limits, verifier *license.Verifier) error {
	cached, live := mgr.GetClient(), mgr.GetAPIReader()
	limiter := &Limiter{Client: mgr.GetClient(), Reader: live, FreeLimits: free, TTL: 30 * time.Second}
	res := reserver{limiter: limiter, namespaces: namespaceReader{cached: cached, live: live}}
	if err := ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Account{}).
		WithValidator(&AccountValidator{res}).Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &appsv1.Deployment{}).
		WithValidator(&DeploymentValidator{res}).Complete(); err != nil {
		return err
	}
	admins, err := delegated.NewPlatformAdmins(mgr.GetConfig())
	if err != nil {
		return err
	}
	claims := &displayname.Claims{Client: mgr.GetClient(), Reader: live, Cached: cached, IndexField: controllers.IndexDisplayName}
	if err := ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Organization{}).
		WithValidator(&OrganizationValidator{FreeLimits: free, Claims: claims, Admins: admins}).Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.License{}).
		WithValidator(&LicenseValidator{Verifier: verifier, Reader: live, Cached: cached, Admins: admins}).Complete()
}
