package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/manager"
)

// The attacks of issue 11 that the REST API can make, as ordinary
// authenticated users.

// addUser gives name a client certificate for direct().
func addUser(name string, groups ...string) {
	cfg, _, err := cp.AddUser(name, groups...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	users[name] = cfg
}

func deployment(namespace, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
			},
		},
	}
}

func namespaceExists(name string) bool {
	err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
	if apierrors.IsNotFound(err) {
		return false
	}
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return true
}

var _ = Describe("Tenant boundary through REST", func() {
	It("a tenant cannot claim namespace istio-system (organization Istio, account System)", func() {
		addUser("mallory@istio.example")
		code, body := direct("POST", "mallory@istio.example", "/v1/organizations",
			`{"organizationName":"Istio","accountName":"System","eulaAccepted":true}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		acct := &v1alpha1.Account{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "org-istio", Name: "system"}, acct)).To(Succeed())
		Expect(acct.Status.Namespace).To(Equal("ws-istio--system"))
		Expect(namespaceExists("istio-system")).To(BeFalse())

		By("eulaAccepted is recorded on the organization, and who created it")
		org := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "istio"}, org)).To(Succeed())
		Expect(org.Spec.EulaAccepted).To(BeTrue())
		Expect(org.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationCreatedBy, "mallory@istio.example"))
	})

	It("a create whose workspace namespace exists answers 409 at once naming it, and leaves nothing", func() {
		addUser("mallory@kube.example")
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ws-kube--system"}})).To(Succeed())
		start := time.Now()
		code, body := direct("POST", "mallory@kube.example", "/v1/organizations", `{"organizationName":"Kube","accountName":"System"}`, nil)
		Expect(code).To(Equal(http.StatusConflict), string(body))
		Expect(string(body)).To(ContainSubstring("namespace ws-kube--system already exists"))
		Expect(time.Since(start)).To(BeNumerically("<", 30*time.Second), "refused at once, not after the 60 s wait")
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: "kube"}, &v1alpha1.Organization{}))
		}).Should(BeTrue())
	})

	It("a user cannot farm organizations past the per-user cap", func() {
		farmer := "farmer@farm.example"
		addUser(farmer)
		for i := range manager.DefaultMaxOrganizationsPerUser {
			code, body := direct("POST", farmer, "/v1/identity/organizations", fmt.Sprintf(`{"name":"Farm %d"}`, i), nil)
			Expect(code).To(Equal(http.StatusOK), string(body))
		}
		code, body := direct("POST", farmer, "/v1/identity/organizations", `{"name":"Farm overflow"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("has created 10 organizations"))
	})

	It("an organization admin cannot suspend, resume or write to a suspended organization; a platform admin can", func() {
		admin := "mallory@suspend.example"
		addUser(admin)
		code, body := direct("POST", admin, "/v1/identity/organizations", `{"name":"Suspend Me"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		var created struct{ ID string }
		Expect(json.Unmarshal(body, &created)).To(Succeed())
		path := "/v1/organizations/" + created.ID

		code, body = direct("PUT", admin, path, `{"active":false}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("Only platform admins"))

		code, body = direct("PUT", "platform-admin", path, `{"active":false}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))

		code, body = direct("PUT", admin, path, `{"active":true}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("suspended"))
		code, body = direct("POST", admin, path+"/members", `{"email":"friend@suspend.example"}`, nil)
		Expect(code).To(Equal(http.StatusForbidden), string(body))
		Expect(string(body)).To(ContainSubstring("is suspended"))

		code, body = direct("PUT", "platform-admin", path, `{"active":true}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		code, body = direct("POST", admin, path+"/members", `{"email":"friend@suspend.example"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
	})

	It("GET .../deployments never lists another organization's Deployments (p + q-r beside p-q + r)", func() {
		mallory, victim := "mallory@pp.example", "victim@ppq.example"
		addUser(mallory)
		for name, owner := range map[string]string{"pp": mallory, "pp-q": victim} {
			Expect(k8sClient.Create(ctx, &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.OrganizationSpec{
				DisplayName: "Org " + name, Members: []v1alpha1.Member{{Kind: "User", Name: owner, Role: "admin"}}}})).To(Succeed())
		}
		victims := &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "org-pp-q"}}
		Eventually(func() error { return k8sClient.Create(ctx, victims) }).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(victims), victims)).To(Succeed())
			g.Expect(victims.Status.Namespace).NotTo(BeEmpty())
		}).Should(Succeed())
		Expect(k8sClient.Create(ctx, deployment(victims.Status.Namespace, "payroll"))).To(Succeed())
		Eventually(func() error {
			return k8sClient.Create(ctx, &v1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: "q-r", Namespace: "org-pp"}})
		}).Should(Succeed())

		Consistently(func() string {
			_, body := direct("GET", mallory, "/v1/organizations/pp/deployments", "", nil)
			return string(body)
		}, 3*time.Second).ShouldNot(ContainSubstring("payroll"))
	})

	It("a user named group:devs is not a member of an organization granted to group devs", func() {
		addUser("group:devs")
		org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "devshop"}, Spec: v1alpha1.OrganizationSpec{
			DisplayName: "Dev Shop", Members: []v1alpha1.Member{
				{Kind: "User", Name: "owner@devshop.example", Role: "admin"}, {Kind: "Group", Name: "devs", Role: "admin"}}}}
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		addUser("dev@devshop.example", "devs")
		Eventually(func() []string {
			_, body := direct("GET", "dev@devshop.example", "/v1/organizations", "", nil)
			return organizationNames(body)
		}).Should(ContainElement("devshop"))
		_, body := direct("GET", "group:devs", "/v1/organizations", "", nil)
		Expect(organizationNames(body)).NotTo(ContainElement("devshop"))
	})
})
