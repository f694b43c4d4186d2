//! Clusters: the registry of clusters the console manages, their reachability and version,
//! the cluster selector and the Administrator view's cluster pages.

mod browser;
#[cfg(feature = "ssr")]
pub mod impersonate;
pub mod import;
mod import_page;
pub mod namespaces;
pub mod overview;
mod pages;
#[cfg(feature = "ssr")]
pub mod registry;
pub mod resource;
mod selector;

pub use browser::{ResourcePage, ResourcesPage};
pub use import_page::ImportPage;
pub use pages::{ClusterPage, ClustersPage, NamespacesRedirect};
pub use selector::ClusterSelector;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// The hub's cluster name: platform state lives there; it is upgraded with the platform rather
/// than checked as a workload cluster.
pub const GLOBAL_CLUSTER: &str = "global";

/// A registered cluster as the selector and lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    pub name: String,
    /// API server URL.
    pub server: String,
    /// Registered by a Cluster resource on global (so it can be removed from the console), not
    /// by the console's kubeconfig.
    #[serde(default)]
    pub managed: bool,
}

/// What a probe of the cluster's API server found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterHealth {
    Reachable {
        version: String,
    },
    Unreachable {
        reason: String,
    },
    /// Registered by a Cluster resource that the controller has not probed yet.
    Pending,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub cluster: ClusterRef,
    pub health: ClusterHealth,
}

/// A kube-rs error as the page should name it: refused by RBAC, the cluster not answering, or
/// something else the server log explains.
#[cfg(feature = "ssr")]
pub(crate) fn kube_error(cluster: &str, error: kube::Error) -> ConsoleError {
    let error = match error {
        kube::Error::Api(status) if status.code == 403 => ConsoleError::Forbidden {
            message: status.message,
        },
        kube::Error::Api(status) if status.code == 401 => ConsoleError::Internal {
            message: format!(
                "cluster {cluster:?} does not accept the console's credential ({})",
                status.message
            ),
        },
        kube::Error::Api(status) => ConsoleError::Internal {
            message: format!(
                "cluster {cluster:?} answered {}: {}",
                status.code, status.message
            ),
        },
        other => ConsoleError::ClusterUnreachable {
            name: cluster.into(),
            reason: crate::error::innermost(&other),
        },
    };
    error.respond()
}

#[cfg(feature = "ssr")]
pub(crate) fn registry() -> Result<registry::ClusterRegistry, ConsoleError> {
    use_context::<registry::ClusterRegistry>().ok_or_else(|| ConsoleError::Internal {
        message: "the cluster registry is not available to this request".into(),
    })
}

/// A client that acts as the signed-in user on `cluster`.
#[cfg(feature = "ssr")]
pub(crate) fn client_as_user(cluster: &str) -> Result<kube::Client, ConsoleError> {
    let identity = crate::auth::identity()?;
    registry()?
        .client_for(cluster, &identity)
        .map_err(ConsoleError::respond)
}

/// Whether the global cluster (where platform resources live) is registered; without it, pages
/// of platform resources are empty rather than failing.
#[cfg(feature = "ssr")]
pub(crate) fn has_global() -> bool {
    registry().is_ok_and(|r| r.list().iter().any(|c| c.name == GLOBAL_CLUSTER))
}

/// The registered clusters, without contacting them.
#[server]
pub async fn list_clusters() -> Result<Vec<ClusterRef>, ConsoleError> {
    Ok(registry()?.list())
}

/// Every registered cluster's health: Cluster resources as their controller last found them
/// (no request to those clusters), kubeconfig contexts probed now, concurrently.
#[server]
pub async fn probe_clusters() -> Result<Vec<ClusterStatus>, ConsoleError> {
    Ok(registry()?.overview().await)
}

/// One cluster with a fresh probe; an unknown name is an error the page shows.
#[server]
pub async fn probe_cluster(name: String) -> Result<ClusterStatus, ConsoleError> {
    registry()?.probe(&name).await
}
