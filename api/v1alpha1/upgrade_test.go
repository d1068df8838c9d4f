package v1alpha1_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// installCRD replaces the Organization CRD with the one in file, and waits
// until kube-apiserver serves it.
func installCRD(file string) {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Clean(file))
	Expect(err).NotTo(HaveOccurred())
	want := &apiextensionsv1.CustomResourceDefinition{}
	Expect(yaml.Unmarshal(data, want)).To(Succeed())
	scheme := runtime.NewScheme()
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	crds, err := client.New(cp.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	have := &apiextensionsv1.CustomResourceDefinition{}
	Expect(crds.Get(ctx, types.NamespacedName{Name: want.Name}, have)).To(Succeed())
	have.Spec = want.Spec
	Expect(crds.Update(ctx, have)).To(Succeed())
	Eventually(func() bool {
		Expect(crds.Get(ctx, types.NamespacedName{Name: want.Name}, have)).To(Succeed())
		for _, c := range have.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return have.Generation > 0
			}
		}
		return false
	}).Should(BeTrue())
}

var _ = Describe("Upgrading from the Organization CRD of 373b62e", Serial, func() {
	It("keeps organizations stored before: they read, update and gain members under the new rules", func() {
		DeferCleanup(installCRD, filepath.Join("..", "..", "config", "crd", "bases", "orgplane.io_organizations.yaml"))
		installCRD(filepath.Join("testdata", "upgrade", "orgplane.io_organizations-373b62e.yaml"))
		stored := org("upgraded", func(o *v1alpha1.Organization) {
			o.Spec.Members = append(o.Spec.Members,
				v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: "team-a", Name: "ci", Role: v1alpha1.RoleMember},
				// Allowed then; a ServiceAccount of a workspace is refused now.
				v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: "ws-acme--web", Name: "robot", Role: v1alpha1.RoleViewer})
		})
		Eventually(func() error { return k8sClient.Create(ctx, stored) }).Should(Succeed())

		installCRD(filepath.Join("..", "..", "config", "crd", "bases", "orgplane.io_organizations.yaml"))
		o := &v1alpha1.Organization{}
		Eventually(func() error {
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(stored), o); err != nil {
				return err
			}
			o.Spec.Description = "updated after the upgrade"
			return k8sClient.Update(ctx, o)
		}).Should(Succeed(), "an organization stored before the upgrade can no longer be updated")

		By("a ServiceAccount named like one of another namespace is a member of its own")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(stored), o)).To(Succeed())
		o.Spec.Members = append(o.Spec.Members,
			v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: "team-b", Name: "ci", Role: v1alpha1.RoleMember})
		Expect(k8sClient.Update(ctx, o)).To(Succeed())
		Expect(o.Spec.Members).To(HaveLen(4))

		By("but no new ServiceAccount of a workspace")
		o.Spec.Members = append(o.Spec.Members,
			v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: "ws-acme--db", Name: "ci", Role: v1alpha1.RoleMember})
		err := k8sClient.Update(ctx, o)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("cannot be a member"))
	})
})
