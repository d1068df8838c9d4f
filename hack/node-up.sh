#!/usr/bin/env bash
# Starts a one-node Kubernetes cluster on this machine for test/cluster:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd
# (runc, CNI bridge), kubelet and kube-proxy, from binaries built by
# `make envtest node-binaries`, and imports the images `make image` wrote.
# Needs root on a VM (not a container), /usr/sbin/runc and /usr/lib/cni.
# Records what it changes on the host first; hack/node-down.sh restores it.
# Prints the admin kubeconfig's path. See ../shared/KUBERNETES-NODE.md.
set -euo pipefail
source "$(dirname "$0")/node-lib.sh"

NODE_IP="$(ip -4 route get 1.1.1.1 | awk '{for (i = 1; i <= NF; i++) if ($i == "src") print $(i + 1)}')"
[[ -n "${NODE_IP}" ]] || { log "no non-loopback IPv4 address"; exit 1; }
if [[ -e "${BASE}" ]]; then
  log "a node is already running or was not torn down (${BASE} exists); run hack/node-down.sh"
  exit 1
fi
for b in "${CP_BIN}/etcd" "${CP_BIN}/kube-apiserver" "${CP_BIN}/kube-controller-manager" "${CP_BIN}/kubectl" \
  "${NODE_BIN}/kubelet" "${NODE_BIN}/kube-proxy" "${NODE_BIN}/kube-scheduler" "${CTRD_BIN}/containerd" "${CTRD_BIN}/ctr"; do
  [[ -x "$b" ]] || { log "missing $b (make envtest node-binaries)"; exit 1; }
done

baseline() {
  mkdir -p "${BASE}"
  for s in "${SYSCTLS[@]}"; do
    v="$(sysctl -n "$s" 2>/dev/null)" && echo "$s=$v" >>"${BASE}/sysctl"
  done
  for p in "${HOST_PATHS[@]}"; do [[ -e "$p" ]] && echo "$p" >>"${BASE}/paths"; done
  touch "${BASE}/paths"
  iptables-save >"${BASE}/iptables"
  ip6tables-save >"${BASE}/ip6tables" 2>/dev/null || true
  if command -v nft >/dev/null; then nft list ruleset >"${BASE}/nft"; fi
}

