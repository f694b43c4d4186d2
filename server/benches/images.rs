//! Images at scale, two ways. The real path: a registry of 10,000 tags over 500 repositories
//! (every fifth tag on the same digest as the one before), pushed once over the distribution API
//! into Debian's docker-registry (the registry the sandbox runs, with the sandbox's settings) on
//! a loopback port and a storage of the benchmark's own under the target dir, so the shared
//! sandbox registry that every test and page lists is not filled with 10,000 tags; then the
//! console's own client lists it cold (a new client: catalog, every tag list, one HEAD per tag,
//! one manifest and one config blob per digest) and warm (the same client within its listing
//! TTL), through the same `Images::list` the page calls. In memory (no registry): building the
//! rows and answering a filtered, sorted page, indexing 100 clusters' references (300 Pods and
//! 100 Deployments each) and planning a prune over it. Run with
//! `cargo bench -p server --bench images`.

#[path = "../tests/support/registry.rs"]
#[allow(dead_code)]
mod own_registry;
#[path = "report/mod.rs"]
mod report;

use std::time::{Duration, Instant};

use app::images::{
    registry::{PlatformRegistry, Settings},
    service::{Images, Scope},
    types::{
        ImageQuery, ImageSort, Manifest, OCI_INDEX, OCI_MANIFEST, PrunePolicy, Usage, UsageIndex,
        UsageVia, plan_prune, query_tags, tag_rows,
    },
};
use app::platform::registry::ClusterRegistry;
use futures::StreamExt as _;

const HOST: &str = "registry.example:5000";

fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

/// 500 repositories of 20 tags, every tenth repository's tags multi-arch, every fifth manifest
/// tagged twice.
fn registry(repositories: usize, tags_per_repo: usize) -> Vec<Manifest> {
    let mut manifests = Vec::new();
    let mut n = 0;
    for r in 0..repositories {
        let repository = format!("team-{:02}/app-{r:03}", r % 40);
        let mut t = 0;
        while t < tags_per_repo {
            n += 1;
            let shared = n % 5 == 0 && t + 1 < tags_per_repo;
            let mut tags = vec![format!("1.{t}")];
            if shared {
                tags.push(format!("1.{}", t + 1));
            }
            t += tags.len();
            let multi = r % 10 == 0;
            manifests.push(Manifest {
                repository: repository.clone(),
                digest: digest(n),
                media_type: if multi { OCI_INDEX } else { OCI_MANIFEST }.into(),
                tags,
                platforms: if multi {
                    vec!["linux/amd64".into(), "linux/arm64".into()]
                } else {
                    vec!["linux/amd64".into()]
                },
                children: if multi {
                    vec![digest(1_000_000 + 2 * n), digest(1_000_001 + 2 * n)]
                } else {
                    Vec::new()
                },
                blobs: vec![
                    (digest(2_000_000 + n), 1_000),
                    (digest(3_000_000 + n % 50), 50_000_000),
                ],
                size: 50_001_000,
                created: None,
                created_unix: Some(1_700_000_000 + n as i64 * 600),
            });
        }
    }
    manifests
}

/// Every cluster's references: 300 Pods (spec by tag and imageID by digest) and 100
/// Deployments, spread over the registry, plus images of other registries.
fn references(clusters: usize, manifests: &[Manifest]) -> Vec<(String, Usage)> {
    let mut refs = Vec::new();
    for c in 0..clusters {
        for p in 0..400 {
            // Clusters run a fifth of the registry's manifests (every fifth one); the rest is unused.
            let hot = manifests.len() / 5;
            let m = &manifests[(c * 7919 + p * 104_729) % hot * 5 % manifests.len()];
            let usage = |kind: &str, via| Usage {
                cluster: format!("cluster-{c:03}"),
                namespace: m.namespace().unwrap_or_default().to_string(),
                kind: kind.into(),
                name: format!("w{p}"),
                via,
            };
            if p < 300 {
                refs.push((
                    format!("{HOST}/{}:{}", m.repository, m.tags[0]),
                    usage("Pod", UsageVia::Tag),
                ));
                refs.push((
                    format!("docker-pullable://{HOST}/{}@{}", m.repository, m.digest),
                    usage("Pod", UsageVia::ImageId),
                ));
                refs.push((
                    format!("docker.io/library/nginx:1.{p}"),
                    usage("Pod", UsageVia::Tag),
                ));
            } else {
                refs.push((
                    format!("{HOST}/{}@{}", m.repository, m.digest),
                    usage("Deployment", UsageVia::Digest),
                ));
            }
        }
    }
    refs
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed());
    }
    times.sort();
    let median = report::percentile(&times, 0.5);
    match last {
        Some(v) => (median, v),
        None => panic!("no runs"),
    }
}

