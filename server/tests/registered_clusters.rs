//! Registering clusters through the console, against the sandbox's real Dex and API servers:
//! the console asks whether the signed-in user may register clusters before it connects to an
//! address they pasted, and clusters registered by Cluster resources keep streams (watches)
//! open through the proxy however long they stay idle.

mod support;

use std::{sync::OnceLock, sync::atomic::Ordering, time::Duration};

use app::{
    clusters::import::{CheckImport, RegisterCluster},
    platform::registry::ClusterRegistry,
};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{
    Api,
    api::{DeleteParams, ObjectMeta, PostParams},
};
use leptos::server_fn::ServerFn;
use server::auth::store::Store;
use support::{
    SYSTEM_NAMESPACE, TestNamespace,
    console::{
        counting_listener, post_form, registry_following_global, run, runtime, serve_tls,
        streaming_signed_in,
    },
    sandbox, with_server,
};

/// A redirect URI port the sandbox's Dex accepts (console port + 1 .. + 19) that no other
/// test binary uses.
const PORT_OFFSET: u16 = 15;

struct Console {
    origin: String,
    clusters: ClusterRegistry,
}

/// One console for the whole binary (leptos-rs/leptos#4773), signing in through Dex, whose
/// registry follows the Cluster resources on global as `run` does.
fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(|| {
        let sandbox = sandbox();
        let _enter = runtime().enter();
        let clusters = registry_following_global(sandbox);
        let served = serve_tls(
            sandbox,
            PORT_OFFSET,
            "registered-clusters-site",
            &clusters,
            &Store::default(),
            None,
            &[],
        );
        Console {
            origin: served.origin,
            clusters,
        }
    })
}

#[test]
fn a_user_who_may_not_register_clusters_makes_the_console_connect_nowhere() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let west = sandbox.flattened(&sandbox.cluster("west").console_kubeconfig);
        let (trap, connections) = counting_listener().await;
        let alice = streaming_signed_in(sandbox, &console.origin, "alice").await;
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
                let (status, body) = post_form(&alice, &console.origin, path, &form).await;
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
        let admin = streaming_signed_in(sandbox, &console.origin, "admin").await;
        let kubeconfig = with_server(&west, &sandbox.prometheus);
        let (status, body) = post_form(
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
        let (status, body) = post_form(
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
        let (status, body) = post_form(
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

        let admin = streaming_signed_in(sandbox, &console.origin, "admin").await;
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
