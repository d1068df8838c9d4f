package controllers

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSetAPIKeys(t *testing.T) {
	secret := &corev1.Secret{}
	mustSet := func(rotation int64) (string, []string) {
		t.Helper()
		if err := setAPIKeys(secret, rotation); err != nil {
			t.Fatal(err)
		}
		var alt []string
		if err := json.Unmarshal(secret.Data[AlternateSecretKeyField], &alt); err != nil {
			t.Fatalf("alternateSecretKeys is not a JSON list: %v", err)
		}
		return string(secret.Data[SecretKeyField]), alt
	}

	first, alt := mustSet(0)
	if len(first) < 40 || len(alt) != 0 {
		t.Fatalf("new secret: key %q, alternates %v", first, alt)
	}
	if again, _ := mustSet(0); again != first {
		t.Errorf("key changed with no rotation: %q then %q", first, again)
	}
	second, alt := mustSet(1)
	if second == first || len(alt) != 1 || alt[0] != first {
		t.Errorf("rotation 1: key %q, alternates %v; want a new key and [%q]", second, alt, first)
	}
	third, alt := mustSet(2)
	if third == second || len(alt) != 1 || alt[0] != second {
		t.Errorf("rotation 2: alternates %v, want only [%q]", alt, second)
	}

	secret.Data[AlternateSecretKeyField] = []byte("not json")
	if key, alt := mustSet(2); key != third || len(alt) != 0 {
		t.Errorf("malformed alternates: key %q alternates %v; want key kept and alternates reset", key, alt)
	}
	delete(secret.Data, SecretKeyField)
	if key, _ := mustSet(2); key == "" || key == third {
		t.Errorf("deleted key was not regenerated: %q", key)
	}
}
