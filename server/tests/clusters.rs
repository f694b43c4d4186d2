//! The Cluster resource and its controller against the sandbox: the console installs its CRD
//! on global with its own credential, and the controller, also as the console, keeps each
//! Cluster's status current: version, nodes, Reachable and VersionSupported, through an outage.

mod support;

use std::{net::SocketAddr, time::Duration};

use app::clusters::resource::{Cluster, ClusterState, REACHABLE, VERSION_SUPPORTED};
use axum::{Json, Router, routing::get};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api,
    api::{DeleteParams, PostParams},
    runtime::watcher,
};
use support::{SYSTEM_NAMESPACE, Sandbox, sandbox};

/// A TLS server that answers `/version` and an empty node list as an apiserver of
/// `git_version` would, on `addr` (port 0 for any); stops when the handle shuts down.
fn fake_apiserver(
    sandbox: &Sandbox,
    addr: SocketAddr,
    git_version: &'static str,
) -> (SocketAddr, axum_server::Handle) {
    let info = serde_json::json!({
        "major": "1", "minor": git_version.trim_start_matches("v1.").split('.').next().unwrap_or("0"),
        "gitVersion": git_version, "gitCommit": "0", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.26", "compiler": "gc", "platform": "linux/amd64"
    });
    let nodes =
        serde_json::json!({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []});
    let app = Router::new()
        .route("/version", get(move || async move { Json(info.clone()) }))
        .route(
            "/api/v1/nodes",
            get(move || async move { Json(nodes.clone()) }),
        );
    let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    let bound = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
        .unwrap_or_else(|e| panic!("{e}"));
    let handle = axum_server::Handle::new();
    tokio::spawn(server::tls::serve(listener, app, tls, handle.clone()));
    (bound, handle)
}

/// Waits until `name`'s status satisfies `want`, returning it; panics with the last status.
async fn status_until(
    api: &Api<Cluster>,
    name: &str,
    what: &str,
    want: impl Fn(&ClusterState) -> bool,
) -> ClusterState {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = api
            .get_status(name)
            .await
            .ok()
            .and_then(|c| c.status)
            .unwrap_or_default();
        if want(&status) {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name}: not {what} within 60 s; status {status:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn condition<'a>(state: &'a ClusterState, type_: &str) -> &'a str {
    state
        .condition(type_)
        .map(|c| c.status.as_str())
        .unwrap_or("")
}

#[tokio::test]
async fn the_controller_reports_version_nodes_and_conditions_and_follows_an_outage() {
    use base64::Engine as _;
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    // As the console: this also proves the RBAC the sandbox grants it on global is enough.
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let run = support::run_id();
    let admin = global.admin_client().await;
    let secret_name =
        support::console_credential_secret(sandbox, &format!("t-{run}-console")).await;
    let secrets = Api::<Secret>::namespaced(admin.clone(), SYSTEM_NAMESPACE);

    let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
    let (too_new, _too_new_server) = fake_apiserver(
        sandbox,
        "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        "v1.35.0",
    );
    let (flaky, flaky_server) = fake_apiserver(
        sandbox,
        "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        "v1.33.2+k3s1",
    );
    let names = [
        format!("t-{run}-east"),
        format!("t-{run}-new"),
        format!("t-{run}-flaky"),
    ];
    let clusters = Api::<Cluster>::all(admin.clone());
    for (name, server) in [
        (&names[0], sandbox.cluster("east").server.clone()),
        (&names[1], format!("https://{too_new}")),
        (&names[2], format!("https://{flaky}")),
    ] {
        clusters
            .create(
                &PostParams::default(),
                &support::cluster_resource(name, &run, server, &ca, &secret_name),
            )
            .await
            .unwrap_or_else(|e| panic!("cluster {name}: {e}"));
    }

    let controller = tokio::spawn(server::controllers::clusters::run(
        console.clone(),
        watcher::Config::default().labels(&format!("nextgen-console.test/run={run}")),
        Duration::from_millis(500),
    ));

    let east = status_until(&clusters, &names[0], "probed", |s| s.version.is_some()).await;
    assert_eq!(east.version.as_deref(), Some(sandbox.version.as_str()));
    assert_eq!((east.nodes, east.ready_nodes), (Some(3), Some(3)));
    assert_eq!(condition(&east, REACHABLE), "True");
    assert_eq!(condition(&east, VERSION_SUPPORTED), "True");
    assert!(east.last_probe_time.is_some());

    let new = status_until(&clusters, &names[1], "probed", |s| s.version.is_some()).await;
    assert_eq!(condition(&new, REACHABLE), "True");
    assert_eq!(condition(&new, VERSION_SUPPORTED), "False");
    let message = new
        .condition(VERSION_SUPPORTED)
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("v1.35.0") && message.contains(">=1.19.0 <1.35.0"),
        "{message}"
    );

    // The flaky cluster answers, goes away, and comes back on the same address.
    let up = status_until(&clusters, &names[2], "reachable", |s| {
        condition(s, REACHABLE) == "True"
    })
    .await;
    assert_eq!(up.version.as_deref(), Some("v1.33.2+k3s1"));
    flaky_server.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let down = status_until(&clusters, &names[2], "unreachable", |s| {
        condition(s, REACHABLE) == "False"
    })
    .await;
    assert_eq!(condition(&down, VERSION_SUPPORTED), "Unknown");
    assert!(down.consecutive_failures >= 1);
    // Meanwhile the other clusters keep being probed on time.
    let before = east.last_probe_time.clone();
    status_until(&clusters, &names[0], "probed again", |s| {
        s.last_probe_time != before
    })
    .await;
    let (_, _flaky_again) = fake_apiserver(sandbox, flaky, "v1.33.2+k3s1");
    let back = status_until(&clusters, &names[2], "reachable again", |s| {
        condition(s, REACHABLE) == "True"
    })
    .await;
    assert_eq!(back.consecutive_failures, 0);

    controller.abort();
    for name in &names {
        let _ = clusters.delete(name, &DeleteParams::default()).await;
    }
    let _ = secrets.delete(&secret_name, &DeleteParams::default()).await;
}
