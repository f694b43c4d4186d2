//! The Cluster resource and its controller against the sandbox: the console installs its CRD
//! on global with its own credential, and the controller, also as the console, keeps each
//! Cluster's status current: version, nodes, Reachable and VersionSupported, through an outage.
//! A Cluster's address and credential Secret cannot change, and its credential is used only
//! from a Secret that Cluster owns.

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
use support::{SYSTEM_NAMESPACE, Sandbox, console::counting_listener, sandbox};

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
        support::create_cluster(
            &admin,
            &support::cluster_resource(name, &run, server, &ca, &secret_name),
        )
        .await;
    }

    let controller = tokio::spawn(server::controllers::clusters::run(
        console.clone(),
        watcher::Config::default().labels(&format!("nextgen-console.test/run={run}")),
        Duration::from_millis(500),
    ));

    let east = status_until(&clusters, &names[0], "probed", |s| s.version.is_some()).await;
    assert_eq!(east.version.as_deref(), Some(sandbox.version.as_str()));
    let want = sandbox.cluster("east").nodes as u32;
    assert_eq!((east.nodes, east.ready_nodes), (Some(want), Some(want)));
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

fn base64_ca(sandbox: &Sandbox) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem())
}

#[tokio::test]
async fn changing_server_or_credential_secret_is_refused_with_a_message_to_reimport() {
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::run_id();
    let admin = global.admin_client().await;
    let secret = support::console_credential_secret(sandbox, &format!("t-{run}-immutable")).await;
    let name = format!("t-{run}-immutable");
    support::create_cluster(
        &admin,
        &support::cluster_resource(
            &name,
            &run,
            sandbox.cluster("east").server.clone(),
            &base64_ca(sandbox),
            &secret,
        ),
    )
    .await;
    let clusters = Api::<Cluster>::all(admin.clone());
    use kube::api::{Patch, PatchParams};
    for (field, patch) in [
        (
            "spec.server",
            serde_json::json!({"spec": {"server": "https://attacker.example:6443"}}),
        ),
        (
            "spec.credentialSecret",
            serde_json::json!({"spec": {"credentialSecret": {"namespace": SYSTEM_NAMESPACE, "name": "another-clusters-secret"}}}),
        ),
    ] {
        match clusters
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 422, "{field}: {status:?}");
                assert!(
                    status.message.contains(field)
                        && status.message.contains("immutable")
                        && status.message.contains("import it again"),
                    "{field}: {}",
                    status.message
                );
            }
            other => panic!("{field}: the apiserver accepted the change: {other:?}"),
        }
    }
    // Everything else stays editable.
    clusters
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(&serde_json::json!({"spec": {"displayName": "Renamed"}})),
        )
        .await
        .unwrap_or_else(|e| panic!("display name: {e}"));

    let _ = clusters.delete(&name, &DeleteParams::default()).await;
    let _ = Api::<Secret>::namespaced(admin, SYSTEM_NAMESPACE)
        .delete(&secret, &DeleteParams::default())
        .await;
}

