//! Many clusters: registers 100 Cluster resources on the sandbox's global cluster (pointing at
//! its east and west apiservers), runs the status controller over them, and prints how long the
//! first probe of all of them takes, how stale statuses get in steady state, and the server
//! render time of the cluster list with all of them registered. Needs the sandbox. Run with
//! `cargo bench -p server --bench fanout`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::clusters::{
    registry::ClusterRegistry,
    resource::{Cluster, ClusterSpec, SecretRef},
};
use axum::{
    body::Body,
    http::{Request, header},
};
use http_body_util::BodyExt;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{
    Api,
    api::{DeleteParams, ListParams, ObjectMeta, PostParams},
    runtime::watcher,
};
use server::{AppState, router};
use tower::ServiceExt;

const CLUSTERS: usize = 100;
const SYSTEM_NAMESPACE: &str = "nextgen-console-system";
const INTERVAL: Duration = Duration::from_secs(5);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let _context = runtime.enter();
    runtime.block_on(run());
}

async fn run() {
    use base64::Engine as _;
    let sandbox = support::sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = global.admin_client().await;
    let run = format!("{:x}", std::process::id());
    let label = format!("nextgen-console.bench/run={run}");

    let pki = sandbox.ca_file.parent().unwrap_or_else(|| panic!("pki"));
    let secret_name = format!("bench-{run}-console");
    let read = |file: &str| {
        ByteString(std::fs::read(pki.join(file)).unwrap_or_else(|e| panic!("{file}: {e}")))
    };
    let secrets = Api::<Secret>::namespaced(admin.clone(), SYSTEM_NAMESPACE);
    secrets
        .create(
            &PostParams::default(),
            &Secret {
                metadata: ObjectMeta {
                    name: Some(secret_name.clone()),
                    ..ObjectMeta::default()
                },
                data: Some(
                    [
                        ("tls.crt".to_string(), read("console.crt")),
                        ("tls.key".to_string(), read("console.key")),
                    ]
                    .into(),
                ),
                ..Secret::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("secret: {e}"));
    let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
    let clusters = Api::<Cluster>::all(admin.clone());
    let targets: Vec<String> = sandbox
        .workload_clusters()
        .map(|c| c.server.clone())
        .collect();
    for i in 0..CLUSTERS {
        let mut cluster = Cluster::new(
            &format!("bench-{run}-{i:03}"),
            ClusterSpec {
                display_name: None,
                server: targets[i % targets.len()].clone(),
                ca_data: Some(ca.clone()),
                credential_secret: SecretRef {
                    namespace: SYSTEM_NAMESPACE.into(),
                    name: secret_name.clone(),
                },
            },
        );
        cluster.metadata.labels =
            Some([("nextgen-console.bench/run".to_string(), run.clone())].into());
        // Owns the credential Secret, without which the console does not use it.
        support::create_cluster(&admin, &cluster).await;
    }

    // The controller, as the console, over these 100 only.
    let started = Instant::now();
    let controller = tokio::spawn(server::controllers::clusters::run(
        console.clone(),
        watcher::Config::default().labels(&label),
        INTERVAL,
    ));
    let listed = ListParams::default().labels(&label);
    let first_cycle = loop {
        let probed = clusters
            .list(&listed)
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter(|c| c.status.as_ref().is_some_and(|s| s.version.is_some()))
                    .count()
            })
            .unwrap_or(0);
        if probed == CLUSTERS {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {probed} of {CLUSTERS} probed after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Steady state: over three intervals, how old is the oldest status?
    let mut worst = Duration::ZERO;
    let watch_until = Instant::now() + INTERVAL * 3;
    while Instant::now() < watch_until {
        let now = time::OffsetDateTime::now_utc();
        for cluster in clusters
            .list(&listed)
            .await
            .map(|l| l.items)
            .unwrap_or_default()
        {
            let last = cluster
                .status
                .and_then(|s| s.last_probe_time)
                .and_then(|t| {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .ok()
                });
            if let Some(age) = last.and_then(|l| Duration::try_from(now - l).ok()) {
                worst = worst.max(age);
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The cluster list page, rendered in process with every Cluster registered.
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("registry: {e}"));
    tokio::spawn(registry.clone().follow(console.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while registry.len() < CLUSTERS + sandbox.clusters.len() {
        assert!(
            Instant::now() < deadline,
            "the registry holds {} clusters",
            registry.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fanout-bench-site");
    let app = router(AppState::for_site(&root, registry.clone()));
    let mut renders = Vec::new();
    let mut bytes = 0;
    for i in 0..120 {
        let request = Request::builder()
            .uri("/admin/clusters")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap_or_default();
        let started = Instant::now();
        let response = app
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if i >= 20 {
            renders.push(started.elapsed());
            bytes = body.len();
        }
    }
    renders.sort();

    println!(
        "\n{CLUSTERS} Cluster resources (plus the 3 kubeconfig contexts), probe interval {} s\n",
        INTERVAL.as_secs()
    );
    println!("| figure | value |");
    println!("| --- | ---: |");
    println!(
        "| first probe of all {CLUSTERS} clusters done after | {} |",
        ms(first_cycle)
    );
    println!(
        "| oldest status over {} s of steady state (interval {} s) | {} |",
        (INTERVAL * 3).as_secs(),
        INTERVAL.as_secs(),
        ms(worst)
    );
    println!(
        "| /admin/clusters server render, p50 / p95 ({} renders, {} KiB) | {} / {} |",
        renders.len(),
        bytes / 1024,
        ms(percentile(&renders, 0.5)),
        ms(percentile(&renders, 0.95))
    );

    controller.abort();
    let _ = clusters
        .delete_collection(&DeleteParams::default(), &listed)
        .await;
    let _ = secrets.delete(&secret_name, &DeleteParams::default()).await;
}
