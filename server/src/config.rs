//! Server configuration from flags and environment variables (every flag has an env twin).

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The Next-Gen Console server.
#[derive(Clone, Debug, Parser)]
#[command(name = "nextgen-console", version, about)]
pub struct Config {
    /// Address to listen on. Defaults to the site address cargo-leptos configures (LEPTOS_SITE_ADDR).
    #[arg(long, env = "CONSOLE_ADDR")]
    pub addr: Option<SocketAddr>,

    /// Kubeconfig whose contexts become the managed clusters. Without it the console shows empty states.
    #[arg(long, env = "CONSOLE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context of the global cluster, where the console keeps its resources
    /// (Cluster, …) and runs its controllers.
    #[arg(long, env = "CONSOLE_GLOBAL_CONTEXT", default_value = "global")]
    pub global_context: String,

    /// Print the CRDs the console owns (JSON, which kubectl apply reads) and exit.
    #[arg(long)]
    pub print_crds: bool,

    /// Log line format.
    #[arg(long, env = "CONSOLE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// CSP frame-ancestors: who may embed the console in a frame ('none', or origins of an older console).
    #[arg(long, env = "CONSOLE_FRAME_ANCESTORS", default_value = "'none'")]
    pub frame_ancestors: String,

    /// Seconds in-flight requests get to finish after SIGTERM before the server exits.
    #[arg(long, env = "CONSOLE_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,

    /// OpenID Connect issuer URL. Without it the console runs in local mode: one user acting
    /// with the kubeconfig's own credentials, allowed only on a loopback address.
    #[arg(long, env = "CONSOLE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// OAuth client id registered at the identity provider.
    #[arg(
        long,
        env = "CONSOLE_OIDC_CLIENT_ID",
        default_value = "nextgen-console"
    )]
    pub oidc_client_id: String,

    /// File holding the OAuth client secret (kept out of the process list and environment).
    #[arg(long, env = "CONSOLE_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// Redirect URL registered at the provider; its path must be /auth/callback.
    /// Default: http://<addr>/auth/callback.
    #[arg(long, env = "CONSOLE_OIDC_REDIRECT_URL")]
    pub oidc_redirect_url: Option<String>,

    /// Scopes to request besides openid (comma-separated).
    #[arg(
        long,
        env = "CONSOLE_OIDC_SCOPES",
        value_delimiter = ',',
        default_value = "email,profile,groups,offline_access"
    )]
    pub oidc_scopes: Vec<String>,

    /// ID token claim holding the user's groups.
    #[arg(long, env = "CONSOLE_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,

    /// ID token claim used as the Kubernetes user name (as the apiserver's --oidc-username-claim).
    #[arg(long, env = "CONSOLE_OIDC_USERNAME_CLAIM", default_value = "email")]
    pub oidc_username_claim: String,

    /// Prefix put before every user name from the provider (as the apiserver's
    /// --oidc-username-prefix), e.g. `oidc:` to keep them apart from other authenticators'
    /// users. Default: none. Names that start with `system:` after it are refused.
    #[arg(long, env = "CONSOLE_OIDC_USERNAME_PREFIX", default_value = "")]
    pub oidc_username_prefix: String,

    /// Prefix put before every group from the provider (as the apiserver's
    /// --oidc-groups-prefix). Default: none. Groups that start with `system:` after it are
    /// dropped (and logged).
    #[arg(long, env = "CONSOLE_OIDC_GROUPS_PREFIX", default_value = "")]
    pub oidc_groups_prefix: String,

    /// Extra CA certificates (PEM) trusted when talking to the provider.
    #[arg(long, env = "CONSOLE_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "CONSOLE_SESSION_IDLE_MINUTES", default_value_t = 60)]
    pub session_idle_minutes: i64,

    /// Hours after sign-in after which a session ends whatever the activity.
    #[arg(long, env = "CONSOLE_SESSION_ABSOLUTE_HOURS", default_value_t = 12)]
    pub session_absolute_hours: i64,

    /// Where sessions and kubeconfig tokens live: `memory` (this process; one replica) or a
    /// `redis://host:port/db` URL shared by every replica.
    #[arg(long, env = "CONSOLE_SESSION_STORE", default_value = "memory")]
    pub session_store: crate::auth::store::StoreChoice,

    /// Mark cookies Secure. Default: on when the redirect URL is https.
    #[arg(long, env = "CONSOLE_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,

    /// Serve HTTPS with this PEM certificate chain (with --tls-key-file). kubectl sends the
    /// tokens of console-generated kubeconfigs only over HTTPS.
    #[arg(long, env = "CONSOLE_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert-file.
    #[arg(long, env = "CONSOLE_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,

    /// CA certificate (PEM) embedded in generated kubeconfigs so kubectl trusts the console's
    /// certificate when it is not signed by a public CA.
    #[arg(long, env = "CONSOLE_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,

    /// Hours a kubeconfig token issued by the console stays valid.
    #[arg(long, env = "CONSOLE_TOKEN_HOURS", default_value_t = 8)]
    pub token_hours: i64,

    // Limits that keep one user or one request from exhausting the console (server/src/limits.rs).
    /// Live streams one user may hold open at once, SSE streams and live-socket subscriptions
    /// together; the next is refused (429 on SSE, `refused` for that subscription on the socket).
    #[arg(long, env = "CONSOLE_MAX_STREAMS_PER_USER", default_value_t = crate::limits::STREAMS_PER_USER)]
    pub max_streams_per_user: usize,

    /// Requests through the cluster proxy (watches and `logs --follow` included) one user may
    /// have in flight at once; the next is refused with 429.
    #[arg(long, env = "CONSOLE_MAX_PROXIED_REQUESTS_PER_USER", default_value_t = crate::limits::PROXIED_PER_USER)]
    pub max_proxied_requests_per_user: usize,

    /// Largest request body accepted, in bytes (default 3 MiB, the Kubernetes API server's own
    /// limit); larger ones get 413.
    #[arg(long, env = "CONSOLE_MAX_REQUEST_BODY_BYTES", default_value_t = crate::limits::BODY_BYTES)]
    pub max_request_body_bytes: usize,

    /// Seconds a request may take until its answer starts (pages, server functions, the proxy
    /// waiting for a cluster); 504 after that. Streams that have started are never cut.
    #[arg(long, env = "CONSOLE_REQUEST_TIMEOUT_SECONDS", default_value_t = crate::limits::REQUEST_TIMEOUT.as_secs())]
    pub request_timeout_seconds: u64,

    // The platform registry whose images the console lists, deletes and prunes (app/src/images).
    /// URL of the platform registry (OCI distribution API), e.g. https://registry.example:5000.
    /// Without it the images pages say that none is configured.
    #[arg(long, env = "CONSOLE_REGISTRY_URL")]
    pub registry_url: Option<String>,

    /// JSON file with the console's registry credentials: {"username": …, "password": …} (basic,
    /// or exchanged at the registry's token service) or {"token": …}.
    #[arg(long, env = "CONSOLE_REGISTRY_CREDENTIALS_FILE")]
    pub registry_credentials_file: Option<std::path::PathBuf>,

    /// CA certificate (PEM) trusted for the registry's TLS certificate.
    #[arg(long, env = "CONSOLE_REGISTRY_CA_FILE")]
    pub registry_ca_file: Option<std::path::PathBuf>,

    /// Other host[:port] names Pods use for the registry (comma-separated), counted as the
    /// registry when images are matched to Pods.
    #[arg(long, env = "CONSOLE_REGISTRY_HOST_ALIASES", value_delimiter = ',')]
    pub registry_host_aliases: Vec<String>,

    /// A program that runs the registry's garbage collection (put it read-only meanwhile and
    /// restart it after); prunes with GC run it and keep its output.
    #[arg(long, env = "CONSOLE_REGISTRY_GC_COMMAND")]
    pub registry_gc_command: Option<std::path::PathBuf>,

    /// A metrics backend speaking the Prometheus query API, as `[CLUSTER=]URL` (repeat, or
    /// comma-separate): Prometheus or VictoriaMetrics at its root, or vmselect's
    /// `/select/<tenant>/prometheus`. Without a cluster it serves every cluster without its own.
    #[arg(long, env = "CONSOLE_METRICS_BACKEND", value_delimiter = ',', value_parser = |s: &str| app::monitoring::BackendSpec::parse(s).map_err(|e| e.to_string()))]
    pub metrics_backend: Vec<app::monitoring::BackendSpec>,
}

