//! The monitoring plugins' settings (`spec.monitoring` of a ClusterPlugin of `prometheus` or
//! `victoria-metrics`): their typed shape (part of the CRD's OpenAPI schema, so `kubectl edit`
//! and the page write the same thing), the checks made before anything is applied (syntax, and
//! against the cluster's nodes), and their rendering into the objects that run on the cluster.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The catalog names of the monitoring plugins.
pub const PROMETHEUS: &str = "prometheus";
pub const VICTORIA_METRICS: &str = "victoria-metrics";
/// The label every monitoring object carries with its plugin's catalog name.
pub const PLUGIN_LABEL: &str = "plugins.nextgen-console.io/plugin";
/// The field manager the controller applies monitoring workloads with; placement owned by any
/// other manager is a customisation (see [`foreign_placement`]).
pub const FIELD_MANAGER: &str = "nextgen-console-plugins";
/// The taint and label of the sandbox's (and OpenShift's) infra nodes.
pub const INFRA_ROLE: &str = "node-role.kubernetes.io/infra";

/// Which backend a catalog plugin runs, if it is a monitoring plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    Prometheus,
    VictoriaMetrics,
}

impl Backend {
    pub fn of_plugin(plugin: &str) -> Option<Backend> {
        match plugin {
            PROMETHEUS => Some(Backend::Prometheus),
            VICTORIA_METRICS => Some(Backend::VictoriaMetrics),
            _ => None,
        }
    }

    pub fn plugin(self) -> &'static str {
        match self {
            Backend::Prometheus => PROMETHEUS,
            Backend::VictoriaMetrics => VICTORIA_METRICS,
        }
    }
}

/// A monitoring plugin's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSettings {
    /// Labels a node must carry for the plugin's pods to run on it (every component).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Taints of those nodes the pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Requests and limits of each pod's container.
    #[serde(default)]
    pub resources: Resources,
    /// How long samples are kept: a number and one of s, m, h, d, w, y (`15d`).
    #[serde(default = "default_retention")]
    pub retention: String,
    /// The value of the `cluster` label every series of this cluster carries (the cluster's
    /// name when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster_label: String,
    pub storage: Storage,
    /// Prometheus only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusSettings>,
    /// VictoriaMetrics only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victoria_metrics: Option<VictoriaMetricsSettings>,
}

fn default_retention() -> String {
    "15d".into()
}

/// One toleration, as a pod's (`operator` Equal or Exists; `effect` empty for every effect).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `Equal` (the default) or `Exists`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule`, `NoExecute`, or empty for all.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub effect: String,
    /// How long a NoExecute taint is tolerated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu_request: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memory_request: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cpu_limit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memory_limit: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum StorageType {
    /// A directory on each node, as local PersistentVolumes the console creates.
    #[default]
    LocalVolume,
    /// Volumes a StorageClass provisions.
    StorageClass,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    #[serde(rename = "type", default)]
    pub kind: StorageType,
    /// LocalVolume: the data directory on each node (absolute).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// StorageClass: the class's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_class_name: String,
    /// The size of each replica's volume (`10Gi`).
    #[serde(default = "default_size")]
    pub size: String,
}

fn default_size() -> String {
    "10Gi".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSettings {
    pub replicas: i32,
    /// The external label that tells the replicas apart, for deduplication by the reader.
    #[serde(default = "default_replica_label")]
    pub replica_label: String,
}

fn default_replica_label() -> String {
    "replica".into()
}

impl Default for PrometheusSettings {
    fn default() -> Self {
        PrometheusSettings {
            replicas: 2,
            replica_label: default_replica_label(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum VictoriaMetricsMode {
    #[default]
    Single,
    Cluster,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VictoriaMetricsSettings {
    #[serde(default)]
    pub mode: VictoriaMetricsMode,
    /// Single mode: the single-node servers.
    #[serde(default = "one")]
    pub replicas: i32,
    /// Cluster mode: each component's replicas (no limit of three).
    #[serde(default = "one")]
    pub vmstorage: i32,
    #[serde(default = "one")]
    pub vminsert: i32,
    #[serde(default = "one")]
    pub vmselect: i32,
    /// Cluster mode: copies of each sample across vmstorage nodes.
    #[serde(default = "one")]
    pub replication_factor: i32,
    /// Samples closer than this are deduplicated (`30s`).
    #[serde(default = "default_dedup")]
    pub deduplication_interval: String,
}

fn one() -> i32 {
    1
}

fn default_dedup() -> String {
    "30s".into()
}

impl Default for VictoriaMetricsSettings {
    fn default() -> Self {
        VictoriaMetricsSettings {
            mode: VictoriaMetricsMode::Single,
            replicas: 1,
            vmstorage: 3,
            vminsert: 2,
            vmselect: 2,
            replication_factor: 2,
            deduplication_interval: default_dedup(),
        }
    }
}

impl MonitoringSettings {
    /// What a new monitoring plugin starts with: on the infra nodes, tolerating their taint.
    pub fn defaults(backend: Backend) -> Self {
        MonitoringSettings {
            node_selector: BTreeMap::from([(INFRA_ROLE.to_string(), String::new())]),
            tolerations: vec![Toleration {
                key: INFRA_ROLE.into(),
                operator: "Exists".into(),
                effect: "NoSchedule".into(),
                ..Toleration::default()
            }],
            resources: Resources {
                cpu_request: "500m".into(),
                memory_request: "1Gi".into(),
                ..Resources::default()
            },
            retention: default_retention(),
            cluster_label: String::new(),
            storage: Storage {
                kind: StorageType::LocalVolume,
                path: "/var/lib/nextgen-monitoring".into(),
                storage_class_name: String::new(),
                size: default_size(),
            },
            prometheus: (backend == Backend::Prometheus).then(PrometheusSettings::default),
            victoria_metrics: (backend == Backend::VictoriaMetrics)
                .then(VictoriaMetricsSettings::default),
        }
    }

    /// The value of the `cluster` label on `cluster`.
    pub fn cluster_label_on<'a>(&'a self, cluster: &'a str) -> &'a str {
        if self.cluster_label.is_empty() {
            cluster
        } else {
            &self.cluster_label
        }
    }

    /// The workloads that keep data, with their replicas: each replica needs a volume, and with
    /// LocalVolume a node of its own.
    pub fn stateful(&self, backend: Backend) -> Vec<(&'static str, i32)> {
        match backend {
            Backend::Prometheus => vec![(
                "prometheus",
                self.prometheus.as_ref().map_or(1, |p| p.replicas),
            )],
            Backend::VictoriaMetrics => {
                let vm = self.victoria_metrics.clone().unwrap_or_default();
                match vm.mode {
                    VictoriaMetricsMode::Single => vec![("victoria-metrics", vm.replicas)],
                    VictoriaMetricsMode::Cluster => vec![("vmstorage", vm.vmstorage)],
                }
            }
        }
    }

    /// The distinct nodes the settings need: the most replicas of one stateful workload with
    /// LocalVolume (one local volume per replica and node), else one.
    pub fn nodes_needed(&self, backend: Backend) -> usize {
        match self.storage.kind {
            StorageType::LocalVolume => self
                .stateful(backend)
                .iter()
                .map(|(_, n)| (*n).max(0) as usize)
                .max()
                .unwrap_or(1),
            StorageType::StorageClass => 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// One reason the settings cannot be applied; each says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "retention {0:?} is not a duration: write a whole number followed by one of s, m, h, d, w, y, as 15d or 12h"
    )]
    Retention(String),
    #[error(
        "{0:?} is not a label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    )]
    LabelKey(String),
    #[error(
        "{value:?} (for {key}) is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, or empty"
    )]
    LabelValue { key: String, value: String },
    #[error(
        "the cluster label {0:?} is not a label value (at most 63 letters, digits, '-', '_' or '.')"
    )]
    ClusterLabel(String),
    #[error("toleration {index}: operator {operator:?} is neither Equal nor Exists")]
    TolerationOperator { index: usize, operator: String },
    #[error(
        "toleration {index}: operator Exists takes no value (it matches any value of key {key:?}); remove the value or use Equal"
    )]
    ExistsWithValue { index: usize, key: String },
    #[error("toleration {index}: an empty key matches every taint only with operator Exists")]
    EqualWithoutKey { index: usize },
    #[error(
        "toleration {index}: effect {effect:?} is not NoSchedule, PreferNoSchedule or NoExecute (or empty for all)"
    )]
    TolerationEffect { index: usize, effect: String },
    #[error(
        "toleration {index}: seconds apply only to effect NoExecute (how long a pod stays on a node tainted so), and are not negative"
    )]
    TolerationSeconds { index: usize },
    #[error("{what} {value:?} is not a quantity, as 500m, 2, 512Mi or 10Gi")]
    Quantity { what: &'static str, value: String },
    #[error("{component} replicas must be between 1 and 100, not {replicas}")]
    Replicas { component: String, replicas: i32 },
    #[error("the replica label {0:?} is not a label name; deduplication needs one, as replica")]
    ReplicaLabel(String),
    #[error("the replication factor must be at least 1, not {0}")]
    ReplicationFactor(i32),
    #[error(
        "vmstorage has {vmstorage} replicas; replication factor {factor} needs at least {needed} (2 × replicationFactor − 1) to keep data when replicas fail"
    )]
    StorageReplicas {
        vmstorage: i32,
        factor: i32,
        needed: i32,
    },
    #[error("deduplication interval {0:?} is not a duration, as 30s or 1m")]
    Deduplication(String),
    #[error("LocalVolume needs the data directory on each node, as /var/lib/monitoring")]
    PathMissing,
    #[error(
        "the data directory {0:?} is not absolute; write it from the root, as /var/lib/monitoring"
    )]
    PathRelative(String),
    #[error("the data directory {0:?} contains '..'; write the directory itself")]
    PathParent(String),
    #[error("storage type StorageClass needs the class's name")]
    StorageClassMissing,
    #[error("{0:?} is not a StorageClass name (lowercase letters, digits, '-' and '.')")]
    StorageClassName(String),
    #[error("the {plugin} plugin takes {wanted} settings; remove {found}")]
    WrongBackend {
        plugin: String,
        wanted: &'static str,
        found: &'static str,
    },
    #[error(
        "the node selector {selector} matches {matching} Ready node(s); {needed} are needed ({why}). Label more nodes or lower the replicas"
    )]
    NotEnoughNodes {
        selector: String,
        matching: usize,
        needed: usize,
        why: String,
    },
    #[error(
        "node(s) {nodes} have taint {taint} that no toleration covers: the pods would stay Pending there. Add a toleration with key {key}, operator Exists and effect {effect}"
    )]
    Untolerated {
        nodes: String,
        taint: String,
        key: String,
        effect: String,
    },
}

