package admission

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/domains"
)

// +kubebuilder:webhook:path=/validate-orgplane-io-v1alpha1-domain,mutating=false,failurePolicy=fail,sideEffects=None,groups=orgplane.io,resources=domains,verbs=create,versions=v1alpha1,name=domains.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// DomainValidator refuses, at once, a claim no organization may hold: a
// name that is not an e-mail domain written as orgplane writes it, and a
// consumer e-mail domain. (The domain reconciler refuses them too, for
// objects admitted while the webhook was away.)
type DomainValidator struct {
	Consumer domains.Consumer
}

var _ admission.Validator[*v1alpha1.Domain] = &DomainValidator{}

// ValidateCreate checks the domain.
func (v *DomainValidator) ValidateCreate(_ context.Context, d *v1alpha1.Domain) (admission.Warnings, error) {
	name, err := domains.Normalize(d.Spec.Domain)
	switch {
	case err != nil:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("Domain %s refused: spec.domain: %v", d.Name, err))
	case name != d.Spec.Domain:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("Domain %s refused: spec.domain: write it %q", d.Name, name))
	case v.Consumer.Is(name):
		return nil, apierrors.NewBadRequest(fmt.Sprintf(
			"Domain %s refused: %s is a consumer e-mail domain: anyone can have an address there, so no organization may claim it", d.Name, name))
	}
	return nil, nil
}

// ValidateUpdate allows every update (spec.domain cannot change).
func (v *DomainValidator) ValidateUpdate(context.Context, *v1alpha1.Domain, *v1alpha1.Domain) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete allows every delete.
func (v *DomainValidator) ValidateDelete(context.Context, *v1alpha1.Domain) (admission.Warnings, error) {
	return nil, nil
}
