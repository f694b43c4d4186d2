//! Load (issue 16, item 6): 200 signed-in sessions (the sandbox's four users through Dex, 50
//! sessions each), each holding a live stream open (ConfigMaps of one namespace on east, which
//! change twice a second, so every stream carries events), and 50 page loads a second spread
//! over the sessions for `BENCH_LOAD_SECONDS` (20 by default; 120 or more for the README's
//! figure). Prints the page loads' p50/p95/p99 (timed from their scheduled start: queueing
//! counts), the console's resident memory at each stage, what one idle session and one open
//! stream cost, and what is left once the streams close and the sessions sign out, after each of
//! `BENCH_LOAD_ROUNDS` (2) rounds of the same load: the allocator keeps freed memory for reuse,
//! so the proof that nothing grows without bound is that a second round ends where the first
//! did.
//!
//! The console runs in a process of its own (this benchmark's binary started again with
//! `LOAD_BENCH_SERVE=1`: the test support's TLS console, real sign-in through Dex, in-memory
//! session store, two workers), so its memory is measured apart from the 200 clients'. Settings:
//! `BENCH_LOAD_SESSIONS` (200), `BENCH_LOAD_RATE` (50 page loads/s), `BENCH_LOAD_SECONDS`.
//! Needs the sandbox; run with `cargo bench -p server --bench load`.

#[path = "report/mod.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use app::platform::registry::ClusterRegistry;
use futures::StreamExt;
use k8s_openapi::api::{
    core::v1::ConfigMap,
    rbac::v1::{RoleBinding, RoleRef, Subject},
};
use kube::{
    Api,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};
use report::{ms, percentile};
use server::auth::store::Store;

/// `sandbox.console_port + 19`: a redirect URI the sandbox's Dex accepts, used by no test.
const PORT_OFFSET: u16 = 19;
const USERS: [&str; 4] = ["admin", "alice", "bob", "carol"];
const PAGES: [&str; 4] = [
    "/platform/projects",
    "/platform/applications",
    "/admin/clusters",
    "/admin/plugins",
];

fn main() {
    if std::env::var_os("LOAD_BENCH_SERVE").is_some() {
        serve();
    } else {
        drive();
    }
}

/// The console's process: serves until its standard input closes.
fn serve() {
    let sandbox = support::sandbox();
    let runtime = support::console::runtime();
    let console = {
        let _enter = runtime.enter();
        let clusters = runtime
            .block_on(ClusterRegistry::from_kubeconfig(
                &sandbox.console_kubeconfig,
            ))
            .unwrap_or_else(|e| panic!("registry: {e}"));
        support::console::serve_tls(
            sandbox,
            PORT_OFFSET,
            "load-bench-site",
            &clusters,
            &Store::default(),
            None,
            // 50 sessions of each user hold a stream each.
            &["--max-streams-per-user", "256"],
        )
    };
    println!("READY {}", console.origin);
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn drive() {
    let sessions: usize = report::setting("LOAD_SESSIONS", 200);
    let rate: u64 = report::setting("LOAD_RATE", 50);
    let seconds: u64 = report::setting("LOAD_SECONDS", 20);

    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(exe)
        .env("LOAD_BENCH_SERVE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("console process: {e}"));
    let pid = child.id();
    let mut stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("stdout")));
    let origin = loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the console process ended before it served");
        }
        if let Some(origin) = line.trim().strip_prefix("READY ") {
            break origin.to_string();
        }
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(load(&origin, pid, sessions, rate, seconds));
    // Closing its standard input ends the console's process.
    drop(child.stdin.take());
    let _ = child.wait();
}

async fn settle_rss(pid: u32) -> u64 {
    tokio::time::sleep(Duration::from_secs(3)).await;
    rss_kib(pid)
}