fn is_duration(text: &str, units: &[&str]) -> bool {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    !number.is_empty() && number.len() <= 9 && units.contains(&unit)
}

/// A retention: a whole number and one unit.
pub fn is_retention(text: &str) -> bool {
    is_duration(text, &["s", "m", "h", "d", "w", "y"]) && !text.starts_with('0')
}

fn is_name_part(text: &str) -> bool {
    let b = text.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn is_dns_subdomain(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)
        })
}

/// A label (or taint) key: `[prefix/]name`.
pub fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name_part(name),
        None => is_name_part(key),
    }
}

pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_name_part(value)
}

/// A Kubernetes quantity in its common forms (`500m`, `2`, `1.5`, `512Mi`, `10Gi`, `1e3`).
pub fn is_quantity(text: &str) -> bool {
    let number_len = text
        .bytes()
        .take_while(|c| c.is_ascii_digit() || *c == b'.')
        .count();
    let (number, suffix) = text.split_at(number_len);
    let number_ok = !number.is_empty()
        && number.bytes().filter(|c| *c == b'.').count() <= 1
        && number.bytes().any(|c| c.is_ascii_digit());
    let suffix_ok = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ]
    .contains(&suffix)
        || suffix
            .strip_prefix('e')
            .is_some_and(|e| !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()));
    number_ok && suffix_ok
}

const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Checks what needs no cluster: syntax, and the rules between fields. Every failure is listed.
pub fn validate(backend: Backend, s: &MonitoringSettings) -> Vec<SettingsError> {
    use SettingsError as E;
    let mut errors = Vec::new();
    if !is_retention(&s.retention) {
        errors.push(E::Retention(s.retention.clone()));
    }
    for (key, value) in &s.node_selector {
        if !is_label_key(key) {
            errors.push(E::LabelKey(key.clone()));
        }
        if !is_label_value(value) {
            errors.push(E::LabelValue {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    if !is_label_value(&s.cluster_label) {
        errors.push(E::ClusterLabel(s.cluster_label.clone()));
    }
    for (i, t) in s.tolerations.iter().enumerate() {
        let index = i + 1;
        if !t.key.is_empty() && !is_label_key(&t.key) {
            errors.push(E::LabelKey(t.key.clone()));
        }
        match t.operator.as_str() {
            "" | "Equal" => {
                if t.key.is_empty() {
                    errors.push(E::EqualWithoutKey { index });
                }
                if !is_label_value(&t.value) {
                    errors.push(E::LabelValue {
                        key: t.key.clone(),
                        value: t.value.clone(),
                    });
                }
            }
            "Exists" => {
                if !t.value.is_empty() {
                    errors.push(E::ExistsWithValue {
                        index,
                        key: t.key.clone(),
                    });
                }
            }
            other => errors.push(E::TolerationOperator {
                index,
                operator: other.into(),
            }),
        }
        if !t.effect.is_empty() && !EFFECTS.contains(&t.effect.as_str()) {
            errors.push(E::TolerationEffect {
                index,
                effect: t.effect.clone(),
            });
        }
        if t.seconds.is_some_and(|s| s < 0) || (t.seconds.is_some() && t.effect != "NoExecute") {
            errors.push(E::TolerationSeconds { index });
        }
    }
    for (what, value) in [
        ("cpu request", &s.resources.cpu_request),
        ("memory request", &s.resources.memory_request),
        ("cpu limit", &s.resources.cpu_limit),
        ("memory limit", &s.resources.memory_limit),
    ] {
        if !value.is_empty() && !is_quantity(value) {
            errors.push(E::Quantity {
                what,
                value: value.clone(),
            });
        }
    }
    if !is_quantity(&s.storage.size) {
        errors.push(E::Quantity {
            what: "volume size",
            value: s.storage.size.clone(),
        });
    }
    match s.storage.kind {
        StorageType::LocalVolume => {
            let path = &s.storage.path;
            if path.is_empty() {
                errors.push(E::PathMissing);
            } else if !path.starts_with('/') {
                errors.push(E::PathRelative(path.clone()));
            } else if path.split('/').any(|part| part == "..") {
                errors.push(E::PathParent(path.clone()));
            }
        }
        StorageType::StorageClass => {
            let class = &s.storage.storage_class_name;
            if class.is_empty() {
                errors.push(E::StorageClassMissing);
            } else if !is_dns_subdomain(class) {
                errors.push(E::StorageClassName(class.clone()));
            }
        }
    }
    let mut replicas = |component: &str, replicas: i32| {
        if !(1..=100).contains(&replicas) {
            errors.push(E::Replicas {
                component: component.into(),
                replicas,
            });
        }
    };
    match backend {
        Backend::Prometheus => {
            let p = s.prometheus.clone().unwrap_or_default();
            replicas("prometheus", p.replicas);
            if !is_name_part(&p.replica_label) || p.replica_label.contains(['.', '-']) {
                errors.push(E::ReplicaLabel(p.replica_label.clone()));
            }
            if s.victoria_metrics.is_some() {
                errors.push(E::WrongBackend {
                    plugin: PROMETHEUS.into(),
                    wanted: "prometheus",
                    found: "victoriaMetrics",
                });
            }
        }
        Backend::VictoriaMetrics => {
            let vm = s.victoria_metrics.clone().unwrap_or_default();
            match vm.mode {
                VictoriaMetricsMode::Single => replicas("victoria-metrics", vm.replicas),
                VictoriaMetricsMode::Cluster => {
                    replicas("vmstorage", vm.vmstorage);
                    replicas("vminsert", vm.vminsert);
                    replicas("vmselect", vm.vmselect);
                    if vm.replication_factor < 1 {
                        errors.push(E::ReplicationFactor(vm.replication_factor));
                    } else {
                        let needed = 2 * vm.replication_factor - 1;
                        if vm.vmstorage < needed {
                            errors.push(E::StorageReplicas {
                                vmstorage: vm.vmstorage,
                                factor: vm.replication_factor,
                                needed,
                            });
                        }
                    }
                }
            }
            if !is_duration(&vm.deduplication_interval, &["ms", "s", "m", "h"]) {
                errors.push(E::Deduplication(vm.deduplication_interval.clone()));
            }
            if s.prometheus.is_some() {
                errors.push(E::WrongBackend {
                    plugin: VICTORIA_METRICS.into(),
                    wanted: "victoriaMetrics",
                    found: "prometheus",
                });
            }
        }
    }
    errors
}

/// A node as the checks need it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFacts {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub ready: bool,
    pub unschedulable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: String,
}

impl std::fmt::Display for Taint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

/// Whether `t` tolerates `taint` (the scheduler's rule).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect_ok = t.effect.is_empty() || t.effect == taint.effect;
    let key_ok = t.key.is_empty() || t.key == taint.key;
    let value_ok = t.operator == "Exists" || t.value == taint.value;
    effect_ok && key_ok && value_ok
}

/// The Ready, schedulable nodes the selector matches.
pub fn selected<'a>(s: &MonitoringSettings, nodes: &'a [NodeFacts]) -> Vec<&'a NodeFacts> {
    nodes
        .iter()
        .filter(|n| n.ready && !n.unschedulable)
        .filter(|n| {
            s.node_selector
                .iter()
                .all(|(k, v)| n.labels.get(k) == Some(v))
        })
        .collect()
}

