//! What the signed-in user may do on a cluster, asked of that cluster as the user, so the page
//! offers only what RBAC allows and says why the rest is disabled.
//!
//! One SelfSubjectRulesReview per (user, cluster, namespace) answers every check of a page,
//! however many kinds the cluster serves; answers are cached briefly per identity. Where the
//! cluster says its rules are incomplete (webhook authorizers), a denial is confirmed with a
//! SelfSubjectAccessReview before it is shown.

#[cfg(feature = "ssr")]
pub mod author;
pub mod feature;
mod page;
#[cfg(feature = "ssr")]
pub mod rules;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use page::{Guarded, NamespacePage};

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// The verbs the access matrix shows, in its column order.
pub const VERBS: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// One question for the cluster's authorizer: may the user `verb` `resource` of `group`
/// (in `namespace`, named `name`)? Cluster-scoped when `namespace` is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessCheck {
    pub verb: String,
    /// API group; empty for the core group.
    pub group: String,
    /// Plural resource name, optionally with `/subresource`.
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl AccessCheck {
    pub fn new(verb: &str, group: &str, resource: &str) -> Self {
        Self {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: None,
            name: None,
        }
    }

    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One kind the cluster serves in a namespace and, per verb of [`VERBS`], whether the user may
/// (`None` where the kind does not support the verb).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindAccess {
    pub group: String,
    pub kind: String,
    pub resource: String,
    pub verbs: Vec<Option<bool>>,
}

/// The user's access to every namespaced kind in one namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMatrix {
    pub cluster: String,
    pub namespace: String,
    pub user: String,
    pub kinds: Vec<KindAccess>,
    /// Requests this answer cost the cluster: rules reviews plus any confirming access reviews
    /// (0 when everything came from the cache).
    pub reviews: usize,
}

/// Answers `checks` on `cluster` for the signed-in user, in order.
#[server(input = Json, endpoint = "access/check")]
pub async fn check_access(
    cluster: String,
    checks: Vec<AccessCheck>,
) -> Result<Vec<bool>, ConsoleError> {
    let identity = crate::platform::identity()?;
    let (registry, cache) = (crate::platform::registry()?, ssr::cache()?);
    cache
        .decide(&registry, &cluster, &identity, &checks)
        .await
        .map(|(allowed, _)| allowed)
}

/// Whether the signed-in user may do `check` on `cluster`: one question of [`check_access`].
pub async fn may(cluster: String, check: AccessCheck) -> Result<bool, ConsoleError> {
    check_access(cluster, vec![check])
        .await
        .map(|answers| answers.first().copied().unwrap_or(false))
}

/// The signed-in user's access to every namespaced kind of `cluster` in `namespace`.
#[server(endpoint = "access/namespace")]
pub async fn namespace_access(
    cluster: String,
    namespace: String,
) -> Result<AccessMatrix, ConsoleError> {
    let identity = crate::platform::identity()?;
    let (registry, cache) = (crate::platform::registry()?, ssr::cache()?);
    cache
        .namespace_access(&registry, &cluster, &identity, &namespace)
        .await
}

/// Deletes `namespace` on `cluster` as the signed-in user once `confirm` repeats its name.
#[server(endpoint = "access/delete-namespace")]
pub async fn delete_namespace(
    cluster: String,
    namespace: String,
    confirm: String,
) -> Result<(), ConsoleError> {
    if confirm != namespace {
        return Err(ConsoleError::Invalid {
            message: format!(
                "type the namespace name {namespace:?} to confirm; {confirm:?} does not match"
            ),
        });
    }
    let identity = crate::platform::identity()?;
    let registry = crate::platform::registry()?;
    ssr::delete_namespace(&registry, &cluster, &identity, &namespace).await?;
    // The user's rules in a namespace that is going away are of no further use.
    if let Ok(cache) = ssr::cache() {
        cache.forget(&cluster, &identity);
    }
    Ok(())
}
