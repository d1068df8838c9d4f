# orgplane — organizations, accounts, members and licenses as Kubernetes resources.

K8S_VERSION ?= 1.37.2
ETCD_VERSION ?= 3.6.16
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
REDOCLY_VERSION ?= 2.77.0
HELM_VERSION ?= v3.22.0

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
# openapi-gen comes from the kube-openapi go.mod requires, so the
# definitions match the k8s.io/apiserver that serves them.
KUBE_OPENAPI_VERSION ?= $(shell go list -m -f '{{.Version}}' k8s.io/kube-openapi)
OPENAPI_GEN ?= $(LOCALBIN)/openapi-gen-$(KUBE_OPENAPI_VERSION)/openapi-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
REDOCLY_DIR ?= $(LOCALBIN)/redocly-$(REDOCLY_VERSION)
REDOCLY ?= $(REDOCLY_DIR)/node_modules/.bin/redocly
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
CHART_DIR ?= charts/orgplane
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s/$(K8S_VERSION)-etcd$(ETCD_VERSION)
KUBECTL ?= $(ENVTEST_ASSETS)/kubectl
DEV_DIR ?= $(CURDIR)/.dev
DIST ?= $(CURDIR)/dist
# The manager's image, and the node's sandbox image (test/cluster), as OCI tarballs in dist/.
IMG ?= docker.io/orgplane/orgplane:dev
PAUSE_IMG ?= docker.io/orgplane/pause:dev
IMAGE_GOFLAGS = CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w -buildid="

export KUBEBUILDER_ASSETS := $(ENVTEST_ASSETS)
export GOFLAGS ?= -buildvcs=false

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC into config/.
	$(CONTROLLER_GEN) rbac:roleName=orgplane-manager crd:allowDangerousTypes=true webhook paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen openapi-gen ## Generate DeepCopy methods and the OpenAPI definitions of my.orgplane.io.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	$(OPENAPI_GEN) --output-dir internal/views/openapi --output-pkg github.com/orgplane/orgplane/internal/views/openapi \
		--output-file zz_generated.openapi.go --output-model-name-file zz_generated.model_name.go \
		--readonly-pkg k8s.io/apimachinery/pkg/apis/meta/v1 --readonly-pkg k8s.io/apimachinery/pkg/runtime \
		--readonly-pkg k8s.io/apimachinery/pkg/version --go-header-file hack/boilerplate.go.txt --report-filename /dev/null \
		k8s.io/apimachinery/pkg/apis/meta/v1 k8s.io/apimachinery/pkg/runtime k8s.io/apimachinery/pkg/version \
		github.com/orgplane/orgplane/api/my/v1

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (.golangci.yml).
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply the fixes it can make.
	$(GOLANGCI_LINT) run --fix

.PHONY: verify-generated
verify-generated: manifests generate ## Fail if generated files differ from what is committed.
	@if [ -n "$$(git status --porcelain -- api config internal/views/openapi)" ]; then \
		echo "Generated files are out of date; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config internal/views/openapi; git diff --stat -- api config internal/views/openapi; exit 1; fi

.PHONY: test
test: envtest verify-generated vet lint fmt-check check-files check-layers helm-check manifest-check openapi-lint test-go fuzz-smoke ## Build the toolchain if needed, generate, vet, lint, check files, the chart and the OpenAPI document, and run every test (race detector on).

.PHONY: fmt-check
fmt-check: ## Fail if a Go file is not gofmt-clean.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "Not gofmt-clean:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

.PHONY: test-go
test-go: envtest axe ## Run every Go test suite (unit, envtest, e2e, the console in Chromium when installed) with the race detector.
	AXE_JS=$(AXE_JS) go test -race ./... -count=1 -timeout 40m

SCREENSHOTS ?= $(CURDIR)/docs/images
.PHONY: screenshots
screenshots: envtest axe ## Regenerate the console's screenshots (docs/images/console-*.png) from its browser test.
	@mkdir -p $(SCREENSHOTS)
	AXE_JS=$(AXE_JS) SCREENSHOTS=$(SCREENSHOTS) go test ./test/e2e -run TestConsole -count=1 -timeout 15m