fn selector_text(s: &MonitoringSettings) -> String {
    if s.node_selector.is_empty() {
        return "{} (every node)".into();
    }
    let pairs: Vec<String> = s
        .node_selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Checks the settings against the cluster's nodes: enough Ready nodes match the selector, and
/// no taint of those nodes goes untolerated.
pub fn check_nodes(
    backend: Backend,
    s: &MonitoringSettings,
    nodes: &[NodeFacts],
) -> Vec<SettingsError> {
    let mut errors = Vec::new();
    let matching = selected(s, nodes);
    let needed = s.nodes_needed(backend);
    let tolerated: Vec<&NodeFacts> = matching
        .iter()
        .copied()
        .filter(|n| {
            n.taints
                .iter()
                .filter(|t| t.effect != "PreferNoSchedule")
                .all(|taint| s.tolerations.iter().any(|t| tolerates(t, taint)))
        })
        .collect();
    let mut untolerated: BTreeMap<String, (Taint, Vec<String>)> = BTreeMap::new();
    for node in &matching {
        for taint in node
            .taints
            .iter()
            .filter(|t| t.effect != "PreferNoSchedule")
        {
            if !s.tolerations.iter().any(|t| tolerates(t, taint)) {
                untolerated
                    .entry(taint.to_string())
                    .or_insert_with(|| (taint.clone(), Vec::new()))
                    .1
                    .push(node.name.clone());
            }
        }
    }
    for (text, (taint, names)) in untolerated {
        errors.push(SettingsError::Untolerated {
            nodes: names.join(", "),
            taint: text,
            key: taint.key.clone(),
            effect: taint.effect.clone(),
        });
    }
    let usable = if errors.is_empty() {
        matching.len()
    } else {
        tolerated.len()
    };
    if usable < needed {
        let why = match s.storage.kind {
            StorageType::LocalVolume => format!(
                "{needed} replica(s) with LocalVolume need one local volume per replica and node"
            ),
            StorageType::StorageClass => "the pods need at least one node".into(),
        };
        errors.push(SettingsError::NotEnoughNodes {
            selector: selector_text(s),
            matching: usable,
            needed,
            why,
        });
    }
    errors
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Where a plugin renders to and what it is called.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    pub backend: Backend,
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub version: &'a str,
}

/// The StorageClass of a monitoring plugin's local volumes.
pub fn local_class(backend: Backend) -> String {
    format!("nextgen-{}-local", backend.plugin())
}

/// The local PersistentVolume of replica `index` of `workload`.
pub fn volume_name(backend: Backend, workload: &str, index: usize) -> String {
    format!("nextgen-{}-{workload}-{index}", backend.plugin())
}

/// Object metadata every rendered object carries.
fn meta(target: &Target, name: &str, namespaced: bool, component: &str) -> Value {
    let labels = labels(target, component);
    let mut meta = json!({
        "name": name,
        "labels": labels,
        "annotations": {crate::plugin::VERSION_ANNOTATION: target.version},
    });
    if namespaced {
        meta["namespace"] = json!(target.namespace);
    }
    meta
}

fn labels(target: &Target, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": target.backend.plugin(),
        "app.kubernetes.io/managed-by": "nextgen-console",
        PLUGIN_LABEL: target.backend.plugin(),
    })
}

fn selector_labels(target: &Target, component: &str) -> Value {
    json!({"app.kubernetes.io/name": component, PLUGIN_LABEL: target.backend.plugin()})
}

fn tolerations_json(s: &MonitoringSettings) -> Value {
    Value::Array(
        s.tolerations
            .iter()
            .map(|t| {
                let mut v = serde_json::Map::new();
                if !t.key.is_empty() {
                    v.insert("key".into(), json!(t.key));
                }
                v.insert(
                    "operator".into(),
                    json!(if t.operator.is_empty() {
                        "Equal"
                    } else {
                        &t.operator
                    }),
                );
                if !t.value.is_empty() {
                    v.insert("value".into(), json!(t.value));
                }
                if !t.effect.is_empty() {
                    v.insert("effect".into(), json!(t.effect));
                }
                if let Some(seconds) = t.seconds {
                    v.insert("tolerationSeconds".into(), json!(seconds));
                }
                Value::Object(v)
            })
            .collect(),
    )
}

fn resources_json(s: &MonitoringSettings) -> Value {
    let pick = |pairs: [(&str, &String); 2]| {
        let map: serde_json::Map<String, Value> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        map
    };
    let r = &s.resources;
    let mut out = serde_json::Map::new();
    let requests = pick([("cpu", &r.cpu_request), ("memory", &r.memory_request)]);
    let limits = pick([("cpu", &r.cpu_limit), ("memory", &r.memory_limit)]);
    if !requests.is_empty() {
        out.insert("requests".into(), Value::Object(requests));
    }
    if !limits.is_empty() {
        out.insert("limits".into(), Value::Object(limits));
    }
    Value::Object(out)
}

/// The pod template of `component`: placement from the settings, one container.
#[allow(clippy::too_many_arguments)]
fn pod_template(
    target: &Target,
    s: &MonitoringSettings,
    component: &str,
    image: String,
    args: Vec<String>,
    mounts: Value,
    volumes: Value,
    port: u16,
) -> Value {
    let mut spec = json!({
        "containers": [{
            "name": component,
            "image": image,
            "args": args,
            "ports": [{"name": "http", "containerPort": port}],
            "resources": resources_json(s),
            "volumeMounts": mounts,
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        }],
        "volumes": volumes,
    });
    if !s.node_selector.is_empty() {
        spec["nodeSelector"] = json!(s.node_selector);
    }
    if !s.tolerations.is_empty() {
        spec["tolerations"] = tolerations_json(s);
    }
    json!({
        "metadata": {
            "labels": labels(target, component),
            "annotations": {crate::plugin::VERSION_ANNOTATION: target.version},
        },
        "spec": spec,
    })
}

fn claim_template(target: &Target, s: &MonitoringSettings) -> Value {
    let class = match s.storage.kind {
        StorageType::LocalVolume => local_class(target.backend),
        StorageType::StorageClass => s.storage.storage_class_name.clone(),
    };
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": class,
            "resources": {"requests": {"storage": s.storage.size}},
        },
    })
}

#[allow(clippy::too_many_arguments)]
fn stateful_set(
    target: &Target,
    s: &MonitoringSettings,
    name: &str,
    replicas: i32,
    image: String,
    args: Vec<String>,
    port: u16,
    config: Option<&str>,
) -> Value {
    let mut mounts = vec![json!({"name": "data", "mountPath": "/data"})];
    let mut volumes = Vec::new();
    if let Some(config) = config {
        mounts.push(json!({"name": "config", "mountPath": "/config"}));
        volumes.push(json!({"name": "config", "configMap": {"name": config}}));
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta(target, name, true, name),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": selector_labels(target, name)},
            "template": pod_template(target, s, name, image, args, json!(mounts), json!(volumes), port),
            "volumeClaimTemplates": [claim_template(target, s)],
        },
    })
}

#[allow(clippy::too_many_arguments)]
fn deployment(
    target: &Target,
    s: &MonitoringSettings,
    name: &str,
    replicas: i32,
    image: String,
    args: Vec<String>,
    port: u16,
    config: Option<&str>,
) -> Value {
    let (mounts, volumes) = match config {
        Some(config) => (
            json!([{"name": "config", "mountPath": "/config"}]),
            json!([{"name": "config", "configMap": {"name": config}}]),
        ),
        None => (json!([]), json!([])),
    };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(target, name, true, name),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector_labels(target, name)},
            "template": pod_template(target, s, name, image, args, mounts, volumes, port),
        },
    })
}

fn service(target: &Target, name: &str, ports: &[(&str, u16)], headless: bool) -> Value {
    let mut spec = json!({
        "selector": selector_labels(target, name),
        "ports": ports.iter().map(|(n, p)| json!({"name": n, "port": p, "targetPort": p})).collect::<Vec<_>>(),
    });
    if headless {
        spec["clusterIP"] = json!("None");
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(target, name, true, name),
        "spec": spec,
    })
}

