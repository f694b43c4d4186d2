//! The console under test, in process: served over TLS on a loopback port the sandbox's Dex
//! accepts as a redirect target, and the browsers, forms, streams and fixtures the tests drive
//! it with. Each test binary builds its consoles once, before any request is served
//! (leptos-rs/leptos#4773), on the one runtime of [`runtime`].

use std::{path::Path, sync::OnceLock, time::Duration};

use app::platform::registry::ClusterRegistry;
use clap::Parser;
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use kube::{
    Api,
    api::{ObjectMeta, PostParams},
};
use server::{
    AppState,
    auth::{Auth, oidc::Oidc, oidc::SignedIn, store::Store},
    config::Config,
    limits::Limits,
    router,
};

use super::{Sandbox, TestNamespace};

/// The test binary's own multi-threaded runtime (two workers), on which its consoles serve and
/// its tests run (see [`run`]).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"))
    })
}

/// Runs `future` to completion on [`runtime`], where the consoles serve.
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// A console served over TLS by [`serve_tls`].
pub struct TlsConsole {
    /// `https://127.0.0.1:<port>`.
    pub origin: String,
    /// Its auth state (the session store is `auth.store`).
    pub auth: Auth,
}

/// The console's registry of the sandbox's clusters (its own kubeconfig), following the
/// Cluster resources on global as `run` does (the CRDs are installed first).
pub fn registry_following_global(sandbox: &Sandbox) -> ClusterRegistry {
    let rt = runtime();
    let clusters = rt
        .block_on(ClusterRegistry::from_kubeconfig(
            &sandbox.console_kubeconfig,
        ))
        .unwrap_or_else(|e| panic!("registry: {e}"));
    let global = clusters
        .console_client("global")
        .unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(server::controllers::install_crds(&global))
        .unwrap_or_else(|e| panic!("{e}"));
    rt.spawn(clusters.clone().follow(global));
    clusters
}

/// The console's configuration for signing in through `issuer` (the sandbox's Dex when
/// `None`, with its CA and client secret) with the callback at `origin`, plus `flags`.
pub fn oidc_config(
    sandbox: &Sandbox,
    origin: &str,
    issuer: Option<&str>,
    flags: &[&str],
) -> Config {
    let secret = sandbox.oidc.client_secret_file.to_string_lossy();
    let ca = sandbox.ca_file.to_string_lossy();
    let redirect = format!("{origin}/auth/callback");
    let mut args = vec![
        "nextgen-console",
        "--oidc-issuer",
        issuer.unwrap_or(&sandbox.oidc.issuer),
        "--oidc-client-secret-file",
        &secret,
        "--oidc-ca-file",
        &ca,
        "--oidc-redirect-url",
        &redirect,
    ];
    args.extend_from_slice(flags);
    Config::try_parse_from(args).unwrap_or_else(|e| panic!("config: {e}"))
}

/// Serves a console over TLS (the sandbox's serving certificate) on
/// `sandbox.console_port + port_offset`, a redirect URI port the sandbox's Dex accepts (offsets
/// 1 ..= 19; each test binary uses its own). It signs in through `issuer` (the sandbox's Dex
/// when `None`), keeps sessions in `store`, serves `clusters` and an empty site under
/// `CARGO_TARGET_TMPDIR/<site>`, and takes its limits and everything else from `flags` (added
/// to the OIDC and TLS flags). Call it inside [`runtime`] (`runtime().enter()`).
pub fn serve_tls(
    sandbox: &Sandbox,
    port_offset: u16,
    site: &str,
    clusters: &ClusterRegistry,
    store: &Store,
    issuer: Option<&str>,
    flags: &[&str],
) -> TlsConsole {
    let port = sandbox.console_port + port_offset;
    let origin = format!("https://127.0.0.1:{port}");
    let cert = sandbox.serving_cert.to_string_lossy();
    let key = sandbox.serving_key.to_string_lossy();
    let mut tls_flags = vec!["--tls-cert-file", &cert, "--tls-key-file", &key];
    tls_flags.extend_from_slice(flags);
    let config = oidc_config(sandbox, &origin, issuer, &tls_flags);
    let addr = format!("127.0.0.1:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let auth =
        Auth::from_config(&config, addr, store.clone()).unwrap_or_else(|e| panic!("auth: {e}"));
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(site);
    std::fs::create_dir_all(root.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
    let mut state = AppState::for_site(&root, clusters.clone());
    state.auth = auth.clone();
    state.limits = Limits::from_config(&config);
    let app = router(state);
    let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
        .unwrap_or_else(|e| panic!("{e}"));
    runtime().spawn(server::tls::serve(
        listener,
        app,
        tls,
        axum_server::Handle::new(),
    ));
    TlsConsole { origin, auth }
}

/// A browser like [`Sandbox::browser`] (the sandbox's CA, cookies kept, redirects not
/// followed) but without its 20-s overall timeout, for streams held open.
pub fn streaming_browser(sandbox: &Sandbox) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&sandbox.ca_pem())
        .unwrap_or_else(|e| panic!("sandbox CA: {e}"));
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| panic!("http client: {e}"))
}

