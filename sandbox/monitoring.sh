# Metrics backends of the sandbox, sourced by sandbox/up: VictoriaMetrics single-node (Debian's
# victoria-metrics) and vmalert beside the Prometheus that sandbox/up starts. Both scrape the same
# targets from one configuration (Prometheus' own file: every apiserver and controller-manager with
# its `cluster` label, etcd, and the consoles listed in file_sd files) and evaluate the same rules
# (sandbox/monitoring/rules.yml): Prometheus itself, VictoriaMetrics through vmalert, which writes
# its ALERTS series back into VictoriaMetrics. `monitoring_up` is idempotent: attaching to a running
# sandbox adds what an older sandbox lacks.
#
# Consoles to scrape: one file_sd file per console, $SANDBOX_STATE/monitoring/console-<name>.json
# (`[{"targets": ["127.0.0.1:17000"]}]`, scraped over HTTPS with the sandbox CA). scripts/run's
# console (port $SANDBOX_CONSOLE_PORT) is listed from the start; tests add and remove their own.

export SANDBOX_VM_PORT="${SANDBOX_VM_PORT:-17428}"
export SANDBOX_VMALERT_PORT="${SANDBOX_VMALERT_PORT:-17880}"
MONITORING_MARKER="# monitoring.sh: controller-managers, consoles and rules"

# Appended to prometheus.yml right after its scrape_configs list (continues the list, then adds
# rule_files at the top level).
monitoring_prometheus_config() {
  local pki="$SANDBOX_STATE/pki" c
  cat <<PROMEOF
$MONITORING_MARKER
  - job_name: controller-manager
    scheme: https
    tls_config:
      # kube-controller-manager serves a self-signed certificate of its own.
      insecure_skip_verify: true
      cert_file: $pki/admin.crt
      key_file: $pki/admin.key
    static_configs:
PROMEOF
  for c in $SANDBOX_CLUSTERS; do
    printf '      - targets: ["%s:%s"]\n        labels: {cluster: %s}\n' "$SANDBOX_HOST" "$(cm_port "$c")" "$c"
  done
  cat <<PROMEOF
  - job_name: console
    scheme: https
    tls_config:
      ca_file: $pki/ca.crt
    file_sd_configs:
      - files: ["$SANDBOX_STATE/monitoring/console-*.json"]
        refresh_interval: 5s
rule_files:
  - $SANDBOX_DIR/monitoring/rules.yml
PROMEOF
}

monitoring_spawn() { # name command... (as sandbox/up's start: own session, log, pid file)
  local name="$1"
  shift
  setsid "$@" >"$SANDBOX_STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$SANDBOX_STATE/pids/$name.pid"
}

monitoring_running() { # name
  local f="$SANDBOX_STATE/pids/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

monitoring_wait() { # what name url
  local deadline=$((SECONDS + 60))
  until curl -sf --max-time 2 "$3" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! monitoring_running "$2"; then
      tail -n 20 "$SANDBOX_STATE/logs/$2.log" >&2 || true
      fail "$1 did not become ready (log: $SANDBOX_STATE/logs/$2.log)"
    fi
    sleep 0.3
  done
}

monitoring_up() {
  local S="$SANDBOX_STATE" conf="$SANDBOX_STATE/config" vm="http://$SANDBOX_HOST:$SANDBOX_VM_PORT"
  for tool in victoria-metrics vmalert; do
    command -v "$tool" >/dev/null || fail "$tool is missing; run scripts/install-tools (it installs Debian's victoria-metrics)"
  done
  mkdir -p "$S/monitoring" "$S/victoria-metrics"
  [ -f "$S/monitoring/console-run.json" ] ||
    printf '[{"targets": ["%s:%s"], "labels": {"console": "scripts-run"}}]\n' "$SANDBOX_HOST" "$SANDBOX_CONSOLE_PORT" >"$S/monitoring/console-run.json"
  if ! grep -qF "$MONITORING_MARKER" "$conf/prometheus.yml"; then
    monitoring_prometheus_config >>"$conf/prometheus.yml"
    # An older sandbox's Prometheus is running: reload its configuration.
    if monitoring_running prometheus; then
      kill -HUP "$(cat "$S/pids/prometheus.pid")"
    fi
  fi
  printf 'static_configs:\n  - targets: []\n' >"$conf/vmalert-notifiers.yml"
  if ! monitoring_running victoria-metrics; then
    say "starting VictoriaMetrics on $vm"
    # latencyOffset: answer with the newest samples (the default hides the last 30 s).
    monitoring_spawn victoria-metrics victoria-metrics -httpListenAddr "$SANDBOX_HOST:$SANDBOX_VM_PORT" \
      -storageDataPath "$S/victoria-metrics" -retentionPeriod 2d \
      -promscrape.config "$conf/prometheus.yml" -promscrape.config.strictParse=false \
      -promscrape.fileSDCheckInterval 5s -search.latencyOffset 5s -loggerLevel WARN
  fi
  monitoring_wait VictoriaMetrics victoria-metrics "$vm/health"
  if ! monitoring_running vmalert; then
    say "starting vmalert on http://$SANDBOX_HOST:$SANDBOX_VMALERT_PORT"
    # No Alertmanager in the sandbox: an empty notifier list; alerts are read from the ALERTS
    # series that vmalert writes back into VictoriaMetrics (as Prometheus keeps its own).
    monitoring_spawn vmalert vmalert -httpListenAddr "$SANDBOX_HOST:$SANDBOX_VMALERT_PORT" \
      -rule "$SANDBOX_DIR/monitoring/rules.yml" -evaluationInterval 5s \
      -datasource.url "$vm" -remoteWrite.url "$vm" -remoteRead.url "$vm" \
      -notifier.config "$conf/vmalert-notifiers.yml" -loggerLevel WARN
  fi
  monitoring_wait vmalert vmalert "http://$SANDBOX_HOST:$SANDBOX_VMALERT_PORT/health"
  cat >"$S/monitoring.json" <<JSONEOF
{
  "prometheus": "http://$SANDBOX_HOST:$SANDBOX_PROMETHEUS_PORT",
  "victoria_metrics": "$vm",
  "vmalert": "http://$SANDBOX_HOST:$SANDBOX_VMALERT_PORT",
  "console_targets_dir": "$S/monitoring",
  "rules_file": "$SANDBOX_DIR/monitoring/rules.yml",
  "clusters": [$(printf '"%s",' $SANDBOX_CLUSTERS | sed 's/,$//')]
}
JSONEOF
}
