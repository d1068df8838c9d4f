// Package v1 is the my.orgplane.io/v1 API: each person's own organizations
// and accounts, read-only, served by orgplane's aggregated API server and
// filtered by membership. The objects are views of orgplane.io/v1alpha1
// Organizations and Accounts as the caller sees them; nothing stores them.
// +kubebuilder:object:generate=true
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.orgplane.my.v1
// +kubebuilder:skip
package v1
