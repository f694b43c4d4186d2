//! Live-update latency: from a change on a member cluster to the console's Server-Sent Event
//! for it, through the real router and the real apiserver watch. The console runs in-process in
//! local mode over the sandbox administrator's kubeconfig; a stream follows ConfigMaps in a
//! fresh namespace on east and each of 100 changes (50 creates, 50 updates) is timed from just
//! before the API call to the event's arrival. The browser adds its 150 ms coalescing window and
//! one server-function read (see the README). Needs the sandbox; run with
//! `cargo bench -p server --bench live`.

#[path = "report/mod.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::{live::Change, platform::registry::ClusterRegistry};
use axum::{body::Body, http::Request};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};
use server::{AppState, router};
use tower::ServiceExt;

const CHANGES: usize = 50;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    runtime.block_on(run());
}

/// Reads SSE frames until an event named `event` arrives; returns its data.
async fn next_event(body: &mut Body, buffer: &mut String, event: &str) -> String {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if name == event {
                return data;
            }
            assert!(name != "refused", "the stream was refused: {data}");
            continue;
        }
        let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
            .await
            .unwrap_or_else(|_| panic!("no {event} event within 30 s"))
            .unwrap_or_else(|| panic!("the stream ended"))
            .unwrap_or_else(|e| panic!("stream: {e}"));
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

async fn run() {
    let sandbox = support::sandbox();
    let east = sandbox.cluster("east");
    let ns = support::TestNamespace::create(east, "live-bench").await;
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.admin_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-bench-site");
    let app = router(AppState::for_site(&root, registry));
    let request = Request::builder()
        .uri(format!(
            "/api/live/watch?cluster=east&kind=configmaps&namespace={}",
            ns.name
        ))
        .body(Body::empty())
        .unwrap_or_default();
    let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
    assert!(response.status().is_success(), "{}", response.status());
    let mut body = response.into_body();
    let mut buffer = String::new();
    next_event(&mut body, &mut buffer, "ready").await;

    let api = Api::<ConfigMap>::namespaced(east.admin_client().await, &ns.name);
    let mut creates = Vec::with_capacity(CHANGES);
    let mut updates = Vec::with_capacity(CHANGES);
    for i in 0..CHANGES {
        let name = format!("c-{i}");
        let map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..ObjectMeta::default()
            },
            data: Some([("n".to_string(), "0".to_string())].into()),
            ..ConfigMap::default()
        };
        let started = Instant::now();
        api.create(&PostParams::default(), &map)
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
        wait_for(&mut body, &mut buffer, &name).await;
        creates.push(started.elapsed());

        let started = Instant::now();
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"n": "1"}})),
        )
        .await
        .unwrap_or_else(|e| panic!("patch {name}: {e}"));
        wait_for(&mut body, &mut buffer, &name).await;
        updates.push(started.elapsed());
    }
    println!("live-update latency, change on east → SSE event from the console ({CHANGES} each)");
    println!("{:<8} {:>9} {:>9} {:>9}", "change", "p50", "p95", "max");
    for (label, mut samples) in [("create", creates), ("update", updates)] {
        samples.sort();
        println!(
            "{:<8} {:>7.1}ms {:>7.1}ms {:>7.1}ms",
            label,
            percentile(&samples, 0.5).as_secs_f64() * 1e3,
            percentile(&samples, 0.95).as_secs_f64() * 1e3,
            samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
        report::line(
            &format!("live: ConfigMap {label} on east → SSE event, p50 / p95"),
            &format!(
                "{} / {}",
                report::ms(percentile(&samples, 0.5)),
                report::ms(percentile(&samples, 0.95))
            ),
            "-",
            "-",
        );
    }
}

async fn wait_for(body: &mut Body, buffer: &mut String, name: &str) {
    loop {
        let data = next_event(body, buffer, "change").await;
        let change: Change = serde_json::from_str(&data).unwrap_or_else(|e| panic!("{data}: {e}"));
        if change.name == name {
            return;
        }
    }
}
