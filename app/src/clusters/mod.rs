//! Clusters: the registry of clusters the console manages, their reachability and version,
//! the cluster selector and the Administrator view's cluster pages.

mod browser;
pub mod feature;
pub mod import;
mod import_page;
pub mod namespaces;
pub mod overview;
mod pages;
pub use console_api::cluster as resource;
mod selector;

#[cfg(feature = "ssr")]
pub use browser::resource_row;
pub use browser::{ResourcePage, ResourceRow, ResourcesPage};
pub use import_page::ImportPage;
pub use pages::{ClusterPage, ClustersPage, HealthBadge, NamespacesRedirect};
pub use selector::ClusterSelector;

use leptos::prelude::*;

use crate::ConsoleError;
#[cfg(feature = "ssr")]
use crate::platform::registry;
use crate::platform::{ClusterRef, ClusterStatus};

/// The registered clusters, without contacting them.
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<ClusterRef>, ConsoleError> {
    Ok(registry()?.list())
}

/// Every registered cluster's health: Cluster resources as their controller last found them
/// (no request to those clusters), kubeconfig contexts probed now, concurrently.
#[server(endpoint = "clusters/probe-all")]
pub async fn probe_clusters() -> Result<Vec<ClusterStatus>, ConsoleError> {
    Ok(registry()?.overview().await)
}

/// One cluster with a fresh probe; an unknown name is an error the page shows.
#[server(endpoint = "clusters/probe")]
pub async fn probe_cluster(name: String) -> Result<ClusterStatus, ConsoleError> {
    registry()?.probe(&name).await
}