impl Config {
    /// The platform registry's settings, when --registry-url is given.
    pub fn registry_settings(&self) -> Option<app::images::registry::Settings> {
        self.registry_url
            .as_ref()
            .map(|url| app::images::registry::Settings {
                url: url.clone(),
                credentials_file: self.registry_credentials_file.clone(),
                ca_file: self.registry_ca_file.clone(),
                aliases: self.registry_host_aliases.clone(),
                gc_command: self.registry_gc_command.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_flags() {
        let config = Config::try_parse_from(["nextgen-console"]).map_err(|e| e.to_string());
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.addr, None);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.frame_ancestors, "'none'");
        assert_eq!(config.oidc_issuer, None);
        assert_eq!(
            config.session_store,
            crate::auth::store::StoreChoice::Memory
        );
        assert_eq!(
            config.oidc_scopes,
            ["email", "profile", "groups", "offline_access"]
        );
        // The sandbox's RBAC binds Dex's groups as they are (team-a, platform-admins).
        assert_eq!(config.oidc_username_prefix, "");
        assert_eq!(config.oidc_groups_prefix, "");
    }

    #[test]
    fn a_malformed_address_is_refused_with_the_flag_named() {
        let error = Config::try_parse_from(["nextgen-console", "--addr", "localhost"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("--addr"), "{error}");
    }

    #[test]
    fn limits_default_to_the_documented_values_and_each_has_a_flag() {
        let config = Config::try_parse_from(["nextgen-console"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                config.max_streams_per_user,
                config.max_proxied_requests_per_user,
                config.max_request_body_bytes,
                config.request_timeout_seconds,
            ),
            (16, 32, 3 * 1024 * 1024, 60)
        );
        let config = Config::try_parse_from([
            "nextgen-console",
            "--max-streams-per-user",
            "4",
            "--max-proxied-requests-per-user",
            "8",
            "--max-request-body-bytes",
            "1024",
            "--request-timeout-seconds",
            "5",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let limits = crate::limits::Limits::from_config(&config);
        assert_eq!(
            (
                limits.streams.max(),
                limits.proxied.max(),
                limits.body_bytes,
                limits.request_timeout.as_secs(),
            ),
            (4, 8, 1024, 5)
        );
    }
}