/// Signs `username` in on `browser` through the console at `origin` and Dex, starting at
/// `/auth/login?next=<next>`, and returns the console's answer to the callback. Checks that
/// the login redirects to the sandbox's Dex; the caller checks the answer.
pub async fn sign_in(
    sandbox: &Sandbox,
    browser: &reqwest::Client,
    origin: &str,
    next: &str,
    username: &str,
) -> reqwest::Response {
    let user = sandbox.user(username);
    let start = browser
        .get(format!("{origin}/auth/login?next={next}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e}"));
    assert_eq!(
        start.status(),
        reqwest::StatusCode::SEE_OTHER,
        "login redirects to the provider"
    );
    let provider = start
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(provider.starts_with(&sandbox.oidc.issuer), "{provider}");
    let callback = super::sign_in_at_dex(
        browser,
        &provider,
        &format!("{origin}/auth/callback"),
        &user.email,
        &user.password,
    )
    .await
    .unwrap_or_else(|e| panic!("sign-in at Dex as {username}: {e}"));
    browser
        .get(callback)
        .send()
        .await
        .unwrap_or_else(|e| panic!("callback: {e}"))
}

/// Signs `username` in on `browser` through the console at `origin` and Dex (see [`sign_in`])
/// and checks the sign-in ends with a redirect; returns the browser, holding the session.
pub async fn signed_in_on(
    sandbox: &Sandbox,
    browser: reqwest::Client,
    origin: &str,
    username: &str,
) -> reqwest::Client {
    let done = sign_in(sandbox, &browser, origin, "/", username).await;
    assert!(
        done.status().is_redirection(),
        "sign-in as {username} ends with a redirect, got {}",
        done.status()
    );
    browser
}

/// A [`Sandbox::browser`] signed in as `username` through the console at `origin` and Dex.
pub async fn signed_in(sandbox: &Sandbox, origin: &str, username: &str) -> reqwest::Client {
    signed_in_on(sandbox, sandbox.browser(), origin, username).await
}

/// A [`streaming_browser`] signed in as `username` through the console at `origin` and Dex.
pub async fn streaming_signed_in(
    sandbox: &Sandbox,
    origin: &str,
    username: &str,
) -> reqwest::Client {
    signed_in_on(sandbox, streaming_browser(sandbox), origin, username).await
}

/// Signs `username` in at Dex below the console's HTTP routes (`oidc.begin`, Dex,
/// `oidc.complete`, with the callback at `origin`) and checks the provider handed out a
/// refresh token: real, rotating tokens for the refresh tests.
pub async fn signed_in_at_provider(
    sandbox: &Sandbox,
    oidc: &Oidc,
    origin: &str,
    username: &str,
) -> SignedIn {
    let (url, pending) = oidc
        .begin("/".into())
        .await
        .unwrap_or_else(|e| panic!("begin: {e}"));
    let user = sandbox.user(username);
    let callback = super::sign_in_at_dex(
        &sandbox.browser(),
        &url,
        &format!("{origin}/auth/callback"),
        &user.email,
        &user.password,
    )
    .await
    .unwrap_or_else(|e| panic!("Dex: {e}"));
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {callback}"));
    let signed_in = oidc
        .complete(&pending, code)
        .await
        .unwrap_or_else(|e| panic!("complete: {e}"));
    assert!(
        signed_in.refresh_token.is_some(),
        "offline_access yields a refresh token"
    );
    signed_in
}

