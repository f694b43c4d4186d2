//! The list across clusters (`POST /api/workloads/deployments`), against the sandbox's real
//! API servers and Dex: every registered cluster is asked as the signed-in user, each answer is
//! streamed as it arrives, and a cluster that does not answer (a listener that accepts and then
//! says nothing) is reported as timed out after its own deadline without holding up the rest.

mod support;

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use app::platform::registry::ClusterRegistry;
use app::workloads::types::{ClusterAnswer, LineReader, ListLine, PER_CLUSTER_DEADLINE_MS};
use k8s_openapi::api::apps::v1::Deployment;
use kube::{Api, api::PostParams};
use server::auth::store::Store;
use support::{
    TestNamespace,
    console::{run, runtime, serve_tls, streaming_signed_in, team_namespace},
    kubeconfig_with_alias, sandbox,
};

/// A redirect URI port the sandbox's Dex accepts (console port + 1 .. + 19) that no other
/// test binary uses.
const PORT_OFFSET: u16 = 12;
const PATH: &str = "/api/workloads/deployments";

struct Console {
    origin: String,
}

/// One console for the whole binary (leptos-rs/leptos#4773) whose clusters are the sandbox's
/// plus `silent`, which reaches a loopback listener that accepts connections and never answers.
fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(|| {
        let sandbox = sandbox();
        let rt = runtime();
        let _enter = rt.enter();
        let silent = rt.block_on(silent_listener());
        let kubeconfig = kubeconfig_with_alias(sandbox, "east", "silent", silent);
        let clusters = rt
            .block_on(ClusterRegistry::from_kubeconfig(kubeconfig.path()))
            .unwrap_or_else(|e| panic!("registry: {e}"));
        // The registry has read the file; it may go.
        drop(kubeconfig);
        let served = serve_tls(
            sandbox,
            PORT_OFFSET,
            "workloads-site",
            &clusters,
            &Store::default(),
            None,
            &[],
        );
        Console {
            origin: served.origin,
        }
    })
}

/// Accepts every connection and holds it open without a byte: a cluster that hangs.
async fn silent_listener() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("listener: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    addr
}

/// One reading of the list: each line with when it arrived after the request was sent.
async fn read_list(browser: &reqwest::Client, origin: &str) -> Vec<(Duration, ListLine)> {
    let started = Instant::now();
    let mut response = browser
        .post(format!("{origin}{PATH}"))
        .header("origin", origin)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{PATH}: {e}"));
    assert!(
        response.status().is_success(),
        "{PATH}: {}",
        response.status()
    );
    assert_ne!(
        response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("br"),
        "a compressed stream would be held back by the compressor"
    );
    let mut reader = LineReader::default();
    let mut lines = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .unwrap_or_else(|e| panic!("{PATH}: {e}"))
    {
        let at = started.elapsed();
        let text = std::str::from_utf8(&chunk).unwrap_or_else(|e| panic!("{e}"));
        for line in reader.push(text) {
            lines.push((at, line.unwrap_or_else(|e| panic!("{e}"))));
        }
    }
    assert!(!reader.is_cut_off(), "the stream ended inside a line");
    lines
}

fn answer<'a>(lines: &'a [(Duration, ListLine)], cluster: &str) -> (Duration, &'a ClusterAnswer) {
    lines
        .iter()
        .find_map(|(at, line)| match line {
            ListLine::Answer(answer) if answer.cluster() == cluster => Some((*at, answer)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no answer from {cluster} in {lines:?}"))
}

fn names(answer: &ClusterAnswer) -> Vec<String> {
    match answer {
        ClusterAnswer::Rows { rows, .. } => rows
            .iter()
            .map(|r| format!("{}/{}", r.namespace, r.name))
            .collect(),
        other => panic!("rows expected, got {other:?}"),
    }
}

async fn create_deployment(client: kube::Client, namespace: &str, name: &str) {
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "spec": {
            "replicas": 0,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{ "name": "app", "image": "registry.example/web:1" }] }
            }
        }
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<Deployment>::namespaced(client, namespace)
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap_or_else(|e| panic!("deployment {namespace}/{name}: {e}"));
}

