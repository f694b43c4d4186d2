//! Cluster plugins: the Administrator view's plugin list and detail pages, read and changed as
//! the signed-in user on the global cluster (ClusterPlugin resources). A monitoring plugin's page
//! also edits its settings: checked, previewed (a diff and a server-side dry run on the member
//! cluster as the user) and saved with the user as their author.
//!
//! `api` (server functions, `/api/plugins/...`) → `service` (plain async functions, server only)
//! → the resource and pure rules in `console_api::{plugin, catalog, plugin_settings}`; `pages`
//! for the UI; `feature` registers routes and navigation.

mod api;
pub mod feature;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use console_api::catalog;
pub use console_api::plugin as resource;
pub use console_api::plugin_settings as settings;

pub use api::*;
pub use pages::{PluginPage, PluginsPage, lifecycle_tone, phase_tone};

use serde::{Deserialize, Serialize};

use catalog::Lifecycle;
use resource::PluginPhase;
use settings::{Backend, Customisation, MonitoringSettings, PendingPod, WorkloadState};

/// A ClusterPlugin as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRow {
    pub name: String,
    pub cluster: String,
    pub plugin: String,
    pub lifecycle: Option<Lifecycle>,
    pub desired: String,
    pub installed: Option<String>,
    pub available: Vec<String>,
    pub cluster_release: Option<String>,
    pub phase: PluginPhase,
    pub message: String,
    /// A monitoring plugin's backend.
    pub backend: Option<Backend>,
    /// Its settings (the defaults while none are saved).
    pub settings: Option<MonitoringSettings>,
    pub settings_saved: bool,
    pub author: Option<String>,
    pub workloads: Vec<WorkloadState>,
    pub pending_pods: Vec<PendingPod>,
    pub customisations: Vec<Customisation>,
}

impl PluginRow {
    /// Whether the plugin needs someone's attention (the overview lists it).
    pub fn needs_attention(&self) -> bool {
        matches!(
            self.phase,
            PluginPhase::Failed | PluginPhase::Refused | PluginPhase::Progressing
        ) || !self.pending_pods.is_empty()
            || self.customisations.iter().any(|c| c.remaining)
    }
}
