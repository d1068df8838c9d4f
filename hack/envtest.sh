#!/usr/bin/env bash
# Builds the local control-plane binaries (etcd, kube-apiserver,
# kube-controller-manager, kubectl) from the Go module proxy into bin/k8s/<k8s-version>. Nothing is downloaded from
# anywhere else. Idempotent: exits at once when the binaries are already there.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${ROOT}/bin/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}"
WORK="${ROOT}/bin/k8s/.build"

have() { [[ -x "${DEST}/$1" ]]; }
KUBE_BINARIES=(kube-apiserver kube-controller-manager kubectl)
have_kube() { for b in "${KUBE_BINARIES[@]}"; do have "$b" || return 1; done; }
if have etcd && have_kube; then
  exit 0
fi
# shellcheck source=hack/toolcache.sh
source "${ROOT}/hack/toolcache.sh"
CACHE_REL="k8s/${K8S_VERSION}-etcd${ETCD_VERSION}"
if restore_tools "${DEST}" "${CACHE_REL}" && have etcd && have_kube; then
  exit 0
fi
mkdir -p "${DEST}" "${WORK}"
export GOFLAGS=-mod=mod GOWORK=off

build_etcd() {
  local dir="${WORK}/etcd"
  echo "envtest: building etcd v${ETCD_VERSION} from the Go module proxy (about 2 minutes)"
  mkdir -p "${dir}"
  cat >"${dir}/go.mod" <<MOD
module orgplane.local/etcdbuild

go 1.26
MOD
  (cd "${dir}" && go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >/dev/null 2>&1 &&
    CGO_ENABLED=0 go build -o "${DEST}/etcd" go.etcd.io/etcd/server/v3)
}

build_kube() {
  local dir="${WORK}/kubernetes"
  echo "envtest: building ${KUBE_BINARIES[*]} v${K8S_VERSION} from the Go module proxy (about 8 minutes)"
  kube_module
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION}"
  for b in "${KUBE_BINARIES[@]}"; do
    have "$b" && continue
    echo "envtest: building ${b}"
    (cd "${dir}" && CGO_ENABLED=0 go build -ldflags "${ldflags}" -o "${DEST}/${b}" "k8s.io/kubernetes/cmd/${b}")
  done
}

have etcd || build_etcd
have_kube || build_kube
save_tools "${DEST}" "${CACHE_REL}"
echo "envtest: binaries ready in ${DEST}"