OPENAPI_OUT ?= $(CURDIR)/.openapi/openapi.json
.PHONY: openapi-lint
openapi-lint: redocly spectral ## Lint the OpenAPI document (orgplane openapi) with Redocly's recommended rules, then Spectral's OAS and OWASP rules (.spectral.yaml); any error fails.
	@mkdir -p $(dir $(OPENAPI_OUT))
	go run ./cmd/orgplane openapi > $(OPENAPI_OUT)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --extends=recommended --format=stylish $(OPENAPI_OUT)
	NODE_PATH=$(SPECTRAL_DIR)/node_modules $(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity error --display-only-failures --format stylish $(OPENAPI_OUT)

MAX_FILE_BYTES ?= 1048576
.PHONY: check-files
check-files: ## Fail if a tracked file is larger than 1 MiB (binaries belong in bin/, never in git).
	@big="$$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk -v max=$(MAX_FILE_BYTES) '$$1 > max')"; \
	if [ -n "$$big" ]; then echo "Tracked files over $(MAX_FILE_BYTES) bytes (remove them with git rm --cached and ignore them):"; echo "$$big"; exit 1; fi

.PHONY: check-layers
check-layers: ## Fail if the REST API imports the reconcilers (it shares vocabulary through internal/index and api/v1alpha1).
	@if go list -deps ./internal/rest | grep -qx 'github.com/orgplane/orgplane/controllers'; then \
		echo "internal/rest imports controllers: move what it needs into internal/index or api/v1alpha1"; exit 1; fi

# FUZZ_EXECS is an execution budget, not a duration: a wall-clock -fuzztime
# races starved workers at its deadline on a busy machine (golang/go#75804)
# and fails with "context deadline exceeded". The seed corpus in
# internal/license/testdata/fuzz runs in every `go test` too.
FUZZ_EXECS ?= 100000
.PHONY: fuzz-smoke
fuzz-smoke: ## Fuzz the license decoder for FUZZ_EXECS executions (cannot fail on a deadline).
	go test ./internal/license -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZ_EXECS)x

.PHONY: bench
bench: envtest manifests ## Measure convergence, REST reads, admission and memory (BENCH_ARGS="-n 500 -m 3 -k 3").
	go run ./test/bench -out docs/benchmarks.json $(BENCH_ARGS)

.PHONY: bench-5000
bench-5000: envtest manifests ## The same at 5 000 organizations and 15 000 accounts (about 40 minutes on 2 cores).
	go run ./test/bench -n 5000 -out docs/benchmarks-5000.json $(BENCH_ARGS)

.PHONY: fuzz
fuzz: ## Fuzz the license decoder for FUZZTIME (default 2m; a duration, for people, not CI).
	go test ./internal/license -run '^$$' -fuzz FuzzVerify -fuzztime $(or $(FUZZTIME),2m)

##@ Build

.PHONY: build
build: generate ## Build the orgplane binary into bin/.
	go build -o $(LOCALBIN)/orgplane ./cmd/orgplane

.PHONY: image
image: ## Build reproducible OCI image tarballs of orgplane and the node's pause into dist/ (no registry, no daemon).
	@mkdir -p $(DIST)/image
	$(IMAGE_GOFLAGS) -o $(DIST)/image/orgplane ./cmd/orgplane
	$(IMAGE_GOFLAGS) -o $(DIST)/image/pause ./hack/pause
	go run ./hack/imagebuild -binary $(DIST)/image/orgplane -name $(IMG) -out $(DIST)/orgplane-image.tar
	go run ./hack/imagebuild -binary $(DIST)/image/pause -name $(PAUSE_IMG) -out $(DIST)/pause-image.tar
	@sha256sum $(DIST)/orgplane-image.tar $(DIST)/pause-image.tar

.PHONY: docker-build
docker-build: image ## Load the image into a local Docker daemon (for users with Docker; nothing here needs it).
	docker load -i $(DIST)/orgplane-image.tar

