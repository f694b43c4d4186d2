//! Many clusters: registers 100 Cluster resources on the sandbox's global cluster (pointing at
//! its east and west apiservers), runs the status controller over them, and prints how long the
//! first probe of all of them takes, how stale statuses get in steady state, and the server
//! render time of the cluster list with all of them registered. Then one list across every
//! registered cluster (issue 16, item 5) through the console's own `app::workloads::service`: the Deployments of all 104 (the 100, the sandbox's three
//! and one slow cluster behind a forwarder that delays every connection by 10 s), as a signed-in
//! user, each cluster's answer taken as it arrives with a per-cluster deadline of 2 s: time to
//! the first rows, to the last fast cluster's rows, and the slow one reported as timed out
//! without holding up the rest (`BENCH_FANOUT_LISTS` rounds, 20 by default). Needs the sandbox.
//! Run with `cargo bench -p server --bench fanout`.

#[path = "report/mod.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::{
    clusters::resource::{Cluster, ClusterSpec, SecretRef},
    platform::registry::ClusterRegistry,
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
/// How long the list across clusters waits for any one cluster.
const PER_CLUSTER_DEADLINE: Duration = Duration::from_secs(2);
/// How long the slow cluster's forwarder holds every connection before passing it on.
const SLOW_DELAY: Duration = Duration::from_secs(10);

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

    // One more Cluster, behind a forwarder that holds every connection for 10 s: the slow one.
    let slow_forwarder = delaying_forwarder(&targets[0], SLOW_DELAY).await;
    let slow_name = format!("bench-{run}-slow");
    let mut slow = Cluster::new(
        &slow_name,
        ClusterSpec {
            display_name: None,
            server: format!("https://{slow_forwarder}"),
            ca_data: Some(ca.clone()),
            credential_secret: SecretRef {
                namespace: SYSTEM_NAMESPACE.into(),
                name: secret_name.clone(),
            },
        },
    );
    slow.metadata.labels = Some([("nextgen-console.bench/run".to_string(), run.clone())].into());
    support::create_cluster(&admin, &slow).await;

    // The cluster list page, rendered in process with every Cluster registered.
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("registry: {e}"));
    tokio::spawn(registry.clone().follow(console.clone()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while registry.len() < CLUSTERS + 1 + sandbox.clusters.len() {
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

    // One list across every registered cluster, as a signed-in user.
    let everywhere = list_everywhere_rounds(&registry, &slow_name).await;

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

    everywhere.print(registry.len());
    report::line(
        "fan-out: 100 clusters' status probed, first cycle",
        &ms(first_cycle),
        "-",
        &format!("oldest status in steady state {}", ms(worst)),
    );
    report::line(
        &format!(
            "/admin/clusters render with {} clusters, p50 / p95",
            CLUSTERS + 1 + sandbox.clusters.len()
        ),
        &format!(
            "{} / {}",
            ms(percentile(&renders, 0.5)),
            ms(percentile(&renders, 0.95))
        ),
        "-",
        &format!("{} KiB of HTML", bytes / 1024),
    );

    controller.abort();
    let _ = clusters
        .delete_collection(&DeleteParams::default(), &listed)
        .await;
    let _ = secrets.delete(&secret_name, &DeleteParams::default()).await;
}

/// A TCP forwarder on loopback to `target` (an `https://host:port` URL) that holds every
/// connection for `delay` before connecting on: a cluster far away or overloaded.
async fn delaying_forwarder(target: &str, delay: Duration) -> std::net::SocketAddr {
    let target = target
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("forwarder: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    addr
}

/// What the rounds of the list across clusters found.
struct Everywhere {
    first_rows: Vec<Duration>,
    fast_complete: Vec<Duration>,
    complete: Vec<Duration>,
    rows: usize,
    answered: usize,
    timed_out: Vec<String>,
    failed: Vec<String>,
}

impl Everywhere {
    fn print(&self, clusters: usize) {
        println!(
            "\nOne list across {clusters} clusters: Deployments of each, as admin@example.com, one slow cluster (+{} s per connection), {} s per-cluster deadline, {} rounds\n",
            SLOW_DELAY.as_secs(),
            PER_CLUSTER_DEADLINE.as_secs(),
            self.complete.len()
        );
        println!("| figure | p50 | p95 |");
        println!("| --- | ---: | ---: |");
        for (what, times) in [
            ("first rows shown", &self.first_rows),
            ("every answering cluster's rows shown", &self.fast_complete),
            ("complete (the slow one marked timed out)", &self.complete),
        ] {
            println!(
                "| {what} | {} | {} |",
                ms(percentile(times, 0.5)),
                ms(percentile(times, 0.95))
            );
        }
        println!(
            "\n{} clusters answered with {} Deployments in all; timed out: {:?}; failed: {:?}\n",
            self.answered, self.rows, self.timed_out, self.failed
        );
        report::line(
            &format!("one list across {clusters} clusters: first rows, p95"),
            &ms(percentile(&self.first_rows, 0.95)),
            "≤ 1 s",
            &format!("p50 {}", ms(percentile(&self.first_rows, 0.5))),
        );
        report::line(
            &format!("one list across {clusters} clusters: complete, p95"),
            &ms(percentile(&self.complete, 0.95)),
            "≤ 3 s",
            &format!(
                "answering clusters done at p95 {}; slow one timed out: {}",
                ms(percentile(&self.fast_complete, 0.95)),
                if self.timed_out.is_empty() {
                    "no"
                } else {
                    "yes"
                }
            ),
        );
    }
}

/// Lists the Deployments of every registered cluster as a signed-in platform administrator
/// through the console's own list across clusters (`app::workloads::service`, what
/// `/api/workloads/deployments` streams): every cluster at once, each answer taken as it
/// arrives; a cluster that has not answered within [`PER_CLUSTER_DEADLINE`] is reported as
/// timed out and does not hold up the others.
async fn list_everywhere_rounds(registry: &ClusterRegistry, slow: &str) -> Everywhere {
    use app::workloads::types::{ClusterAnswer, ListLine};
    use futures::StreamExt;
    let identity = app::auth::Identity {
        username: "admin@example.com".into(),
        groups: vec!["platform-admins".into()],
        display_name: "admin".into(),
        local: false,
    };
    let rounds: usize = report::setting("FANOUT_LISTS", 20);
    let mut found = Everywhere {
        first_rows: Vec::new(),
        fast_complete: Vec::new(),
        complete: Vec::new(),
        rows: 0,
        answered: 0,
        timed_out: Vec::new(),
        failed: Vec::new(),
    };
    for round in 0..rounds + 1 {
        let started = Instant::now();
        let lines = app::workloads::service::deployments_everywhere(
            registry.clone(),
            identity.clone(),
            PER_CLUSTER_DEADLINE,
        );
        let mut lines = std::pin::pin!(lines);
        let (mut first, mut last_answer) = (None, Duration::ZERO);
        let (mut rows, mut answered, mut timed_out, mut failed) = (0, 0, Vec::new(), Vec::new());
        while let Some(line) = lines.next().await {
            match line {
                ListLine::Clusters { .. } => {}
                ListLine::Answer(ClusterAnswer::Rows { rows: found, .. }) => {
                    answered += 1;
                    rows += found.len();
                    last_answer = started.elapsed();
                    if !found.is_empty() && first.is_none() {
                        first = Some(last_answer);
                    }
                }
                ListLine::Answer(ClusterAnswer::Failed { cluster, error, .. }) => {
                    failed.push(format!("{cluster}: {error}"))
                }
                ListLine::Answer(ClusterAnswer::TimedOut { cluster, .. }) => {
                    timed_out.push(cluster)
                }
            }
        }
        let complete = started.elapsed();
        if round == 0 {
            continue; // warm-up: connections and TLS sessions to 104 clusters
        }
        found.first_rows.push(first.unwrap_or(complete));
        found.fast_complete.push(last_answer);
        found.complete.push(complete);
        (found.rows, found.answered, found.timed_out, found.failed) =
            (rows, answered, timed_out, failed);
    }
    for times in [
        &mut found.first_rows,
        &mut found.fast_complete,
        &mut found.complete,
    ] {
        times.sort();
    }
    assert_eq!(
        found.timed_out,
        vec![slow.to_string()],
        "only the slow cluster times out"
    );
    found
}