async fn load(origin: &str, pid: u32, sessions: usize, rate: u64, seconds: u64) {
    let sandbox = support::sandbox();
    let east = sandbox.cluster("east");
    // Every signed-in user may read the ConfigMaps of this namespace.
    let ns = support::TestNamespace::create(east, "load-bench").await;
    let admin = east.admin_client().await;
    Api::<RoleBinding>::namespaced(admin.clone(), &ns.name)
        .create(
            &PostParams::default(),
            &RoleBinding {
                metadata: ObjectMeta {
                    name: Some("everyone-views".into()),
                    ..ObjectMeta::default()
                },
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "ClusterRole".into(),
                    name: "view".into(),
                },
                subjects: Some(vec![Subject {
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    kind: "Group".into(),
                    name: "system:authenticated".into(),
                    ..Subject::default()
                }]),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("role binding: {e}"));
    let maps = Api::<ConfigMap>::namespaced(admin, &ns.name);
    maps.create(
        &PostParams::default(),
        &ConfigMap {
            metadata: ObjectMeta {
                name: Some("ticker".into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("configmap: {e}"));

    // Warm the console (first renders, connections to the clusters) with one session.
    let warm = support::console::signed_in(sandbox, origin, "admin").await;
    for page in PAGES.iter().cycle().take(20) {
        let _ = warm.get(format!("{origin}{page}")).send().await;
    }
    let baseline = settle_rss(pid).await;

    let rounds: usize = report::setting("LOAD_ROUNDS", 2);
    let mut done = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        done.push(
            round(
                sandbox, origin, pid, &ns.name, &maps, sessions, rate, seconds,
            )
            .await,
        );
    }
    let after_rounds: Vec<String> = done.iter().map(|r| mib(r.after_settle)).collect();
    let Round {
        sign_in_time,
        events,
        achieved,
        times,
        statuses,
        failed,
        with_sessions,
        with_streams,
        peak,
        signed_out,
        after_end,
        after_settle,
    } = done.swap_remove(0);
    let peak = done.iter().map(|r| r.peak).fold(peak, u64::max);

    let per = |more: u64, less: u64| (more.saturating_sub(less) as f64) / sessions as f64;
    println!(
        "\nLoad: {sessions} sessions signed in through Dex ({:.1} s), one live stream each ({} change events delivered), {rate} page loads/s for {seconds} s (achieved {achieved:.1}/s)\n",
        sign_in_time.as_secs_f64(),
        events
    );
    println!("| figure | value |");
    println!("| --- | ---: |");
    println!(
        "| page loads ({}; statuses {statuses:?}, 0 = no answer), p50 / p95 / p99 | {} / {} / {} |",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(percentile(&times, 0.99))
    );
    println!(
        "| console RSS, warmed up, no sessions | {} |",
        mib(baseline)
    );
    println!(
        "| with {sessions} idle sessions | {} ({:.1} KiB per session) |",
        mib(with_sessions),
        per(with_sessions, baseline)
    );
    println!(
        "| with a live stream open per session | {} ({:.1} KiB per stream) |",
        mib(with_streams),
        per(with_streams, with_sessions)
    );
    println!("| peak under load | {} |", mib(peak));
    println!(
        "| streams closed, {signed_out} sessions signed out, after 3 s / 13 s | {} / {} |",
        mib(after_end),
        mib(after_settle)
    );
    println!(
        "| after each of {} rounds (the same load again: memory reused, not grown) | {} |",
        after_rounds.len(),
        after_rounds.join(" / ")
    );
    println!();
    report::line(
        &format!("load: page p99, {rate}/s with {sessions} live sessions, {seconds} s"),
        &ms(percentile(&times, 0.99)),
        "-",
        &format!(
            "p50 {}, p95 {}, {failed} of {} failed",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            times.len()
        ),
    );
    report::line(
        "load: console RSS peak",
        &mib(peak),
        "-",
        &format!("warmed up, idle: {}", mib(baseline)),
    );
    report::line(
        "load: memory per idle session",
        &format!("{:.1} KiB", per(with_sessions, baseline)),
        "-",
        "-",
    );
    report::line(
        "load: memory per open live stream",
        &format!("{:.1} KiB", per(with_streams, with_sessions)),
        "-",
        "-",
    );
    report::line(
        &format!(
            "load: RSS after streams closed and sessions signed out, after each of {} rounds",
            after_rounds.len()
        ),
        &after_rounds.join(" / "),
        "no growth from round to round",
        &format!(
            "idle {}, with streams {}, peak {}",
            mib(baseline),
            mib(with_streams),
            mib(peak)
        ),
    );
}

/// What one round (sign in, streams, page loads, sign out) measured.
struct Round {
    sign_in_time: Duration,
    events: usize,
    achieved: f64,
    times: Vec<Duration>,
    statuses: std::collections::BTreeMap<u16, usize>,
    failed: usize,
    with_sessions: u64,
    with_streams: u64,
    peak: u64,
    signed_out: usize,
    after_end: u64,
    after_settle: u64,
}

#[allow(clippy::too_many_arguments)]
async fn round(
    sandbox: &'static support::Sandbox,
    origin: &str,
    pid: u32,
    ns: &str,
    maps: &Api<ConfigMap>,
    sessions: usize,
    rate: u64,
    seconds: u64,
) -> Round {
    // 200 sessions, signed in through Dex, 8 at a time.
    let started = Instant::now();
    let browsers: Vec<reqwest::Client> = futures::stream::iter(0..sessions)
        .map(|i| async move {
            support::console::streaming_signed_in(sandbox, origin, USERS[i % USERS.len()]).await
        })
        .buffered(8)
        .collect()
        .await;
    let sign_in_time = started.elapsed();
    let with_sessions = settle_rss(pid).await;

    // A live stream per session, each read to its end by a task of its own.
    let path = format!(
        "{origin}/api/live/watch?cluster=east&kind=configmaps&namespace={}",
        ns
    );
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(sessions);
    let events = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut streams = Vec::with_capacity(sessions);
    for browser in &browsers {
        let (browser, path, ready, events) = (
            browser.clone(),
            path.clone(),
            ready_tx.clone(),
            events.clone(),
        );
        streams.push(tokio::spawn(async move {
            let mut response = browser
                .get(&path)
                .send()
                .await
                .unwrap_or_else(|e| panic!("stream: {e}"));
            assert!(
                response.status().is_success(),
                "stream refused: {}",
                response.status()
            );
            let mut buffer = String::new();
            let mut readied = false;
            while let Ok(Some(chunk)) = response.chunk().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                if !readied && buffer.contains("event: ready") {
                    readied = true;
                    let _ = ready.send(()).await;
                }
                let seen = buffer.matches("event: change").count();
                events.fetch_add(seen, std::sync::atomic::Ordering::Relaxed);
                if let Some(end) = buffer.rfind("\n\n") {
                    buffer.drain(..end + 2);
                }
            }
        }));
    }
    drop(ready_tx);
    for _ in 0..sessions {
        tokio::time::timeout(Duration::from_secs(60), ready_rx.recv())
            .await
            .unwrap_or_else(|_| panic!("not every stream was ready within 60 s"));
    }
    let with_streams = settle_rss(pid).await;

    // Changes for the streams to carry, twice a second, while the pages load.
    let ticker = {
        let maps = maps.clone();
        tokio::spawn(async move {
            for n in 0u64.. {
                let _ = maps
                    .patch(
                        "ticker",
                        &PatchParams::default(),
                        &Patch::Merge(serde_json::json!({"data": {"n": n.to_string()}})),
                    )
                    .await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    // Page loads on an open-loop schedule: `rate` a second, each timed from its scheduled start.
    let total = (rate * seconds) as usize;
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let began = tokio::time::Instant::now();
    let mut loads = Vec::with_capacity(total);
    let mut peak = with_streams;
    let mut sampled = Instant::now();
    for i in 0..total {
        let due = began + interval * i as u32;
        tokio::time::sleep_until(due).await;
        let browser = browsers[i % browsers.len()].clone();
        let url = format!("{origin}{}", PAGES[(i / browsers.len()) % PAGES.len()]);
        loads.push(tokio::spawn(async move {
            let answer = browser
                .get(url)
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            // A page the user may not see answers 403 with the console's page: served all the same.
            let status = match answer {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if response.bytes().await.is_ok() {
                        status
                    } else {
                        0
                    }
                }
                Err(_) => 0,
            };
            (due.elapsed(), status)
        }));
        if sampled.elapsed() >= Duration::from_secs(1) {
            peak = peak.max(rss_kib(pid));
            sampled = Instant::now();
        }
    }
    let mut times = Vec::with_capacity(total);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for load in loads {
        let (took, status) = load.await.unwrap_or((Duration::MAX, 0));
        *statuses.entry(status).or_default() += 1;
        times.push(took);
    }
    // Served: a page (200) or the console's refusal page (403); failed: errors, 5xx, 429.
    let failed: usize = statuses
        .iter()
        .filter(|(s, _)| !matches!(**s, 200..=299 | 403))
        .map(|(_, n)| n)
        .sum();
    peak = peak.max(rss_kib(pid));
    times.sort();
    let achieved = total as f64 / began.elapsed().as_secs_f64();
    ticker.abort();

    // The end: every stream closed, every session signed out.
    for stream in &streams {
        stream.abort();
    }
    let signed_out = futures::stream::iter(browsers.iter())
        .map(|browser| async move {
            browser
                .post(format!("{origin}/auth/logout"))
                .header("origin", origin)
                .send()
                .await
                .is_ok_and(|r| r.status().is_redirection() || r.status().is_success())
        })
        .buffer_unordered(16)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    drop(browsers);
    let after_end = settle_rss(pid).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after_settle = rss_kib(pid);
    Round {
        sign_in_time,
        events: events.load(std::sync::atomic::Ordering::Relaxed),
        achieved,
        times,
        statuses,
        failed,
        with_sessions,
        with_streams,
        peak,
        signed_out,
        after_end,
        after_settle,
    }
}