.PHONY: run
run: manifests generate install ## Run the reconcilers against the current kubeconfig's cluster (webhooks and REST off).
	go run ./cmd/orgplane manager --zap-devel --webhooks=false --metrics-bind-address=127.0.0.1:8080 --health-probe-bind-address=127.0.0.1:8081

.PHONY: install
install: manifests envtest ## Install the CRDs into the current kubeconfig's cluster.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: envtest ## Remove the CRDs (and every orgplane object) from the current kubeconfig's cluster.
	$(KUBECTL) delete --ignore-not-found -f config/crd/bases

.PHONY: dev
dev: envtest manifests build ## Run orgplane on a local control plane (Ctrl-C stops everything).
	$(LOCALBIN)/orgplane dev --assets $(ENVTEST_ASSETS) --dir $(DEV_DIR)

.PHONY: dev-clean
dev-clean: ## Remove the local control plane's state.
	rm -rf $(DEV_DIR)

##@ Deployment

.PHONY: deploy
deploy: manifests envtest ## Install orgplane into the current kubeconfig's cluster (config/default; IMG sets the image).
	$(KUBECTL) kustomize config/default | sed 's|docker.io/orgplane/orgplane:dev|$(IMG)|' | $(KUBECTL) apply --server-side --force-conflicts -f -

.PHONY: undeploy
undeploy: envtest ## Remove orgplane: APIServices and webhooks first, then its objects (while the manager runs), then the rest.
	$(KUBECTL) delete --ignore-not-found apiservice v1.api.orgplane.io v1.my.orgplane.io
	$(KUBECTL) delete --ignore-not-found validatingwebhookconfiguration orgplane-validating-webhook-configuration
	$(KUBECTL) delete --ignore-not-found mutatingwebhookconfiguration orgplane-mutating-webhook-configuration
	$(KUBECTL) delete --ignore-not-found --timeout=5m -k config/crd
	$(KUBECTL) kustomize config/default | $(KUBECTL) delete --ignore-not-found --timeout=5m -f -

.PHONY: build-installer
build-installer: manifests envtest ## Write everything config/default installs into dist/install.yaml.
	@mkdir -p $(DIST)
	$(KUBECTL) kustomize config/default | sed 's|docker.io/orgplane/orgplane:dev|$(IMG)|' > $(DIST)/install.yaml
	@echo "wrote $(DIST)/install.yaml"

.PHONY: test-cluster
test-cluster: envtest node-binaries image manifests helm axe ## As root: start a real one-node cluster, install orgplane, prove HA and failure isolation, tear down.
	AXE_JS=$(AXE_JS) ORGPLANE_TEST_CLUSTER=1 go test ./test/cluster -count=1 -timeout 60m -v -ginkgo.v

.PHONY: node-binaries
node-binaries: ## Build kubelet, kube-scheduler, kube-proxy and containerd from the Go module proxy into bin/ (once).
	@K8S_VERSION=$(K8S_VERSION) hack/node-binaries.sh

