//! The platform core every feature builds on: the registry of clusters, a client that acts as
//! the signed-in user on a cluster (impersonation), the console's own client for a registered
//! cluster, and how a cluster's answer becomes a `ConsoleError`. Nothing here knows a feature.

#[cfg(feature = "ssr")]
pub mod credential;
#[cfg(feature = "ssr")]
pub mod impersonate;
pub mod namespaces;
#[cfg(feature = "ssr")]
pub mod registry;

#[cfg(feature = "ssr")]
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ConsoleError;
pub use console_api::cluster::{ClusterHealth, ClusterRef, ClusterStatus, GLOBAL_CLUSTER};

/// A kube-rs error from `cluster` as the page should name it ([`ConsoleError::from_kube`]).
#[cfg(feature = "ssr")]
pub fn kube_error(cluster: &str, error: kube::Error) -> ConsoleError {
    ConsoleError::from_kube(cluster, error)
}

#[cfg(feature = "ssr")]
pub fn registry() -> Result<registry::ClusterRegistry, ConsoleError> {
    use_context::<registry::ClusterRegistry>().ok_or_else(|| ConsoleError::Internal {
        message: "the cluster registry is not available to this request".into(),
    })
}

/// The identity of the current request (set by the server's authentication layer).
#[cfg(feature = "ssr")]
pub fn identity() -> Result<console_api::identity::Identity, ConsoleError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<console_api::identity::Identity>()
                .cloned()
        })
        .ok_or(ConsoleError::Unauthenticated)
}

/// A client that acts as the signed-in user on `cluster`.
#[cfg(feature = "ssr")]
pub fn client_as_user(cluster: &str) -> Result<kube::Client, ConsoleError> {
    let identity = identity()?;
    registry()?.client_for(cluster, &identity)
}

/// Whether the global cluster (where platform resources live) is registered; without it, pages
/// of platform resources are empty rather than failing.
#[cfg(feature = "ssr")]
pub fn has_global() -> bool {
    registry().is_ok_and(|r| r.list().iter().any(|c| c.name == GLOBAL_CLUSTER))
}
