//! Server render time: renders each shell page in-process through the real router many times
//! and prints p50/p95/max and throughput. Run with `cargo bench -p server --bench render`.

use std::time::{Duration, Instant};

use app::platform::registry::ClusterRegistry;
use axum::{
    body::Body,
    http::{Request, header},
};
use http_body_util::BodyExt;
use server::{AppState, router};
use tower::ServiceExt;

const PAGES: [&str; 5] = [
    "/platform/projects",
    "/platform/applications",
    "/admin/clusters",
    "/admin/plugins",
    "/no/such/page",
];
const WARMUP: usize = 50;
const ITERATIONS: usize = 500;

#[path = "report/mod.rs"]
mod report;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: tokio runtime: {error}");
            std::process::exit(1);
        }
    };
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-bench-site");
    let _context = runtime.enter();
    let app = router(AppState::for_site(&root, ClusterRegistry::empty()));
    println!(
        "server render time, {ITERATIONS} sequential renders per page after {WARMUP} warm-up renders"
    );
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "page", "p50", "p95", "max", "renders/s", "bytes"
    );
    runtime.block_on(async {
        for page in PAGES {
            let mut samples = Vec::with_capacity(ITERATIONS);
            let mut bytes = 0;
            for i in 0..WARMUP + ITERATIONS {
                let request = Request::builder()
                    .uri(page)
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
                let elapsed = started.elapsed();
                if i >= WARMUP {
                    samples.push(elapsed);
                    bytes = body.len();
                }
            }
            samples.sort();
            let total: Duration = samples.iter().sum();
            println!(
                "{:<26} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>10.0} {:>8}",
                page,
                percentile(&samples, 0.50).as_secs_f64() * 1e3,
                percentile(&samples, 0.95).as_secs_f64() * 1e3,
                samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
                ITERATIONS as f64 / total.as_secs_f64(),
                bytes
            );
            report::line(
                &format!("server render {page}, p50 / p95"),
                &format!(
                    "{} / {}",
                    report::ms(percentile(&samples, 0.50)),
                    report::ms(percentile(&samples, 0.95))
                ),
                "-",
                &format!("{} KiB of HTML", bytes / 1024),
            );
        }
    });
}
