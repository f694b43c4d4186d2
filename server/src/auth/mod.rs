//! Authentication: who the request is from. Two modes:
//! - OpenID Connect (`--oidc-issuer`): sign-in at the organisation's provider, a server-side
//!   session (tower-sessions, HttpOnly cookie), the identity impersonated on every cluster;
//! - local (no provider): one user acting with the kubeconfig's own credentials, refused on any
//!   address but loopback.
//!
//! The gate in [`gate`] attaches the identity to each request (or refuses it), checks that
//! state-changing requests are same-origin, and refreshes tokens before they expire.

pub mod cli;
pub mod gate;
pub mod oidc;
pub mod routes;
pub mod store;
pub mod tokens;

use std::{net::SocketAddr, sync::Arc};

use app::auth::Identity;
use serde::{Deserialize, Serialize};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use oidc::{Oidc, SignedIn};
use store::Store;

/// Session keys.
pub const PENDING_KEY: &str = "ngc.pending";
pub const USER_KEY: &str = "ngc.user";
pub const TOKENS_KEY: &str = "ngc.tokens";
pub const SESSION_COOKIE: &str = "ngc_session";
/// When the session's expiry was last pushed forward (unix seconds): activity keeps a session
/// alive, written at most once a minute.
pub const SEEN_KEY: &str = "ngc.seen";

/// How long a sign-in may wait at the provider: the pending login (and the anonymous session
/// holding it) is forgotten after this.
pub const PENDING_LIFETIME: time::Duration = time::Duration::minutes(10);

/// What the session holds for a signed-in user. The tokens stay on the server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionUser {
    pub signed_in: SignedIn,
    /// Unix seconds of the sign-in, for the absolute timeout.
    pub signed_in_at: i64,
}

impl SessionUser {
    /// Signed in longer ago than the absolute timeout allows.
    pub fn past_absolute(&self, absolute: time::Duration) -> bool {
        now() - self.signed_in_at > absolute.whole_seconds()
    }
}

/// One token refresh at a time per session: concurrent requests of a session wait for the
/// first one's refresh and then use its tokens (a rotating refresh token works only once).
/// Bounded; an idle entry goes after a few minutes.
#[derive(Clone)]
pub struct RefreshFlights(
    moka::future::Cache<tower_sessions::session::Id, Arc<tokio::sync::Mutex<()>>>,
);

impl Default for RefreshFlights {
    fn default() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(std::time::Duration::from_secs(300))
                .build(),
        )
    }
}

impl RefreshFlights {
    /// The lock of session `id` (the same one for every caller while it is in use).
    pub async fn lock(&self, id: tower_sessions::session::Id) -> Arc<tokio::sync::Mutex<()>> {
        self.0
            .get_with(id, async { Arc::new(tokio::sync::Mutex::new(())) })
            .await
    }
}

#[derive(Clone)]
pub enum AuthMode {
    Local(Identity),
    Oidc(Arc<Oidc>),
}

/// Everything the gate, the auth routes and the proxy need.
#[derive(Clone)]
pub struct Auth {
    pub mode: AuthMode,
    /// Sessions and console-issued tokens: this process's memory or Redis shared by replicas.
    pub store: Store,
    pub absolute: time::Duration,
    pub idle: time::Duration,
    pub secure_cookies: bool,
    pub token_lifetime: time::Duration,
    /// The console's own origin (scheme://host:port) as browsers see it.
    pub public_origin: String,
    /// Base64 of the CA (PEM) that generated kubeconfigs carry as certificate-authority-data.
    pub kubeconfig_ca: Option<String>,
    /// Per-session single-flight of token refreshes.
    pub refreshes: RefreshFlights,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "local mode (no --oidc-issuer) serves a single user with the kubeconfig's own credentials and listens on loopback only, but --addr is {0}. Use 127.0.0.1 or [::1], or configure an identity provider with --oidc-issuer."
    )]
    LocalNotLoopback(SocketAddr),
    #[error(transparent)]
    Oidc(#[from] oidc::OidcError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("--tls-ca-file {path}: {reason}")]
    CaFile { path: String, reason: String },
}

