package rest

import (
	"encoding/json"
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Error is the JSON body of every error: a code, a message a person can act
// on, and details.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Message }

func httpError(code int, msg string, details any) *Error {
	return &Error{Code: code, Message: msg, Details: details}
}

var errUnauthorized = httpError(http.StatusUnauthorized,
	"Authentication required: send a bearer token or client certificate the cluster accepts, or call through kube-apiserver", nil)

// writeError writes err as JSON; errors from the API server keep their code.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		code := http.StatusInternalServerError
		if status, ok := err.(apierrors.APIStatus); ok {
			code = int(status.Status().Code)
		}
		e = httpError(code, err.Error(), nil)
	}
	writeJSON(w, e.Code, e)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