/// The scrape configuration: the cluster's apiserver, nodes and pods, every series labelled
/// with the cluster (and, for Prometheus, its replica).
fn scrape_config(target: &Target, s: &MonitoringSettings, replica_label: Option<&str>) -> String {
    let cluster = s.cluster_label_on(target.cluster);
    let mut labels = format!("    cluster: {cluster:?}\n");
    if let Some(label) = replica_label {
        labels.push_str(&format!("    {label}: \"${{POD_NAME}}\"\n"));
    }
    format!(
        "global:\n  scrape_interval: 30s\n  external_labels:\n{labels}scrape_configs:\n  - job_name: apiserver\n    kubernetes_sd_configs: [{{role: endpoints, namespaces: {{names: [default]}}}}]\n    scheme: https\n    tls_config: {{ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt}}\n    authorization: {{credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token}}\n  - job_name: nodes\n    kubernetes_sd_configs: [{{role: node}}]\n  - job_name: pods\n    kubernetes_sd_configs: [{{role: pod}}]\n"
    )
}

fn config_map(target: &Target, name: &str, file: &str, text: String) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(target, name, true, name),
        "data": {file: text},
    })
}

/// The no-provisioner StorageClass and one local PersistentVolume per replica of each
/// stateful workload, each pinned to its node in `nodes` (index by index).
fn local_volumes(
    target: &Target,
    s: &MonitoringSettings,
    nodes: &BTreeMap<String, Vec<String>>,
) -> Vec<Value> {
    let class = local_class(target.backend);
    let mut out = vec![json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": meta(target, &class, false, "local-volumes"),
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Retain",
    })];
    for (workload, replicas) in s.stateful(target.backend) {
        let assigned = nodes.get(workload).cloned().unwrap_or_default();
        for index in 0..replicas.max(0) as usize {
            let Some(node) = assigned.get(index) else {
                continue;
            };
            let name = volume_name(target.backend, workload, index);
            out.push(json!({
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": meta(target, &name, false, workload),
                "spec": {
                    "capacity": {"storage": s.storage.size},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": class,
                    "volumeMode": "Filesystem",
                    "local": {"path": s.storage.path},
                    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{
                        "key": "kubernetes.io/hostname",
                        "operator": "In",
                        "values": [node],
                    }]}]}},
                },
            }));
        }
    }
    out
}

/// Which node each local volume goes to: `existing` (volume name → node, from the cluster)
/// is kept while that node is still selected; the rest take the selected nodes in name order
/// that hold no volume of that workload yet. Fewer nodes than replicas leave volumes out (their
/// pods stay Pending, as the node check warned).
pub fn assign_nodes(
    backend: Backend,
    s: &MonitoringSettings,
    selected: &[String],
    existing: &BTreeMap<String, String>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (workload, replicas) in s.stateful(backend) {
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut slots: Vec<Option<String>> = (0..replicas.max(0) as usize)
            .map(|i| {
                existing
                    .get(&volume_name(backend, workload, i))
                    .filter(|n| selected.contains(*n) && !used.contains(*n))
                    .inspect(|n| {
                        used.insert((*n).clone());
                    })
                    .cloned()
            })
            .collect();
        let mut free = selected.iter().filter(|n| !used.contains(*n));
        for slot in slots.iter_mut().filter(|s| s.is_none()) {
            *slot = free.next().cloned();
        }
        // Volumes are pinned by index: stop at the first replica without a node.
        let nodes: Vec<String> = slots.into_iter().map_while(|s| s).collect();
        out.insert(workload.to_string(), nodes);
    }
    out
}

/// Every object the plugin runs on its cluster, in the order they are applied (storage first,
/// then configuration and Services, then workloads). `nodes` assigns local volumes
/// ([`assign_nodes`]); it is ignored for StorageClass storage.
pub fn render(
    target: &Target,
    s: &MonitoringSettings,
    nodes: &BTreeMap<String, Vec<String>>,
) -> Vec<Value> {
    let mut out = Vec::new();
    if s.storage.kind == StorageType::LocalVolume {
        out.extend(local_volumes(target, s, nodes));
    }
    let version = target.version;
    let retention = &s.retention;
    match target.backend {
        Backend::Prometheus => {
            let p = s.prometheus.clone().unwrap_or_default();
            out.push(config_map(
                target,
                "prometheus-config",
                "prometheus.yml",
                scrape_config(target, s, Some(&p.replica_label)),
            ));
            out.push(service(target, "prometheus", &[("http", 9090)], true));
            out.push(stateful_set(
                target,
                s,
                "prometheus",
                p.replicas,
                format!("quay.io/prometheus/prometheus:v{version}"),
                vec![
                    "--config.file=/config/prometheus.yml".into(),
                    "--storage.tsdb.path=/data".into(),
                    format!("--storage.tsdb.retention.time={retention}"),
                    "--enable-feature=expand-external-labels".into(),
                ],
                9090,
                Some("prometheus-config"),
            ));
        }
        Backend::VictoriaMetrics => {
            let vm = s.victoria_metrics.clone().unwrap_or_default();
            let dedup = format!("-dedup.minScrapeInterval={}", vm.deduplication_interval);
            let scrape = config_map(
                target,
                "vm-scrape-config",
                "scrape.yml",
                scrape_config(target, s, None),
            );
            match vm.mode {
                VictoriaMetricsMode::Single => {
                    out.push(scrape);
                    out.push(service(target, "victoria-metrics", &[("http", 8428)], true));
                    out.push(stateful_set(
                        target,
                        s,
                        "victoria-metrics",
                        vm.replicas,
                        format!("victoriametrics/victoria-metrics:v{version}"),
                        vec![
                            "-storageDataPath=/data".into(),
                            format!("-retentionPeriod={retention}"),
                            dedup,
                            "-promscrape.config=/config/scrape.yml".into(),
                        ],
                        8428,
                        Some("vm-scrape-config"),
                    ));
                }
                VictoriaMetricsMode::Cluster => {
                    let ns = target.namespace;
                    let nodes = |port: u16| {
                        (0..vm.vmstorage.max(0))
                            .map(|i| format!("vmstorage-{i}.vmstorage.{ns}.svc:{port}"))
                            .collect::<Vec<_>>()
                            .join(",")
                    };
                    let factor = format!("-replicationFactor={}", vm.replication_factor);
                    out.push(scrape);
                    out.push(service(
                        target,
                        "vmstorage",
                        &[("http", 8482), ("vminsert", 8400), ("vmselect", 8401)],
                        true,
                    ));
                    out.push(service(target, "vminsert", &[("http", 8480)], false));
                    out.push(service(target, "vmselect", &[("http", 8481)], false));
                    out.push(stateful_set(
                        target,
                        s,
                        "vmstorage",
                        vm.vmstorage,
                        format!("victoriametrics/vmstorage:v{version}-cluster"),
                        vec![
                            "-storageDataPath=/data".into(),
                            format!("-retentionPeriod={retention}"),
                            dedup.clone(),
                        ],
                        8482,
                        None,
                    ));
                    out.push(deployment(
                        target,
                        s,
                        "vminsert",
                        vm.vminsert,
                        format!("victoriametrics/vminsert:v{version}-cluster"),
                        vec![format!("-storageNode={}", nodes(8400)), factor.clone()],
                        8480,
                        None,
                    ));
                    out.push(deployment(
                        target,
                        s,
                        "vmselect",
                        vm.vmselect,
                        format!("victoriametrics/vmselect:v{version}-cluster"),
                        vec![format!("-storageNode={}", nodes(8401)), factor, dedup],
                        8481,
                        None,
                    ));
                    out.push(deployment(
                        target,
                        s,
                        "vmagent",
                        1,
                        format!("victoriametrics/vmagent:v{version}"),
                        vec![
                            "-promscrape.config=/config/scrape.yml".into(),
                            "-remoteWrite.url=http://vminsert:8480/insert/0/prometheus/api/v1/write"
                                .into(),
                        ],
                        8429,
                        Some("vm-scrape-config"),
                    ));
                }
            }
        }
    }
    out
}

/// `Kind/name` of a rendered object (with its namespace when it has one).
pub fn object_ref(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Customisations: placement that someone other than the plugin set on its workloads
// ---------------------------------------------------------------------------------------------

/// The pod placement fields of a workload's template.
pub const PLACEMENT_FIELDS: [&str; 3] = ["nodeSelector", "tolerations", "affinity"];

/// Placement one field manager other than the plugin owns on one workload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Customisation {
    /// `StatefulSet prometheus`.
    pub workload: String,
    /// nodeSelector, tolerations or affinity.
    pub field: String,
    /// The field manager (kubectl-patch, kubectl-edit, a script's name).
    pub manager: String,
    /// What the workload's template holds there now, as JSON.
    pub value: String,
    /// Where it goes in the settings.
    pub move_to: String,
    /// Whether that manager still owns the field after the settings were last applied.
    pub remaining: bool,
}

