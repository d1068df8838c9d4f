#!/usr/bin/env bash
# Builds the node binaries for test/cluster from the Go module proxy into bin/:
#   bin/k8s/node-<k8s-version>/{kubelet,kube-scheduler,kube-proxy}
#   bin/containerd/<containerd-version>/{containerd,containerd-shim-runc-v2,ctr}
# kubelet, kube-scheduler and kube-proxy come from the throwaway module hack/envtest.sh
# uses (bin/k8s/.build/kubernetes), so the control plane's build cache is reused.
# Nothing is downloaded from anywhere else. Idempotent: exits at once when the
# binaries of the pinned versions are already there.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-2.4.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE_DEST="${ROOT}/bin/k8s/node-${K8S_VERSION}"
CTRD_DEST="${ROOT}/bin/containerd/${CONTAINERD_VERSION}"
WORK="${ROOT}/bin/k8s/.build"

NODE_BINARIES=(kubelet kube-scheduler kube-proxy)
CTRD_BINARIES=(containerd containerd-shim-runc-v2 ctr)
all_there() { local d="$1"; shift; for b in "$@"; do [[ -x "${d}/${b}" ]] || return 1; done; }

export GOFLAGS=-mod=mod GOWORK=off

build_node() {
  local dir="${WORK}/kubernetes" pkgs=() b
  echo "node: building ${NODE_BINARIES[*]} v${K8S_VERSION} from the Go module proxy (1-6 minutes)"
  kube_module
  mkdir -p "${NODE_DEST}"
  for b in "${NODE_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  # The control plane's go.sum lacks the node-only modules (netlink, knftables, ...).
  (cd "${dir}" && go list -deps "${pkgs[@]}" >/dev/null)
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION}"
  for b in "${NODE_BINARIES[@]}"; do
    [[ -x "${NODE_DEST}/${b}" ]] && continue
    echo "node: building ${b}"
    (cd "${dir}" && CGO_ENABLED=0 go build -ldflags "${ldflags}" -o "${NODE_DEST}/${b}.tmp" "k8s.io/kubernetes/cmd/${b}" &&
      mv "${NODE_DEST}/${b}.tmp" "${NODE_DEST}/${b}")
  done
}

build_containerd() {
  local dir="${WORK}/containerd-${CONTAINERD_VERSION}" b
  echo "node: building containerd v${CONTAINERD_VERSION} from the Go module proxy (1-2 minutes)"
  mkdir -p "${dir}" "${CTRD_DEST}"
  cat >"${dir}/go.mod" <<MOD
module orgplane.local/containerdbuild

go 1.26

require github.com/containerd/containerd/v2 v${CONTAINERD_VERSION}
MOD
  local ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=v${CONTAINERD_VERSION}"
  for b in "${CTRD_BINARIES[@]}"; do
    [[ -x "${CTRD_DEST}/${b}" ]] && continue
    echo "node: building ${b}"
    (cd "${dir}" && CGO_ENABLED=0 go build -tags "no_btrfs no_devmapper no_zfs" -ldflags "${ldflags}" \
      -o "${CTRD_DEST}/${b}.tmp" "github.com/containerd/containerd/v2/cmd/${b}" &&
      mv "${CTRD_DEST}/${b}.tmp" "${CTRD_DEST}/${b}")
  done
}

# shellcheck source=hack/toolcache.sh
source "${ROOT}/hack/toolcache.sh"
all_there "${CTRD_DEST}" "${CTRD_BINARIES[@]}" || restore_tools "${CTRD_DEST}" "containerd/${CONTAINERD_VERSION}" || true
all_there "${NODE_DEST}" "${NODE_BINARIES[@]}" || restore_tools "${NODE_DEST}" "k8s/node-${K8S_VERSION}" || true
if ! all_there "${CTRD_DEST}" "${CTRD_BINARIES[@]}"; then
  build_containerd
  save_tools "${CTRD_DEST}" "containerd/${CONTAINERD_VERSION}"
fi
if ! all_there "${NODE_DEST}" "${NODE_BINARIES[@]}"; then
  build_node
  save_tools "${NODE_DEST}" "k8s/node-${K8S_VERSION}"
fi
echo "node: binaries ready in ${NODE_DEST} and ${CTRD_DEST}"
