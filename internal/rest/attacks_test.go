package rest_test

// Attacks on the tenant boundary (issue 11, breaks 3, 6, 8, 9 and 10), each
// performed as an ordinary authenticated user through the REST API (through
// kube-apiserver's aggregation layer and directly) and, where kubectl can do
// it, with a client holding only that user's credentials.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/manager"
)

// tenant registers an ordinary authenticated user (once) and returns their name.
func tenant(name string) string {
	if users[name] == nil {
		cfg, _, err := cp.AddUser(name)
		Expect(err).NotTo(HaveOccurred())
		users[name] = cfg
	}
	return name
}

// kubectlAs is a client with only username's credentials, as kubectl has.
func kubectlAs(username string) client.Client {
	c, err := client.New(users[username], client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// createOrg creates an organization through the REST API (seed 001) as
// username and returns its object name.
func createOrg(username, displayName string) string {
	code, body := direct("POST", username, "/v1/identity/organizations", fmt.Sprintf(`{"name":%q}`, displayName), nil)
	Expect(code).To(Equal(http.StatusOK), string(body))
	org := &v1alpha1.Organization{}
	Eventually(func(g Gomega) {
		list := &v1alpha1.OrganizationList{}
		g.Expect(k8sClient.List(ctx, list)).To(Succeed())
		for _, o := range list.Items {
			if o.Spec.DisplayName == displayName {
				org = &o
			}
		}
		g.Expect(org.Name).NotTo(BeEmpty())
	}).Should(Succeed())
	return org.Name
}

// addMember adds email to org as admin through the REST API (which
// retries a write that raced the controller).
func addMember(admin, org, email string) {
	code, body := direct("POST", admin, "/v1/organizations/"+org+"/members", fmt.Sprintf(`{"email":%q}`, email), nil)
	ExpectWithOffset(1, code).To(Equal(http.StatusOK), string(body))
}

// key signs a license key with the vendor key.
func key(id, boundTo string, notBefore, expires time.Time) string {
	k, err := license.Issue(vendorKey, license.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: id, NotBefore: jwt.NewNumericDate(notBefore), ExpiresAt: jwt.NewNumericDate(expires)},
		Type:             "enterprise", Licensee: "someone", Organization: boundTo, Limits: license.Limits{Accounts: 50, Users: 50, Deployments: 50},
	})
	Expect(err).NotTo(HaveOccurred())
	return k
}