impl Auth {
    pub fn from_config(
        config: &crate::config::Config,
        addr: SocketAddr,
        store: Store,
    ) -> Result<Self, AuthError> {
        let scheme = if config.tls_cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let default_origin = format!("{scheme}://{addr}");
        let kubeconfig_ca = match &config.tls_ca_file {
            Some(path) => {
                use base64::Engine as _;
                let pem = std::fs::read(path).map_err(|e| AuthError::CaFile {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                Some(base64::engine::general_purpose::STANDARD.encode(pem))
            }
            None => None,
        };
        let (mode, public_origin, secure) = match &config.oidc_issuer {
            None => {
                if !addr.ip().is_loopback() {
                    return Err(AuthError::LocalNotLoopback(addr));
                }
                (AuthMode::Local(local_identity()), default_origin, false)
            }
            Some(issuer) => {
                let redirect_url = config
                    .oidc_redirect_url
                    .clone()
                    .unwrap_or_else(|| format!("{default_origin}/auth/callback"));
                let origin = url::Url::parse(&redirect_url)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or(default_origin);
                let secure = redirect_url.starts_with("https://");
                let oidc = Oidc::new(oidc::OidcSettings {
                    issuer: issuer.clone(),
                    client_id: config.oidc_client_id.clone(),
                    client_secret_file: config.oidc_client_secret_file.clone(),
                    redirect_url,
                    scopes: config.oidc_scopes.clone(),
                    groups_claim: config.oidc_groups_claim.clone(),
                    username_claim: config.oidc_username_claim.clone(),
                    username_prefix: config.oidc_username_prefix.clone(),
                    groups_prefix: config.oidc_groups_prefix.clone(),
                    ca_file: config.oidc_ca_file.clone(),
                })?;
                (AuthMode::Oidc(Arc::new(oidc)), origin, secure)
            }
        };
        Ok(Self {
            mode,
            store,
            absolute: time::Duration::hours(config.session_absolute_hours),
            idle: time::Duration::minutes(config.session_idle_minutes),
            secure_cookies: config.secure_cookies.unwrap_or(secure),
            token_lifetime: time::Duration::hours(config.token_hours),
            public_origin,
            kubeconfig_ca,
            refreshes: RefreshFlights::default(),
        })
    }

    /// Local mode for tests and benchmarks.
    pub fn local(public_origin: &str) -> Self {
        Self {
            mode: AuthMode::Local(local_identity()),
            store: Store::default(),
            absolute: time::Duration::hours(12),
            idle: time::Duration::hours(1),
            secure_cookies: false,
            token_lifetime: time::Duration::hours(8),
            public_origin: public_origin.to_string(),
            kubeconfig_ca: None,
            refreshes: RefreshFlights::default(),
        }
    }

    /// The session layer: HttpOnly cookie, SameSite=Lax, Secure over TLS, idle expiry (the
    /// gate pushes it forward on activity; pending sign-ins get [`PENDING_LIFETIME`]).
    pub fn session_layer(&self) -> SessionManagerLayer<Store> {
        SessionManagerLayer::new(self.store.clone())
            .with_name(SESSION_COOKIE)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(self.secure_cookies)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(self.idle))
    }
}

fn local_identity() -> Identity {
    let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
    Identity {
        username: user.clone(),
        groups: Vec::new(),
        display_name: user,
        local: true,
    }
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn local_mode(addr: &str) -> Result<Auth, AuthError> {
        let config = crate::config::Config::try_parse_from(["nextgen-console"])
            .unwrap_or_else(|e| panic!("{e}"));
        let addr: SocketAddr = addr.parse().unwrap_or_else(|e| panic!("{e}"));
        Auth::from_config(&config, addr, Store::default())
    }

    #[test]
    fn local_mode_serves_loopback_and_refuses_every_other_address_with_the_fix() {
        for ok in ["127.0.0.1:3000", "[::1]:3000"] {
            assert!(
                matches!(local_mode(ok).map(|a| a.mode), Ok(AuthMode::Local(_))),
                "{ok}"
            );
        }
        for refused in ["0.0.0.0:3000", "192.0.2.10:3000", "[::]:3000"] {
            let error = local_mode(refused)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains("loopback only"), "{refused}: {error}");
            assert!(error.contains("--oidc-issuer"), "{refused}: {error}");
        }
    }
}
