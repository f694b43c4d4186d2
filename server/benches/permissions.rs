//! Permission checks for one page on a cluster with 60 operator CRDs: every namespaced kind
//! against every verb it supports, for a team member, the way the console answers them (one
//! SelfSubjectRulesReview, cached per identity) and the way an older console did (one
//! SelfSubjectAccessReview per check). Needs the sandbox (started or attached to, as the
//! tests do). Run with `cargo bench -p server --bench permissions`; prints a table.

#[path = "report/mod.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::{
    access::{AccessCheck, VERBS, ssr::AccessCache},
    auth::Identity,
    platform::registry::ClusterRegistry,
};
use futures::{StreamExt, stream};

const OPERATOR_CRDS: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn timed<F, Fut>(runs: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    runtime.block_on(run());
}

async fn run() {
    let sandbox = support::sandbox();
    let east = sandbox.cluster("east");
    support::install_operator_crds(east, OPERATOR_CRDS).await;
    let ns = support::mixed_rbac_namespace(east, "team-a", 30).await;
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("registry: {e}"));
    let alice = Identity {
        username: "alice@example.com".into(),
        groups: vec!["team-a".into()],
        display_name: "alice".into(),
        local: false,
    };

    // The checks one page asks: from a warm answer, so the list is the console's own.
    let page = AccessCache::default()
        .namespace_access(&registry, "east", &alice, &ns.name)
        .await
        .unwrap_or_else(|e| panic!("namespace access: {e}"));
    let checks: Vec<AccessCheck> = page
        .kinds
        .iter()
        .flat_map(|k| {
            k.verbs
                .iter()
                .zip(VERBS)
                .filter(|(answer, _)| answer.is_some())
                .map(|(_, verb)| {
                    AccessCheck::new(verb, &k.group, &k.resource).in_namespace(&ns.name)
                })
        })
        .collect();
    let as_alice = registry
        .client_for("east", &alice)
        .unwrap_or_else(|e| panic!("{e}"));

    let cold = timed(20, || async {
        let cache = AccessCache::default();
        let _ = cache
            .namespace_access(&registry, "east", &alice, &ns.name)
            .await;
    })
    .await;
    // Kinds cached (they live a minute), rules expired (they live 10 s): the common page load.
    let kinds_warm = {
        let cache = AccessCache::new(Duration::ZERO);
        let _ = cache
            .namespace_access(&registry, "east", &alice, &ns.name)
            .await;
        timed(20, || async {
            let _ = cache
                .namespace_access(&registry, "east", &alice, &ns.name)
                .await;
        })
        .await
    };
    let warm = {
        let cache = AccessCache::default();
        let _ = cache
            .namespace_access(&registry, "east", &alice, &ns.name)
            .await;
        timed(50, || async {
            let _ = cache
                .namespace_access(&registry, "east", &alice, &ns.name)
                .await;
        })
        .await
    };
    let per_check_parallel = timed(3, || async {
        stream::iter(checks.iter())
            .map(|c| support::access_review(&as_alice, c))
            .buffer_unordered(6)
            .collect::<Vec<bool>>()
            .await;
    })
    .await;
    let per_check_sequential = timed(1, || async {
        for check in &checks {
            support::access_review(&as_alice, check).await;
        }
    })
    .await;

    println!(
        "\nPermission checks for one namespace page: {} kinds ({} operator CRDs), {} checks, as alice\n",
        page.kinds.len(),
        OPERATOR_CRDS,
        checks.len()
    );
    println!("| method | requests to the cluster | runs | p50 | p95 |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let row = |name: &str, requests: String, times: &[Duration]| {
        println!(
            "| {name} | {requests} | {} | {} | {} |",
            times.len(),
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.95))
        );
    };
    row(
        "console, cold (discovery + 1 rules review)",
        "3".into(),
        &cold,
    );
    row(
        "console, kinds cached, rules expired",
        "1".into(),
        &kinds_warm,
    );
    row("console, cached (within 10 s)", "0".into(), &warm);
    row(
        "one access review per check, 6 at a time",
        checks.len().to_string(),
        &per_check_parallel,
    );
    row(
        "one access review per check, one after another",
        checks.len().to_string(),
        &per_check_sequential,
    );
    report::line(
        &format!(
            "permission checks of a namespace page ({} checks), cold, p50",
            checks.len()
        ),
        &ms(percentile(&cold, 0.5)),
        "-",
        &format!(
            "one review per check: {} 6 at a time, {} sequential",
            ms(percentile(&per_check_parallel, 0.5)),
            ms(percentile(&per_check_sequential, 0.5))
        ),
    );
    report::line(
        "permission checks, cached, p50",
        &ms(percentile(&warm, 0.5)),
        "-",
        "-",
    );
}
