#!/usr/bin/env bash
# Tears down the node hack/node-up.sh started and restores what it changed on
# the host: workloads are deleted through the API first (so kubelet runs CNI
# DEL), daemons are stopped by their recorded PIDs, then leftover shims,
# mounts, network namespaces, the bridge, iptables rules, cgroups, sysctls and
# created paths are removed. Safe to run twice, or after a failed start.
# NODE_KEEP_LOGS=dir copies the node's logs there first.
set -uo pipefail
source "$(dirname "$0")/node-lib.sh"

[[ -e "${BASE}" || -e "${NODE_DIR}" ]] || exit 0
ctr() { "${CTRD_BIN}/ctr" -a "${CTRD_SOCK}" -n k8s.io "$@"; }

stop() { # stop <name>: SIGTERM, then SIGKILL after 15 s
  local f="${NODE_DIR}/pids/$1" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

running() { [[ -f "${NODE_DIR}/pids/$1" ]] && kill -0 "$(cat "${NODE_DIR}/pids/$1")" 2>/dev/null; }

# 1. Workloads through the API, with nothing left to recreate them.
if running kube-apiserver && running kubelet; then
  stop kube-controller-manager
  stop kube-scheduler
  kc delete validatingwebhookconfigurations,mutatingwebhookconfigurations --all --wait=false >/dev/null 2>&1
  kc delete apiservices -l '!kube-aggregator.kubernetes.io/automanaged' --wait=false >/dev/null 2>&1
  kc delete pods --all -A --grace-period=1 --wait=false >/dev/null 2>&1
  for ((i = 0; i < 90; i++)); do
    [[ -z "$(kc get pods -A -o name 2>/dev/null)" ]] && [[ -z "$(ctr tasks ls -q 2>/dev/null)" ]] && break
    sleep 0.5
  done
fi
# 2. Node daemons, then whatever containerd still runs.
stop kube-proxy
stop kubelet
if running containerd; then
  for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
  sleep 1
  for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$t" >/dev/null 2>&1; done
  for c in $(ctr containers ls -q 2>/dev/null); do ctr containers delete "$c" >/dev/null 2>&1; done
fi
stop containerd
# Shims this containerd started (they outlive it): found by their binary.
for pid in $(pgrep -f "^${CTRD_BIN}/containerd-shim-runc-v2" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
stop kube-controller-manager
stop kube-scheduler
stop kube-apiserver
stop etcd

# 3. Mounts under the node's directory, deepest first; network namespaces; the bridge.
if [[ -d "${NODE_DIR}" ]]; then
  for ((i = 0; i < 3; i++)); do
    awk -v d="${NODE_DIR}/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
  done
fi
for ns in /run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  ip netns delete "$(basename "$ns")" 2>/dev/null || { umount "$ns" 2>/dev/null; rm -f "$ns"; }
done
for v in $(ip -o link show master cni0 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  ip link delete "$v" 2>/dev/null
done
ip link delete cni0 2>/dev/null

# 4. Packet filtering as it was: kubelet and kube-proxy add KUBE-* chains to
# tables (iptables-nft) the host may not have had at all.
if [[ -f "${BASE}/nft" ]] && command -v nft >/dev/null; then
  nft flush ruleset
  [[ -s "${BASE}/nft" ]] && { nft -f "${BASE}/nft" 2>/dev/null || iptables-restore <"${BASE}/iptables"; }
elif [[ -f "${BASE}/iptables" ]]; then
  for t in filter nat mangle raw; do
    grep -q "^\*$t" "${BASE}/iptables" || { iptables -t "$t" -F 2>/dev/null; iptables -t "$t" -X 2>/dev/null; }
    grep -q "^\*$t" "${BASE}/ip6tables" 2>/dev/null || { ip6tables -t "$t" -F 2>/dev/null; ip6tables -t "$t" -X 2>/dev/null; }
  done
  iptables-restore <"${BASE}/iptables"
  [[ -f "${BASE}/ip6tables" ]] && ip6tables-restore <"${BASE}/ip6tables" 2>/dev/null
fi

# 5. cgroups kubelet made (cgroupfs driver: kubepods in every v1 hierarchy).
for h in /sys/fs/cgroup/*/; do
  [[ -d "${h}kubepods" ]] && find "${h}kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# 6. sysctls and paths.
if [[ -f "${BASE}/sysctl" ]]; then
  while IFS= read -r kv; do sysctl -q -w "$kv" >/dev/null 2>&1; done <"${BASE}/sysctl"
fi
if [[ -f "${BASE}/paths" ]]; then
  for p in "${HOST_PATHS[@]}"; do
    grep -qx "$p" "${BASE}/paths" || rm -rf "$p"
  done
fi
if [[ -n "${NODE_KEEP_LOGS:-}" && -d "${NODE_DIR}/logs" ]]; then
  mkdir -p "${NODE_KEEP_LOGS}" && cp -r "${NODE_DIR}/logs/." "${NODE_KEEP_LOGS}/"
fi
rm -rf "${NODE_DIR}" "${BASE}"
left="$(awk -v d="${NODE_DIR}/" 'index($2, d) == 1' /proc/self/mounts; ls -d /sys/fs/cgroup/*/kubepods 2>/dev/null
  ip link show cni0 2>/dev/null; iptables-save 2>/dev/null | grep -m1 KUBE-; pgrep -f "^${CTRD_BIN}/")"
if [[ -n "$left" ]]; then
  echo "node: teardown left behind:" >&2
  echo "$left" >&2
  exit 1
fi
echo "node: torn down; host restored" >&2