#[test]
fn an_admin_sees_every_cluster_and_a_silent_one_costs_only_its_deadline() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let (east, west) = (sandbox.cluster("east"), sandbox.cluster("west"));
        let on_east = TestNamespace::create(east, "workloads").await;
        let on_west = TestNamespace::named(west, &on_east.name).await;
        create_deployment(east.admin_client().await, &on_east.name, "web-east").await;
        create_deployment(west.admin_client().await, &on_west.name, "web-west").await;

        let admin = streaming_signed_in(sandbox, &console.origin, "admin").await;
        let lines = read_list(&admin, &console.origin).await;

        // First the clusters that will be asked: every registered one, the silent one too.
        let (
            _,
            ListLine::Clusters {
                names: asked,
                deadline_ms,
            },
        ) = &lines[0]
        else {
            panic!("the first line names the clusters: {lines:?}");
        };
        assert_eq!(*deadline_ms, PER_CLUSTER_DEADLINE_MS);
        for cluster in ["global", "east", "west", "silent"] {
            assert!(asked.iter().any(|n| n == cluster), "{cluster} in {asked:?}");
        }
        assert_eq!(
            lines.len(),
            asked.len() + 1,
            "one answer per cluster: {lines:?}"
        );

        let (east_at, east_answer) = answer(&lines, "east");
        let (west_at, west_answer) = answer(&lines, "west");
        let mine = format!("{}/web-east", on_east.name);
        assert!(
            names(east_answer).contains(&mine),
            "{mine} in {east_answer:?}"
        );
        let mine = format!("{}/web-west", on_west.name);
        assert!(
            names(west_answer).contains(&mine),
            "{mine} in {west_answer:?}"
        );
        assert!(
            matches!(
                east_answer,
                ClusterAnswer::Rows {
                    namespaces: None,
                    ..
                }
            ),
            "the admin lists cluster-wide: {east_answer:?}"
        );

        // The answering clusters arrive well before the silent one's deadline; it comes last,
        // timed out after its deadline and not much later.
        let deadline = Duration::from_millis(PER_CLUSTER_DEADLINE_MS);
        for (cluster, at) in [("east", east_at), ("west", west_at)] {
            assert!(
                at < deadline,
                "{cluster} answered after {at:?}, held up by the silent cluster?"
            );
        }
        let (silent_at, silent) = answer(&lines, "silent");
        let ClusterAnswer::TimedOut { after_ms, .. } = silent else {
            panic!("the silent cluster times out: {silent:?}");
        };
        assert!(
            (PER_CLUSTER_DEADLINE_MS..PER_CLUSTER_DEADLINE_MS + 1_000).contains(after_ms),
            "timed out after {after_ms} ms"
        );
        assert_eq!(
            lines.last().map(|(_, l)| l),
            Some(&ListLine::Answer(silent.clone())),
            "the silent cluster's line is the last"
        );
        assert!(
            silent_at < deadline + Duration::from_secs(1),
            "list complete after {silent_at:?}"
        );
    });
}

#[test]
fn a_project_member_sees_only_the_namespaces_they_may() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let east = sandbox.cluster("east");
        let alice = sandbox.user("alice");
        let group = alice
            .groups
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("alice has groups"));
        let theirs = team_namespace(sandbox, &group).await;
        let hidden = TestNamespace::create(east, "workloads-hidden").await;
        create_deployment(east.admin_client().await, &theirs.name, "alices-web").await;
        create_deployment(east.admin_client().await, &hidden.name, "not-hers").await;

        let browser = streaming_signed_in(sandbox, &console.origin, "alice").await;
        let lines = read_list(&browser, &console.origin).await;
        let (_, on_east) = answer(&lines, "east");
        let found = names(on_east);
        assert!(
            found.contains(&format!("{}/alices-web", theirs.name)),
            "{found:?}"
        );
        assert!(
            !found.iter().any(|n| n.starts_with(&hidden.name)),
            "alice sees a namespace she may not: {found:?}"
        );
        assert!(
            matches!(on_east, ClusterAnswer::Rows { namespaces: Some(n), .. } if *n >= 1),
            "east's rows are those of the namespaces she may see: {on_east:?}"
        );
    });
}

#[test]
fn without_a_session_the_list_is_refused() {
    let console = console();
    run(async {
        let response = sandbox()
            .browser()
            .post(format!("{}{PATH}", console.origin))
            .header("origin", &console.origin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{PATH}: {e}"));
        assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    });
}
