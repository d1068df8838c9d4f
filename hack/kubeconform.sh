#!/usr/bin/env bash
# Validates every manifest orgplane ships with `kubeconform -strict`, offline
# (make manifest-check):
#   - config/default, config/certmanager, and config/default with
#     config/prometheus and config/network-policy added (as config/default's
#     comments compose them), rendered by kubectl kustomize;
#   - charts/orgplane rendered with its default values and with every optional
#     part on (CRDs included);
#   - config/samples, against orgplane's own CRDs.
# -strict refuses duplicate keys in a document and fields a schema does not
# list. The schemas are generated into bin/kubeconform-schemas by
# hack/kubeconform-schemas from Kubernetes' OpenAPI v3 documents (in the
# k8s.io/kubernetes module, from the Go module cache or proxy) and from
# config/crd/bases. The rendered manifests stay in bin/kubeconform-manifests
# for reading after a failure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "${ROOT}"
K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KUBECTL="${KUBECTL:-${ROOT}/bin/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}/kubectl}"
HELM="${HELM:-${ROOT}/bin/helm-v3.22.0}"
KUBECONFORM="${KUBECONFORM:-${ROOT}/bin/kubeconform-v0.8.0}"
CHART_DIR="${CHART_DIR:-charts/orgplane}"
SCHEMAS="${SCHEMAS:-${ROOT}/bin/kubeconform-schemas}"
OUT="${OUT:-${ROOT}/bin/kubeconform-manifests}"
NAMESPACE=orgplane-system

# No schema for these is available offline: neither the Prometheus Operator's
# nor cert-manager's CRDs are in the Go module cache. Their documents are still
# parsed strictly (a duplicate key fails); only their fields go unchecked.
SKIP_KINDS=(
  monitoring.coreos.com/v1/ServiceMonitor
  monitoring.coreos.com/v1/PrometheusRule
  cert-manager.io/v1/Certificate
  cert-manager.io/v1/Issuer
)

# Everything the chart can render at once.
CHART_ALL_ON=(--set certificates.mode=cert-manager --set metrics.serviceMonitor.enabled=true
  --set metrics.rules.enabled=true --set networkPolicy.enabled=true --set replicas=3)

# openapi_dir prints the directory of Kubernetes' OpenAPI v3 documents,
# downloading the k8s.io/kubernetes module (source only) if it is not cached.
openapi_dir() {
  local tmp dir
  tmp="$(mktemp -d)"
  dir="$(cd "${tmp}" && GOWORK=off GOFLAGS= go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rmdir "${tmp}"
  [[ -n "${dir}" ]] || { echo "kubeconform: cannot find k8s.io/kubernetes@v${K8S_VERSION} in the Go module cache or proxy" >&2; return 1; }
  echo "${dir}/api/openapi-spec/v3"
}

schemas() {
  rm -rf "${SCHEMAS}"
  go run ./hack/kubeconform-schemas -openapi "$(openapi_dir)" -crds config/crd/bases -out "${SCHEMAS}"
}

chart() {
  "${HELM}" template orgplane "${CHART_DIR}" -n "${NAMESPACE}" --kube-version "${K8S_VERSION}" --include-crds "$@"
}

# compose writes a kustomization adding config/prometheus and
# config/network-policy to config/default.
compose() {
  local dir="${OUT}/default-prometheus-network-policy" d
  mkdir -p "${dir}"
  echo "resources:" >"${dir}/kustomization.yaml"
  for d in default prometheus network-policy; do
    echo "- $(realpath --relative-to="${dir}" "${ROOT}/config/${d}")" >>"${dir}/kustomization.yaml"
  done
  echo "${dir}"
}

render() {
  rm -rf "${OUT}"
  mkdir -p "${OUT}"
  "${KUBECTL}" kustomize config/default >"${OUT}/kustomize-default.yaml"
  "${KUBECTL}" kustomize config/certmanager >"${OUT}/kustomize-certmanager.yaml"
  "${KUBECTL}" kustomize "$(compose)" >"${OUT}/kustomize-default-prometheus-network-policy.yaml"
  chart >"${OUT}/chart-default.yaml"
  chart "${CHART_ALL_ON[@]}" >"${OUT}/chart-all-on.yaml"
}

schemas
render
skip="$(IFS=,; echo "${SKIP_KINDS[*]}")"
echo "kubeconform: skipping ${skip//,/, }: no schema for them is available offline (the Prometheus Operator's and cert-manager's CRDs are not in the Go module cache); their YAML is still parsed strictly"
"${KUBECONFORM}" -strict -summary -skip "${skip}" \
  -schema-location "${SCHEMAS}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  "${OUT}"/*.yaml config/samples
