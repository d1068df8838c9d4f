package rest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
)

// createdThroughAPIServer is POST /organizations's answer, as a console reads it.
type createdThroughAPIServer struct {
	Account struct {
		Metadata struct{ Name string }
		Spec     struct {
			SecretKey           *string  `json:"secretKey"`
			AlternateSecretKeys []string `json:"alternateSecretKeys"`
		}
	}
	Organization struct {
		Metadata struct{ Name string }
		Spec     struct {
			Auth0 map[string]any `json:"auth0"`
		}
	}
}

func createThroughAPIServer(username, body string) createdThroughAPIServer {
	out, err := throughAPIServerDo("POST", username, "/organizations", body)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), string(out))
	var created createdThroughAPIServer
	ExpectWithOffset(1, json.Unmarshal(out, &created)).To(Succeed())
	return created
}

// statusMessage is the message of an error answer read through kube-apiserver.
func statusMessage(body []byte) string {
	var e struct{ Message string }
	_ = json.Unmarshal(body, &e)
	return e.Message
}

var _ = Describe("The seed contract, through kube-apiserver", func() {
	It("POST /organizations gives its creator the first account's API key", func() {
		user := tenant("kim@keys.example")
		created := createThroughAPIServer(user, `{"organizationName":"Keyed Corp","accountName":"Main","eulaAccepted":true}`)
		Expect(created.Account.Spec.SecretKey).NotTo(BeNil())
		acct := &v1alpha1.Account{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "org-" + created.Organization.Metadata.Name, Name: "main"}, acct)).To(Succeed())
		keys := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: acct.Namespace, Name: acct.APIKeySecretName()}, keys)).To(Succeed())
		Expect(*created.Account.Spec.SecretKey).To(Equal(string(keys.Data["secretKey"])))
		Expect(created.Account.Spec.AlternateSecretKeys).NotTo(BeNil())
	})

	It("licenseType free creates the organization on the free plan", func() {
		user := tenant("fran@free.example")
		created := createThroughAPIServer(user, `{"organizationName":"Free Rider","accountName":"Main","licenseType":"free"}`)
		eventuallyPlan(created.Organization.Metadata.Name, v1alpha1.PlanFree)
		lics := &v1alpha1.LicenseList{}
		Expect(k8sClient.List(ctx, lics)).To(Succeed())
		for _, l := range lics.Items {
			Expect(l.Spec.Organization).NotTo(Equal(created.Organization.Metadata.Name))
		}
	})

	It("a licenseType nobody offers is refused at once, naming what is offered, and nothing is written", func() {
		user := tenant("una@unknown.example")
		out, err := throughAPIServerDo("POST", user, "/organizations", `{"organizationName":"Gold Plated","accountName":"Main","licenseType":"platinum"}`)
		Expect(err).To(HaveOccurred())
		Expect(statusMessage(out)).To(And(ContainSubstring(`licenseType "platinum" is not offered here`), ContainSubstring("free")), string(out))
		Consistently(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Name: "gold-plated"}, &v1alpha1.Organization{})
		}, 2*time.Second).ShouldNot(Succeed())
	})

	It("an organization without SSO shows auth0 with the seed's three keys", func() {
		user := tenant("sam@nosso.example")
		created := createThroughAPIServer(user, `{"organizationName":"No SSO Inc","accountName":"Main"}`)
		Expect(created.Organization.Spec.Auth0).To(Equal(map[string]any{"displayName": "", "id": "", "name": ""}))
	})

	It("shows sensitive parameter values to admins and hides them from members", func() {
		admin, member := tenant("ada@params.example"), tenant("mo@params.example")
		org := createOrg(admin, "Params Ltd")
		addMember(admin, org, member)
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
		patch := client.MergeFrom(o.DeepCopy())
		secret, plain := "hunter2", "eu-west"
		Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: o.NamespaceName(), Name: "db"},
			StringData: map[string]string{"password": secret}})).To(Succeed())
		o.Spec.Parameters = []v1alpha1.Parameter{
			{Name: "db-password", SecretKeyRef: &v1alpha1.SecretKeySelector{Name: "db", Key: "password"}, Sensitive: true},
			{Name: "region", Value: &plain}}
		Expect(k8sClient.Patch(ctx, o, patch)).To(Succeed())

		parameters := func(username string) map[string]any {
			var body struct {
				Organization struct {
					Spec struct {
						Parameters []struct {
							Name  string
							Value any
						}
					}
				}
			}
			out := map[string]any{}
			Eventually(func(g Gomega) {
				raw, err := throughAPIServer(username, "/organizations/"+org)
				g.Expect(err).NotTo(HaveOccurred(), string(raw))
				g.Expect(json.Unmarshal(raw, &body)).To(Succeed())
				g.Expect(body.Organization.Spec.Parameters).To(HaveLen(2))
			}).Should(Succeed())
			for _, p := range body.Organization.Spec.Parameters {
				out[p.Name] = p.Value
			}
			return out
		}
		Expect(parameters(admin)).To(Equal(map[string]any{"db-password": secret, "region": plain}))
		Expect(parameters(member)).To(Equal(map[string]any{"db-password": nil, "region": plain}))
	})

	It("20 concurrent member adds with 4 free places: 4 land, 16 are told the users limit, none sees a raw conflict", func() {
		admin := tenant("max@crowd.example")
		org := createOrg(admin, "Crowded House")
		k, err := license.Issue(vendorKey, license.Claims{
			RegisteredClaims: jwt.RegisteredClaims{ID: "crowd-5-users", NotBefore: jwt.NewNumericDate(time.Now().Add(-time.Minute)),
				ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))},
			Type: "team", Licensee: org, Organization: orgID(org), Limits: license.Limits{Accounts: 5, Users: 5, Deployments: 5},
		})
		Expect(err).NotTo(HaveOccurred())
		mustPutKey(admin, org, k)
		eventuallyPlan(org, "team")

		type answer struct {
			code    int
			message string
		}
		answers := make([]answer, 20)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() {
				defer GinkgoRecover()
				body := fmt.Sprintf(`{"email":"guest%d@crowd.example"}`, i)
				out, err := throughAPIServerDo("POST", admin, "/organizations/"+org+"/members", body)
				answers[i] = answer{http.StatusOK, ""}
				if err != nil {
					answers[i] = answer{statusCode(err), statusMessage(out)}
				}
			})
		}
		wg.Wait()
		added, refused := 0, 0
		for _, a := range answers {
			Expect(a.message).NotTo(ContainSubstring("the object has been modified"))
			switch a.code {
			case http.StatusOK:
				added++
			case http.StatusForbidden:
				Expect(a.message).To(ContainSubstring("has reached its limit of 5 users"))
				refused++
			default:
				Fail(fmt.Sprintf("unexpected answer %d: %s", a.code, a.message))
			}
		}
		Expect([]int{added, refused}).To(Equal([]int{4, 16}))
		o := &v1alpha1.Organization{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: org}, o)).To(Succeed())
		Expect(o.Spec.Members).To(HaveLen(5))
	})

	It("a member add right after a create is not answered with a conflict", func() {
		admin := tenant("quinn@quick.example")
		for i := range 6 {
			org := createOrg(admin, fmt.Sprintf("Quick Add %d", i))
			out, err := throughAPIServerDo("POST", admin, "/organizations/"+org+"/members", `{"email":"first@quick.example"}`)
			Expect(err).NotTo(HaveOccurred(), strings.TrimSpace(string(out)))
		}
	})
})

// statusCode is the HTTP status of an error answer read through kube-apiserver.
func statusCode(err error) int {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return int(status.Status().Code)
	}
	return 0
}
