package rest

import (
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// domainRequest is the body of POST and PUT on an organization's domains.
type domainRequest struct {
	Domain      string              `json:"domain" limit:"domainName" desc:"The e-mail domain, e.g. acme.example (POST only)"`
	Enrollment  v1alpha1.Enrollment `json:"enrollment" enum:"off,suggest,auto" desc:"off (the default), suggest (people ask, admins approve) or auto (people join on their first call of the identity routes)"`
	DefaultRole v1alpha1.Role       `json:"defaultRole" desc:"member (the default) or viewer: a domain never makes anyone an admin"`
}

// domainResource is a domain as consoles show it.
type domainResource struct {
	ID          string               `json:"id" desc:"The domain, which names it"`
	Domain      string               `json:"domain"`
	Enrollment  v1alpha1.Enrollment  `json:"enrollment"`
	DefaultRole v1alpha1.Role        `json:"defaultRole"`
	Phase       v1alpha1.DomainPhase `json:"phase" desc:"Pending, Verified, Lapsed, Conflict or Refused"`
	Reason      string               `json:"reason"`
	RecordName  string               `json:"recordName" desc:"The DNS name of the TXT record that proves the claim"`
	RecordValue string               `json:"recordValue" desc:"The value the TXT record must hold"`
	CheckedAt   *metav1.Time         `json:"checkedAt"`
}

type domainList struct {
	Domains []domainResource `json:"domains"`
}

// joinRequestResource is a join request as consoles show it.
type joinRequestResource struct {
	ID           string                    `json:"id" desc:"The join request's id (uid)"`
	Organization string                    `json:"organization"`
	Email        string                    `json:"email"`
	Domain       string                    `json:"domain"`
	Role         v1alpha1.Role             `json:"role"`
	Phase        v1alpha1.JoinRequestPhase `json:"phase" desc:"Pending, Approved, Denied or Expired"`
	DecidedBy    string                    `json:"decidedBy"`
}

type joinRequestList struct {
	JoinRequests []joinRequestResource `json:"joinRequests"`
}

func renderDomain(d *v1alpha1.Domain) domainResource {
	return domainResource{ID: d.Name, Domain: d.Spec.Domain, Enrollment: d.Spec.Enrollment, DefaultRole: d.Spec.DefaultRole,
		Phase: d.Status.Phase, Reason: d.Status.Reason, RecordName: d.Status.RecordName, RecordValue: d.Status.RecordValue,
		CheckedAt: d.Status.CheckedAt}
}

func renderJoinRequest(jr *v1alpha1.JoinRequest) joinRequestResource {
	phase := jr.Status.Phase
	if phase == "" {
		phase = v1alpha1.JoinPending
	}
	return joinRequestResource{ID: string(jr.UID), Organization: jr.Namespace[len(v1alpha1.OrganizationNamespacePrefix):],
		Email: jr.Spec.Email, Domain: jr.Spec.Domain, Role: jr.Spec.Role, Phase: phase, DecidedBy: jr.Spec.DecidedBy}
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, u user.Info) error {
	list, err := s.orgs.Domains(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := domainList{Domains: make([]domainResource, 0, len(list))}
	for i := range list {
		out.Domains = append(out.Domains, renderDomain(&list[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body domainRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	d, err := s.orgs.AddDomain(r.Context(), u, r.PathValue("id"),
		v1alpha1.DomainSpec{Domain: body.Domain, Enrollment: body.Enrollment, DefaultRole: body.DefaultRole})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderDomain(d))
	return nil
}

func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request, u user.Info) error {
	d, err := s.orgs.VerifyDomain(r.Context(), u, r.PathValue("id"), r.PathValue("domain_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderDomain(d))
	return nil
}

func (s *Server) setEnrollment(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body domainRequest
	if err := decode(r, &body); err != nil {
		return err
	}
	d, err := s.orgs.SetEnrollment(r.Context(), u, r.PathValue("id"), r.PathValue("domain_id"),
		v1alpha1.DomainSpec{Enrollment: body.Enrollment, DefaultRole: body.DefaultRole})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderDomain(d))
	return nil
}

func (s *Server) listJoinRequests(w http.ResponseWriter, r *http.Request, u user.Info) error {
	list, err := s.orgs.JoinRequests(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := joinRequestList{JoinRequests: make([]joinRequestResource, 0, len(list))}
	for i := range list {
		out.JoinRequests = append(out.JoinRequests, renderJoinRequest(&list[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) approveJoinRequest(w http.ResponseWriter, r *http.Request, u user.Info) error {
	return s.decide(w, r, u, v1alpha1.JoinApproved)
}

func (s *Server) denyJoinRequest(w http.ResponseWriter, r *http.Request, u user.Info) error {
	return s.decide(w, r, u, v1alpha1.JoinDenied)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, u user.Info, decision v1alpha1.JoinRequestPhase) error {
	jr, err := s.orgs.Decide(r.Context(), u, r.PathValue("id"), r.PathValue("request_id"), decision)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderJoinRequest(jr))
	return nil
}

// askToJoin files the caller's request to join an organization through
// its verified domain.
func (s *Server) askToJoin(w http.ResponseWriter, r *http.Request, u user.Info) error {
	jr, err := s.orgs.AskToJoin(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderJoinRequest(jr))
	return nil
}

// autoJoin lets the caller join the organizations whose verified domain
// (enrolment auto) is their address's, before their organizations are
// listed. A failure is logged, never shown: the list still answers.
func (s *Server) autoJoin(r *http.Request, u user.Info) {
	done, err := s.orgs.AutoJoin(r.Context(), u)
	if err != nil {
		log.FromContext(r.Context()).Error(err, "auto-join failed", "user", u.GetName())
	}
	if len(done) > 0 {
		log.FromContext(r.Context()).Info("auto-join", "user", u.GetName(), "done", done)
	}
}
