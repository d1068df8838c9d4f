# Sourced by the scripts that build tools into bin/. Built binaries are also
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
