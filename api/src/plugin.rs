//! The ClusterPlugin resource (`clusterplugins.platform.nextgen-console.io`, cluster-scoped, on
//! the global cluster): one per plugin installed on a cluster, named `<cluster>.<plugin>`. The
//! spec says which version should run; the console's controller installs or upgrades it on the
//! cluster and reports what runs there.

use serde::{Deserialize, Serialize};

use crate::catalog::Lifecycle;
use crate::plugin_settings::{Customisation, MonitoringSettings, PendingPod, WorkloadState};

/// The namespace plugins run in on their cluster.
pub const PLUGIN_NAMESPACE: &str = "nextgen-plugins";
/// The annotation on a plugin's Deployment with the version it runs.
pub const VERSION_ANNOTATION: &str = "plugins.nextgen-console.io/version";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "ClusterPlugin",
        plural = "clusterplugins",
        status = "PluginState",
        shortname = "cplugin",
        printcolumn = r#"{"name":"Cluster","type":"string","jsonPath":".spec.cluster"}"#,
        printcolumn = r#"{"name":"Plugin","type":"string","jsonPath":".spec.plugin"}"#,
        printcolumn = r#"{"name":"Lifecycle","type":"string","jsonPath":".status.lifecycle"}"#,
        printcolumn = r#"{"name":"Desired","type":"string","jsonPath":".spec.version"}"#,
        printcolumn = r#"{"name":"Installed","type":"string","jsonPath":".status.installedVersion"}"#,
        printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPluginSpec {
    /// The registered cluster the plugin runs on.
    pub cluster: String,
    /// The plugin's name in the catalog.
    pub plugin: String,
    /// The version that should run.
    pub version: String,
    /// The settings of a monitoring plugin (`prometheus`, `victoria-metrics`): placement,
    /// resources, retention, storage and replicas. User-written pod placement, so the controller
    /// applies it only as the author the annotations name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSettings>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum PluginPhase {
    /// Not looked at yet.
    #[default]
    Pending,
    /// The desired version is being rolled out.
    Progressing,
    /// The desired version runs.
    Ready,
    /// The desired version breaks a lifecycle rule; the installed one keeps running.
    Refused,
    /// The cluster could not be reached or refused the change; retried with backoff.
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PluginState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// The version running on the cluster (its Deployment rolled out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    /// Versions a standalone upgrade may go to now, newest first (none for Core plugins).
    #[serde(default)]
    pub available_versions: Vec<String>,
    /// The cluster's platform release the rules were judged against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_release: Option<String>,
    #[serde(default)]
    pub phase: PluginPhase,
    /// What the phase means in words (the refusal or the failure).
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub consecutive_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Monitoring plugins: the user the workloads were last applied as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Monitoring plugins: each workload as it runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<WorkloadState>,
    /// Monitoring plugins: pods the scheduler has not placed, with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_pods: Vec<PendingPod>,
    /// Monitoring plugins: placement someone else set on the workloads, and whether it is gone
    /// now that the settings apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customisations: Vec<Customisation>,
}

/// The resource name of `plugin` on `cluster`.
pub fn plugin_resource_name(cluster: &str, plugin: &str) -> String {
    format!("{cluster}.{plugin}")
}