/// Pushes `repositories` repositories of `tags_per_repo` tags into the registry at `url`
/// (skipping what is there already: the storage is kept between runs); returns how many tags
/// the registry then holds and how long pushing took.
async fn fill(url: &str, repositories: usize, tags_per_repo: usize) -> (usize, Duration) {
    let started = Instant::now();
    let push = own_registry::Pusher::new(url);
    let pushed = futures::stream::iter(0..repositories)
        .map(|r| {
            let push = push.clone();
            async move {
                let repo = format!("bench-{:02}/app-{r:03}", r % 40);
                let layer = format!("bench layer of {repo}\n{}", "x".repeat(1024)).into_bytes();
                let layer_digest = push.blob(&repo, &layer).await;
                let config = serde_json::to_vec(&serde_json::json!({
                    "architecture": "amd64", "os": "linux",
                    "created": format!("2026-01-01T{:02}:{:02}:00Z", r / 60 % 24, r % 60),
                    "rootfs": {"type": "layers", "diff_ids": [layer_digest]}
                }))
                .unwrap_or_default();
                let config_digest = push.blob(&repo, &config).await;
                let mut body = Vec::new();
                for t in 0..tags_per_repo {
                    // Every fifth tag on the digest of the one before.
                    if t % 5 != 4 || body.is_empty() {
                        body = serde_json::to_vec(&serde_json::json!({
                            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
                            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
                            "annotations": {"org.opencontainers.image.version": format!("1.{t}")}
                        }))
                        .unwrap_or_default();
                    }
                    push.manifest(&repo, &format!("1.{t}"), OCI_MANIFEST, &body).await;
                }
                tags_per_repo
            }
        })
        .buffer_unordered(16)
        .fold(0, |sum, n| async move { sum + n })
        .await;
    (pushed, started.elapsed())
}

/// The real path: the console's client listing a registry of `tags` tags, cold and warm.
async fn real_registry(repositories: usize, tags_per_repo: usize) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-images-registry");
    let marker = dir.join(format!("filled-{repositories}x{tags_per_repo}"));
    let own = own_registry::PrivateRegistry::start_in(&dir, true, "").await;
    let push_time = if marker.exists() {
        None
    } else {
        let (_, took) = fill(&own.url, repositories, tags_per_repo).await;
        std::fs::write(&marker, b"").unwrap_or_else(|e| panic!("{e}"));
        Some(took)
    };
    let settings = Settings {
        url: own.url.clone(),
        ..Settings::default()
    };
    let query = ImageQuery {
        sort: ImageSort::Created,
        descending: true,
        per_page: 50,
        ..ImageQuery::default()
    };
    let images = || Images {
        registry: PlatformRegistry::new(&settings).unwrap_or_else(|e| panic!("{e}")),
        clusters: ClusterRegistry::empty(),
    };
    let list = |images: Images| {
        let query = query.clone();
        async move {
            let started = Instant::now();
            let repos = images
                .registry
                .catalog()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let page = images
                .list(None, &Scope::everything(), repos, &query)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            (started.elapsed(), page.total)
        }
    };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut total = 0;
    for _ in 0..3 {
        let fresh = images();
        let (took, n) = list(fresh.clone()).await;
        cold.push(took);
        total = n;
        for _ in 0..5 {
            warm.push(list(fresh.clone()).await.0);
        }
    }
    cold.sort();
    warm.sort();
    let cold_median = report::percentile(&cold, 0.5);
    let warm_median = report::percentile(&warm, 0.5);
    println!(
        "real registry (docker-registry on loopback): {total} tags over {repositories} repositories{}",
        push_time.map_or(String::new(), |t| format!(
            ", pushed in {:.1} s",
            t.as_secs_f64()
        ))
    );
    println!("  list, cold (new client)   {}", report::ms(cold_median));
    println!("  list, warm (within TTL)   {}", report::ms(warm_median));
    report::line(
        &format!(
            "images list on a real registry, {total} tags / {repositories} repositories, cold (median of 3)"
        ),
        &report::ms(cold_median),
        "< 10 s",
        "-",
    );
    report::line(
        &format!(
            "images list on a real registry, {total} tags, warm within the 30 s TTL (median of 15)"
        ),
        &report::ms(warm_median),
        "< 200 ms",
        &format!("cold {}", report::ms(cold_median)),
    );
}