.PHONY: chart
chart: manifests ## Copy the generated CRDs, RBAC, webhooks, policies and the alerts into charts/orgplane.
	cp config/crd/bases/*.yaml $(CHART_DIR)/crds/
	cp config/rbac/role.yaml config/rbac/role_binding.yaml config/rbac/api_access.yaml config/rbac/organization_roles.yaml config/rbac/metrics_reader_role.yaml $(CHART_DIR)/files/
	cp config/webhook/manifests.yaml $(CHART_DIR)/files/webhooks.yaml
	for f in $$(ls config/policy/*.yaml | grep -v kustomization.yaml); do cp $$f $(CHART_DIR)/files/policy-$$(basename $$f); done
	sed -n '/^spec:/,$$p' config/prometheus/alerts.yaml | tail -n +2 | sed 's/^  //' > $(CHART_DIR)/files/alerts-spec.yaml

.PHONY: helm-check
helm-check: chart helm ## Fail if charts/orgplane is out of date with config/; helm lint --strict and helm template it, and prove it refuses bad values (hack/helm-check.sh).
	@if [ -n "$$(git status --porcelain -- $(CHART_DIR)/crds $(CHART_DIR)/files)" ]; then \
		echo "charts/orgplane is out of date with config/; run 'make chart' and commit:"; git status --porcelain -- $(CHART_DIR)/crds $(CHART_DIR)/files; exit 1; fi
	K8S_VERSION=$(K8S_VERSION) HELM=$(HELM) CHART_DIR=$(CHART_DIR) hack/helm-check.sh

.PHONY: manifest-check
manifest-check: manifests envtest helm kubeconform ## Validate config/ (kustomize), the chart and config/samples with kubeconform -strict, offline (hack/kubeconform.sh).
	K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) KUBECTL=$(KUBECTL) HELM=$(HELM) KUBECONFORM=$(KUBECONFORM) \
		CHART_DIR=$(CHART_DIR) hack/kubeconform.sh

##@ Tools

.PHONY: helm
helm: $(HELM) ## Build helm from the Go module proxy into bin/ (once per HELM_VERSION).
$(HELM):
	GOBIN=$(LOCALBIN)/.helm-$(HELM_VERSION) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/.helm-$(HELM_VERSION)/helm $(HELM) && rmdir $(LOCALBIN)/.helm-$(HELM_VERSION)

.PHONY: envtest
envtest: ## Build etcd, kube-apiserver and kubectl from the Go module proxy into bin/k8s (once).
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/envtest.sh

KUBECONFORM_VERSION ?= v0.8.0
KUBECONFORM ?= $(LOCALBIN)/kubeconform-$(KUBECONFORM_VERSION)

.PHONY: kubeconform
kubeconform: $(KUBECONFORM) ## Build kubeconform from the Go module proxy into bin/ (once per KUBECONFORM_VERSION).
$(KUBECONFORM):
	GOBIN=$(LOCALBIN)/.kubeconform-$(KUBECONFORM_VERSION) go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)
	mv $(LOCALBIN)/.kubeconform-$(KUBECONFORM_VERSION)/kubeconform $(KUBECONFORM) && rmdir $(LOCALBIN)/.kubeconform-$(KUBECONFORM_VERSION)

.PHONY: openapi-gen
openapi-gen: $(OPENAPI_GEN) ## Build openapi-gen from the Go module proxy into bin/.
$(OPENAPI_GEN):
	GOBIN=$(dir $(OPENAPI_GEN)) go install k8s.io/kube-openapi/cmd/openapi-gen@$(KUBE_OPENAPI_VERSION)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: redocly
redocly: $(REDOCLY)
$(REDOCLY):
	npm install --no-audit --no-fund --prefix $(REDOCLY_DIR) @redocly/cli@$(REDOCLY_VERSION)

SPECTRAL_VERSION ?= 6.16.3
SPECTRAL_OWASP_VERSION ?= 2.0.1
SPECTRAL_DIR ?= $(LOCALBIN)/spectral-$(SPECTRAL_VERSION)
SPECTRAL ?= $(SPECTRAL_DIR)/node_modules/.bin/spectral
# The stamp names the OWASP ruleset's version too, so that changing either reinstalls.
SPECTRAL_STAMP = $(SPECTRAL_DIR)/.installed-owasp-$(SPECTRAL_OWASP_VERSION)

.PHONY: spectral
AXE_VERSION ?= 4.14.1
AXE_DIR ?= $(LOCALBIN)/axe-core-$(AXE_VERSION)
AXE_JS = $(AXE_DIR)/node_modules/axe-core/axe.min.js
.PHONY: axe
axe: $(AXE_JS) ## Install axe-core from npm into bin/ (once per version): the console's browser tests run it in the page.
$(AXE_JS):
	npm install --no-audit --no-fund --prefix $(AXE_DIR) axe-core@$(AXE_VERSION)

spectral: $(SPECTRAL_STAMP) ## Install Spectral and its OWASP ruleset from npm into bin/ (once per version).
$(SPECTRAL_STAMP):
	npm install --no-audit --no-fund --prefix $(SPECTRAL_DIR) @stoplight/spectral-cli@$(SPECTRAL_VERSION) @stoplight/spectral-owasp-ruleset@$(SPECTRAL_OWASP_VERSION)
	touch $@

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT):
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@
