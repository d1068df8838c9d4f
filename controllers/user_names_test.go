package controllers_test

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/devenv"
)

// userManifest is a User as someone writes it for kubectl create -f.
func userManifest(name, username string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte("apiVersion: orgplane.io/v1alpha1\nkind: User\n"+
		"metadata:\n  name: "+name+"\nspec:\n  username: "+username+"\n  email: "+username+"\n"), &obj.Object)).To(Succeed())
	return obj
}

var _ = Describe("User names", func() {
	It("refuses a User not named after its username, naming the expected name, and accepts the rightly named one", func() {
		username := uniqueName("dora") + "@names.example"
		want := v1alpha1.UserObjectName(username)

		By("the old, readable-only name is refused at admission")
		wrong := userManifest(strings.ReplaceAll(username, "@", "-at-"), username)
		err := k8sClient.Create(ctx, wrong)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring(`admission webhook "users.orgplane.io" denied the request`))
		Expect(err.Error()).To(ContainSubstring(`metadata.name: Invalid value: %q: a User is named after its username: `+
			`the User of %q must be named %q`, wrong.GetName(), username, want))

		By("so is another user's name")
		err = k8sClient.Create(ctx, userManifest(v1alpha1.UserObjectName("someone@names.example"), username))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)

		By("the derived name is accepted, and orgplane reads that User")
		right := userManifest(want, username)
		Expect(k8sClient.Create(ctx, right)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, right))).To(Succeed()) })
		u := &v1alpha1.User{}
		u.Name = want
		expectReady(u)
	})

	It("accepts the samples: every sample User is named after its username, and make dev's apply succeeds", func() {
		objs, err := devenv.ReadManifests(filepath.Join("..", "config", "samples"))
		Expect(err).NotTo(HaveOccurred())
		var users []*unstructured.Unstructured
		for _, obj := range objs {
			if obj.GetKind() == "User" {
				username, _, _ := unstructured.NestedString(obj.Object, "spec", "username")
				Expect(obj.GetName()).To(Equal(v1alpha1.UserObjectName(username)), "the sample User of %s", username)
				users = append(users, obj)
			}
		}
		Expect(users).NotTo(BeEmpty())

		Expect(devenv.ApplySamples(ctx, k8sClient, filepath.Join("..", "config", "samples"))).To(Succeed())
		DeferCleanup(func() {
			for _, obj := range objs {
				if obj.GetKind() != "Account" {
					Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed())
				}
			}
		})
		for _, obj := range objs {
			if obj.GetKind() == "Organization" {
				org := &v1alpha1.Organization{}
				org.Name = obj.GetName()
				expectReady(org)
			}
		}

		By("each sample user has exactly one User, the sample, with its preferences")
		for _, sample := range users {
			username, _, _ := unstructured.NestedString(sample.Object, "spec", "username")
			next, _, _ := unstructured.NestedString(sample.Object, "spec", "nextLoginAccount")
			Eventually(func(g Gomega) {
				all := &v1alpha1.UserList{}
				g.Expect(k8sClient.List(ctx, all)).To(Succeed())
				var found []v1alpha1.User
				for _, u := range all.Items {
					if u.Spec.Username == username {
						found = append(found, u)
					}
				}
				g.Expect(found).To(HaveLen(1), "Users of %s", username)
				g.Expect(found[0].Name).To(Equal(sample.GetName()))
				g.Expect(found[0].Spec.NextLoginAccount).To(Equal(next))
			}).Should(Succeed())
		}
	})
})
