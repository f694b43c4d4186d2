//! The namespaces of a cluster that the signed-in user may see. Kubernetes lets a user list
//! namespaces only cluster-wide; a project member usually may not, but may `get` the
//! namespaces of their projects. So: list as the user; if that is forbidden, list with the
//! console's credential and keep only those the user may `get` (one SelfSubjectAccessReview
//! per namespace, as the user, all at once).

use leptos::prelude::*;

use crate::ConsoleError;

pub use crate::platform::namespaces::{NamespaceRow, VisibleNamespaces};

/// The namespaces of `cluster` the signed-in user may see.
#[server(endpoint = "clusters/namespaces")]
pub async fn list_namespaces(cluster: String) -> Result<VisibleNamespaces, ConsoleError> {
    let identity = crate::platform::identity()?;
    let registry = crate::platform::registry()?;
    crate::platform::namespaces::visible_namespaces(&registry, &cluster, &identity).await
}
