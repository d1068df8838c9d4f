# Shared settings of hack/node-up.sh and hack/node-down.sh (sourced).
K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-2.4.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CP_BIN="${ROOT}/bin/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}"
NODE_BIN="${ROOT}/bin/k8s/node-${K8S_VERSION}"
CTRD_BIN="${ROOT}/bin/containerd/${CONTAINERD_VERSION}"
# The node's state, logs and PKI. Fixed (not per worktree): one node per machine.
NODE_DIR="${NODE_DIR:-/var/tmp/orgplane-node}"
BASE="${NODE_DIR}.baseline"
PAUSE_IMAGE="${PAUSE_IMAGE:-docker.io/orgplane/pause:dev}"
NODE_NAME="$(hostname)"
KUBECONFIG_ADMIN="${NODE_DIR}/pki/admin.kubeconfig"
CTRD_SOCK="${NODE_DIR}/containerd/containerd.sock"
# sysctls kubelet, kube-proxy and the bridge may change.
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward
  net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables net.netfilter.nf_conntrack_max)
# Paths the node may create outside NODE_DIR.
HOST_PATHS=(/var/lib/cni /run/netns /var/log/pods /var/log/containers /run/containerd /var/lib/kubelet /etc/cni /opt/cni)

kc() { "${CP_BIN}/kubectl" --kubeconfig "${KUBECONFIG_ADMIN}" "$@"; }
log() { echo "node: $*" >&2; }