/// The placement fields of `workload` (a live object with managedFields) that managers other
/// than [`FIELD_MANAGER`] own, with the value the template holds there.
pub fn foreign_placement(workload: &Value) -> Vec<Customisation> {
    let name = format!(
        "{} {}",
        workload["kind"].as_str().unwrap_or_default(),
        workload["metadata"]["name"].as_str().unwrap_or_default()
    );
    let template = &workload["spec"]["template"]["spec"];
    let mut out = Vec::new();
    for entry in workload["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let manager = entry["manager"].as_str().unwrap_or_default();
        if manager == FIELD_MANAGER || entry["subresource"].as_str().is_some_and(|s| !s.is_empty())
        {
            continue;
        }
        let owned = &entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"];
        for field in PLACEMENT_FIELDS {
            if owned.get(format!("f:{field}")).is_some() {
                out.push(Customisation {
                    workload: name.clone(),
                    field: field.into(),
                    manager: manager.into(),
                    value: template.get(field).map(|v| v.to_string()).unwrap_or_default(),
                    move_to: match field {
                        "nodeSelector" => "settings nodeSelector".into(),
                        "tolerations" => "settings tolerations".into(),
                        _ => "settings nodeSelector (affinity has no setting: express it as a node selector, or keep it off the plugin's workloads)".into(),
                    },
                    remaining: true,
                });
            }
        }
    }
    out
}

/// Puts into `rendered` (a workload about to be applied) the live value of each placement field
/// in `kept` (customisations of that workload): while a plugin's settings were never saved, the
/// plugin applies what already runs there instead of its defaults, so an old customisation stays
/// in force (co-owned, the value unchanged) and is listed until the settings take it over.
pub fn keep_placement(rendered: &mut Value, live: &Value, kept: &[Customisation]) {
    let from = &live["spec"]["template"]["spec"];
    let Some(into) = rendered
        .pointer_mut("/spec/template/spec")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for c in kept {
        match from.get(&c.field) {
            Some(value) if !value.is_null() => {
                into.insert(c.field.clone(), value.clone());
            }
            _ => {
                into.remove(&c.field);
            }
        }
    }
}

/// Removes from `theirs` (a manager's fieldsV1) every leaf that `ours` also owns, under the
/// pod template's placement fields, and prunes what is left empty. Returns whether anything
/// was removed. The plugin taking over a field (the same value now comes from the settings)
/// leaves the old manager as a co-owner; this is what makes the old patch gone.
pub fn release_placement(theirs: &mut Value, ours: &Value) -> bool {
    fn subtract(theirs: &mut Value, ours: &Value) -> bool {
        let (Some(t), Some(o)) = (theirs.as_object_mut(), ours.as_object()) else {
            return false;
        };
        let mut changed = false;
        let keys: Vec<String> = t.keys().cloned().collect();
        for key in keys {
            let Some(ours_child) = o.get(&key) else {
                continue;
            };
            let leaf_ours = ours_child.as_object().is_none_or(|m| m.is_empty());
            let remove = if leaf_ours {
                true
            } else {
                let child = t.get_mut(&key);
                let sub = child.map(|c| subtract(c, ours_child)).unwrap_or(false);
                changed |= sub;
                t.get(&key)
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.is_empty() || (m.len() == 1 && m.contains_key(".")))
            };
            if remove {
                t.remove(&key);
                changed = true;
            }
        }
        changed
    }
    const SPEC: &str = "/f:spec/f:template/f:spec";
    let Some(our_spec) = ours.pointer(SPEC) else {
        return false;
    };
    let Some(their_spec) = theirs.pointer_mut(SPEC) else {
        return false;
    };
    let mut changed = false;
    for field in PLACEMENT_FIELDS {
        let key = format!("f:{field}");
        if let (Some(t), Some(o)) = (their_spec.get_mut(&key), our_spec.get(&key)) {
            changed |= subtract(t, o);
            if t.as_object()
                .is_some_and(|m| m.is_empty() || (m.len() == 1 && m.contains_key(".")))
                && let Some(map) = their_spec.as_object_mut()
            {
                map.remove(&key);
                changed = true;
            }
        }
    }
    // The path down to the template's spec goes too when nothing is left under it.
    for (parent, child) in [
        ("/f:spec/f:template", "f:spec"),
        ("/f:spec", "f:template"),
        ("", "f:spec"),
    ] {
        let empty = theirs
            .pointer(&format!("{parent}/{child}"))
            .and_then(Value::as_object)
            .is_some_and(|m| m.is_empty());
        if empty && let Some(map) = theirs.pointer_mut(parent).and_then(Value::as_object_mut) {
            map.remove(child);
        }
    }
    changed
}

// ---------------------------------------------------------------------------------------------
// Status the controller reports
// ---------------------------------------------------------------------------------------------

/// One pod of the plugin that the scheduler has not placed, with its reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PendingPod {
    pub name: String,
    /// The PodScheduled condition's reason (Unschedulable).
    pub reason: String,
    /// The scheduler's message ("0/6 nodes are available: 3 node(s) had untolerated taint...").
    pub message: String,
}

/// One of the plugin's workloads as it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkloadState {
    /// `StatefulSet prometheus`.
    pub workload: String,
    pub desired: i32,
    pub ready: i32,
    /// The nodes its pods run on.
    #[serde(default)]
    pub nodes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The page's form and preview
// ---------------------------------------------------------------------------------------------

/// The settings form as the page posts it: every field as typed.
/// - `node_selector`: `key=value` pairs separated by commas or lines (`key` alone: empty value);
/// - `tolerations`: one a line, as kubectl writes taints: `key=value:Effect` (Equal),
///   `key:Effect` or `key` (Exists), with `@seconds` after a NoExecute effect.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub node_selector: String,
    pub tolerations: String,
    pub cpu_request: String,
    pub memory_request: String,
    pub cpu_limit: String,
    pub memory_limit: String,
    pub retention: String,
    pub cluster_label: String,
    pub storage_type: String,
    pub path: String,
    pub storage_class: String,
    pub size: String,
    pub replicas: String,
    pub replica_label: String,
    pub vm_mode: String,
    pub vmstorage: String,
    pub vminsert: String,
    pub vmselect: String,
    pub replication_factor: String,
    pub deduplication_interval: String,
}

/// One toleration as the form writes it.
pub fn toleration_line(t: &Toleration) -> String {
    let mut line = t.key.clone();
    if t.operator != "Exists" && !t.value.is_empty() || t.operator == "Equal" {
        line.push('=');
        line.push_str(&t.value);
    }
    if !t.effect.is_empty() {
        line.push(':');
        line.push_str(&t.effect);
    }
    if let Some(seconds) = t.seconds {
        line.push_str(&format!("@{seconds}"));
    }
    line
}

impl SettingsForm {
    /// The form filled with `s`.
    pub fn from_settings(backend: Backend, s: &MonitoringSettings) -> Self {
        let p = s.prometheus.clone().unwrap_or_default();
        let vm = s.victoria_metrics.clone().unwrap_or_default();
        SettingsForm {
            node_selector: s
                .node_selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            tolerations: s
                .tolerations
                .iter()
                .map(toleration_line)
                .collect::<Vec<_>>()
                .join("\n"),
            cpu_request: s.resources.cpu_request.clone(),
            memory_request: s.resources.memory_request.clone(),
            cpu_limit: s.resources.cpu_limit.clone(),
            memory_limit: s.resources.memory_limit.clone(),
            retention: s.retention.clone(),
            cluster_label: s.cluster_label.clone(),
            storage_type: format!("{:?}", s.storage.kind),
            path: s.storage.path.clone(),
            storage_class: s.storage.storage_class_name.clone(),
            size: s.storage.size.clone(),
            replicas: match backend {
                Backend::Prometheus => p.replicas.to_string(),
                Backend::VictoriaMetrics => vm.replicas.to_string(),
            },
            replica_label: p.replica_label,
            vm_mode: format!("{:?}", vm.mode),
            vmstorage: vm.vmstorage.to_string(),
            vminsert: vm.vminsert.to_string(),
            vmselect: vm.vmselect.to_string(),
            replication_factor: vm.replication_factor.to_string(),
            deduplication_interval: vm.deduplication_interval,
        }
    }

