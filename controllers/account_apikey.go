package controllers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Keys of the API-key Secret.
const (
	SecretKeyField          = "secretKey"
	AlternateSecretKeyField = "alternateSecretKeys"
	apiKeyPrefix            = "opk_"
)

// reconcileAPIKey keeps the account's API-key Secret: a key is generated
// once, and each raise of spec.keyRotation moves it to alternateSecretKeys
// and generates a new one.
func (r *AccountReconciler) reconcileAPIKey(ctx context.Context, org *v1alpha1.Organization, acct *v1alpha1.Account) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: acct.APIKeySecretName(), Namespace: acct.Namespace}}
	op, err := ensure(ctx, r.Client, r.APIReader, secret, func() error {
		labels := managedLabels(org.Name)
		labels[v1alpha1.LabelAccount] = acct.Name
		mergeLabels(secret, labels)
		secret.Type = corev1.SecretTypeOpaque
		if err := setAPIKeys(secret, acct.Spec.KeyRotation); err != nil {
			return err
		}
		return controllerutil.SetControllerReference(acct, secret, r.Scheme())
	})
	if err != nil {
		return err
	}
	if op != controllerutil.OperationResultNone && rotationOf(secret) > 0 && rotationOf(secret) != acct.Status.KeyRotation {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, "APIKeyRotated", "Rotate", "Rotated API key (rotation %d)", rotationOf(secret))
	}
	acct.Status.APIKeySecret = secret.Name
	acct.Status.KeyRotation = rotationOf(secret)
	return nil
}

// setAPIKeys makes secret hold a current key for rotation: a missing key is
// generated; a rotation newer than the Secret's makes the current key the
// only alternate and generates a new one. Malformed alternates are reset.
func setAPIKeys(secret *corev1.Secret, rotation int64) error {
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	current := string(secret.Data[SecretKeyField])
	var alternates []string
	if json.Unmarshal(secret.Data[AlternateSecretKeyField], &alternates) != nil {
		alternates = []string{}
	}
	if current != "" && rotationOf(secret) < rotation {
		alternates, current = []string{current}, ""
	}
	if current == "" {
		key, err := newAPIKey()
		if err != nil {
			return err
		}
		current = key
	}
	encoded, err := json.Marshal(alternates)
	if err != nil {
		return err
	}
	secret.Data[SecretKeyField] = []byte(current)
	secret.Data[AlternateSecretKeyField] = encoded
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	secret.Annotations[v1alpha1.AnnotationKeyRotation] = strconv.FormatInt(rotation, 10)
	return nil
}

func rotationOf(secret *corev1.Secret) int64 {
	n, _ := strconv.ParseInt(secret.Annotations[v1alpha1.AnnotationKeyRotation], 10, 64)
	return n
}

// newAPIKey returns 256 random bits, URL-safe, with a recognisable prefix
// (so secret scanners can find leaked keys).
func newAPIKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}
