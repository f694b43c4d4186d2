//! Registering clusters through the console, against the sandbox's real Dex and API servers:
//! the console asks whether the signed-in user may register clusters before it connects to an
//! address they pasted, and clusters registered by Cluster resources keep streams (watches)
//! open through the proxy however long they stay idle.

mod support;

use std::{
    path::Path,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use app::clusters::{
    import::{CheckImport, RegisterCluster},
    registry::ClusterRegistry,
};
use clap::Parser;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{
    Api,
    api::{DeleteParams, ObjectMeta, PostParams},
};
use leptos::server_fn::ServerFn;
use server::{
    AppState,
    auth::{Auth, store::Store},
    config::Config,
    router,
};
use support::{SYSTEM_NAMESPACE, Sandbox, TestNamespace, sandbox};

/// A redirect URI port the sandbox's Dex accepts (console port + 1 .. + 19) that no other
/// test binary uses.
const PORT_OFFSET: u16 = 15;

struct Console {
    origin: String,
    clusters: ClusterRegistry,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"))
    })
}

/// One console for the whole binary (leptos-rs/leptos#4773), signing in through Dex, whose
/// registry follows the Cluster resources on global as `run` does.
fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(|| {
        let sandbox = sandbox();
        let rt = runtime();
        let _enter = rt.enter();
        let port = sandbox.console_port + PORT_OFFSET;
        let origin = format!("https://127.0.0.1:{port}");
        let config = Config::try_parse_from([
            "nextgen-console",
            "--oidc-issuer",
            &sandbox.oidc.issuer,
            "--oidc-client-secret-file",
            &sandbox.oidc.client_secret_file.to_string_lossy(),
            "--oidc-ca-file",
            &sandbox.ca_file.to_string_lossy(),
            "--oidc-redirect-url",
            &format!("{origin}/auth/callback"),
            "--tls-cert-file",
            &sandbox.serving_cert.to_string_lossy(),
            "--tls-key-file",
            &sandbox.serving_key.to_string_lossy(),
        ])
        .unwrap_or_else(|e| panic!("config: {e}"));
        let addr = format!("127.0.0.1:{port}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
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
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("registered-clusters-site");
        std::fs::create_dir_all(root.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
        let mut state = AppState::for_site(&root, clusters.clone());
        state.auth = Auth::from_config(&config, addr, Store::default())
            .unwrap_or_else(|e| panic!("auth: {e}"));
        let app = router(state);
        let listener =
            std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
            .unwrap_or_else(|e| panic!("{e}"));
        rt.spawn(server::tls::serve(
            listener,
            app,
            tls,
            axum_server::Handle::new(),
        ));
        Console { origin, clusters }
    })
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// A browser (cookies kept, redirects not followed, no overall timeout so that streams may
/// stay open) signed in as `username` through the console and Dex.
async fn signed_in(sandbox: &Sandbox, origin: &str, username: &str) -> reqwest::Client {
    let user = sandbox.user(username);
    let ca = reqwest::Certificate::from_pem(&sandbox.ca_pem())
        .unwrap_or_else(|e| panic!("sandbox CA: {e}"));
    let browser = reqwest::Client::builder()
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| panic!("http client: {e}"));
    let start = browser
        .get(format!("{origin}/auth/login?next=/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e}"));
    let provider = start
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(provider.starts_with(&sandbox.oidc.issuer), "{provider}");
    let callback = support::sign_in_at_dex(
        &browser,
        &provider,
        &format!("{origin}/auth/callback"),
        &user.email,
        &user.password,
    )
    .await
    .unwrap_or_else(|e| panic!("sign-in at Dex as {username}: {e}"));
    let done = browser
        .get(callback)
        .send()
        .await
        .unwrap_or_else(|e| panic!("callback: {e}"));
    assert!(
        done.status().is_redirection(),
        "sign-in as {username} ends with a redirect, got {}",
        done.status()
    );
    browser
}

/// Posts a server function's form; returns the status and the body.
async fn post(
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

/// Replaces the `server:` line of a flattened single-cluster kubeconfig.
fn with_server(kubeconfig: &str, server: &str) -> String {
    kubeconfig
        .lines()
        .map(|l| match l.find("server: ") {
            Some(i) => format!("{}server: {server}", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A loopback TCP listener that counts the connections it accepts.
async fn counting_listener() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
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

#[test]
fn a_user_who_may_not_register_clusters_makes_the_console_connect_nowhere() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let west = sandbox.flattened(&sandbox.cluster("west").console_kubeconfig);
        let (trap, connections) = counting_listener().await;
        let alice = signed_in(sandbox, &console.origin, "alice").await;
        for server in [format!("https://{trap}"), sandbox.prometheus.clone()] {
            let kubeconfig = with_server(&west, &server);
            for (path, form) in [
                (
                    CheckImport::PATH,
                    vec![("kubeconfig", kubeconfig.as_str()), ("context", "")],
                ),
                (
                    RegisterCluster::PATH,
                    vec![
                        ("kubeconfig", kubeconfig.as_str()),
                        ("context", ""),
                        ("name", "alices-cluster"),
                    ],
                ),
            ] {
                let (status, body) = post(&alice, &console.origin, path, &form).await;
                assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{path}: {body}");
                assert!(
                    body.contains("may not create clusters")
                        && body.contains("registering a cluster needs"),
                    "{path}: {body}"
                );
                for leaked in ["Prometheus", "page not found", "<html", "NotKubernetes"] {
                    assert!(!body.contains(leaked), "{path} to {server}: {body}");
                }
            }
        }
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "the console connected to the address alice pasted"
        );

        // The administrator may, and is told what is at those addresses in the console's
        // words, not in theirs.
        let admin = signed_in(sandbox, &console.origin, "admin").await;
        let kubeconfig = with_server(&west, &sandbox.prometheus);
        let (status, body) = post(
            &admin,
            &console.origin,
            CheckImport::PATH,
            &[("kubeconfig", kubeconfig.as_str()), ("context", "")],
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.contains("NotKubernetes"), "{body}");
        for leaked in ["Prometheus", "page not found", "<html"] {
            assert!(!body.contains(leaked), "{body}");
        }
        let kubeconfig = with_server(&west, "http://169.254.169.254");
        let (status, body) = post(
            &admin,
            &console.origin,
            CheckImport::PATH,
            &[("kubeconfig", kubeconfig.as_str()), ("context", "")],
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.contains("ForbiddenAddress"), "{body}");
        let mut oversized = west.clone();
        oversized.push_str(&format!("\n# {}\n", "x".repeat(600 * 1024)));
        let (status, body) = post(
            &admin,
            &console.origin,
            RegisterCluster::PATH,
            &[
                ("kubeconfig", oversized.as_str()),
                ("context", ""),
                ("name", "too-big"),
            ],
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.contains("TooLarge"), "{body}");
    })
}

#[test]
fn a_watch_through_the_proxy_on_a_registered_cluster_outlives_ten_idle_seconds() {
    use base64::Engine as _;
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let global = sandbox.cluster("global");
        let admin_global = global.admin_client().await;
        let run_id = support::run_id();
        let name = format!("t-{run_id}-idle");
        let secret = support::console_credential_secret(sandbox, &name).await;
        let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
        support::create_cluster(
            &admin_global,
            &support::cluster_resource(
                &name,
                &run_id,
                sandbox.cluster("east").server.clone(),
                &ca,
                &secret,
            ),
        )
        .await;
        support::eventually("registered from its Cluster resource", 30, || {
            let clusters = console.clusters.clone();
            let name = name.clone();
            async move {
                clusters
                    .console_client(&name)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await;

        let east = sandbox.cluster("east");
        let ns = TestNamespace::create(east, "idle").await;
        let configmaps = Api::<ConfigMap>::namespaced(east.admin_client().await, &ns.name);
        // The namespace's own ConfigMap arrives shortly after it; wait for it, so that the
        // watch below sees nothing until the test's change.
        support::eventually("kube-root-ca.crt", 30, || {
            let configmaps = configmaps.clone();
            async move {
                match configmaps.get_opt("kube-root-ca.crt").await {
                    Ok(Some(_)) => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            }
        })
        .await;

        let admin = signed_in(sandbox, &console.origin, "admin").await;
        let url = format!(
            "{}/clusters/{name}/api/v1/namespaces/{}/configmaps",
            console.origin, ns.name
        );
        let list: serde_json::Value = admin
            .get(&url)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap_or_else(|e| panic!("list: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("list: {e}"));
        let version = list["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_else(|| panic!("no resourceVersion in {list}"))
            .to_string();
        let started = std::time::Instant::now();
        let mut watch = admin
            .get(format!("{url}?watch=true&resourceVersion={version}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("watch: {e}"));
        assert_eq!(watch.status(), reqwest::StatusCode::OK);

        // Nothing changes for 15 s; the watch must still be open, and see the change.
        let quiet = tokio::time::timeout(Duration::from_secs(15), watch.chunk()).await;
        match quiet {
            Err(_) => {}
            Ok(Ok(Some(chunk))) => panic!(
                "an event arrived while nothing changed: {}",
                String::from_utf8_lossy(&chunk)
            ),
            Ok(Ok(None)) => panic!("the watch ended after {:?}", started.elapsed()),
            Ok(Err(e)) => panic!("the watch failed after {:?}: {e}", started.elapsed()),
        }
        configmaps
            .create(
                &PostParams::default(),
                &ConfigMap {
                    metadata: ObjectMeta {
                        name: Some("after-fifteen-seconds".into()),
                        ..ObjectMeta::default()
                    },
                    ..ConfigMap::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("configmap: {e}"));
        let mut seen = String::new();
        while !seen.contains("after-fifteen-seconds") {
            match tokio::time::timeout(Duration::from_secs(20), watch.chunk()).await {
                Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None)) => panic!(
                    "the watch ended after {:?} without the change; saw {seen}",
                    started.elapsed()
                ),
                Ok(Err(e)) => panic!("the watch failed after {:?}: {e}", started.elapsed()),
                Err(_) => panic!("no event within 20 s of the change; saw {seen}"),
            }
        }
        assert!(seen.contains("\"ADDED\""), "{seen}");

        drop(watch);
        let _ = Api::<app::clusters::resource::Cluster>::all(admin_global.clone())
            .delete(&name, &DeleteParams::default())
            .await;
        let _ = Api::<Secret>::namespaced(admin_global, SYSTEM_NAMESPACE)
            .delete(&secret, &DeleteParams::default())
            .await;
    })
}
