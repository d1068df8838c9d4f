package rest

import (
	"net/http"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/report"
)

// usageReportBody is what GET /v1/usage-report answers.
type usageReportBody struct {
	Report    string `json:"report" desc:"The usage report, signed by the installation's Ed25519 key (a compact JWS); verify it offline with orgplane license verify-report"`
	PublicKey string `json:"publicKey" desc:"The installation's public key (PEM), also shown in every License's status.usageReportKey"`
}

// usageReport answers platform admins with a usage report of every
// organization, signed by the installation's own key.
func (s *Server) usageReport(w http.ResponseWriter, r *http.Request, u user.Info) error {
	admin, err := s.admins.Is(r.Context(), u)
	if err != nil {
		return err
	}
	if !admin {
		return httpError(http.StatusForbidden, "Only platform admins (who may update organizations.orgplane.io cluster-wide) may fetch usage reports", nil)
	}
	if s.opts.ReportKey == nil {
		return httpError(http.StatusServiceUnavailable, "This installation has no usage-report key yet; retry in a moment", nil)
	}
	orgs := &v1alpha1.OrganizationList{}
	if err := s.cache.List(r.Context(), orgs); err != nil {
		return err
	}
	token, err := report.Sign(s.opts.ReportKey, s.buildReport(orgs.Items, time.Now()))
	if err != nil {
		return err
	}
	pub, err := report.PublicKeyPEM(s.opts.ReportKey)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, usageReportBody{Report: token, PublicKey: string(pub)})
	return nil
}

// buildReport is each organization's plan, usage and peak usage this
// calendar month, as the organization reconciler recorded them.
func (s *Server) buildReport(orgs []v1alpha1.Organization, now time.Time) report.Report {
	y, m, _ := now.UTC().Date()
	rep := report.Report{GeneratedAt: now, PeriodStart: time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), Organizations: []report.Organization{}}
	for i := range orgs {
		o := &orgs[i]
		p := s.opts.Plan.Of(o)
		entry := report.Organization{Name: o.Name, UID: string(o.UID), Plan: p.Type, LicenseID: p.LicenseID, Phase: string(p.Phase),
			Limits: counts(&p.Limits.Accounts, &p.Limits.Users, &p.Limits.Deployments)}
		if u := o.Status.Usage; u != nil {
			entry.Usage = counts(&u.Accounts, &u.Users, &u.Deployments)
		}
		if pk := o.Status.PeakUsage; pk != nil && !pk.Since.Time.Before(rep.PeriodStart) {
			entry.Peak = counts(&pk.Accounts, &pk.Users, &pk.Deployments)
		}
		rep.Organizations = append(rep.Organizations, entry)
	}
	return rep
}

func counts(accounts, users, deployments *int64) report.Counts {
	return report.Counts{Accounts: *accounts, Users: *users, Deployments: *deployments}
}