/// Posts a server function's form at `origin` + `path` from the console's own page (`Origin`),
/// waiting at most 30 s; returns the status and the body.
pub async fn post_form(
    browser: &reqwest::Client,
    origin: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (reqwest::StatusCode, String) {
    let response = browser
        .post(format!("{origin}{path}"))
        .header("origin", origin)
        .form(form)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    (response.status(), response.text().await.unwrap_or_default())
}

/// Reads a Server-Sent Events response until an event named `want` (or `refused`) arrives,
/// waiting at most `secs` seconds for each chunk; returns (name, data). `buffer` keeps what was
/// read past that event for the next call.
pub async fn next_sse(
    response: &mut reqwest::Response,
    buffer: &mut String,
    want: &str,
    secs: u64,
) -> (String, String) {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = "message".to_string();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if name == want || name == "refused" {
                return (name, data);
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(secs), response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {want} event within {secs} s"))
            .unwrap_or_else(|e| panic!("stream: {e}"))
            .unwrap_or_else(|| panic!("the stream ended before {want}"));
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// A live socket (`/api/live/ws`) opened with `browser`'s session, as a page of `origin` would
/// open it: the WebSocket, or the status the console refused the upgrade with.
pub async fn open_socket(
    browser: &reqwest::Client,
    console: &str,
    origin: &str,
) -> Result<LiveSocket, reqwest::StatusCode> {
    // Any 16 bytes in base64 will do: the key only proves the server speaks WebSocket.
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let response = browser
        .get(format!("{console}{}", app::live::SOCKET_PATH))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", key)
        .header("origin", origin)
        .send()
        .await
        .unwrap_or_else(|e| panic!("live socket: {e}"));
    if response.status() != reqwest::StatusCode::SWITCHING_PROTOCOLS {
        return Err(response.status());
    }
    let upgraded = response
        .upgrade()
        .await
        .unwrap_or_else(|e| panic!("upgrade: {e}"));
    Ok(LiveSocket(
        tokio_tungstenite::WebSocketStream::from_raw_socket(
            upgraded,
            tokio_tungstenite::tungstenite::protocol::Role::Client,
            None,
        )
        .await,
    ))
}

/// The client side of a live socket in a test.
pub struct LiveSocket(tokio_tungstenite::WebSocketStream<reqwest::Upgraded>);

impl LiveSocket {
    pub async fn send(&mut self, message: &app::live::ClientMessage) {
        use futures::SinkExt;
        let text = serde_json::to_string(message).unwrap_or_else(|e| panic!("{e}"));
        self.0
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .unwrap_or_else(|e| panic!("socket send: {e}"));
    }

    /// The next message of the server's with its text, waiting at most `secs` seconds.
    pub async fn next(&mut self, secs: u64) -> (app::live::ServerMessage, String) {
        use futures::StreamExt;
        loop {
            let message = tokio::time::timeout(Duration::from_secs(secs), self.0.next())
                .await
                .unwrap_or_else(|_| panic!("no socket message within {secs} s"))
                .unwrap_or_else(|| panic!("the socket closed"))
                .unwrap_or_else(|e| panic!("socket: {e}"));
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                let parsed = serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("{}: {e}", text.as_str()));
                return (parsed, text.as_str().to_string());
            }
        }
    }

    /// Messages until one that `want` accepts, which is returned with those before it.
    pub async fn until(
        &mut self,
        secs: u64,
        want: impl Fn(&app::live::ServerMessage) -> bool,
    ) -> (
        app::live::ServerMessage,
        Vec<(app::live::ServerMessage, String)>,
    ) {
        let mut before = Vec::new();
        loop {
            let (message, text) = self.next(secs).await;
            if want(&message) {
                return (message, before);
            }
            before.push((message, text));
        }
    }
}

/// A namespace of its own on east where `group` has the `admin` ClusterRole (a RoleBinding
/// `<group>-admin`).
pub async fn team_namespace(sandbox: &Sandbox, group: &str) -> TestNamespace {
    let east = sandbox.cluster("east");
    let ns = TestNamespace::create(east, group).await;
    let binding = RoleBinding {
        metadata: ObjectMeta {
            name: Some(format!("{group}-admin")),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "admin".into(),
        },
        subjects: Some(vec![Subject {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Group".into(),
            name: group.into(),
            ..Subject::default()
        }]),
    };
    Api::<RoleBinding>::namespaced(east.admin_client().await, &ns.name)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap_or_else(|e| panic!("role binding: {e}"));
    ns
}

/// A loopback TCP listener that counts the connections it accepts (and closes them at once):
/// proof that nothing connected to an address, or how often something did.
pub async fn counting_listener() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, count)
}

/// Puts a session for `user`, expiring in an hour, straight into `auth`'s store (as sign-in
/// would) and returns its id, the session cookie's value.
pub async fn plant_session(
    auth: &Auth,
    user: &server::auth::SessionUser,
) -> tower_sessions::session::Id {
    use tower_sessions::{
        SessionStore,
        session::{Id, Record},
    };
    let mut record = Record {
        id: Id::default(),
        data: [(
            server::auth::USER_KEY.to_string(),
            serde_json::to_value(user).unwrap_or_default(),
        )]
        .into(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    auth.store
        .create(&mut record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    record.id
}

/// The signed-in user that session `id` holds in `auth`'s store; panics when the session is gone.
pub async fn stored_user(
    auth: &Auth,
    id: &tower_sessions::session::Id,
) -> server::auth::SessionUser {
    use tower_sessions::SessionStore;
    let record = auth
        .store
        .load(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the session is kept"));
    serde_json::from_value(record.data[server::auth::USER_KEY].clone())
        .unwrap_or_else(|e| panic!("{e}"))
}
