package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/orgplane/orgplane/internal/orgs"
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

// writeError writes err as JSON; errors from the API server keep their
// code (and their message, for 4xx), however they were wrapped. A 5xx says only that it happened, with
// the request id it was logged under.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var refusal *orgs.Error
	if errors.As(err, &refusal) {
		e = fromRefusal(refusal)
	}
	if orgs.IsStaleWrite(err) {
		// Writes that race the controller retry; should one still lose, the
		// caller gets advice, not the API server's optimistic-lock text.
		e = httpError(http.StatusConflict, "What you changed was changed by someone else at the same time; read it again and send your request again", nil)
	}
	if e == nil && !errors.As(err, &e) {
		e = fromAPIStatus(w, err)
	}
	if e.Code >= http.StatusInternalServerError {
		e = internalError(r, e.Code, err)
		w.Header().Set("X-Request-Id", e.Details.(map[string]string)["requestId"])
	}
	writeJSON(w, e.Code, e)
}

// fromAPIStatus answers with the code and message of the API server's
// status in err, found however err was wrapped, and its Retry-After; an
// error without one is a 500.
func fromAPIStatus(w http.ResponseWriter, err error) *Error {
	status := orgs.APIStatus(err)
	if status == nil {
		return httpError(http.StatusInternalServerError, err.Error(), nil)
	}
	if d := status.Details; d != nil && d.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.RetryAfterSeconds)))
	}
	msg := status.Message
	if msg == "" {
		msg = err.Error()
	}
	return httpError(int(status.Code), admissionPrefix.ReplaceAllString(msg, ""), nil)
}

// admissionPrefix is what kube-apiserver writes before the reason of a
// webhook's or a ValidatingAdmissionPolicy's denial: which check refused,
// which a person cannot act on. The reason, which says what to do, stays.
var admissionPrefix = regexp.MustCompile(`^(admission webhook "[^"]+" denied the request: )?` +
	`([^ ]+ "?[^ ]*"? ?is forbidden: )?(ValidatingAdmissionPolicy '[^']+' with binding '[^']+' denied request: )?`)

// refusalCodes are the HTTP codes of the organization service's refusals;
// seed 000's form routes answer Invalid with 422 (see unprocessable).
var refusalCodes = map[orgs.Reason]int{
	orgs.NotFound: http.StatusNotFound, orgs.Forbidden: http.StatusForbidden, orgs.Conflict: http.StatusConflict,
	orgs.Invalid: http.StatusBadRequest,
}

func fromRefusal(r *orgs.Error) *Error {
	code, ok := refusalCodes[r.Reason]
	if !ok {
		code = http.StatusBadRequest
	}
	var details any
	if r.Field != "" || r.Details != nil {
		d := map[string]any{}
		for k, v := range r.Details {
			d[k] = v
		}
		if r.Field != "" {
			d["field"] = r.Field
		}
		details = d
	}
	return httpError(code, r.Message, details)
}

// writeJSON encodes body first, so that nothing is sent unless all of it can be.
func writeJSON(w http.ResponseWriter, code int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"code":500,"message":"Internal error: the response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