#[tokio::test]
async fn a_cluster_naming_another_clusters_secret_gets_no_client_and_a_status_saying_why() {
    use app::platform::registry::ClusterRegistry;
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::run_id();
    let admin = global.admin_client().await;
    let ca = base64_ca(sandbox);
    // The victim: east, registered properly, its Secret owned by its Cluster.
    let secret = support::console_credential_secret(sandbox, &format!("t-{run}-victim")).await;
    let victim = format!("t-{run}-victim");
    support::create_cluster(
        &admin,
        &support::cluster_resource(
            &victim,
            &run,
            sandbox.cluster("east").server.clone(),
            &ca,
            &secret,
        ),
    )
    .await;
    // The thief: someone who may create Clusters (but not read Secrets) names the victim's
    // Secret and an address of their choosing.
    let (trap, connections) = counting_listener().await;
    let thief = format!("t-{run}-thief");
    let clusters = Api::<Cluster>::all(admin.clone());
    clusters
        .create(
            &PostParams::default(),
            &support::cluster_resource(&thief, &run, format!("https://{trap}"), &ca, &secret),
        )
        .await
        .unwrap_or_else(|e| panic!("cluster {thief}: {e}"));

    let registry = ClusterRegistry::empty();
    let follow = tokio::spawn(registry.clone().follow(console.clone()));
    let controller = tokio::spawn(server::controllers::clusters::run(
        console.clone(),
        watcher::Config::default().labels(&format!("nextgen-console.test/run={run}")),
        Duration::from_millis(500),
    ));

    let refused = status_until(&clusters, &thief, "refused", |s| {
        condition(s, REACHABLE) == "False"
    })
    .await;
    let reachable = refused.condition(REACHABLE).cloned().unwrap_or_default();
    assert_eq!(reachable.reason, "CredentialNotOwned");
    assert!(
        reachable.message.contains(&format!(
            "credential Secret {SYSTEM_NAMESPACE}/{secret} is not owned by Cluster {thief}"
        )) && reachable.message.contains("re-import the cluster"),
        "{}",
        reachable.message
    );
    let victim_status = status_until(&clusters, &victim, "probed", |s| s.version.is_some()).await;
    assert_eq!(condition(&victim_status, REACHABLE), "True");
    support::eventually("the victim registered", 30, || {
        let registry = registry.clone();
        let victim = victim.clone();
        async move {
            registry
                .console_client(&victim)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await;
    assert!(
        registry.console_client(&thief).is_err(),
        "the thief's Cluster got a client: {:?}",
        registry.list()
    );
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the console connected to the thief's address"
    );

    follow.abort();
    controller.abort();
    for name in [&victim, &thief] {
        let _ = clusters.delete(name, &DeleteParams::default()).await;
    }
    let _ = Api::<Secret>::namespaced(admin, SYSTEM_NAMESPACE)
        .delete(&secret, &DeleteParams::default())
        .await;
}

#[tokio::test]
async fn an_imported_clusters_secret_is_owned_by_it_and_goes_with_it() {
    use app::{clusters::import::ssr, platform::credential::owned_by};
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let name = format!("t-{}-gc", support::run_id());
    let admin = global.admin_client().await;
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    if ssr::register(&admin, &east, None, &name).await.is_err() {
        panic!("registering {name} failed");
    }
    let cluster = Api::<Cluster>::all(admin.clone())
        .get(&name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secrets = Api::<Secret>::namespaced(admin.clone(), SYSTEM_NAMESPACE);
    let secret_name = cluster.spec.credential_secret.name.clone();
    let secret = secrets
        .get(&secret_name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(owned_by(&secret, &cluster), "{:?}", secret.metadata);

    // The console's own client works with it.
    let client = app::platform::credential::console_client(&console, &cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .apiserver_version()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // Deleting the Cluster alone (as kubectl would) lets the garbage collector of global's
    // kube-controller-manager delete the Secret.
    Api::<Cluster>::all(admin.clone())
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    support::eventually("the credential Secret garbage-collected", 60, || {
        let secrets = secrets.clone();
        let secret_name = secret_name.clone();
        async move {
            match secrets.get_opt(&secret_name).await {
                Ok(None) => Ok(()),
                Ok(Some(_)) => Err("it still exists".to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_cluster_registered_again_under_its_name_gets_a_fresh_client() {
    use app::platform::registry::ClusterRegistry;
    use k8s_openapi::{ByteString, api::core::v1::Namespace};
    use kube::api::ObjectMeta;
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::run_id();
    let admin = global.admin_client().await;
    let secrets = Api::<Secret>::namespaced(admin.clone(), SYSTEM_NAMESPACE);
    let clusters = Api::<Cluster>::all(admin.clone());
    let name = format!("t-{run}-again");
    let secret_name = format!("t-{run}-again");
    // First registered with a credential east does not accept.
    secrets
        .create(
            &PostParams::default(),
            &Secret {
                metadata: ObjectMeta {
                    name: Some(secret_name.clone()),
                    ..ObjectMeta::default()
                },
                data: Some(
                    [(
                        "token".to_string(),
                        ByteString(b"not-a-real-token".to_vec()),
                    )]
                    .into(),
                ),
                ..Secret::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let resource = support::cluster_resource(
        &name,
        &run,
        sandbox.cluster("east").server.clone(),
        &base64_ca(sandbox),
        &secret_name,
    );
    support::create_cluster(&admin, &resource).await;
    let registry = ClusterRegistry::empty();
    let follow = tokio::spawn(registry.clone().follow(console.clone()));
    let lists = |registry: ClusterRegistry, name: String| async move {
        let client = registry.console_client(&name).map_err(|e| e.to_string())?;
        Api::<Namespace>::all(client)
            .list_metadata(&Default::default())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let first = support::eventually("registered", 30, || {
        let registry = registry.clone();
        let name = name.clone();
        async move {
            match lists(registry, name).await {
                Err(e) if e.contains("not registered") || e.contains("not found") => Err(e),
                other => Ok(other),
            }
        }
    })
    .await;
    assert!(first.is_err(), "east accepted a made-up token: {first:?}");

    // While the registry is not watching (as during a watch restart), the Cluster is removed
    // and imported again under the same name and spec, with a working credential.
    follow.abort();
    let _ = follow.await;
    clusters
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The garbage collector may be quicker.
    let _ = secrets.delete(&secret_name, &DeleteParams::default()).await;
    support::eventually("the old Cluster gone", 30, || {
        let clusters = clusters.clone();
        let name = name.clone();
        async move {
            match clusters.get_opt(&name).await {
                Ok(None) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    support::console_credential_secret(sandbox, &secret_name).await;
    support::create_cluster(&admin, &resource).await;

    let follow = tokio::spawn(registry.clone().follow(console.clone()));
    support::eventually("the new credential in use", 30, || {
        lists(registry.clone(), name.clone())
    })
    .await;

    follow.abort();
    let _ = clusters.delete(&name, &DeleteParams::default()).await;
    let _ = secrets.delete(&secret_name, &DeleteParams::default()).await;
}