pki() {
  local d="${NODE_DIR}/pki"
  mkdir -p "$d"
  cd "$d"
  openssl_ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=$2" 2>/dev/null; }
  # cert <name> <ca> <subject> [SANs]
  cert() {
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$1.ext"
    [[ -n "${4:-}" ]] && echo "subjectAltName=$4" >>"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  }
  openssl_ca ca kubernetes-ca
  openssl_ca front-proxy-ca front-proxy-ca
  cert apiserver ca "/CN=kube-apiserver" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:${NODE_NAME},IP:10.96.0.1,IP:127.0.0.1,IP:${NODE_IP}"
  cert admin ca "/O=system:masters/CN=orgplane-node-admin"
  cert kubelet ca "/O=system:nodes/CN=system:node:${NODE_NAME}"
  cert front-proxy-client front-proxy-ca "/CN=front-proxy-client"
  # kube-apiserver's client certificate for admission webhooks: orgplane's
  # webhook server answers only callers it signs (Secret
  # orgplane-webhook-client-ca; docs/operations.md#who-may-call-the-webhooks).
  openssl_ca webhook-client-ca webhook-client-ca
  cert webhook-client webhook-client-ca "/CN=kube-apiserver-webhook-client"
  cat >webhook.kubeconfig <<KC
apiVersion: v1
kind: Config
users:
- name: "*"
  user: {client-certificate: "${d}/webhook-client.crt", client-key: "${d}/webhook-client.key"}
KC
  cat >admission.yaml <<AC
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: "${d}/webhook.kubeconfig"
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: "${d}/webhook.kubeconfig"
AC
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  for who in admin kubelet; do
    cat >"${who}.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: "${d}/ca.crt"}
users:
- name: ${who}
  user: {client-certificate: "${d}/${who}.crt", client-key: "${d}/${who}.key"}
contexts:
- name: node
  context: {cluster: node, user: ${who}}
current-context: node
KC
  done
  cd - >/dev/null
}

# start <name> <command...>: runs it in the background, logging to logs/<name>.log.
start() {
  local name="$1"
  shift
  "$@" >"${NODE_DIR}/logs/${name}.log" 2>&1 &
  echo $! >"${NODE_DIR}/pids/${name}"
}

wait_for() {
  local what="$1" tries="$2"
  shift 2
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "timed out waiting for ${what}"
  return 1
}

control_plane() {
  local p="${NODE_DIR}/pki"
  start etcd "${CP_BIN}/etcd" --data-dir "${NODE_DIR}/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380 \
    --listen-metrics-urls "" --log-level warn
  start kube-apiserver "${CP_BIN}/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --advertise-address "${NODE_IP}" --secure-port 6443 --service-cluster-ip-range 10.96.0.0/16 \
    --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
    --service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local --authorization-mode Node,RBAC \
    --kubelet-client-certificate "$p/admin.crt" --kubelet-client-key "$p/admin.key" \
    --requestheader-client-ca-file "$p/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$p/front-proxy-client.crt" --proxy-client-key-file "$p/front-proxy-client.key" \
    --allow-privileged=true --enable-admission-plugins NodeRestriction \
    --admission-control-config-file "$p/admission.yaml"
  wait_for kube-apiserver 120 kc get --raw /readyz
  start kube-controller-manager "${CP_BIN}/kube-controller-manager" --kubeconfig "$p/admin.kubeconfig" \
    --authentication-kubeconfig "$p/admin.kubeconfig" --authorization-kubeconfig "$p/admin.kubeconfig" \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
    --use-service-account-credentials --allocate-node-cidrs --cluster-cidr 10.244.0.0/16 --node-cidr-mask-size 24 \
    --service-cluster-ip-range 10.96.0.0/16 --leader-elect=false --bind-address 127.0.0.1
  start kube-scheduler "${NODE_BIN}/kube-scheduler" --kubeconfig "$p/admin.kubeconfig" \
    --authentication-kubeconfig "$p/admin.kubeconfig" --authorization-kubeconfig "$p/admin.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1
}

containerd_up() {
  local c="${NODE_DIR}/containerd"
  mkdir -p "$c" "${NODE_DIR}/cni/net.d"
  cat >"${NODE_DIR}/cni/net.d/10-orgplane-node.conflist" <<CNI
{"cniVersion": "1.0.0", "name": "orgplane-node", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "${NODE_DIR}/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
CNI
  cat >"$c/config.toml" <<TOML
version = 3
root = "$c/root"
state = "$c/state"
[grpc]
  address = "${CTRD_SOCK}"
[ttrpc]
  address = "${CTRD_SOCK}.ttrpc"
[plugins.'io.containerd.cri.v1.runtime']
  # The VM's root lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = '/usr/sbin/runc'
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/usr/lib/cni']
    conf_dir = '${NODE_DIR}/cni/net.d'
[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = '${PAUSE_IMAGE}'
TOML
  PATH="${CTRD_BIN}:${PATH}" start containerd "${CTRD_BIN}/containerd" --config "$c/config.toml"
  wait_for containerd 60 "${CTRD_BIN}/ctr" -a "${CTRD_SOCK}" version
  local img
  for img in "${ROOT}/dist/pause-image.tar" "${ROOT}/dist/orgplane-image.tar"; do
    [[ -f "$img" ]] || { log "missing $img (make image)"; return 1; }
    "${CTRD_BIN}/ctr" -a "${CTRD_SOCK}" -n k8s.io images import --local=false "$img" >/dev/null 2>&1 ||
      "${CTRD_BIN}/ctr" -a "${CTRD_SOCK}" -n k8s.io images import "$img" >/dev/null
  done
}

node_up() {
  local p="${NODE_DIR}/pki"
  cat >"${NODE_DIR}/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$p/ca.crt"}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: "unix://${CTRD_SOCK}"
clusterDomain: cluster.local
# Mounted Secrets (the rotated serving certificate) follow within seconds.
syncFrequency: 10s
podLogsDir: "${NODE_DIR}/pod-logs"
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
YAML
  start kubelet "${NODE_BIN}/kubelet" --config "${NODE_DIR}/kubelet.yaml" --kubeconfig "$p/kubelet.kubeconfig" \
    --root-dir "${NODE_DIR}/kubelet" --cert-dir "${NODE_DIR}/kubelet-pki" --hostname-override "${NODE_NAME}" \
    --node-ip "${NODE_IP}"
  cat >"${NODE_DIR}/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$p/admin.kubeconfig"}
mode: iptables
clusterCIDR: 10.244.0.0/16
hostnameOverride: "${NODE_NAME}"
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
YAML
  start kube-proxy "${NODE_BIN}/kube-proxy" --config "${NODE_DIR}/kube-proxy.yaml"
  wait_for "node Ready" 240 kc wait --for=condition=Ready "node/${NODE_NAME}" --timeout=1s
  wait_for "the default ServiceAccount" 120 kc get serviceaccount default -n default
}

baseline
mkdir -p "${NODE_DIR}/logs" "${NODE_DIR}/pids"
started=$(date +%s.%N)
pki
control_plane
containerd_up
node_up
log "ready in $(echo "$(date +%s.%N) - ${started}" | bc 2>/dev/null || echo "?") s; kubeconfig ${KUBECONFIG_ADMIN}"
echo "${KUBECONFIG_ADMIN}"
