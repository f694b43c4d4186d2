//! Proxy overhead (issue 16, item 4): the same HTTP client, in the same run, sends a small GET
//! and a LIST of 10,000 pods to east's API server directly and through the console's
//! `/clusters/east/...` proxy, alternating, and prints p50/p95 of each and their ratio, plus the
//! time to the first byte of the big LIST (a proxy that buffered the body would show its whole
//! transfer time there).
//!
//! Direct requests carry the console's client certificate and the same impersonation headers the
//! console sends for the signed-in user, so the API server does the same work both ways and the
//! difference is the console's hop: TLS termination, the session and gate, the proxy, TLS again.
//! The console serves over TLS in process (two workers, as on the 2-core machine); the client
//! runs on a runtime of its own. The user is the sandbox's admin@example.com, signed in through
//! Dex.
//!
//! The pods live in namespace `bench-proxy-pods` on east, held before scheduling (a scheduling
//! gate), so neither the scheduler nor kwok works on them while measuring; they are created when
//! missing (about 10-30 s) and deleted afterwards unless `BENCH_KEEP_PODS=1` (the next run then
//! reuses them). Settings: `BENCH_PROXY_PODS` (10000), `BENCH_PROXY_GETS` (300 each way),
//! `BENCH_PROXY_LISTS` (10 each way). Needs the sandbox; run with
//! `cargo bench -p server --bench proxy`.

#[path = "report/mod.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::platform::registry::ClusterRegistry;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::{
    Api,
    api::{DeleteParams, ListParams, ObjectMeta, PostParams},
};
use report::{ms, percentile};
use server::auth::store::Store;

const NAMESPACE: &str = "bench-proxy-pods";
/// `sandbox.console_port + 18`: a redirect URI the sandbox's Dex accepts, used by no test.
const PORT_OFFSET: u16 = 18;
const USER: &str = "admin";

fn main() {
    let sandbox = support::sandbox();
    let pods: usize = report::setting("PROXY_PODS", 10_000);
    let gets: usize = report::setting("PROXY_GETS", 300);
    let lists: usize = report::setting("PROXY_LISTS", 10);

    let server_runtime = support::console::runtime();
    let console = {
        let _enter = server_runtime.enter();
        let clusters = server_runtime
            .block_on(ClusterRegistry::from_kubeconfig(
                &sandbox.console_kubeconfig,
            ))
            .unwrap_or_else(|e| panic!("registry: {e}"));
        support::console::serve_tls(
            sandbox,
            PORT_OFFSET,
            "proxy-bench-site",
            &clusters,
            &Store::default(),
            None,
            &[],
        )
    };
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("client runtime: {e}"));
    client_runtime.block_on(measure(sandbox, &console.origin, pods, gets, lists));
}