func validKey(id, boundTo string) string {
	return key(id, boundTo, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
}

func planOf(org string) string {
	o := &v1alpha1.Organization{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
	if o.Status.Plan == nil {
		return ""
	}
	return o.Status.Plan.Type
}

func eventuallyPlan(org, plan string) {
	Eventually(func() string { return planOf(org) }).Should(Equal(plan))
}

// mustPutKey sets org's license key as username and expects 204.
func mustPutKey(username, org, k string) {
	code, body := putKey(username, org, k)
	ExpectWithOffset(1, code).To(Equal(http.StatusNoContent), string(body))
}

func putKey(username, org, k string) (int, []byte) {
	return direct("PUT", username, "/v1/organizations/"+org+"/license", fmt.Sprintf(`{"licenseKey":%q}`, k), nil)
}

var _ = Describe("Attack: license custody (break 3)", func() {
	var mallory, victim string
	BeforeEach(func() {
		mallory, victim = tenant("mallory@evil.example"), tenant("vic@victim.example")
	})

	It("a tenant cannot take an unassigned License by its guessable name", func() {
		lic := &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "spare-enterprise"},
			Spec: v1alpha1.LicenseSpec{Key: validKey("spare-enterprise-1", "")}}
		Expect(k8sClient.Create(ctx, lic)).To(Succeed())
		org := createOrg(mallory, "Mallory Spare Hunters")
		Eventually(func() string {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
			return lic.Status.LicenseID
		}).ShouldNot(BeEmpty())

		body, err := throughAPIServerDo("PUT", mallory, "/organizations/"+org+"/license", `{"license_id":"spare-enterprise"}`)
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v: %s", err, body)
		code, body := direct("PUT", mallory, "/v1/organizations/"+org+"/license", `{"license_id":"spare-enterprise-1"}`, nil)
		Expect(code).To(Equal(http.StatusNotFound), string(body))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(lic), lic)).To(Succeed())
		Expect(lic.Spec.Organization).To(BeEmpty())
	})

	It("a re-created organization does not inherit the licenses of the deleted one of that name", func() {
		org := createOrg(victim, "Heirloom")
		code, body := putKey(victim, org, validKey("heirloom-1", org))
		Expect(code).To(Equal(http.StatusNoContent), string(body))
		eventuallyPlan(org, "enterprise")
		code, body = direct("DELETE", victim, "/v1/organizations/"+org, "", nil)
		Expect(code).To(Equal(http.StatusNoContent), string(body))
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: org}, &v1alpha1.Organization{}))
		}, 2*time.Minute).Should(BeTrue())

		Expect(createOrg(mallory, "Heirloom")).To(Equal(org), "the same object name")
		code, body = direct("PUT", mallory, "/v1/organizations/"+org+"/license", `{"license_id":"heirloom-license"}`, nil)
		Expect(code).To(Equal(http.StatusNotFound), string(body))
		eventuallyPlan(org, "free")
		Consistently(func() string { return planOf(org) }, 3*time.Second).Should(Equal("free"))
	})

	It("an expired or not-yet-valid key answers 400 with the reason and leaves the valid license in place", func() {
		org := createOrg(victim, "Expiry Victims")
		mustPutKey(victim, org, validKey("expiry-good", ""))
		eventuallyPlan(org, "enterprise")
		before := &v1alpha1.License{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org + "-license"}, before)).To(Succeed())

		expired := key("expiry-old", "", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
		body, err := throughAPIServerDo("PUT", victim, "/organizations/"+org+"/license", fmt.Sprintf(`{"licenseKey":%q}`, expired))
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v: %s", err, body)
		Expect(string(body)).To(ContainSubstring("the license has expired"))
		future := key("expiry-future", "", time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
		code, body := putKey(victim, org, future)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		Expect(string(body)).To(ContainSubstring("not valid yet"))

		after := &v1alpha1.License{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org + "-license"}, after)).To(Succeed())
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "nothing changed")
		Expect(planOf(org)).To(Equal("enterprise"))
	})

	It("a key bound to another organization answers 400", func() {
		org := createOrg(mallory, "Foreign Key Thieves")
		code, body := putKey(mallory, org, validKey("bound-to-acme", orgID("acme")))
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		Expect(string(body)).To(ContainSubstring("bound to another organization"))
	})

	It("one license id is active in one organization only", func() {
		shared := validKey("shared-key-1", "")
		first := createOrg(victim, "Key Owners")
		mustPutKey(victim, first, shared)
		eventuallyPlan(first, "enterprise")
		Eventually(func() string {
			l := &v1alpha1.License{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: first + "-license"}, l)).To(Succeed())
			return l.Status.LicenseID
		}).Should(Equal("shared-key-1"))

		second := createOrg(mallory, "Key Copiers")
		code, body := putKey(mallory, second, shared)
		Expect(code).To(Equal(http.StatusConflict), string(body))
		Expect(string(body)).To(ContainSubstring("already active in another organization"))
		eventuallyPlan(second, "free")
		Consistently(func() string { return planOf(second) }, 3*time.Second).Should(Equal("free"))
	})

	It("PUT licenseKey never overwrites a License bound to another organization", func() {
		victimOrg := createOrg(victim, "Overwrite Victims")
		squatted := &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "mallory-inc-license"},
			Spec: v1alpha1.LicenseSpec{Key: validKey("victim-paid", ""), Organization: victimOrg}}
		Expect(k8sClient.Create(ctx, squatted)).To(Succeed())
		eventuallyPlan(victimOrg, "enterprise")

		org := createOrg(mallory, "Mallory Inc")
		Expect(org).To(Equal("mallory-inc"))
		code, body := putKey(mallory, org, validKey("mallory-own", ""))
		Expect(code).To(Equal(http.StatusConflict), string(body))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(squatted), squatted)).To(Succeed())
		Expect(squatted.Spec.Organization).To(Equal(victimOrg))
		Consistently(func() string { return planOf(victimOrg) }, 3*time.Second).Should(Equal("enterprise"))
	})

	It("with kubectl, only the organization's admins and platform admins may assign a License to it", func() {
		clerk := tenant("clerk@licenses.example")
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "license-clerk"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"orgplane.io"}, Resources: []string{"licenses"}, Verbs: []string{"get", "create", "update", "patch"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "license-clerk"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "license-clerk"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: clerk}}}
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		lic := &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "clerk-assigned"},
			Spec: v1alpha1.LicenseSpec{Key: validKey("clerk-1", ""), Organization: "acme"}}
		Eventually(func() error { return kubectlAs(clerk).Create(ctx, lic) }).Should(MatchError(ContainSubstring(
			"only admins of organization acme and platform admins may assign licenses to it")))

		lic.Spec.Organization = "no-such-organization"
		err := k8sClient.Create(ctx, lic)
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`organization "no-such-organization" does not exist`))

		lic.Spec.Organization = "acme"
		lic.Spec.OrganizationUID = "00000000-0000-0000-0000-000000000000"
		err = k8sClient.Create(ctx, lic)
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("is not the uid of organization acme"))
	})
})

