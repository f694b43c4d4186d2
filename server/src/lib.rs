//! The console server: routes (pages, server functions, static files, probes), the tower layers
//! every response passes through, and the serve loop with graceful shutdown.

pub mod auth;
pub mod config;
pub mod controllers;
pub mod health;
pub mod layers;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod proxy;
pub mod select;
pub mod telemetry;
pub mod tls;

use std::{net::SocketAddr, time::Duration};

use app::{
    App, SecurityPolicy, access::ssr::AccessCache, platform::registry::ClusterRegistry, shell,
};
use axum::{Router, extract::FromRef};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tokio::net::TcpListener;

use config::Config;
use health::Readiness;

/// Everything a handler or server function may need; cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub clusters: ClusterRegistry,
    /// What users may do, answered by the clusters and kept briefly per identity.
    pub access: AccessCache,
    pub security: SecurityPolicy,
    pub readiness: Readiness,
    pub auth: auth::Auth,
    /// Per-user caps on streams and proxied requests, body size and time-to-answer.
    pub limits: limits::Limits,
    /// The platform registry (--registry-url), unconfigured by default.
    pub images: app::images::registry::PlatformRegistry,
    /// The metrics backends per cluster (--metrics-backend), none by default.
    pub monitoring: app::monitoring::ssr::Monitoring,
}

impl AppState {
    /// State for serving the site built at `site_root` without cargo-leptos' environment
    /// (tests and benchmarks), ready to serve.
    pub fn for_site(site_root: &std::path::Path, clusters: ClusterRegistry) -> Self {
        let readiness = Readiness::default();
        readiness.set(true);
        AppState {
            leptos_options: LeptosOptions::builder()
                .output_name("nextgen-console")
                .site_root(site_root.to_string_lossy().to_string())
                .site_pkg_dir("pkg")
                .build(),
            clusters,
            access: AccessCache::default(),
            security: SecurityPolicy::default(),
            readiness,
            auth: auth::Auth::local("http://127.0.0.1:3000"),
            limits: limits::Limits::default(),
            images: Default::default(),
            monitoring: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "the Leptos site configuration is invalid: {0}. Start the console through ./scripts/run or set the LEPTOS_* variables."
    )]
    Site(String),
    #[error(transparent)]
    Clusters(#[from] app::platform::registry::RegistryError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("cannot listen on {addr}: {source}. Choose another address with --addr.")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
    #[error("{0}. Fix the --registry-* flags.")]
    Registry(#[from] app::images::registry::SettingsError),
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// The whole application: page routes and server functions from the app crate, probes,
/// selector fallbacks, hashed assets with long-lived caching, and the shared layers.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let clusters = state.clusters.clone();
        let access = state.access.clone();
        let security = state.security.clone();
        let images = state.images.clone();
        let monitoring = state.monitoring.clone();
        move || {
            provide_context(monitoring.clone());
            provide_context(images.clone());
            provide_context(clusters.clone());
            provide_context(access.clone());
            provide_context(security.clone());
        }
    };
    let options = state.leptos_options.clone();
    let pkg_route = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    let pkg_dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let pages = Router::new()
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(select::routes())
        .merge(auth::routes::routes())
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .nest_service(&pkg_route, layers::hashed_assets(&pkg_dir))
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(axum::middleware::from_fn(layers::server_fn_status))
        .with_state(state.clone());
    // The proxy and the live streams carry watches and logs: no compression layer may
    // buffer them.
    let proxied = proxy::routes()
        .merge(live::routes())
        .with_state(state.clone());
    let app = layers::apply(pages, &state.security)
        .merge(proxied)
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            auth::gate::gate,
        ))
        .layer(state.auth.session_layer())
        .layer(axum::middleware::from_fn(proxy::sandbox_proxied))
        // Outside the gate, so a slow provider (token refresh) counts too; only the time until
        // an answer starts is limited, never a stream's life.
        .layer(axum::middleware::from_fn_with_state(
            state.limits.clone(),
            limits::time_to_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.limits.clone(),
            limits::limit_body,
        ))
        .layer(axum::middleware::from_fn(metrics::track_requests));
    // Local mode trusts every request without a cookie: only requests addressed to the
    // console's own loopback address may reach it (DNS rebinding), checked before anything else.
    match layers::local_hosts(&state.auth) {
        Some(hosts) => app.layer(axum::middleware::from_fn_with_state(
            hosts,
            layers::check_host,
        )),
        None => app,
    }
}