/// Creates the missing pods of `count` in [`NAMESPACE`] on east (and the namespace); returns
/// whether any had to be created.
async fn ensure_pods(sandbox: &support::Sandbox, count: usize) -> bool {
    let client = sandbox.cluster("east").admin_client().await;
    let namespaces = Api::<Namespace>::all(client.clone());
    if namespaces.get_opt(NAMESPACE).await.ok().flatten().is_none() {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(NAMESPACE.into()),
                labels: Some(
                    [("nextgen-console.bench/run".to_string(), "proxy".to_string())].into(),
                ),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("namespace {NAMESPACE}: {e}"));
    }
    let api = Api::<Pod>::namespaced(client, NAMESPACE);
    let existing: std::collections::HashSet<String> = api
        .list_metadata(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("pods: {e}"))
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let missing: Vec<usize> = (0..count)
        .filter(|i| !existing.contains(&format!("web-{i:05}")))
        .collect();
    if missing.is_empty() {
        return false;
    }
    let started = Instant::now();
    eprintln!("creating {} pods in {NAMESPACE} on east", missing.len());
    let created = futures::stream::iter(missing)
        .map(|i| {
            let api = api.clone();
            async move {
                let pod: Pod = serde_json::from_value(serde_json::json!({
                    "metadata": {
                        "name": format!("web-{i:05}"),
                        "labels": {"app": "web", "pod-template-hash": "5d8f7c9b6d", "tier": "frontend"},
                        "annotations": {"nextgen-console.bench/purpose": "proxy overhead"},
                    },
                    "spec": {
                        "schedulingGates": [{"name": "nextgen-console.bench/hold"}],
                        "containers": [{
                            "name": "web",
                            "image": "registry.example/web:1.27.3",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "env": [{"name": "MODE", "value": "production"}],
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }],
                    },
                }))
                .unwrap_or_else(|e| panic!("pod: {e}"));
                for attempt in 0..5 {
                    match api.create(&PostParams::default(), &pod).await {
                        Ok(_) => return,
                        Err(kube::Error::Api(s)) if s.code == 409 => return,
                        Err(e) if attempt == 4 => panic!("pod web-{i:05}: {e}"),
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
            }
        })
        .buffer_unordered(32)
        .count()
        .await;
    eprintln!(
        "created {created} pods in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    true
}

/// Times one request: (time to the response head, time to the body's end, body bytes).
async fn timed(request: reqwest::RequestBuilder) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let mut response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request: {e}"));
    let head = started.elapsed();
    let status = response.status();
    let mut bytes = 0;
    let mut first_error = None;
    while let Some(chunk) = response
        .chunk()
        .await
        .unwrap_or_else(|e| panic!("body: {e}"))
    {
        if !status.is_success() && first_error.is_none() {
            first_error = Some(String::from_utf8_lossy(&chunk).into_owned());
        }
        bytes += chunk.len();
    }
    assert!(status.is_success(), "{status}: {first_error:?}");
    (head, started.elapsed(), bytes)
}

struct Series {
    head: Vec<Duration>,
    total: Vec<Duration>,
    bytes: usize,
}

impl Series {
    fn new() -> Self {
        Series {
            head: Vec::new(),
            total: Vec::new(),
            bytes: 0,
        }
    }
    fn push(&mut self, (head, total, bytes): (Duration, Duration, usize)) {
        self.head.push(head);
        self.total.push(total);
        self.bytes = bytes;
    }
    fn sort(&mut self) {
        self.head.sort();
        self.total.sort();
    }
    fn p(&self, q: f64) -> Duration {
        percentile(&self.total, q)
    }
}

async fn measure(sandbox: &support::Sandbox, origin: &str, pods: usize, gets: usize, lists: usize) {
    let created = ensure_pods(sandbox, pods).await;

    // One client for both ways: the sandbox's CA, the console's client certificate (used by the
    // API server only; the console ignores it), cookies for the console's session.
    let pki = sandbox.ca_file.parent().unwrap_or_else(|| panic!("pki"));
    let mut pem = std::fs::read(pki.join("console.crt")).unwrap_or_else(|e| panic!("{e}"));
    pem.extend(std::fs::read(pki.join("console.key")).unwrap_or_else(|e| panic!("{e}")));
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&sandbox.ca_pem()).unwrap_or_else(|e| panic!("{e}")),
        )
        .identity(reqwest::Identity::from_pem(&pem).unwrap_or_else(|e| panic!("identity: {e}")))
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    let client = support::console::signed_in_on(sandbox, client, origin, USER).await;
    let user = sandbox.user(USER);
    let direct_base = sandbox
        .cluster("east")
        .server
        .trim_end_matches('/')
        .to_string();
    let proxied_base = format!("{origin}/clusters/east");
    let direct = |path: &str| {
        let mut request = client
            .get(format!("{direct_base}{path}"))
            .header("accept", "application/json")
            .header("impersonate-user", &user.email);
        for group in &user.groups {
            request = request.header("impersonate-group", group);
        }
        request
    };
    let proxied = |path: &str| {
        client
            .get(format!("{proxied_base}{path}"))
            .header("accept", "application/json")
    };

    let small = format!("/api/v1/namespaces/{NAMESPACE}");
    let big = format!("/api/v1/namespaces/{NAMESPACE}/pods");
    // Warm both paths (connections, caches), then alternate so drift hits both alike.
    for _ in 0..20 {
        timed(direct(&small)).await;
        timed(proxied(&small)).await;
    }
    let (mut get_direct, mut get_proxied) = (Series::new(), Series::new());
    for _ in 0..gets {
        get_direct.push(timed(direct(&small)).await);
        get_proxied.push(timed(proxied(&small)).await);
    }
    timed(direct(&big)).await;
    timed(proxied(&big)).await;
    let (mut list_direct, mut list_proxied) = (Series::new(), Series::new());
    for _ in 0..lists {
        list_direct.push(timed(direct(&big)).await);
        list_proxied.push(timed(proxied(&big)).await);
    }
    for series in [
        &mut get_direct,
        &mut get_proxied,
        &mut list_direct,
        &mut list_proxied,
    ] {
        series.sort();
    }
    let listed = list_proxied.bytes;
    assert!(
        list_direct.bytes.abs_diff(listed) < 4096,
        "both ways list the same pods ({} vs {listed} bytes)",
        list_direct.bytes
    );

    let get_overhead = get_proxied.p(0.5).saturating_sub(get_direct.p(0.5));
    let list_ratio = list_proxied.p(0.5).as_secs_f64() / list_direct.p(0.5).as_secs_f64();
    println!(
        "\nProxy overhead: east, {pods} pods in {NAMESPACE} ({:.1} MiB of JSON){}; same client, alternating\n",
        listed as f64 / 1048576.0,
        if created {
            ", created by this run"
        } else {
            ", reused"
        }
    );
    println!("| request | way | n | p50 | p95 | first byte p50 |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (what, way, series) in [
        ("GET namespace", "direct", &get_direct),
        ("GET namespace", "through the console", &get_proxied),
        ("LIST pods", "direct", &list_direct),
        ("LIST pods", "through the console", &list_proxied),
    ] {
        println!(
            "| {what} | {way} | {} | {} | {} | {} |",
            series.total.len(),
            ms(series.p(0.5)),
            ms(series.p(0.95)),
            ms(percentile(&series.head, 0.5)),
        );
    }
    println!(
        "\nsmall GET: +{} p50 (+{} p95); LIST of {pods}: {list_ratio:.3}× p50 ({:.3}× p95)",
        ms(get_overhead),
        ms(get_proxied.p(0.95).saturating_sub(get_direct.p(0.95))),
        list_proxied.p(0.95).as_secs_f64() / list_direct.p(0.95).as_secs_f64(),
    );
    println!(
        "LIST first byte through the console: {} of {} in all (streamed: the head arrives before the body)\n",
        ms(percentile(&list_proxied.head, 0.5)),
        ms(list_proxied.p(0.5))
    );
    report::line(
        "proxy: small GET overhead, p50",
        &format!("+{}", ms(get_overhead)),
        "≤ +0.3 ms",
        &format!(
            "direct {} / proxied {}",
            ms(get_direct.p(0.5)),
            ms(get_proxied.p(0.5))
        ),
    );
    report::line(
        &format!("proxy: LIST of {pods} pods, proxied/direct p50"),
        &format!("{list_ratio:.3}×"),
        "≤ 1.05×",
        &format!(
            "direct {} / proxied {}",
            ms(list_direct.p(0.5)),
            ms(list_proxied.p(0.5))
        ),
    );

    if std::env::var_os("BENCH_KEEP_PODS").is_none() {
        let admin = sandbox.cluster("east").admin_client().await;
        let _ = Api::<Namespace>::all(admin)
            .delete(NAMESPACE, &DeleteParams::background())
            .await;
        eprintln!("namespace {NAMESPACE} deleted (BENCH_KEEP_PODS=1 keeps it for the next run)");
    }
}