var _ = Describe("Attack: membership privacy (break 6)", func() {
	It("an organization's users route shows nothing of a member's other organizations or active account", func() {
		victim := tenant("victim@private.example")
		home := createOrg(victim, "Private Home")
		snoop := tenant("snoop@evil.example")
		org := createOrg(snoop, "Snoopers")
		addMember(snoop, org, victim)
		var users struct {
			Users []struct {
				Metadata struct{ DisplayName string } `json:"metadata"`
				Spec     map[string]any               `json:"spec"`
				Status   struct {
					Organizations []struct{ Name string } `json:"organizations"`
				} `json:"status"`
			} `json:"users"`
		}
		Eventually(func(g Gomega) {
			body, err := throughAPIServer(snoop, "/organizations/users")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(json.Unmarshal(body, &users)).To(Succeed())
			g.Expect(users.Users).To(HaveLen(2))
			g.Expect(string(body)).NotTo(ContainSubstring(home))
			for _, u := range users.Users {
				for _, m := range u.Status.Organizations {
					g.Expect(m.Name).To(Equal(org))
				}
				if u.Metadata.DisplayName == victim {
					g.Expect(u.Spec["activeAccount"]).To(BeEmpty())
				}
			}
		}).Should(Succeed())
	})
})

var _ = Describe("Attack: display names (break 8)", func() {
	It("kubectl cannot create a display name another organization has in another case, width or spacing", func() {
		for i, name := range []string{"ACME CORPORATION", "Ａｃｍｅ Ｃｏｒｐｏｒａｔｉｏｎ", "acme corporation", "Acme Corporation "} {
			org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("acme-copy-%d", i)},
				Spec: v1alpha1.OrganizationSpec{DisplayName: name, Members: []v1alpha1.Member{{Kind: "User", Name: "kim@k.example", Role: "admin"}}}}
			err := k8sClient.Create(ctx, org)
			Expect(err).To(HaveOccurred(), "%q was accepted beside \"Acme Corporation\"", name)
			Expect(apierrors.IsConflict(err) || apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		}
	})

	It("a tenant admin cannot rename their organization with kubectl to a name another organization has", func() {
		body, err := throughAPIServerDo("PATCH", bob, "/organizations/globex/metadata", `{"name":"Globex"}`)
		Expect(err).NotTo(HaveOccurred(), string(body))
		org := &v1alpha1.Organization{}
		// bob's RBAC on his Organization is written by the reconciler, which
		// may still be catching up with another spec's change to globex.
		Eventually(func() error { return kubectlAs(bob).Get(ctx, client.ObjectKey{Name: "globex"}, org) }).Should(Succeed())
		patch := client.MergeFrom(org.DeepCopy())
		org.Spec.DisplayName = "ACME Corporation"
		err = kubectlAs(bob).Patch(ctx, org, patch)
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
		org.Spec.DisplayName = "Globex\t"
		err = kubectlAs(bob).Patch(ctx, org, patch)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
	})

	It("exactly one of concurrent creates from REST and kubectl with one display name wins", func() {
		racer := tenant("racer@race.example")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := []string{}
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				name := []string{"Photo Finish", "PHOTO FINISH", "photo finish", "Ｐｈｏｔｏ Ｆｉｎｉｓｈ"}[i%4]
				var ok bool
				if i%2 == 0 {
					code, _ := direct("POST", racer, "/v1/identity/organizations", fmt.Sprintf(`{"name":%q}`, name), nil)
					ok = code == http.StatusOK
				} else {
					org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("photo-finish-%d", i)},
						Spec: v1alpha1.OrganizationSpec{DisplayName: name, Members: []v1alpha1.Member{{Kind: "User", Name: racer, Role: "admin"}}}}
					ok = k8sClient.Create(ctx, org) == nil
				}
				if ok {
					mu.Lock()
					wins = append(wins, name)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		Expect(wins).To(HaveLen(1))
	})

	It("an organization made through REST and deleted with kubectl leaves no claim behind", func() {
		org := createOrg(tenant("pruner@gitops.example"), "Pruned Corp")
		claims := func() []coordinationv1.Lease {
			list := &coordinationv1.LeaseList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace("orgplane-system"),
				client.MatchingLabels{v1alpha1.LabelOrganization: org})).To(Succeed())
			return list.Items
		}
		Expect(claims()).To(HaveLen(1))
		Expect(k8sClient.Delete(ctx, &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: org}})).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: org}, &v1alpha1.Organization{}))
		}, 2*time.Minute).Should(BeTrue())
		Expect(claims()).To(BeEmpty())
		createOrg("pruner@gitops.example", "Pruned Corp")
	})

	It("an organization created and at once deleted with kubectl (as a GitOps prune may) leaves no claim behind", func() {
		org := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "blink"},
			Spec: v1alpha1.OrganizationSpec{DisplayName: "Blink", Members: []v1alpha1.Member{{Kind: "User", Name: "ops@gitops.example", Role: "admin"}}}}
		Expect(k8sClient.Create(ctx, org)).To(Succeed())
		Expect(k8sClient.Delete(ctx, org)).To(Succeed())
		Eventually(func() []coordinationv1.Lease {
			list := &coordinationv1.LeaseList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(displayname.Namespace),
				client.MatchingLabels{v1alpha1.LabelOrganization: "blink"})).To(Succeed())
			return list.Items
		}, 2*displayname.Grace+30*time.Second, time.Second).Should(BeEmpty())
	})

	It("a rename releases the old display name's claim", func() {
		renamer := tenant("renamer@names.example")
		org := createOrg(renamer, "Old Name Ltd")
		code, body := direct("PATCH", renamer, "/v1/organizations/"+org+"/metadata", `{"name":"New Name Ltd"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		lease := &coordinationv1.Lease{}
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: displayname.Namespace, Name: displayname.ClaimName("Old Name Ltd")}, lease)
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
		taker := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "old-name-taker"},
			Spec: v1alpha1.OrganizationSpec{DisplayName: "OLD NAME LTD", Members: []v1alpha1.Member{{Kind: "User", Name: "taker@names.example", Role: "admin"}}}}
		// Admission reads display names from the manager's cache, which sees
		// the rename a moment after it is written: a grant, so wait for it.
		Eventually(func() error { return k8sClient.Create(ctx, taker) }).Should(Succeed())
	})
})

var _ = Describe("Display-name claims", func() {
	It("a claim left by a create that failed after admission lapses, and the name can be used again", func() {
		ghost := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name: displayname.ClaimName("Ghost Corp"), Namespace: displayname.Namespace,
			Labels:      map[string]string{v1alpha1.LabelOrganization: "ghost-corp", v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue},
			Annotations: map[string]string{displayname.AnnotationOrganizationUID: "never-stored"}}}
		Expect(k8sClient.Create(ctx, ghost)).To(Succeed())
		ghoster := tenant("ghost@failed.example")
		Eventually(func() int {
			code, _ := direct("POST", ghoster, "/v1/identity/organizations", `{"name":"ghost corp"}`, nil)
			return code
		}, 2*displayname.Grace+30*time.Second, 2*time.Second).Should(Equal(http.StatusOK))
	})
})

var _ = Describe("Attack: request hardening (break 9)", func() {
	It("a cross-site text/plain POST cannot create an organization (415)", func() {
		body := `{"organizationName":"Drive By","accountName":"main"}`
		code, resp := direct("POST", alice, "/v1/organizations", body, map[string]string{"Content-Type": "text/plain"})
		Expect(code).To(Equal(http.StatusUnsupportedMediaType), string(resp))
		cs, err := kubernetes.NewForConfig(users[alice])
		Expect(err).NotTo(HaveOccurred())
		resp, err = cs.RESTClient().Post().AbsPath("/apis/api.orgplane.io/v1/organizations").
			SetHeader("Content-Type", "text/plain").Body([]byte(body)).DoRaw(ctx)
		Expect(err).To(HaveOccurred())
		Expect(string(resp)).To(ContainSubstring("Content-Type must be application/json"))
		code, resp = direct("POST", alice, "/v1/organizations", body, map[string]string{"Content-Type": "", "Origin": "https://evil.example"})
		Expect(code).To(Equal(http.StatusUnsupportedMediaType), "an untyped body from a browser (a Blob): %s", resp)
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: "drive-by"}, &v1alpha1.Organization{}))).To(BeTrue())
	})

	It("a body with a duplicate key or trailing data is refused (400) and an oversize one answers 413", func() {
		code, body := direct("POST", alice, "/v1/organizations",
			`{"organizationName":"Dup One","organizationName":"Dup Two","accountName":"main"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		Expect(string(body)).To(ContainSubstring("duplicate key"))
		code, body = direct("PUT", alice, "/v1/organizations/verify", `{"name":"a"}{"name":"b"}`, nil)
		Expect(code).To(Equal(http.StatusBadRequest), string(body))
		code, body = direct("PUT", alice, "/v1/organizations/verify", `{"name":"`+strings.Repeat("a", 70<<10)+`"}`, nil)
		Expect(code).To(Equal(http.StatusRequestEntityTooLarge), string(body))
	})
})

