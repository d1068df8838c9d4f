package report

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/internal/license"
)

// KeySecretName is the Secret that holds the installation key.
const KeySecretName = "orgplane-usage-report-key" //nolint:gosec // a Secret's name, not a credential

// KeySecretKey is the Secret data key of the PEM PKCS#8 private key.
const KeySecretKey = "ed25519.key" //nolint:gosec // a data key's name, not a credential

// EnsureKey returns the installation key from Secret
// namespace/KeySecretName, creating the Secret with a new key when there is
// none. When another replica creates it first, EnsureKey returns that
// replica's key. It never logs key material.
func EnsureKey(ctx context.Context, c client.Client, namespace string) (ed25519.PrivateKey, error) {
	priv, err := readKey(ctx, c, namespace)
	if !apierrors.IsNotFound(err) {
		return priv, err
	}
	privPEM, _, err := license.GenerateKey()
	if err != nil {
		return nil, err
	}
	err = c.Create(ctx, keySecret(namespace, privPEM))
	if apierrors.IsAlreadyExists(err) {
		return readCreatedKey(ctx, c, namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("creating Secret %s/%s: %w", namespace, KeySecretName, err)
	}
	return license.ParsePrivateKey(privPEM)
}

func keySecret(namespace string, privPEM []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      KeySecretName,
			Namespace: namespace,
			Labels: map[string]string{
				"app.kubernetes.io/name":      "orgplane",
				"app.kubernetes.io/component": "usage-report-key",
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{KeySecretKey: privPEM},
	}
}

// readKey reads the key from the Secret; a missing Secret gives a NotFound
// error.
func readKey(ctx context.Context, c client.Client, namespace string) (ed25519.PrivateKey, error) {
	secret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: KeySecretName}, secret); err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, KeySecretName, err)
	}
	priv, err := license.ParsePrivateKey(secret.Data[KeySecretKey])
	if err != nil {
		return nil, fmt.Errorf("the Secret %s/%s, key %s: %w (delete the Secret to have a new installation key made)",
			namespace, KeySecretName, KeySecretKey, err)
	}
	return priv, nil
}

// readCreatedKey reads a Secret another replica just created, waiting for a
// cached client to see it.
func readCreatedKey(ctx context.Context, c client.Client, namespace string) (ed25519.PrivateKey, error) {
	var priv ed25519.PrivateKey
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true,
		func(ctx context.Context) (bool, error) {
			var err error
			priv, err = readKey(ctx, c, namespace)
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		})
	if err != nil {
		return nil, fmt.Errorf("another replica created Secret %s/%s, but it cannot be read: %w", namespace, KeySecretName, err)
	}
	return priv, nil
}

// PublicKeyPEM returns the public half of priv, PEM-encoded (PKIX), as
// 'orgplane license verify-report --public-key' reads it.
func PublicKeyPEM(priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, ErrInvalidKey
	}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyID is the id of the installation key priv: license.KeyID of its
// public half, as reports carry it.
func KeyID(priv ed25519.PrivateKey) string {
	if len(priv) != ed25519.PrivateKeySize {
		return ""
	}
	return license.KeyID(priv.Public().(ed25519.PublicKey))
}
