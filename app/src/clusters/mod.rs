//! Clusters: the registry of clusters the console manages, their reachability and version,
//! the cluster selector and the Administrator view's cluster pages.

mod pages;
#[cfg(feature = "ssr")]
pub mod registry;
mod selector;

pub use pages::{ClusterPage, ClustersPage};
pub use selector::ClusterSelector;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// A registered cluster as the selector and lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    pub name: String,
    /// API server URL.
    pub server: String,
}

/// What a probe of the cluster's API server found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterHealth {
    Reachable { version: String },
    Unreachable { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub cluster: ClusterRef,
    pub health: ClusterHealth,
}

#[cfg(feature = "ssr")]
fn registry() -> Result<registry::ClusterRegistry, ConsoleError> {
    use_context::<registry::ClusterRegistry>().ok_or_else(|| ConsoleError::Internal {
        message: "the cluster registry is not available to this request".into(),
    })
}

/// The registered clusters, without contacting them.
#[server]
pub async fn list_clusters() -> Result<Vec<ClusterRef>, ConsoleError> {
    Ok(registry()?.list())
}

/// Every registered cluster with a fresh probe of its API server; probes run concurrently.
#[server]
pub async fn probe_clusters() -> Result<Vec<ClusterStatus>, ConsoleError> {
    Ok(registry()?.probe_all().await)
}

/// One cluster with a fresh probe; an unknown name is an error the page shows.
#[server]
pub async fn probe_cluster(name: String) -> Result<ClusterStatus, ConsoleError> {
    registry()?.probe(&name).await
}