var _ = Describe("Attack: manager hardening (break 10)", func() {
	It("a platform admin who is also a plain member of an organization keeps platform-admin rights there", func() {
		root := tenant("root@platform.example")
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "platform-root"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"orgplane.io"}, Resources: []string{"organizations"}, Verbs: []string{"get", "update"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "platform-root"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "platform-root"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: root}}}
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		owner := tenant("owner@members.example")
		org := createOrg(owner, "Plain Membership")
		addMember(owner, org, root)
		Eventually(func() int {
			code, _ := direct("PATCH", root, "/v1/organizations/"+org+"/metadata", `{"name":"Plain Membership Renamed"}`, nil)
			return code
		}).Should(Equal(http.StatusOK))
	})

	It("createdBy is set once: a rename by someone else does not change it, and kubectl cannot rewrite it", func() {
		maker := tenant("maker@created.example")
		org := createOrg(maker, "Made By Maker")
		code, body := direct("POST", "platform-admin", "/v1/identity/organizations/"+org, `{"name":"Renamed By Platform"}`, nil)
		Expect(code).To(Equal(http.StatusOK), string(body))
		_, body = direct("GET", maker, "/v1/identity/organizations/"+org, "", nil)
		Expect(string(body)).To(ContainSubstring(`"createdBy":{"userId":"maker@created.example"`))

		o := &v1alpha1.Organization{}
		Eventually(func() error { return kubectlAs(maker).Get(ctx, client.ObjectKey{Name: org}, o) }).Should(Succeed())
		patch := client.MergeFrom(o.DeepCopy())
		o.Annotations[v1alpha1.AnnotationCreatedBy] = "someone-else@evil.example"
		err := kubectlAs(maker).Patch(ctx, o, patch)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("records who created the organization and cannot be changed"))
	})
})
