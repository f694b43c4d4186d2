//! Who is signed in: the identity the server attaches to each request (from the session, or the
//! single local user without an identity provider), the sign-in page and the user menu.
//!
//! The browser never holds tokens: it gets the identity's display fields through
//! [`current_user`], and every cluster call happens on the server as that identity.

mod pages;

pub use pages::{SignInPage, UserMenu};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// The signed-in user as Kubernetes will see them through impersonation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Kubernetes user name (from the configured username claim, `email` by default).
    pub username: String,
    /// Kubernetes groups (from the configured groups claim).
    pub groups: Vec<String>,
    /// What the top bar shows.
    pub display_name: String,
    /// Local mode: no identity provider, the console acts with its kubeconfig's own credentials.
    pub local: bool,
}

/// Why the sign-in page is shown; each has its own text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInReason {
    /// Nothing went wrong: the user is not signed in yet.
    None,
    /// The user cancelled at the identity provider (or it refused them).
    Cancelled,
    /// The identity provider could not be reached.
    ProviderUnreachable,
    /// The provider's answer did not check out (state, nonce, signature, audience, expiry).
    Invalid,
    /// The session ended (idle or absolute timeout, or the refresh failed).
    Expired,
    /// The user signed out.
    SignedOut,
}

impl SignInReason {
    pub fn from_query(value: &str) -> Self {
        match value {
            "cancelled" => Self::Cancelled,
            "provider_unreachable" => Self::ProviderUnreachable,
            "invalid" => Self::Invalid,
            "expired" => Self::Expired,
            "signed_out" => Self::SignedOut,
            _ => Self::None,
        }
    }

    pub fn as_query(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Cancelled => "cancelled",
            Self::ProviderUnreachable => "provider_unreachable",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::SignedOut => "signed_out",
        }
    }
}

/// The identity of the current request (set by the server's authentication layer).
#[cfg(feature = "ssr")]
pub fn identity() -> Result<Identity, ConsoleError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Identity>().cloned())
        .ok_or_else(|| ConsoleError::Unauthenticated.respond())
}

/// The signed-in user's display fields, or `None` before sign-in.
#[server]
pub async fn current_user() -> Result<Option<Identity>, ConsoleError> {
    Ok(identity().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sign_in_reason_round_trips_through_the_query_string() {
        for reason in [
            SignInReason::Cancelled,
            SignInReason::ProviderUnreachable,
            SignInReason::Invalid,
            SignInReason::Expired,
            SignInReason::SignedOut,
        ] {
            assert_eq!(SignInReason::from_query(reason.as_query()), reason);
        }
        assert_eq!(SignInReason::from_query("whatever"), SignInReason::None);
    }
}
