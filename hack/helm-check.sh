#!/usr/bin/env bash
# Checks charts/orgplane (make helm-check): helm lint --strict (which also
# validates the values against values.schema.json) and helm template, with the
# default values and with every optional part on; then proves the chart
# refuses values that would break an install: each case below must FAIL to
# render, with the message given (and to lint, for what the schema refuses).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "${ROOT}"
K8S_VERSION="${K8S_VERSION:-1.37.2}"
HELM="${HELM:-${ROOT}/bin/helm-v3.22.0}"
CHART_DIR="${CHART_DIR:-charts/orgplane}"
NAMESPACE=orgplane-system

# Everything the chart can render at once.
ALL_ON=(--set certificates.mode=cert-manager --set metrics.serviceMonitor.enabled=true
  --set metrics.rules.enabled=true --set networkPolicy.enabled=true --set replicas=3)

lint() {
  "${HELM}" lint --strict "${CHART_DIR}" -n "${NAMESPACE}" --kube-version "${K8S_VERSION}" "$@"
}

render() {
  "${HELM}" template orgplane "${CHART_DIR}" -n "${NAMESPACE}" --kube-version "${K8S_VERSION}" "$@"
}

# refuse MESSAGE ARGS...: helm template with ARGS must fail saying MESSAGE.
refuse() {
  local want="$1" out
  shift
  if out="$(render "$@" 2>&1)"; then
    echo "helm-check: helm template accepted $*; the chart must refuse it" >&2
    return 1
  fi
  if ! grep -qF -- "${want}" <<<"${out}"; then
    printf 'helm-check: helm template refused %s without saying "%s":\n%s\n' "$*" "${want}" "${out}" >&2
    return 1
  fi
  echo "helm-check: helm template refused $*: $(grep -F -- "${want}" <<<"${out}")"
}

# refuse_values MESSAGE ARGS...: values.schema.json refuses ARGS, so
# helm lint --strict fails too (a template's `fail` is only an INFO line in
# helm lint, so lint cannot prove the others).
refuse_values() {
  refuse "$@"
  shift
  if lint "$@" >/dev/null 2>&1; then
    echo "helm-check: helm lint --strict accepted $*; values.schema.json must refuse it" >&2
    return 1
  fi
  echo "helm-check: helm lint --strict refused $*"
}

lint
lint "${ALL_ON[@]}"
render >/dev/null
render "${ALL_ON[@]}" >/dev/null
refuse_values "at '/replicas': got string, want integer" --set replicas=three
refuse_values "at '/antiAffinity': value must be one of" --set antiAffinity=bogus
refuse "would block every node drain" --set replicas=1
refuse "would block every node drain" --set replicas=2 --set podDisruptionBudget.minAvailable=2
echo "helm-check: ok"
