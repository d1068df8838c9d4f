package orgs

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reason is why the service refused an operation.
type Reason string

// The reasons an operation is refused. Adapters map them to their
// protocol's codes (HTTP: 404, 403, 409, 400 or 422). Limits are refused by
// admission, for every writer; its refusal reaches the caller as it is.
const (
	NotFound  Reason = "NotFound"
	Forbidden Reason = "Forbidden"
	Conflict  Reason = "Conflict"
	Invalid   Reason = "Invalid"
)

// Error is a refusal a person can act on: its message says what is wrong
// and how to fix it. Field names the input at fault, for Invalid.
type Error struct {
	Reason  Reason
	Message string
	Field   string
	Details map[string]any
}

func (e *Error) Error() string { return e.Message }

func refuse(reason Reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func invalid(field string, details map[string]any, format string, args ...any) *Error {
	return &Error{Reason: Invalid, Field: field, Details: details, Message: fmt.Sprintf(format, args...)}
}

// APIStatus is the status the API server answered with, found in err
// however it was wrapped (fmt.Errorf("...: %w", err)), or nil when err
// carries none (or one without a code). Adapters answer with its code and
// message: a Conflict, Forbidden, Invalid, NotFound or TooManyRequests
// reaches the caller as the API server said it, not as an internal error.
func APIStatus(err error) *metav1.Status {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return nil
	}
	if s := status.Status(); s.Code != 0 {
		return &s
	}
	return nil
}
