# Shared settings of the sandbox scripts. Sourced, not executed.
# Every value can be overridden from the environment; ports default to a 17xxx/18xxx block that
# common services leave alone.

SANDBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export SANDBOX_DIR
# Built binaries, keyed by module and pinned version (outside the repo, shared by clones).
export SANDBOX_CACHE="${SANDBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nextgen-console/sandbox}"
# Runtime state: certificates, etcd data, logs, kubeconfigs, pids. One sandbox per state dir.
export SANDBOX_STATE="${SANDBOX_STATE:-$SANDBOX_CACHE/run}"

export K8S_VERSION=v1.34.4
export SANDBOX_CLUSTERS="${SANDBOX_CLUSTERS:-global east west}"
export SANDBOX_HOST=127.0.0.1

export SANDBOX_ETCD_PORT="${SANDBOX_ETCD_PORT:-17379}"
export SANDBOX_ETCD_PEER_PORT="${SANDBOX_ETCD_PEER_PORT:-17380}"
export SANDBOX_DEX_PORT="${SANDBOX_DEX_PORT:-17556}"
export SANDBOX_REGISTRY_PORT="${SANDBOX_REGISTRY_PORT:-17500}"
export SANDBOX_PROMETHEUS_PORT="${SANDBOX_PROMETHEUS_PORT:-17090}"
export SANDBOX_REDIS_PORT="${SANDBOX_REDIS_PORT:-17637}"
export SANDBOX_CONSOLE_PORT="${SANDBOX_CONSOLE_PORT:-17000}"

# Per-cluster ports: apiserver 1744N, controller-manager 1745N, scheduler 1746N, kwok 1747N,
# where N is the cluster's index in SANDBOX_CLUSTERS.
cluster_index() {
  local i=0 c
  for c in $SANDBOX_CLUSTERS; do
    [ "$c" = "$1" ] && { echo "$i"; return; }
    i=$((i + 1))
  done
  echo "unknown cluster $1" >&2
  return 1
}
apiserver_port() { echo $(( ${SANDBOX_APISERVER_BASE:-17443} + $(cluster_index "$1") )); }
cm_port() { echo $(( ${SANDBOX_CM_BASE:-17453} + $(cluster_index "$1") )); }
scheduler_port() { echo $(( ${SANDBOX_SCHEDULER_BASE:-17463} + $(cluster_index "$1") )); }
kwok_port() { echo $(( ${SANDBOX_KWOK_BASE:-17473} + $(cluster_index "$1") )); }
# Fake nodes per cluster: one on global; on each workload cluster three workers and three infra
# nodes (labelled node-role.kubernetes.io/infra and tainted so, NoSchedule), where the monitoring
# plugins run. node_count is every node of the cluster (what sandbox.json's `nodes` says).
worker_count() { if [ "$1" = global ]; then echo 1; else echo "${SANDBOX_NODES:-3}"; fi; }
infra_count() { if [ "$1" = global ]; then echo 0; else echo "${SANDBOX_INFRA_NODES:-3}"; fi; }
node_count() { echo $(( $(worker_count "$1") + $(infra_count "$1") )); }

# One fake node's manifest: sandbox_node CLUSTER NAME ZONE worker|infra.
sandbox_node() {
  local taints=""
  if [ "$4" = infra ]; then
    taints=$'spec:\n  taints:\n  - {key: node-role.kubernetes.io/infra, effect: NoSchedule}'
  fi
  cat <<NODEEOF
apiVersion: v1
kind: Node
metadata:
  name: $2
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $2
    kubernetes.io/os: linux
    node-role.kubernetes.io/$4: ""
    topology.kubernetes.io/zone: $3
    type: kwok
$taints
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
  nodeInfo:
    architecture: amd64
    kubeletVersion: $K8S_VERSION
    kubeProxyVersion: $K8S_VERSION
    operatingSystem: linux
    osImage: kwok fake node
    containerRuntimeVersion: kwok
NODEEOF
}

# Where `sandbox/build` puts a module's binaries: named by the pinned version and a hash of the
# module's go.mod and go.sum, so a changed pin builds afresh and an unchanged one is reused.
module_bin_dir() { # module-dir-name version
  local sum
  sum="$(cat "$SANDBOX_DIR/go/$1/go.mod" "$SANDBOX_DIR/go/$1/go.sum" | sha256sum | cut -c1-10)"
  echo "$SANDBOX_CACHE/bin/$1-$2-$sum"
}
k8s_bin() { echo "$(module_bin_dir kubernetes "$K8S_VERSION")/$1"; }
etcd_bin() { echo "$(module_bin_dir etcd v3.6.16)/etcd"; }
kwok_bin() { echo "$(module_bin_dir kwok v0.7.0)/kwok"; }
dex_bin() { echo "$(module_bin_dir dex v2.45.1)/dex"; }

say() { printf '[sandbox] %s\n' "$*" >&2; }
fail() { printf '[sandbox] error: %s\n' "$*" >&2; exit 1; }

# A complete, running sandbox: sandbox.json is written, every recorded process is alive and
# every apiserver answers /readyz.
sandbox_healthy() {
  local s="$SANDBOX_STATE" f c
  [ -f "$s/sandbox.json" ] || return 1
  # A garbage collection restarts the registry (sandbox/registry-gc): wait for it to end.
  [ -f "$s/registry-gc.lock" ] && flock -s -w 120 "$s/registry-gc.lock" true

  for f in "$s/pids"/*.pid; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || return 1
  done
  for c in $SANDBOX_CLUSTERS; do
    curl -sf --max-time 2 --cacert "$s/pki/ca.crt" "https://$SANDBOX_HOST:$(apiserver_port "$c")/readyz" >/dev/null || return 1
  done
}