/// Loads the clusters, binds, and serves until SIGTERM or Ctrl-C, then drains.
pub async fn run(config: Config) -> Result<(), StartError> {
    let mut leptos_options = get_configuration(None)
        .map_err(|e| StartError::Site(e.to_string()))?
        .leptos_options;
    if let Some(addr) = config.addr {
        leptos_options.site_addr = addr;
    }
    let addr = leptos_options.site_addr;

    let clusters = match &config.kubeconfig {
        Some(path) => ClusterRegistry::from_kubeconfig(path).await?,
        None => ClusterRegistry::empty(),
    };
    tracing::info!(clusters = clusters.len(), kubeconfig = ?config.kubeconfig, "clusters loaded");

    let store = auth::store::Store::open(&config.session_store)
        .await
        .map_err(auth::AuthError::from)?;
    tracing::info!(store = store.kind(), "session store ready");
    let auth = auth::Auth::from_config(&config, addr, store)?;
    let images = match config.registry_settings() {
        Some(settings) => app::images::registry::PlatformRegistry::new(&settings)?,
        None => app::images::registry::PlatformRegistry::unconfigured(),
    };
    start_controllers(&config, &clusters, &images).await;
    match &auth.mode {
        auth::AuthMode::Local(identity) => tracing::warn!(
            user = %identity.username,
            "local mode: no identity provider; one user acts with the kubeconfig's own credentials (loopback only)"
        ),
        auth::AuthMode::Oidc(oidc) => {
            tracing::info!(issuer = %oidc.settings().issuer, "sign-in through OpenID Connect")
        }
    }

    let readiness = Readiness::default();
    let state = AppState {
        leptos_options,
        clusters,
        access: AccessCache::default(),
        security: SecurityPolicy {
            frame_ancestors: config.frame_ancestors.clone(),
        },
        readiness: readiness.clone(),
        auth,
        limits: limits::Limits::from_config(&config),
        images,
        monitoring: app::monitoring::ssr::Monitoring::new(app::monitoring::Backends::new(
            config.metrics_backend.clone(),
        )),
    };
    let tls = match (&config.tls_cert_file, &config.tls_key_file) {
        (Some(cert), Some(key)) => Some(tls::load(cert, key).map_err(StartError::Tls)?),
        _ => None,
    };
    let app = router(state);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    readiness.set(true);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, "console listening on {scheme}://{addr}");

    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let serving = match tls {
        None => {
            let server =
                axum::serve(listener, app).with_graceful_shutdown(shutdown_signal(readiness));
            tokio::spawn(async move { server.await })
        }
        Some(tls_config) => {
            let handle = axum_server::Handle::new();
            let std_listener = listener.into_std().map_err(StartError::Serve)?;
            tokio::spawn({
                let handle = handle.clone();
                async move {
                    shutdown_signal(readiness).await;
                    handle.graceful_shutdown(Some(grace));
                }
            });
            tokio::spawn(tls::serve(std_listener, app, tls_config, handle))
        }
    };
    // Once shutdown starts the drain gets `grace`; whatever is still open then is cut.
    let result = tokio::select! {
        joined = serving => joined.unwrap_or_else(|e| Err(std::io::Error::other(e))),
        () = async {
            shutdown_requested().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(seconds = grace.as_secs(), "requests still open after the grace period; exiting");
            Ok(())
        }
    };
    tracing::info!("console stopped");
    result.map_err(StartError::Serve)
}

/// With the global cluster among the registered ones, installs the console's CRDs there and
/// starts the controllers. Without it (a plain kubeconfig of workload clusters) the console
/// serves pages and does without the resources only the global cluster can hold.
async fn start_controllers(
    config: &Config,
    clusters: &ClusterRegistry,
    images: &app::images::registry::PlatformRegistry,
) {
    let Ok(global) = clusters.console_client(&config.global_context) else {
        tracing::info!(context = %config.global_context, "no global cluster registered; controllers not started");
        return;
    };
    if let Err(error) = controllers::install_crds(&global).await {
        tracing::error!(%error, "controllers not started");
        return;
    }
    tokio::spawn(clusters.clone().follow(global.clone()));
    let identity = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "console".into()),
        std::process::id()
    );
    let clusters = clusters.clone();
    let images = images.clone();
    tokio::spawn(async move {
        controllers::leader::lead(
            global.clone(),
            identity,
            controllers::leader::LEASE_NAME,
            || {
                let mut tasks = controllers::spawn_all(global.clone(), clusters.clone());
                tasks.push(controllers::images::spawn(
                    global.clone(),
                    clusters.clone(),
                    images.clone(),
                ));
                tasks
            },
        )
        .await
    });
    tracing::info!(context = %config.global_context, "controllers start on the replica that holds the lease");
}

/// Resolves on SIGTERM or Ctrl-C and marks the server not ready.
async fn shutdown_signal(readiness: Readiness) {
    shutdown_requested().await;
    readiness.set(false);
    tracing::info!("shutdown requested; finishing in-flight requests");
}

async fn shutdown_requested() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
