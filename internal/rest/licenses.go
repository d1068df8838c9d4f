package rest

import (
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
)

// LicenseRequest is the body of the license routes.
type LicenseRequest struct {
	LicenseKey        string `json:"licenseKey"`
	CreateLicenseType string `json:"createLicenseType"`
	// LicenseID assigns an existing License (seed 004).
	LicenseID string `json:"license_id"`
}

// putContextLicense sets the license of the caller's organization in context.
func (s *Server) putContextLicense(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.orgs.InContext(r.Context(), u)
	if err != nil {
		return err
	}
	return s.putLicense(w, r, u, string(m.Org.UID))
}

// putLicenseByID sets the license of organization {id}.
func (s *Server) putLicenseByID(w http.ResponseWriter, r *http.Request, u user.Info) error {
	return s.putLicense(w, r, u, r.PathValue("id"))
}

func (s *Server) putLicense(w http.ResponseWriter, r *http.Request, u user.Info, id string) error {
	var req LicenseRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.LicenseID != "" {
		return s.assignLicense(w, r, u, id, req.LicenseID)
	}
	if err := s.orgs.SetLicense(r.Context(), u, id, req.LicenseKey, req.CreateLicenseType); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
