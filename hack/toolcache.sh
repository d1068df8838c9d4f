# Sourced by the scripts that build tools into bin/ (hack/envtest.sh,
# hack/node-binaries.sh). Built binaries are also
# kept outside the checkout, in ORGPLANE_TOOL_CACHE (default
# ~/.cache/orgplane), under the same versioned path, so a fresh clone on a
# machine that built them once reuses them instead of spending minutes on
# the same build. Set ORGPLANE_TOOL_CACHE=off to never use it.
TOOL_CACHE="${ORGPLANE_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/orgplane}"

# restore_tools DIR REL: copies the cached REL (a versioned directory under
# bin/) into DIR when the cache holds it. Returns non-zero otherwise.
restore_tools() {
  local dest="$1" rel="$2"
  [[ "${TOOL_CACHE}" != off && -d "${TOOL_CACHE}/${rel}" ]] || return 1
  mkdir -p "${dest}"
  cp -a "${TOOL_CACHE}/${rel}/." "${dest}/"
  echo "toolcache: restored ${rel} from ${TOOL_CACHE}"
}

# save_tools DIR REL: keeps DIR's binaries in the cache (best effort).
save_tools() {
  local src="$1" rel="$2"
  [[ "${TOOL_CACHE}" != off ]] || return 0
  mkdir -p "${TOOL_CACHE}/${rel}.tmp" && cp -a "${src}/." "${TOOL_CACHE}/${rel}.tmp/" &&
    rm -rf "${TOOL_CACHE:?}/${rel}" && mv "${TOOL_CACHE}/${rel}.tmp" "${TOOL_CACHE}/${rel}" || true
}

# kube_module prepares WORK/kubernetes, a throwaway module requiring
# k8s.io/kubernetes vK8S_VERSION with its staging replaces pinned to the
# published modules; the control-plane and node binaries build in it, so
# they share one build cache. Needs WORK and K8S_VERSION.
kube_module() {
  local dir="${WORK}/kubernetes" modfile replaces m
  [[ -f "${dir}/go.mod" ]] && grep -q "k8s.io/kubernetes v${K8S_VERSION}" "${dir}/go.mod" && return 0
  mkdir -p "${dir}"
  cat >"${dir}/go.mod" <<MOD
module orgplane.local/kubebuild

go 1.26

require k8s.io/kubernetes v${K8S_VERSION}
MOD
  modfile="$(cd "${dir}" && go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  replaces="$(sed -n '/^replace (/,/^)/p' "${modfile}" | awk '/=>/ {print $1}')"
  for m in ${replaces}; do
    echo "replace ${m} => ${m} v0.${K8S_VERSION#1.}" >>"${dir}/go.mod"
  done
}
