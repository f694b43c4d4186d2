//! Who is signed in: the identity the server attaches to each request (from the session, or the
//! single local user without an identity provider), the sign-in page and the user menu.
//!
//! The browser never holds tokens: it gets the identity's display fields through
//! [`current_user`], and every cluster call happens on the server as that identity.

pub mod feature;
mod pages;

pub use pages::{SignInPage, UserMenu};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// The signed-in user as Kubernetes will see them through impersonation: a wire view of
/// `console-api`, so the server, the pages and `ac whoami` read the same struct.
pub use console_api::identity::Identity;

/// A kubectl token the console issued for this session, as the user menu lists it. The token
/// itself is shown once, in the downloaded kubeconfig; the id is the SHA-256 of its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubectlToken {
    /// Hex SHA-256 of the token: what the user menu shows (shortened) and revokes by.
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the token also ends when the session ends, whichever comes first.
    pub expires_at: i64,
}

impl KubectlToken {
    /// The first characters of the id, enough to tell tokens apart.
    pub fn short_id(&self) -> &str {
        self.id.get(..8).unwrap_or(&self.id)
    }
}

/// The kubectl tokens of the current session (set by the server's authentication layer beside
/// the [`Identity`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubectlTokens(pub Vec<KubectlToken>);

/// `YYYY-MM-DD HH:MM UTC` for unix seconds, the same on the server and in the browser.
pub fn utc_minute(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60
    )
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
    /// The user name is an e-mail address the identity provider has not verified.
    UnverifiedEmail,
    /// The user name (after the configured prefix) is a reserved `system:` name.
    SystemName,
}

impl SignInReason {
    pub fn from_query(value: &str) -> Self {
        match value {
            "cancelled" => Self::Cancelled,
            "provider_unreachable" => Self::ProviderUnreachable,
            "invalid" => Self::Invalid,
            "expired" => Self::Expired,
            "signed_out" => Self::SignedOut,
            "unverified_email" => Self::UnverifiedEmail,
            "system_name" => Self::SystemName,
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
            Self::UnverifiedEmail => "unverified_email",
            Self::SystemName => "system_name",
        }
    }
}

/// The identity of the current request: the platform core's, re-exported for the features.
#[cfg(feature = "ssr")]
pub use crate::platform::identity;

/// The kubectl tokens of the signed-in user's session (empty before sign-in and in local mode).
#[server(endpoint = "auth/kubectl-tokens")]
pub async fn list_kubectl_tokens() -> Result<Vec<KubectlToken>, ConsoleError> {
    identity()?;
    Ok(use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<KubectlTokens>().cloned())
        .unwrap_or_default()
        .0)
}

/// The signed-in user's display fields, or `None` before sign-in.
#[server(endpoint = "auth/me")]
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
            SignInReason::UnverifiedEmail,
            SignInReason::SystemName,
        ] {
            assert_eq!(SignInReason::from_query(reason.as_query()), reason);
        }
        assert_eq!(SignInReason::from_query("whatever"), SignInReason::None);
    }

    #[test]
    fn token_times_read_as_utc_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_minute(1_796_014_800), "2026-11-30 05:00 UTC");
    }
}