    /// The settings the form says, or what cannot be read (each its own message); the
    /// settings' own rules are [`validate`]'s.
    pub fn parse(&self, backend: Backend) -> Result<MonitoringSettings, Vec<String>> {
        let mut errors = Vec::new();
        let mut number = |what: &str, text: &str| -> i32 {
            match text.trim().parse::<i32>() {
                Ok(n) => n,
                Err(_) => {
                    errors.push(format!("{what}: {text:?} is not a whole number"));
                    0
                }
            }
        };
        let replicas = number("replicas", &self.replicas);
        let (vmstorage, vminsert, vmselect, factor) = if backend == Backend::VictoriaMetrics {
            (
                number("vmstorage replicas", &self.vmstorage),
                number("vminsert replicas", &self.vminsert),
                number("vmselect replicas", &self.vmselect),
                number("replication factor", &self.replication_factor),
            )
        } else {
            (1, 1, 1, 1)
        };
        let mut node_selector = BTreeMap::new();
        for pair in self
            .node_selector
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            node_selector.insert(k.trim().to_string(), v.trim().to_string());
        }
        let mut tolerations = Vec::new();
        for line in self
            .tolerations
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (rest, seconds) = match line.rsplit_once('@') {
                Some((rest, seconds)) => match seconds.trim().parse::<i64>() {
                    Ok(s) => (rest, Some(s)),
                    Err(_) => {
                        errors.push(format!(
                            "toleration {line:?}: {seconds:?} after @ is not a number of seconds"
                        ));
                        (rest, None)
                    }
                },
                None => (line, None),
            };
            let (key_value, effect) = rest.split_once(':').unwrap_or((rest, ""));
            let (key, value, operator) = match key_value.split_once('=') {
                Some((k, v)) => (k, v, "Equal"),
                None => (key_value, "", "Exists"),
            };
            tolerations.push(Toleration {
                key: key.trim().into(),
                operator: operator.into(),
                value: value.trim().into(),
                effect: effect.trim().into(),
                seconds,
            });
        }
        let kind = match self.storage_type.as_str() {
            "" | "LocalVolume" => StorageType::LocalVolume,
            "StorageClass" => StorageType::StorageClass,
            other => {
                errors.push(format!(
                    "storage type {other:?} is neither LocalVolume nor StorageClass"
                ));
                StorageType::LocalVolume
            }
        };
        let mode = match self.vm_mode.as_str() {
            "" | "Single" => VictoriaMetricsMode::Single,
            "Cluster" => VictoriaMetricsMode::Cluster,
            other => {
                errors.push(format!("mode {other:?} is neither Single nor Cluster"));
                VictoriaMetricsMode::Single
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let trim = |s: &String| s.trim().to_string();
        Ok(MonitoringSettings {
            node_selector,
            tolerations,
            resources: Resources {
                cpu_request: trim(&self.cpu_request),
                memory_request: trim(&self.memory_request),
                cpu_limit: trim(&self.cpu_limit),
                memory_limit: trim(&self.memory_limit),
            },
            retention: trim(&self.retention),
            cluster_label: trim(&self.cluster_label),
            storage: Storage {
                kind,
                path: trim(&self.path),
                storage_class_name: trim(&self.storage_class),
                size: trim(&self.size),
            },
            prometheus: (backend == Backend::Prometheus).then(|| PrometheusSettings {
                replicas,
                replica_label: trim(&self.replica_label),
            }),
            victoria_metrics: (backend == Backend::VictoriaMetrics).then(|| {
                VictoriaMetricsSettings {
                    mode,
                    replicas,
                    vmstorage,
                    vminsert,
                    vmselect,
                    replication_factor: factor,
                    deduplication_interval: trim(&self.deduplication_interval),
                }
            }),
        })
    }
}

/// One rendered object in the preview: its line diff against what runs, and the cluster's
/// answer to a server-side dry run of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPreview {
    /// `StatefulSet nextgen-plugins/prometheus`.
    pub object: String,
    /// Whether it does not run yet.
    pub new: bool,
    pub diff: Vec<(crate::application::DiffMark, String)>,
    /// The cluster's refusal of the dry run, if it refused.
    pub dry_run_error: Option<String>,
    /// Whether the cluster was asked at all: objects in a namespace that does not exist yet are
    /// not (the namespace's own dry run stands for them).
    #[serde(default)]
    pub dry_run: bool,
}

/// What saving the settings would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsPreview {
    /// The reasons the settings cannot be applied (nothing was dry-run then).
    pub errors: Vec<String>,
    /// The settings as YAML (what `kubectl get -o yaml` shows in spec.monitoring).
    pub settings_yaml: String,
    /// The settings as JSON, to post back when applying.
    pub settings_json: String,
    pub objects: Vec<ObjectPreview>,
}

impl SettingsPreview {
    /// Whether the settings may be applied: no error and every dry run accepted.
    pub fn applicable(&self) -> bool {
        self.errors.is_empty() && self.objects.iter().all(|o| o.dry_run_error.is_none())
    }
}

