//! Who a request is from, as the console sees it: the identity the server attaches to each
//! request and impersonates on every cluster, which `current_user` (`/api/auth/me`) answers to
//! the pages and to `ac whoami`.

use serde::{Deserialize, Serialize};

/// The signed-in user as Kubernetes will see them through impersonation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Kubernetes user name (from the configured username claim, `email` by default).
    pub username: String,
    /// Kubernetes groups (from the configured groups claim).
    #[serde(default)]
    pub groups: Vec<String>,
    /// What the top bar shows.
    #[serde(default)]
    pub display_name: String,
    /// Local mode: no identity provider, the console acts with its kubeconfig's own credentials.
    #[serde(default)]
    pub local: bool,
}