fn main() {
    let repositories = report::setting("IMAGE_REPOSITORIES", 500);
    let tags_per_repo = report::setting("IMAGE_TAGS_PER_REPOSITORY", 20);
    let clusters = report::setting("IMAGE_CLUSTERS", 100);
    let manifests = registry(repositories, tags_per_repo);
    let tags: usize = manifests.iter().map(|m| m.tags.len()).sum();
    let refs = references(clusters, &manifests);

    let (index_time, index) = time(5, || {
        let mut index = UsageIndex::new(&[HOST.to_string()]);
        for (image, usage) in &refs {
            index.record(image, usage.clone());
        }
        index
    });

    let query = ImageQuery {
        namespace: Some("team-07".into()),
        text: "app".into(),
        sort: ImageSort::Created,
        descending: true,
        per_page: 50,
        ..ImageQuery::default()
    };
    let (list_time, (page, total)) = time(10, || {
        let rows = tag_rows(&manifests, &index, |_| true);
        query_tags(rows, &query)
    });
    let all_query = ImageQuery {
        sort: ImageSort::Usage,
        descending: true,
        ..ImageQuery::default()
    };
    let (list_all_time, (_, all_total)) = time(10, || {
        let rows = tag_rows(&manifests, &index, |_| true);
        query_tags(rows, &all_query)
    });
    assert_eq!(all_total, tags);

    let policy = PrunePolicy {
        keep_newest: Some(5),
        keep_younger_than: Some("30d".into()),
        allow: vec!["team-00/**".into(), "**:release-*".into()],
        ..PrunePolicy::default()
    };
    let now = 1_700_000_000 + (tags as i64) * 600;
    let (plan_time, plan) = time(10, || {
        plan_prune(&manifests, &index, &policy, now).unwrap_or_else(|e| panic!("{e}"))
    });

    println!(
        "images: {tags} tags over {repositories} repositories ({} manifests); {clusters} clusters, {} references ({} of the registry)",
        manifests.len(),
        refs.len(),
        index.len()
    );
    println!(
        "  usage index of {clusters} clusters   {}",
        report::ms(index_time)
    );
    println!(
        "  list: rows + page of 50 ({total} match)   {}",
        report::ms(list_time)
    );
    println!(
        "  list: all {all_total} sorted by usage   {}",
        report::ms(list_all_time)
    );
    println!(
        "  prune plan: {} candidates, {} kept, {:.1} GB reclaimable   {}",
        plan.candidates.len(),
        plan.kept.len(),
        plan.bytes_reclaimable as f64 / 1e9,
        report::ms(plan_time)
    );
    assert_eq!(page.len(), page.len().min(50));
    report::line(
        &format!("images list, {tags} tags / {repositories} repositories (median)"),
        &report::ms(list_time),
        "< 100 ms",
        "-",
    );
    report::line(
        &format!("images usage index, {clusters} clusters (median)"),
        &report::ms(index_time),
        "-",
        "-",
    );
    report::line(
        &format!("images prune plan, {tags} tags x {clusters} clusters (median)"),
        &report::ms(plan_time),
        "< 1 s",
        "-",
    );

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .block_on(real_registry(repositories, tags_per_repo));
}