/// `live` cut down to the fields `rendered` sets, so the diff shows what the settings change
/// rather than every default the apiserver filled in.
pub fn project_onto(live: &Value, rendered: &Value) -> Value {
    match (live, rendered) {
        (Value::Object(l), Value::Object(r)) => Value::Object(
            r.iter()
                .filter_map(|(k, rv)| l.get(k).map(|lv| (k.clone(), project_onto(lv, rv))))
                .collect(),
        ),
        (Value::Array(l), Value::Array(r)) => Value::Array(
            l.iter()
                .enumerate()
                .map(|(i, lv)| {
                    r.get(i)
                        .map_or_else(|| lv.clone(), |rv| project_onto(lv, rv))
                })
                .collect(),
        ),
        (l, _) => l.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SettingsError as E;

    fn prometheus() -> MonitoringSettings {
        MonitoringSettings::defaults(Backend::Prometheus)
    }

    fn vm_cluster() -> MonitoringSettings {
        let mut s = MonitoringSettings::defaults(Backend::VictoriaMetrics);
        s.victoria_metrics = Some(VictoriaMetricsSettings {
            mode: VictoriaMetricsMode::Cluster,
            ..VictoriaMetricsSettings::default()
        });
        s
    }

    fn node(name: &str, infra: bool) -> NodeFacts {
        let mut labels = BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]);
        let mut taints = Vec::new();
        if infra {
            labels.insert(INFRA_ROLE.into(), String::new());
            taints.push(Taint {
                key: INFRA_ROLE.into(),
                value: String::new(),
                effect: "NoSchedule".into(),
            });
        }
        NodeFacts {
            name: name.into(),
            labels,
            taints,
            ready: true,
            unschedulable: false,
        }
    }

    fn cluster() -> Vec<NodeFacts> {
        vec![
            node("east-node-1", false),
            node("east-node-2", false),
            node("east-infra-1", true),
            node("east-infra-2", true),
            node("east-infra-3", true),
        ]
    }

    #[test]
    fn the_defaults_of_both_backends_are_valid_and_fit_the_infra_nodes() {
        for backend in [Backend::Prometheus, Backend::VictoriaMetrics] {
            let s = MonitoringSettings::defaults(backend);
            assert_eq!(validate(backend, &s), vec![], "{backend:?}");
            assert_eq!(check_nodes(backend, &s, &cluster()), vec![], "{backend:?}");
        }
        assert_eq!(validate(Backend::VictoriaMetrics, &vm_cluster()), vec![]);
        assert_eq!(
            check_nodes(Backend::VictoriaMetrics, &vm_cluster(), &cluster()),
            vec![]
        );
    }

    #[test]
    fn a_retention_is_a_whole_number_and_one_unit() {
        for good in ["15d", "12h", "1y", "90m", "2w"] {
            assert!(is_retention(good), "{good}");
        }
        for bad in ["", "15", "d", "15days", "1.5d", "0d", "-1d", "1d12h"] {
            let mut s = prometheus();
            s.retention = bad.into();
            assert_eq!(
                validate(Backend::Prometheus, &s),
                vec![E::Retention(bad.into())]
            );
        }
        let text = E::Retention("15days".into()).to_string();
        assert!(text.contains("15d or 12h"), "{text}");
    }

    #[test]
    fn label_keys_values_and_the_cluster_label_are_checked() {
        let mut s = prometheus();
        s.node_selector.insert("Bad Key!".into(), "ok".into());
        s.node_selector
            .insert("example.com/zone".into(), "not valid!".into());
        s.cluster_label = "-east".into();
        assert_eq!(
            validate(Backend::Prometheus, &s),
            vec![
                E::LabelKey("Bad Key!".into()),
                E::LabelValue {
                    key: "example.com/zone".into(),
                    value: "not valid!".into()
                },
                E::ClusterLabel("-east".into()),
            ]
        );
        assert!(is_label_key("node-role.kubernetes.io/infra"));
        assert!(!is_label_key("UPPER.example/x"));
        assert!(is_label_value(""));
    }

    #[test]
    fn tolerations_follow_the_schedulers_syntax() {
        let mut s = prometheus();
        s.tolerations = vec![
            Toleration {
                key: "a".into(),
                operator: "Exists".into(),
                value: "x".into(),
                ..Toleration::default()
            },
            Toleration {
                key: "b".into(),
                operator: "Maybe".into(),
                ..Toleration::default()
            },
            Toleration {
                key: "c".into(),
                effect: "NoRun".into(),
                ..Toleration::default()
            },
            Toleration {
                key: "d".into(),
                effect: "NoSchedule".into(),
                seconds: Some(30),
                ..Toleration::default()
            },
            Toleration {
                operator: "Equal".into(),
                value: "v".into(),
                ..Toleration::default()
            },
        ];
        assert_eq!(
            validate(Backend::Prometheus, &s),
            vec![
                E::ExistsWithValue {
                    index: 1,
                    key: "a".into()
                },
                E::TolerationOperator {
                    index: 2,
                    operator: "Maybe".into()
                },
                E::TolerationEffect {
                    index: 3,
                    effect: "NoRun".into()
                },
                E::TolerationSeconds { index: 4 },
                E::EqualWithoutKey { index: 5 },
            ]
        );
        assert!(
            E::ExistsWithValue {
                index: 1,
                key: "a".into()
            }
            .to_string()
            .contains("Exists takes no value")
        );
    }

    #[test]
    fn the_data_directory_is_absolute_without_parent_steps() {
        for (path, error) in [
            ("", E::PathMissing),
            ("var/lib/m", E::PathRelative("var/lib/m".into())),
            ("/var/../etc", E::PathParent("/var/../etc".into())),
        ] {
            let mut s = prometheus();
            s.storage.path = path.into();
            assert_eq!(validate(Backend::Prometheus, &s), vec![error], "{path}");
        }
        let mut s = prometheus();
        s.storage.path = "/var/lib/a..b".into();
        assert_eq!(validate(Backend::Prometheus, &s), vec![]);
    }

    #[test]
    fn storage_class_sizes_and_resources_are_checked() {
        let mut s = prometheus();
        s.storage.kind = StorageType::StorageClass;
        assert_eq!(
            validate(Backend::Prometheus, &s),
            vec![E::StorageClassMissing]
        );
        s.storage.storage_class_name = "Fast_SSD".into();
        s.storage.size = "ten".into();
        s.resources.memory_limit = "1GB".into();
        assert_eq!(
            validate(Backend::Prometheus, &s),
            vec![
                E::Quantity {
                    what: "memory limit",
                    value: "1GB".into()
                },
                E::Quantity {
                    what: "volume size",
                    value: "ten".into()
                },
                E::StorageClassName("Fast_SSD".into()),
            ]
        );
        for good in ["500m", "2", "1.5", "512Mi", "10Gi", "1e3"] {
            assert!(is_quantity(good), "{good}");
        }
    }

    #[test]
    fn replicas_labels_and_the_backend_must_fit_the_plugin() {
        let mut s = prometheus();
        s.prometheus = Some(PrometheusSettings {
            replicas: 0,
            replica_label: "pod-name".into(),
        });
        s.victoria_metrics = Some(VictoriaMetricsSettings::default());
        assert_eq!(
            validate(Backend::Prometheus, &s),
            vec![
                E::Replicas {
                    component: "prometheus".into(),
                    replicas: 0
                },
                E::ReplicaLabel("pod-name".into()),
                E::WrongBackend {
                    plugin: "prometheus".into(),
                    wanted: "prometheus",
                    found: "victoriaMetrics"
                },
            ]
        );
    }

    #[test]
    fn vmstorage_needs_twice_the_replication_factor_minus_one() {
        let mut s = vm_cluster();
        if let Some(vm) = s.victoria_metrics.as_mut() {
            vm.replication_factor = 3;
            vm.vmstorage = 4;
            vm.deduplication_interval = "30 seconds".into();
        }
        assert_eq!(
            validate(Backend::VictoriaMetrics, &s),
            vec![
                E::StorageReplicas {
                    vmstorage: 4,
                    factor: 3,
                    needed: 5
                },
                E::Deduplication("30 seconds".into()),
            ]
        );
        if let Some(vm) = s.victoria_metrics.as_mut() {
            vm.vmstorage = 5;
            vm.vminsert = 7;
            vm.deduplication_interval = "1m".into();
            vm.replication_factor = 0;
        }
        // No three-node limit on a component; a factor below one is its own error.
        assert_eq!(
            validate(Backend::VictoriaMetrics, &s),
            vec![E::ReplicationFactor(0)]
        );
    }

    #[test]
    fn the_selector_must_match_a_ready_node_per_local_volume() {
        let mut s = prometheus();
        s.prometheus = Some(PrometheusSettings {
            replicas: 4,
            ..PrometheusSettings::default()
        });
        let errors = check_nodes(Backend::Prometheus, &s, &cluster());
        assert!(
            matches!(
                &errors[..],
                [E::NotEnoughNodes {
                    matching: 3,
                    needed: 4,
                    ..
                }]
            ),
            "{errors:?}"
        );
        assert!(
            errors[0]
                .to_string()
                .contains("one local volume per replica and node")
        );
        // A node that is not Ready does not count.
        let mut nodes = cluster();
        nodes[2].ready = false;
        s.prometheus = Some(PrometheusSettings::default());
        assert_eq!(check_nodes(Backend::Prometheus, &s, &nodes), vec![]);
        s.prometheus = Some(PrometheusSettings {
            replicas: 3,
            ..PrometheusSettings::default()
        });
        assert!(matches!(
            &check_nodes(Backend::Prometheus, &s, &nodes)[..],
            [E::NotEnoughNodes {
                matching: 2,
                needed: 3,
                ..
            }]
        ));
        // With a StorageClass, replicas may share nodes.
        s.storage.kind = StorageType::StorageClass;
        s.storage.storage_class_name = "standard".into();
        assert_eq!(check_nodes(Backend::Prometheus, &s, &nodes), vec![]);
    }

    #[test]
    fn taints_no_toleration_covers_are_the_pending_on_infra_nodes() {
        let mut s = prometheus();
        s.tolerations.clear();
        let errors = check_nodes(Backend::Prometheus, &s, &cluster());
        assert_eq!(errors.len(), 2, "{errors:?}");
        let text = errors[0].to_string();
        assert!(
            text.contains("east-infra-1, east-infra-2, east-infra-3")
                && text.contains("node-role.kubernetes.io/infra:NoSchedule")
                && text.contains("stay Pending"),
            "{text}"
        );
        assert!(matches!(errors[1], E::NotEnoughNodes { matching: 0, .. }));
        // An Equal toleration with the wrong value does not cover it either.
        s.tolerations = vec![Toleration {
            key: INFRA_ROLE.into(),
            value: "yes".into(),
            effect: "NoSchedule".into(),
            ..Toleration::default()
        }];
        assert!(matches!(
            check_nodes(Backend::Prometheus, &s, &cluster())[0],
            E::Untolerated { .. }
        ));
    }

    #[test]
    fn local_volumes_are_pinned_one_per_node_and_kept_where_they_are() {
        let s = prometheus();
        let selected: Vec<String> = ["east-infra-1", "east-infra-2", "east-infra-3"]
            .map(String::from)
            .to_vec();
        let existing = BTreeMap::from([(
            volume_name(Backend::Prometheus, "prometheus", 0),
            "east-infra-3".to_string(),
        )]);
        let nodes = assign_nodes(Backend::Prometheus, &s, &selected, &existing);
        assert_eq!(nodes["prometheus"], vec!["east-infra-3", "east-infra-1"]);
        let target = Target {
            backend: Backend::Prometheus,
            cluster: "east",
            namespace: "nextgen-plugins",
            version: "3.5.0",
        };
        let objects = render(&target, &s, &nodes);
        let kinds: Vec<String> = objects.iter().map(object_ref).collect();
        assert_eq!(
            kinds,
            vec![
                "StorageClass nextgen-prometheus-local",
                "PersistentVolume nextgen-prometheus-prometheus-0",
                "PersistentVolume nextgen-prometheus-prometheus-1",
                "ConfigMap nextgen-plugins/prometheus-config",
                "Service nextgen-plugins/prometheus",
                "StatefulSet nextgen-plugins/prometheus",
            ]
        );
        assert_eq!(objects[0]["provisioner"], "kubernetes.io/no-provisioner");
        assert_eq!(objects[0]["volumeBindingMode"], "WaitForFirstConsumer");
        let pv = &objects[1]["spec"];
        assert_eq!(pv["local"]["path"], "/var/lib/nextgen-monitoring");
        assert_eq!(
            pv["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
                [0],
            "east-infra-3"
        );
        let sts = &objects[5]["spec"];
        assert_eq!(sts["replicas"], 2);
        assert_eq!(
            sts["volumeClaimTemplates"][0]["spec"]["storageClassName"],
            "nextgen-prometheus-local"
        );
        let pod = &sts["template"]["spec"];
        assert_eq!(pod["nodeSelector"][INFRA_ROLE], "");
        assert_eq!(pod["tolerations"][0]["operator"], "Exists");
        assert!(
            objects[3]["data"]["prometheus.yml"]
                .as_str()
                .is_some_and(
                    |c| c.contains("cluster: \"east\"") && c.contains("replica: \"${POD_NAME}\"")
                ),
            "{}",
            objects[3]
        );
    }

    #[test]
    fn vm_cluster_mode_renders_every_component_with_its_replicas() {
        let mut s = vm_cluster();
        s.storage.kind = StorageType::StorageClass;
        s.storage.storage_class_name = "fast".into();
        if let Some(vm) = s.victoria_metrics.as_mut() {
            vm.vmstorage = 5;
            vm.vminsert = 4;
        }
        let target = Target {
            backend: Backend::VictoriaMetrics,
            cluster: "west",
            namespace: "nextgen-plugins",
            version: "1.120.0",
        };
        let objects = render(&target, &s, &BTreeMap::new());
        let find = |r: &str| {
            objects
                .iter()
                .find(|o| object_ref(o) == r)
                .unwrap_or_else(|| {
                    panic!(
                        "{r} in {:?}",
                        objects.iter().map(object_ref).collect::<Vec<_>>()
                    )
                })
        };
        let storage = find("StatefulSet nextgen-plugins/vmstorage");
        assert_eq!(storage["spec"]["replicas"], 5);
        assert_eq!(
            storage["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"],
            "fast"
        );
        let insert = find("Deployment nextgen-plugins/vminsert");
        assert_eq!(insert["spec"]["replicas"], 4);
        let args = insert["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
        assert!(
            args.contains("vmstorage-4.vmstorage.nextgen-plugins.svc:8400"),
            "{args}"
        );
        assert!(args.contains("-replicationFactor=2"), "{args}");
        let select = find("Deployment nextgen-plugins/vmselect");
        assert!(
            select["spec"]["template"]["spec"]["containers"][0]["args"]
                .to_string()
                .contains("-dedup.minScrapeInterval=30s")
        );
        assert!(!objects.iter().any(|o| o["kind"] == "PersistentVolume"));
    }

    #[test]
    fn placement_others_own_is_found_and_released_where_the_plugin_owns_it_too() {
        let ours = json!({"f:spec": {"f:template": {"f:spec": {
            "f:nodeSelector": {".": {}, "f:node-role.kubernetes.io/infra": {}, "f:kubernetes.io/os": {}},
            "f:containers": {},
        }}}});
        let theirs = json!({"f:spec": {"f:template": {"f:spec": {
            "f:nodeSelector": {"f:kubernetes.io/os": {}},
            "f:affinity": {".": {}, "f:nodeAffinity": {}},
        }}}});
        let live = json!({
            "kind": "StatefulSet",
            "metadata": {"name": "prometheus", "managedFields": [
                {"manager": FIELD_MANAGER, "operation": "Apply", "fieldsV1": ours},
                {"manager": "kubectl-patch", "operation": "Update", "fieldsV1": theirs},
                {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "fieldsV1": {}},
            ]},
            "spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "affinity": {"nodeAffinity": {}}}}},
        });
        let found = foreign_placement(&live);
        assert_eq!(
            found
                .iter()
                .map(|c| (c.field.as_str(), c.manager.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("nodeSelector", "kubectl-patch"),
                ("affinity", "kubectl-patch")
            ]
        );
        assert!(found[0].value.contains("linux"));
        let mut released = theirs.clone();
        assert!(release_placement(&mut released, &ours));
        let spec = &released["f:spec"]["f:template"]["f:spec"];
        assert!(spec.get("f:nodeSelector").is_none(), "{released}");
        assert!(
            spec.get("f:affinity").is_some(),
            "affinity is not the plugin's: {released}"
        );
        assert!(
            !release_placement(&mut released, &ours),
            "nothing left to release"
        );
        // A manager that owned only what the plugin took over is left with nothing at all.
        let mut only = json!({"f:spec": {"f:template": {"f:spec": {"f:nodeSelector": {"f:kubernetes.io/os": {}}}}}});
        assert!(release_placement(&mut only, &ours));
        assert_eq!(only, json!({}));
    }

    #[test]
    fn placement_others_set_is_kept_as_it_runs_until_the_settings_are_saved() {
        let live = json!({"spec": {"template": {"spec": {
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
        }}}});
        let mut rendered = json!({"spec": {"template": {"spec": {
            "nodeSelector": {INFRA_ROLE: ""},
            "tolerations": [{"key": INFRA_ROLE, "operator": "Exists"}],
            "containers": [],
        }}}});
        let custom = |field: &str| Customisation {
            field: field.into(),
            ..Customisation::default()
        };
        keep_placement(
            &mut rendered,
            &live,
            &[custom("nodeSelector"), custom("affinity")],
        );
        let spec = &rendered["spec"]["template"]["spec"];
        assert_eq!(spec["nodeSelector"], json!({"kubernetes.io/os": "linux"}));
        assert_eq!(
            spec["affinity"],
            live["spec"]["template"]["spec"]["affinity"]
        );
        assert_eq!(
            spec["tolerations"][0]["key"], INFRA_ROLE,
            "not customised: the plugin's"
        );
        // A field someone owns but emptied is left out rather than set to the plugin's.
        keep_placement(&mut rendered, &json!({}), &[custom("tolerations")]);
        assert!(
            rendered["spec"]["template"]["spec"]
                .get("tolerations")
                .is_none()
        );
    }

    #[test]
    fn the_form_reads_back_what_it_was_filled_with_and_names_what_it_cannot_read() {
        let mut s = prometheus();
        s.tolerations.push(Toleration {
            key: "dedicated".into(),
            operator: "Equal".into(),
            value: "monitoring".into(),
            effect: "NoExecute".into(),
            seconds: Some(60),
        });
        s.node_selector.insert("zone".into(), "a".into());
        let form = SettingsForm::from_settings(Backend::Prometheus, &s);
        assert_eq!(
            form.tolerations,
            "node-role.kubernetes.io/infra:NoSchedule\ndedicated=monitoring:NoExecute@60"
        );
        assert_eq!(form.parse(Backend::Prometheus), Ok(s));
        let vm = vm_cluster();
        let form = SettingsForm::from_settings(Backend::VictoriaMetrics, &vm);
        assert_eq!(form.parse(Backend::VictoriaMetrics), Ok(vm));
        let bad = SettingsForm {
            replicas: "two".into(),
            storage_type: "NFS".into(),
            tolerations: "a:NoExecute@soon".into(),
            ..form
        };
        assert_eq!(
            bad.parse(Backend::VictoriaMetrics).map_err(|e| e.len()),
            Err(3)
        );
    }

    #[test]
    fn the_diff_compares_only_the_fields_the_settings_set() {
        let live = json!({"metadata": {"name": "p", "uid": "1", "managedFields": []},
            "spec": {"replicas": 1, "revisionHistoryLimit": 10, "template": {"spec": {"containers": [{"name": "c", "imagePullPolicy": "Always"}]}}}});
        let rendered = json!({"metadata": {"name": "p"}, "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c"}]}}}});
        assert_eq!(
            project_onto(&live, &rendered),
            json!({"metadata": {"name": "p"}, "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c"}]}}}})
        );
    }

    #[cfg(feature = "kube")]
    #[test]
    fn the_settings_are_part_of_the_clusterplugin_crds_openapi_schema() {
        use kube::CustomResourceExt;
        let crd = serde_json::to_value(crate::plugin::ClusterPlugin::crd())
            .unwrap_or_else(|e| panic!("{e}"));
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["monitoring"]["properties"];
        for field in [
            "nodeSelector",
            "tolerations",
            "resources",
            "retention",
            "clusterLabel",
            "storage",
            "prometheus",
            "victoriaMetrics",
        ] {
            assert!(
                spec.get(field).is_some(),
                "spec.monitoring.{field} in {spec}"
            );
        }
        assert_eq!(
            spec["storage"]["properties"]["type"]["enum"],
            json!(["LocalVolume", "StorageClass"])
        );
        assert!(spec["victoriaMetrics"]["properties"]["replicationFactor"].is_object());
        let status = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
            ["properties"];
        assert!(
            status["pendingPods"].is_object() && status["customisations"].is_object(),
            "{status}"
        );
    }

    #[test]
    fn settings_read_back_from_yaml_like_json_with_defaults() {
        let s: MonitoringSettings = serde_json::from_value(json!({
            "storage": {"type": "StorageClass", "storageClassName": "fast"},
            "victoriaMetrics": {"mode": "Cluster", "vmstorage": 3},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.retention, "15d");
        assert_eq!(s.storage.size, "10Gi");
        assert_eq!(
            s.victoria_metrics.as_ref().map(|v| v.replication_factor),
            Some(1)
        );
    }
}
