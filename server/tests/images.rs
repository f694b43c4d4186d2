//! Images of the platform registry against the sandbox: the sandbox's real registry (CNCF
//! distribution), real clusters and Dex, and registries of the tests' own (deletion off, basic
//! and token auth, more than a thousand repositories). Scoping as alice, bob and admin through
//! the API; a dry run leaves the registry as it was, confirm deletes; the shared-digest warning;
//! an image in use needs the extra confirmation and names only the places the user may see; an
//! index keeps the children others hold, and its children count as in use with it; a prune
//! keeps what runs by tag and by digest alone and honours each policy (keep-younger-than
//! splitting tags by age, undated ones kept); an unreachable cluster blocks the prune and is
//! named by the delete preview; GC runs with the registry read-only and frees storage on disk,
//! and its failure is reported beside the deletions; scheduled policies act only as far as
//! their author may, through the leader-elected controller.
//!
//! Each test pushes its own repositories under a namespace-like prefix of its own and prunes
//! only there, so the seeded demo content (sandbox/seed-images) and parallel tests are safe.
//! The garbage collection makes the sandbox registry read-only for a moment: tests that write
//! to it share [`REGISTRY`], the GC test holds it alone.

mod support;

use std::{collections::BTreeMap, sync::OnceLock, time::Duration};

use app::{
    images::{
        registry::{PlatformRegistry, Settings},
        service::{Images, Scope},
        types::{
            DeleteOutcome, DeleteResult, ImageList, ImagePrunePolicy, ImagePrunePolicySpec,
            ImageTag, KeepReason, PrunePolicy, PruneRequest, PruneResult,
        },
    },
    platform::registry::ClusterRegistry,
};
use k8s_openapi::api::{
    apps::v1::Deployment,
    rbac::v1::{ClusterRole, ClusterRoleBinding},
};
use kube::{
    Api,
    api::{DeleteParams, PostParams},
};
use serde_json::json;
use server::{AppState, auth::store::Store, limits::Limits, router};
use support::{
    Sandbox, TestNamespace,
    console::{oidc_config, run, runtime, signed_in},
    registry::{PrivateRegistry, Pusher, TokenService, disk_usage, htpasswd_line},
    sandbox,
};

/// `sandbox.console_port + 11`: a redirect URI the sandbox's Dex accepts, used by no other test.
const PORT_OFFSET: u16 = 11;
const ALIAS: &str = "registry.platform.svc:5000";
/// Held shared by every test that writes to the sandbox registry, alone by the GC test (which
/// makes it read-only for a moment).
static REGISTRY: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn settings(sandbox: &Sandbox) -> Settings {
    Settings {
        url: sandbox.registry.clone(),
        credentials_file: None,
        ca_file: None,
        aliases: vec![ALIAS.into()],
        gc_command: Some(registry_gc()),
    }
}

/// This checkout's garbage collection of the sandbox registry (the sandbox may have been
/// started from another checkout, whose script `sandbox.json` names).
fn registry_gc() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sandbox/registry-gc")
}

fn clusters(sandbox: &Sandbox) -> ClusterRegistry {
    runtime()
        .block_on(ClusterRegistry::from_kubeconfig(
            &sandbox.console_kubeconfig,
        ))
        .unwrap_or_else(|e| panic!("registry: {e}"))
}

/// The consoles under test, built once per binary before any request is served: the console
/// (TLS, Dex sign-in, the sandbox registry), and a second one with the same sign-in and
/// sessions whose clusters include `east-down`, which cannot be reached.
struct Consoles {
    origin: String,
    /// Where the second console listens; requests to it carry the first one's Origin.
    down: String,
}

fn consoles() -> &'static Consoles {
    static CONSOLES: OnceLock<Consoles> = OnceLock::new();
    CONSOLES.get_or_init(|| {
        let sandbox = sandbox();
        let rt = runtime();
        let _enter = rt.enter();
        let port = sandbox.console_port + PORT_OFFSET;
        let origin = format!("https://127.0.0.1:{port}");
        let cert = sandbox.serving_cert.to_string_lossy();
        let key = sandbox.serving_key.to_string_lossy();
        let config = oidc_config(
            sandbox,
            &origin,
            None,
            &["--tls-cert-file", &cert, "--tls-key-file", &key],
        );
        let addr = format!("127.0.0.1:{port}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let auth = server::auth::Auth::from_config(&config, addr, Store::default())
            .unwrap_or_else(|e| panic!("auth: {e}"));
        let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("images-site");
        std::fs::create_dir_all(root.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
        let serve = |clusters: ClusterRegistry, listener: std::net::TcpListener| {
            let mut state = AppState::for_site(&root, clusters);
            state.auth = auth.clone();
            state.limits = Limits::from_config(&config);
            state.images = PlatformRegistry::new(&settings(sandbox))
                .unwrap_or_else(|e| panic!("registry: {e}"));
            let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
                .unwrap_or_else(|e| panic!("{e}"));
            rt.spawn(server::tls::serve(
                listener,
                router(state),
                tls,
                axum_server::Handle::new(),
            ));
        };
        let listener =
            std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        serve(clusters(sandbox), listener);

        // The second console: east once more as east-down, through a forwarder that is stopped.
        let mut forwarder = rt.block_on(support::Forwarder::new(&sandbox.cluster("east").server));
        let kubeconfig =
            support::kubeconfig_with_alias(sandbox, "east", "east-down", forwarder.addr);
        let with_down = rt
            .block_on(ClusterRegistry::from_kubeconfig(kubeconfig.path()))
            .unwrap_or_else(|e| panic!("{e}"));
        forwarder.stop();
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let down = format!(
            "https://{}",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        serve(with_down, listener);
        Consoles { origin, down }
    })
}

fn console() -> &'static str {
    &consoles().origin
}

/// The service itself (what the server functions call), with `clusters`.
fn images_with(clusters: ClusterRegistry) -> Images {
    Images {
        registry: PlatformRegistry::new(&settings(sandbox()))
            .unwrap_or_else(|e| panic!("registry: {e}")),
        clusters,
    }
}

/// POSTs `body` to server function `endpoint` of the console at `at` (the first console's
/// Origin either way: both share its sign-in).
async fn call_at<T: serde::de::DeserializeOwned>(
    at: &str,
    browser: &reqwest::Client,
    endpoint: &str,
    body: serde_json::Value,
) -> Result<T, (u16, String)> {
    let response = browser
        .post(format!("{at}/api/{endpoint}"))
        .header("origin", console())
        .json(&body)
        .timeout(Duration::from_secs(90))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{endpoint}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    if status != 200 {
        return Err((status, text));
    }
    serde_json::from_str(&text).map_err(|e| (status, format!("{e}: {text}")))
}

async fn call<T: serde::de::DeserializeOwned>(
    browser: &reqwest::Client,
    endpoint: &str,
    body: serde_json::Value,
) -> Result<T, (u16, String)> {
    call_at(console(), browser, endpoint, body).await
}

async fn list(browser: &reqwest::Client, query: serde_json::Value) -> ImageList {
    call(browser, "images/list", json!({ "query": query }))
        .await
        .unwrap_or_else(|(s, t)| panic!("list: {s} {t}"))
}

/// Every tag `query` matches, page after page (as the page and `ac` read them).
async fn list_all(browser: &reqwest::Client, query: serde_json::Value) -> Vec<ImageTag> {
    let mut items = Vec::new();
    for page in 0.. {
        let mut q = query.clone();
        q["page"] = json!(page);
        q["per_page"] = json!(200);
        let found = list(browser, q).await;
        let done = found.items.is_empty() || items.len() + found.items.len() >= found.total;
        items.extend(found.items);
        if done {
            break;
        }
    }
    items
}

async fn delete(
    browser: &reqwest::Client,
    images: &[&str],
    confirm: bool,
    allow_in_use: bool,
) -> DeleteResult {
    call(
        browser,
        "images/delete",
        json!({"request": {"images": images, "confirm": confirm, "allow_in_use": allow_in_use}}),
    )
    .await
    .unwrap_or_else(|(s, t)| panic!("delete: {s} {t}"))
}

async fn prune(browser: &reqwest::Client, policy: serde_json::Value, confirm: bool) -> PruneResult {
    call(
        browser,
        "images/prune",
        json!({"request": {"policy": policy, "confirm": confirm}}),
    )
    .await
    .unwrap_or_else(|(s, t)| panic!("prune: {s} {t}"))
}

fn pusher() -> Pusher {
    Pusher::new(&sandbox().registry)
}

/// An image of one small layer created at `created`, under `tag`: (manifest, layer digest).
async fn push_image(
    repo: &str,
    tag: Option<&str>,
    build: &str,
    created: &str,
    arch: &str,
) -> (String, String) {
    pusher()
        .image(repo, tag, build, Some(created), arch, 4096)
        .await
}

/// Every tag of every repository under `prefix`, with its digest: what a dry run must not change.
async fn registry_state(prefix: &str) -> BTreeMap<String, String> {
    let registry = images_with(ClusterRegistry::empty()).registry;
    let mut state = BTreeMap::new();
    let repos: Vec<String> = registry
        .catalog()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|r| r.starts_with(prefix))
        .collect();
    for m in registry
        .manifests_of(&repos)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    {
        for tag in &m.tags {
            state.insert(format!("{}:{tag}", m.repository), m.digest.clone());
        }
    }
    state
}

async fn manifest_exists(repo: &str, digest: &str) -> bool {
    pusher().has_manifest(repo, digest).await
}

/// A Deployment `name` on `cluster` in `ns` running `image` (kwok runs any reference).
async fn deploy(cluster: &str, ns: &str, name: &str, image: &str) {
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": name, "image": image}]}}}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    Api::<Deployment>::namespaced(sandbox().cluster(cluster).admin_client().await, ns)
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap_or_else(|e| panic!("deployment {name} on {cluster}: {e}"));
}

fn host() -> String {
    sandbox().registry.trim_start_matches("http://").to_string()
}

/// A repository namespace of this test's own (`t-img-<what>-<run>`).
fn test_prefix(what: &str) -> String {
    format!("t-img-{what}-{}", support::run_id())
}

/// A prefix of the test's own holding one old image no one uses, `<prefix>/app:old`.
async fn one_old_image(what: &str) -> String {
    let prefix = test_prefix(what);
    push_image(
        &format!("{prefix}/app"),
        Some("old"),
        what,
        "2026-01-01T00:00:00Z",
        "amd64",
    )
    .await;
    prefix
}

fn rfc3339_days_ago(days: i64) -> String {
    k8s_openapi::jiff::Timestamp::now()
        .checked_sub(k8s_openapi::jiff::SignedDuration::from_hours(24 * days))
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string()
}

// ------------------------------------------------------------------------------------------
// Listing and scope
// ------------------------------------------------------------------------------------------

#[test]
fn alice_bob_and_admin_each_see_the_images_global_rbac_grants() {
    let origin = console();
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();

        let alice = signed_in(sandbox, origin, "alice").await;
        let first = list(&alice, json!({})).await;
        assert!(!first.all_namespaces);
        assert!(
            first.namespaces.contains(&"team-a".to_string()),
            "{:?}",
            first.namespaces
        );
        let seen = list_all(&alice, json!({})).await;
        assert_eq!(seen.len(), first.total, "every page read");
        let repos: Vec<&str> = seen.iter().map(|t| t.repository.as_str()).collect();
        assert!(
            repos.contains(&"team-a/web"),
            "alice sees team-a: {repos:?}"
        );
        assert!(
            repos.iter().all(|r| r.starts_with("team-a/")),
            "alice sees only team-a: {repos:?}"
        );
        // Where team-a/web:2.0 runs: the seeded Deployment on east, and its Pod.
        let web = seen
            .iter()
            .find(|t| t.repository == "team-a/web" && t.tag == "2.0")
            .unwrap_or_else(|| panic!("team-a/web:2.0 is listed"));
        assert!(
            web.usage
                .iter()
                .any(|u| u.cluster == "east" && u.kind == "Deployment" && u.name == "web"),
            "{:?}",
            web.usage
        );
        assert_eq!(web.shared_with, ["latest"], "two tags on one digest");
        // A delete of another team's image is refused per item, even as a dry run.
        let refused = delete(&alice, &["team-b/api:v1"], false, false).await;
        assert!(
            matches!(refused.items[0].outcome, DeleteOutcome::Forbidden { .. }),
            "{refused:?}"
        );

        let bob = signed_in(sandbox, origin, "bob").await;
        let seen = list_all(&bob, json!({})).await;
        let repos: Vec<&str> = seen.iter().map(|t| t.repository.as_str()).collect();
        assert!(repos.contains(&"team-b/api"), "bob sees team-b: {repos:?}");
        assert!(
            repos.iter().all(|r| r.starts_with("team-b/")),
            "bob sees only team-b: {repos:?}"
        );
        let v3 = seen
            .iter()
            .find(|t| t.repository == "team-b/api" && t.tag == "v3")
            .unwrap_or_else(|| panic!("team-b/api:v3 is listed"));
        assert!(v3.multi_arch, "v3 is an index");
        assert_eq!(v3.platforms, ["linux/amd64", "linux/arm64/v8"]);
        assert!(
            v3.usage.iter().any(|u| u.cluster == "east"),
            "used through the registry's alias: {:?}",
            v3.usage
        );
        // Bob through the page's other calls: alice's image is not his to delete, his prune
        // plans only team-b, and the registry-wide garbage collection is not his to run.
        let refused = delete(&bob, &["team-a/worker:0.1"], true, false).await;
        assert!(
            matches!(refused.items[0].outcome, DeleteOutcome::Forbidden { .. }),
            "{refused:?}"
        );
        let plan = prune(&bob, json!({"all": true}), false).await;
        assert!(
            plan.plan
                .candidates
                .iter()
                .all(|c| c.repository.starts_with("team-b/")),
            "{:?}",
            plan.plan.candidates
        );
        assert!(
            plan.plan
                .kept
                .iter()
                .all(|k| k.repository.starts_with("team-b/")),
            "{:?}",
            plan.plan.kept
        );
        let gc = call::<PruneResult>(
            &bob,
            "images/prune",
            json!({"request": {"policy": {"all": true}, "confirm": true, "gc": true}}),
        )
        .await;
        match gc {
            Err((403, text)) => assert!(text.contains("garbage collection"), "{text}"),
            other => panic!("bob's GC is refused before anything is deleted: {other:?}"),
        }
        assert!(
            list_all(&bob, json!({}))
                .await
                .iter()
                .any(|t| t.repository == "team-b/batch"),
            "the refused prune deleted nothing"
        );

        let admin = signed_in(sandbox, origin, "admin").await;
        let seen = list_all(&admin, json!({})).await;
        let repos: Vec<&str> = seen.iter().map(|t| t.repository.as_str()).collect();
        for repo in [
            "team-a/web",
            "team-b/api",
            "platform/ingress",
            "tools/busybox",
        ] {
            assert!(repos.contains(&repo), "admin sees {repo}: {repos:?}");
        }
        // Filter, sort and page on the server.
        let page = list(
            &admin,
            json!({"namespace": "team-a", "text": "web", "sort": "created", "descending": true, "per_page": 2}),
        )
        .await;
        assert!(page.all_namespaces);
        assert_eq!(page.items.len(), 2);
        assert!(page.total >= 5, "{}", page.total);
        assert!(page.items.iter().all(|t| t.repository == "team-a/web"));
        assert!(page.items[0].created_unix >= page.items[1].created_unix);
        let next = list(
            &admin,
            json!({"namespace": "team-a", "text": "web", "sort": "created", "descending": true, "per_page": 2, "page": 1}),
        )
        .await;
        assert!(next.items[0].created_unix <= page.items[1].created_unix);
        assert_ne!(next.items[0].reference(), page.items[0].reference());
    });
}

// ------------------------------------------------------------------------------------------
// Delete
// ------------------------------------------------------------------------------------------

#[test]
fn a_dry_run_changes_nothing_and_confirm_deletes_every_tag_on_the_digest() {
    let origin = console();
    run(async {
        let _registry = REGISTRY.read().await;
        let prefix = test_prefix("delete");
        let repo = format!("{prefix}/app");
        push_image(&repo, Some("a"), "one", "2026-01-01T00:00:00Z", "amd64").await;
        push_image(&repo, Some("b"), "one", "2026-01-01T00:00:00Z", "amd64").await;
        push_image(&repo, Some("c"), "two", "2026-02-01T00:00:00Z", "amd64").await;
        let admin = signed_in(sandbox(), origin, "admin").await;

        let before = registry_state(&prefix).await;
        assert_eq!(before.len(), 3, "{before:?}");
        let target = format!("{repo}:a");
        let preview = delete(&admin, &[&target], false, false).await;
        assert!(preview.dry_run);
        let item = &preview.items[0];
        assert_eq!(item.outcome, DeleteOutcome::WouldDelete);
        assert_eq!(item.other_tags, ["b"], "the shared-digest warning");
        assert!(item.in_use.is_empty());
        assert_eq!(
            registry_state(&prefix).await,
            before,
            "a dry run changes nothing"
        );

        let done = delete(&admin, &[&target, &format!("{repo}:nope")], true, false).await;
        assert_eq!(done.items[0].outcome, DeleteOutcome::Deleted);
        assert!(
            matches!(done.items[1].outcome, DeleteOutcome::NotFound { .. }),
            "{:?}",
            done.items[1]
        );
        let after: Vec<String> = registry_state(&prefix).await.into_keys().collect();
        assert_eq!(after, [format!("{repo}:c")], "b went with a");
        // The console's own list shows the delete at once (its listing cache is dropped).
        let listed = list_all(&admin, json!({"text": prefix})).await;
        assert_eq!(
            listed.iter().map(|t| t.reference()).collect::<Vec<_>>(),
            [format!("{repo}:c")]
        );
    });
}

#[test]
fn deleting_an_image_in_use_needs_the_extra_confirmation_and_names_only_what_the_user_may_see() {
    let origin = console();
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        // A team-a repository (alice may delete it) run in a namespace alice may not see.
        let repo = format!("team-a/t-img-inuse-{}/svc", support::run_id());
        push_image(&repo, Some("1"), "svc", "2026-01-01T00:00:00Z", "amd64").await;
        let ns = TestNamespace::create(sandbox.cluster("west"), "img").await;
        deploy("west", &ns.name, "svc", &format!("{}/{repo}:1", host())).await;
        let target = format!("{repo}:1");

        let admin = signed_in(sandbox, origin, "admin").await;
        let refused = delete(&admin, &[&target], true, false).await;
        assert_eq!(refused.items[0].outcome, DeleteOutcome::InUse);
        assert!(
            refused.items[0]
                .in_use
                .iter()
                .any(|u| u.cluster == "west" && u.namespace == ns.name),
            "the admin sees where: {:?}",
            refused.items[0].in_use
        );
        assert_eq!(refused.items[0].in_use_elsewhere, 0);

        let alice = signed_in(sandbox, origin, "alice").await;
        // Her list counts the use without naming it (the delete above refreshed the index).
        let rows = list_all(&alice, json!({ "text": repo })).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(
            rows[0].usage.is_empty() && rows[0].usage_elsewhere >= 1,
            "{:?}",
            rows[0]
        );
        let preview = delete(&alice, &[&target], false, false).await;
        let item = &preview.items[0];
        assert_eq!(item.outcome, DeleteOutcome::InUse, "{item:?}");
        assert!(
            item.in_use.is_empty(),
            "alice does not see {}'s Pods: {:?}",
            ns.name,
            item.in_use
        );
        assert!(item.in_use_elsewhere >= 1, "but they are counted: {item:?}");
        assert_eq!(registry_state(&repo).await.len(), 1, "still there");

        let done = delete(&alice, &[&target], true, true).await;
        assert_eq!(done.items[0].outcome, DeleteOutcome::Deleted);
        assert!(registry_state(&repo).await.is_empty());
    });
}

#[test]
fn deleting_an_index_keeps_the_children_others_hold_and_its_children_count_as_in_use() {
    let origin = console();
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let prefix = test_prefix("index");
        let repo = format!("{prefix}/multi");
        let push = pusher();
        let created = Some("2026-01-01T00:00:00Z");
        let (a, _) = push.image(&repo, None, "a", created, "amd64", 2048).await;
        let (b, _) = push.image(&repo, None, "b", created, "arm64", 2048).await;
        let (c, _) = push.image(&repo, None, "c", created, "ppc64le", 2048).await;
        // old lists a and b; live lists b and c and runs on east.
        let old = push
            .index(&repo, "old", &[(a.clone(), "amd64"), (b.clone(), "arm64")])
            .await;
        let live = push
            .index(
                &repo,
                "live",
                &[(b.clone(), "arm64"), (c.clone(), "ppc64le")],
            )
            .await;
        let ns = TestNamespace::create(sandbox.cluster("east"), "img").await;
        deploy("east", &ns.name, "live", &format!("{}/{repo}:live", host())).await;
        let admin = signed_in(sandbox, origin, "admin").await;

        // A child of the index in use is in use, whichever index it is reached through.
        let child = format!("{repo}@{b}");
        let refused = delete(&admin, &[&child], true, false).await;
        let item = &refused.items[0];
        assert_eq!(item.outcome, DeleteOutcome::InUse, "{item:?}");
        assert!(
            item.in_use.iter().any(|u| u.namespace == ns.name),
            "{:?}",
            item.in_use
        );
        assert_eq!(
            item.part_of.len(),
            2,
            "b is in both indexes: {:?}",
            item.part_of
        );
        assert!(manifest_exists(&repo, &b).await);

        // Deleting old takes a (only old lists it) and leaves b, which live still lists.
        let done = delete(&admin, &[&format!("{repo}:old")], true, false).await;
        let item = &done.items[0];
        assert_eq!(item.outcome, DeleteOutcome::Deleted, "{item:?}");
        assert_eq!(item.children_kept, std::slice::from_ref(&b));
        assert!(!manifest_exists(&repo, &old).await, "the index went");
        assert!(
            !manifest_exists(&repo, &a).await,
            "its own child went with it"
        );
        assert!(manifest_exists(&repo, &b).await, "the shared child stayed");
        assert!(manifest_exists(&repo, &live).await && manifest_exists(&repo, &c).await);
    });
}

// ------------------------------------------------------------------------------------------
// Prune
// ------------------------------------------------------------------------------------------

#[test]
fn a_prune_keeps_what_runs_by_tag_or_digest_and_honours_each_policy() {
    let origin = console();
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let prefix = test_prefix("prune");
        let repo = format!("{prefix}/app");
        let created = ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"];
        let mut digests = Vec::new();
        for (i, day) in created.iter().enumerate() {
            let tag = format!("v{}", i + 1);
            let (d, _) = push_image(
                &repo,
                Some(&tag),
                &tag,
                &format!("{day}T00:00:00Z"),
                "amd64",
            )
            .await;
            digests.push(d);
        }
        let push = pusher();
        let mut children = Vec::new();
        for arch in ["amd64", "arm64"] {
            let (d, _) = push
                .image(
                    &repo,
                    None,
                    "multi",
                    Some("2026-01-15T00:00:00Z"),
                    arch,
                    4096,
                )
                .await;
            children.push((d, arch));
        }
        let index = push.index(&repo, "multi", &children).await;
        // v1 runs by tag on east (through the alias), v2 by digest alone on west.
        let east = TestNamespace::create(sandbox.cluster("east"), "img").await;
        let west = TestNamespace::create(sandbox.cluster("west"), "img").await;
        deploy("east", &east.name, "v1", &format!("{ALIAS}/{repo}:v1")).await;
        deploy(
            "west",
            &west.name,
            "v2",
            &format!("{}/{repo}@{}", host(), digests[1]),
        )
        .await;
        let admin = signed_in(sandbox, origin, "admin").await;
        let going = |result: &PruneResult| -> Vec<String> {
            let mut tags: Vec<String> = result
                .plan
                .candidates
                .iter()
                .flat_map(|c| c.tags.clone())
                .collect();
            tags.sort();
            tags
        };

        let before = registry_state(&prefix).await;
        let all = prune(&admin, json!({"all": true, "namespaces": [prefix]}), false).await;
        assert!(all.dry_run);
        assert_eq!(going(&all), ["multi", "v3", "v4"]);
        assert!(all.plan.bytes_reclaimable > 0);
        assert!(
            all.plan.clusters.len() >= 3,
            "every cluster indexed: {:?}",
            all.plan.clusters
        );
        let in_use: Vec<&Vec<String>> = all
            .plan
            .kept
            .iter()
            .filter(|k| matches!(k.reason, KeepReason::InUse { .. }))
            .map(|k| &k.tags)
            .collect();
        assert_eq!(in_use.len(), 2, "v1 by tag, v2 by digest: {in_use:?}");
        assert_eq!(
            registry_state(&prefix).await,
            before,
            "a dry run changes nothing"
        );

        let newest = prune(
            &admin,
            json!({"keepNewest": 1, "namespaces": [prefix]}),
            false,
        )
        .await;
        assert_eq!(going(&newest), ["multi", "v3"], "v4 is the newest");
        let allow = prune(
            &admin,
            json!({"all": true, "allow": [format!("{repo}:v3"), format!("{prefix}/*:multi")], "namespaces": [prefix]}),
            false,
        )
        .await;
        assert_eq!(going(&allow), ["v4"]);
        let young = prune(
            &admin,
            json!({"keepYoungerThan": "5200w", "namespaces": [prefix]}),
            false,
        )
        .await;
        assert!(going(&young).is_empty(), "{:?}", going(&young));

        // Alice may not prune another namespace.
        let alice = signed_in(sandbox, origin, "alice").await;
        let refused = call::<PruneResult>(
            &alice,
            "images/prune",
            json!({"request": {"policy": {"all": true, "namespaces": [prefix]}}}),
        )
        .await;
        assert_eq!(refused.err().map(|(s, _)| s), Some(403));

        let done = prune(&admin, json!({"all": true, "namespaces": [prefix]}), true).await;
        assert!(
            done.deleted.iter().all(|d| d.error.is_none()),
            "{:?}",
            done.deleted
        );
        assert_eq!(done.gc_output, None, "no garbage collection unless asked");
        let left: Vec<String> = registry_state(&prefix).await.into_keys().collect();
        assert_eq!(left, [format!("{repo}:v1"), format!("{repo}:v2")]);
        assert!(!manifest_exists(&repo, &index).await, "the index went");
        for (child, _) in &children {
            assert!(
                !manifest_exists(&repo, child).await,
                "its child {child} went too"
            );
        }
    });
}

#[test]
fn keep_younger_than_splits_tags_by_age_and_keeps_those_of_unknown_age() {
    let origin = console();
    run(async {
        let _registry = REGISTRY.read().await;
        let prefix = test_prefix("age");
        let repo = format!("{prefix}/app");
        let push = pusher();
        for (tag, days) in [("fresh", 2), ("week-old", 6), ("old", 20), ("older", 40)] {
            push.image(
                &repo,
                Some(tag),
                tag,
                Some(&rfc3339_days_ago(days)),
                "amd64",
                1024,
            )
            .await;
        }
        push.image(&repo, Some("undated"), "undated", None, "amd64", 1024)
            .await;
        let admin = signed_in(sandbox(), origin, "admin").await;
        let plan = prune(
            &admin,
            json!({"keepYoungerThan": "7d", "namespaces": [prefix]}),
            false,
        )
        .await;
        let mut going: Vec<String> = plan
            .plan
            .candidates
            .iter()
            .flat_map(|c| c.tags.clone())
            .collect();
        going.sort();
        assert_eq!(going, ["old", "older"], "7 days split the tags");
        let reason = |tag: &str| {
            plan.plan
                .kept
                .iter()
                .find(|k| k.tags == [tag])
                .map(|k| k.reason.clone())
        };
        assert_eq!(
            reason("fresh"),
            Some(KeepReason::Younger { than: "7d".into() })
        );
        assert_eq!(
            reason("undated"),
            Some(KeepReason::Undated { than: "7d".into() }),
            "no creation time: kept, and the plan says why"
        );
        assert!(
            plan.plan
                .candidates
                .iter()
                .all(|c| c.why.contains("older than 7d")),
            "{:?}",
            plan.plan.candidates
        );
    });
}

#[test]
fn an_unreachable_cluster_blocks_the_prune_and_the_delete_preview_names_it_through_the_api() {
    let consoles = consoles();
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let prefix = one_old_image("down").await;
        let repo = format!("{prefix}/app");
        let admin = signed_in(sandbox, &consoles.origin, "admin").await;
        let policy = |exclude: Vec<&str>| json!({"request": {"policy": {"all": true, "namespaces": [prefix], "excludeClusters": exclude}}});
        let refused =
            call_at::<PruneResult>(&consoles.down, &admin, "images/prune", policy(vec![])).await;
        match refused {
            Err((502, text)) => {
                assert!(text.contains("east-down"), "{text}");
                assert!(text.contains("refuses"), "{text}");
            }
            other => panic!("the prune is refused naming east-down, got {other:?}"),
        }
        let planned: PruneResult = call_at(
            &consoles.down,
            &admin,
            "images/prune",
            policy(vec!["east-down"]),
        )
        .await
        .unwrap_or_else(|(s, t)| panic!("{s} {t}"));
        assert_eq!(planned.plan.excluded, ["east-down"]);
        assert_eq!(planned.plan.candidates.len(), 1);

        // The delete preview says the cluster could not be read, instead of "in use".
        let preview: DeleteResult = call_at(
            &consoles.down,
            &admin,
            "images/delete",
            json!({"request": {"images": [format!("{repo}:old")]}}),
        )
        .await
        .unwrap_or_else(|(s, t)| panic!("{s} {t}"));
        assert_eq!(
            preview.items[0].outcome,
            DeleteOutcome::UsageUnknown {
                clusters: vec!["east-down".into()]
            },
            "{preview:?}"
        );
        assert!(preview.unindexed.iter().any(|(c, _)| c == "east-down"));
        assert_eq!(
            registry_state(&prefix).await.len(),
            1,
            "nothing was deleted"
        );
    });
}

// ------------------------------------------------------------------------------------------
// Garbage collection
// ------------------------------------------------------------------------------------------

#[test]
fn garbage_collection_runs_with_the_registry_read_only_and_frees_storage_on_disk() {
    run(async {
        // Alone: the registry refuses writes while it collects.
        let _registry = REGISTRY.write().await;
        let sandbox = sandbox();
        let prefix = test_prefix("gc");
        let repo = format!("{prefix}/app");
        const LAYER: usize = 3_000_000;
        let push = pusher();
        let (_, layer) = push
            .image(
                &repo,
                Some("old"),
                "gc-only",
                Some("2026-01-01T00:00:00Z"),
                "amd64",
                LAYER,
            )
            .await;
        let storage = sandbox.state_dir.join("registry");
        let before = disk_usage(&storage);
        let images = images_with(
            ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let repos = images
            .registry
            .catalog()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Pushes all along: those while the registry collects must be refused.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (done, push, repo) = (done.clone(), push.clone(), format!("{prefix}/writer"));
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut n = 0u64;
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    n += 1;
                    seen.push(push.try_blob(&repo, format!("write {n}").as_bytes()).await);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                seen
            })
        };
        let result = images
            .prune(
                None,
                &Scope::everything(),
                repos,
                &PruneRequest {
                    policy: PrunePolicy {
                        all: true,
                        namespaces: vec![prefix.clone()],
                        ..PrunePolicy::default()
                    },
                    confirm: true,
                    gc: true,
                },
                0,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let writes = writer.await.unwrap_or_default();
        assert_eq!(result.deleted.len(), 1);
        assert_eq!(result.gc_error, None);
        let output = result.gc_output.unwrap_or_default();
        assert!(output.contains("read-only"), "GC output is kept: {output}");
        assert!(output.contains("blob"), "{output}");
        // 405: the read-only registry refusing the upload (0: it was restarting).
        let refused: Vec<_> = writes
            .iter()
            .filter(|w| matches!(w, Err(r) if r.0 == 405))
            .collect();
        assert!(
            !refused.is_empty(),
            "a push during the collection was refused as read-only: {writes:?}"
        );
        assert!(
            writes.iter().any(Result::is_ok),
            "pushes before it went through: {writes:?}"
        );
        // Writable again, and the deleted layer is gone from disk and from what it serves.
        push.try_blob(&format!("{prefix}/writer"), b"after")
            .await
            .unwrap_or_else(|e| panic!("the registry is writable after GC: {e:?}"));
        assert_eq!(
            push.blob_status(&repo, &layer).await,
            404,
            "the restarted registry no longer serves the collected layer"
        );
        let after = disk_usage(&storage);
        assert!(
            before.saturating_sub(after) >= (LAYER as u64) * 9 / 10,
            "GC freed the layer's bytes on disk: {before} B before, {after} B after"
        );
    });
}

#[test]
fn a_failed_or_missing_garbage_collection_is_reported_beside_the_deletions() {
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let prefix = one_old_image("gcfail").await;
        let clusters = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let with_gc = |command: Option<std::path::PathBuf>| Images {
            registry: PlatformRegistry::new(&Settings {
                gc_command: command,
                ..settings(sandbox)
            })
            .unwrap_or_else(|e| panic!("{e}")),
            clusters: clusters.clone(),
        };
        let request = PruneRequest {
            policy: PrunePolicy {
                all: true,
                namespaces: vec![prefix.clone()],
                ..PrunePolicy::default()
            },
            confirm: true,
            gc: true,
        };
        let repos = || async {
            with_gc(None)
                .registry
                .catalog()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        };
        // None configured: refused before anything is deleted.
        let refused = with_gc(None)
            .prune(None, &Scope::everything(), repos().await, &request, 0)
            .await;
        assert!(
            matches!(&refused, Err(app::ConsoleError::Invalid { message }) if message.contains("--registry-gc-command")),
            "{refused:?}"
        );
        assert_eq!(
            registry_state(&prefix).await.len(),
            1,
            "nothing was deleted"
        );
        // One that fails: the deletions stand and the failure is reported beside them.
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("gc-that-fails");
        std::fs::write(&path, "#!/bin/sh\necho 'collector broke' >&2\nexit 3\n")
            .unwrap_or_else(|e| panic!("{e}"));
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let result = with_gc(Some(path.clone()))
            .prune(None, &Scope::everything(), repos().await, &request, 0)
            .await
            .unwrap_or_else(|e| panic!("the prune answers with its results: {e}"));
        assert_eq!(result.deleted.len(), 1);
        assert!(result.deleted.iter().all(|d| d.error.is_none()));
        let error = result.gc_error.unwrap_or_default();
        assert!(error.contains("collector broke"), "{error}");
        assert!(
            registry_state(&prefix).await.is_empty(),
            "the deletion stands"
        );
    });
}

// ------------------------------------------------------------------------------------------
// Registries of the tests' own
// ------------------------------------------------------------------------------------------

#[test]
fn a_registry_that_is_down_or_refuses_deletes_says_so() {
    run(async {
        let down = PlatformRegistry::new(&Settings {
            url: "http://127.0.0.1:9".into(),
            ..Settings::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let error: app::ConsoleError = down
            .catalog()
            .await
            .err()
            .unwrap_or_else(|| panic!("down"))
            .into();
        assert!(error.to_string().contains("does not answer"), "{error}");

        // A second real registry, with deletion left disabled.
        let own = PrivateRegistry::start(false, "").await;
        let push = Pusher::new(&own.url);
        push.image("x/app", Some("v1"), "v1", None, "amd64", 16)
            .await;
        let registry = PlatformRegistry::new(&Settings {
            url: own.url.clone(),
            ..Settings::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let digest = registry
            .resolve("x/app", "v1")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let error: app::ConsoleError = registry
            .delete("x/app", &digest)
            .await
            .err()
            .unwrap_or_else(|| panic!("deletion is disabled"))
            .into();
        assert_eq!(error.http_status(), 403);
        assert!(error.to_string().contains("deletion"), "{error}");
    });
}

#[test]
fn registries_that_want_basic_or_token_credentials_are_read_and_deleted_from() {
    run(async {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            path
        };
        let credentials = |user: &str, password: &str| {
            Some(write(
                &format!("{user}-{password}.json"),
                json!({"username": user, "password": password}).to_string(),
            ))
        };
        let reads_and_deletes = |url: String, file: Option<std::path::PathBuf>| async move {
            let registry = PlatformRegistry::new(&Settings {
                url,
                credentials_file: file,
                ..Settings::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
            let catalog = registry.catalog().await.map_err(|e| e.to_string())?;
            let manifests = registry
                .manifests_of(&catalog)
                .await
                .map_err(|e| e.to_string())?;
            let m = manifests
                .iter()
                .find(|m| m.tags == ["v1"])
                .ok_or_else(|| format!("no v1 in {manifests:?}"))?;
            assert_eq!(m.platforms, ["linux/amd64"], "the config blob was read too");
            registry
                .delete(&m.repository, &m.digest)
                .await
                .map_err(|e| e.to_string())?;
            let left = registry
                .manifests_read(&catalog, app::images::registry::Read::Fresh)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<usize, String>(left.len())
        };

        // Basic: htpasswd.
        let htpasswd = write("htpasswd", htpasswd_line("pusher", "s3cret"));
        let basic = PrivateRegistry::start(
            true,
            &format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                htpasswd.display()
            ),
        )
        .await;
        Pusher::new(&basic.url)
            .basic("pusher", "s3cret")
            .image("team-x/app", Some("v1"), "basic", None, "amd64", 64)
            .await;
        assert_eq!(
            reads_and_deletes(basic.url.clone(), credentials("pusher", "s3cret")).await,
            Ok(0),
            "basic credentials read and delete"
        );
        let wrong = reads_and_deletes(basic.url.clone(), credentials("pusher", "nope")).await;
        assert!(
            wrong
                .as_ref()
                .is_err_and(|e| e.contains("refused the console's credentials")),
            "{wrong:?}"
        );
        let none = reads_and_deletes(basic.url.clone(), None).await;
        assert!(none.is_err(), "{none:?}");

        // Bearer: a token service the registry sends the console to.
        let tokens = TokenService::start("console", "t0ken-pass").await;
        let token = PrivateRegistry::start(true, &tokens.registry_config()).await;
        let issue = reqwest::Client::new()
            .get(format!(
                "{}?service={}&scope=repository:team-y/app:pull,push",
                tokens.realm,
                support::registry::TOKEN_SERVICE
            ))
            .basic_auth("console", Some("t0ken-pass"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json::<serde_json::Value>()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let pushing = issue["token"].as_str().unwrap_or_default().to_string();
        Pusher::new(&token.url)
            .bearer(&pushing)
            .image("team-y/app", Some("v1"), "token", None, "amd64", 64)
            .await;
        let issued_before = tokens.issued.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            reads_and_deletes(token.url.clone(), credentials("console", "t0ken-pass")).await,
            Ok(0),
            "token auth reads and deletes"
        );
        assert!(
            tokens.issued.load(std::sync::atomic::Ordering::SeqCst) > issued_before,
            "the console fetched its tokens from the realm"
        );
        let wrong = reads_and_deletes(token.url.clone(), credentials("console", "bad")).await;
        assert!(
            wrong
                .as_ref()
                .is_err_and(|e| e.contains("refused the console's credentials")),
            "{wrong:?}"
        );
    });
}

#[test]
fn the_catalog_is_read_past_a_thousand_repositories() {
    run(async {
        let own = PrivateRegistry::start(true, "").await;
        let push = Pusher::new(&own.url);
        let config = b"{\"architecture\":\"amd64\",\"os\":\"linux\"}";
        let repos: Vec<String> = (0..1_005).map(|i| format!("many/r{i:04}")).collect();
        futures::StreamExt::for_each_concurrent(
            futures::stream::iter(repos.iter()),
            16,
            |repo| {
                let push = push.clone();
                async move {
                    let config_digest = push.blob(repo, config).await;
                    let manifest = serde_json::to_vec(&json!({
                        "schemaVersion": 2, "mediaType": support::registry::OCI_MANIFEST,
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
                        "layers": []
                    }))
                    .unwrap_or_default();
                    push.manifest(repo, "v1", support::registry::OCI_MANIFEST, &manifest)
                        .await;
                }
            },
        )
        .await;
        // The registry answers at most 1,000 a page: two pages.
        let first_page: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/v2/_catalog?n=1000", own.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            first_page["repositories"].as_array().map(Vec::len),
            Some(1000)
        );
        let registry = PlatformRegistry::new(&Settings {
            url: own.url.clone(),
            ..Settings::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut catalog = registry.catalog().await.unwrap_or_else(|e| panic!("{e}"));
        catalog.sort();
        assert_eq!(catalog, repos, "every repository, through the Link header");
        let manifests = registry
            .manifests_of(&catalog)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifests.len(), 1_005);
    });
}

// ------------------------------------------------------------------------------------------
// Scheduled policies
// ------------------------------------------------------------------------------------------

/// A policy `name` labelled for this test's controller, with `spec` and `annotations`.
fn policy_object(
    name: &str,
    run_id: &str,
    spec: ImagePrunePolicySpec,
    annotations: Option<BTreeMap<String, String>>,
) -> ImagePrunePolicy {
    let mut policy = ImagePrunePolicy::new(name, spec);
    policy.metadata.labels = Some([(support::RUN_LABEL.to_string(), run_id.to_string())].into());
    policy.metadata.annotations = annotations;
    policy
}

/// Runs the images controller for the policies labelled `run_id`, under leader election on a
/// lease of its own (as the console runs it), until the returned task is aborted.
async fn lead_controller(run_id: &str) -> tokio::task::JoinHandle<()> {
    let sandbox = sandbox();
    let global = support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
    server::controllers::install_crds(&global)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let clusters = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let registry = images_with(ClusterRegistry::empty()).registry;
    let watch = kube::runtime::watcher::Config::default()
        .labels(&format!("{}={run_id}", support::RUN_LABEL));
    let lease = format!("t-img-lease-{run_id}");
    tokio::spawn(async move {
        server::controllers::leader::lead(
            global.clone(),
            format!("t-img-{}", std::process::id()),
            &lease,
            || {
                vec![tokio::spawn(server::controllers::images::run(
                    server::controllers::images::Context::new(
                        global.clone(),
                        clusters.clone(),
                        registry.clone(),
                    ),
                    watch.clone(),
                ))]
            },
        )
        .await;
    })
}

#[test]
fn a_policy_without_an_author_prunes_nothing_and_says_why() {
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let prefix = one_old_image("noauthor").await;
        let run_id = support::run_id();
        let name = format!("t-img-noauthor-{run_id}");
        let policies = Api::<ImagePrunePolicy>::all(sandbox.cluster("global").admin_client().await);
        let controller = lead_controller(&run_id).await;
        policies
            .create(
                &PostParams::default(),
                &policy_object(
                    &name,
                    &run_id,
                    ImagePrunePolicySpec {
                        schedule: "@every 10s".into(),
                        policy: PrunePolicy {
                            all: true,
                            namespaces: vec![prefix.clone()],
                            ..PrunePolicy::default()
                        },
                        ..ImagePrunePolicySpec::default()
                    },
                    None,
                ),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let state = support::eventually("the policy refused", 60, || async {
            let state = policies
                .get(&name)
                .await
                .map_err(|e| e.to_string())?
                .status
                .unwrap_or_default();
            match state.authorized() {
                Some(c) if c.status == "False" => Ok(state),
                _ => Err(format!("{state:?}")),
            }
        })
        .await;
        // Another interval: still nothing.
        tokio::time::sleep(Duration::from_secs(12)).await;
        controller.abort();
        let _ = policies.delete(&name, &DeleteParams::default()).await;
        let condition = state.authorized().cloned().unwrap_or_default();
        assert_eq!(condition.reason, "AuthorUnknown");
        assert!(
            condition.message.contains("no author is recorded"),
            "{condition:?}"
        );
        assert!(
            state
                .message
                .unwrap_or_default()
                .contains("nothing was pruned")
        );
        assert!(state.history.is_empty(), "no run: {:?}", state.history);
        assert_eq!(
            registry_state(&prefix).await.len(),
            1,
            "nothing was deleted"
        );
    });
}

#[test]
fn a_policy_authored_by_alice_prunes_only_what_alice_may_through_the_leader_elected_controller() {
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let run_id = support::run_id();
        // Alice's image in team-a (three segments, so the allow list below leaves it to go)
        // and an image outside team-a that an unscoped prune would take.
        let mine = format!("team-a/t-img-author-{run_id}/app");
        let theirs = format!("{}/app", test_prefix("notalice"));
        push_image(&mine, Some("old"), "mine", "2026-01-01T00:00:00Z", "amd64").await;
        push_image(
            &theirs,
            Some("old"),
            "theirs",
            "2026-01-01T00:00:00Z",
            "amd64",
        )
        .await;

        // Alice may write ImagePrunePolicies (through a group of this test's own).
        let global_admin = sandbox.cluster("global").admin_client().await;
        let group = format!("t-img-authors-{run_id}");
        let role: ClusterRole = serde_json::from_value(json!({
            "metadata": {"name": group},
            "rules": [{"apiGroups": ["platform.nextgen-console.io"], "resources": ["imageprunepolicies"], "verbs": ["get", "list", "create", "delete"]}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": {"name": group},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": group},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let roles = Api::<ClusterRole>::all(global_admin.clone());
        let bindings = Api::<ClusterRoleBinding>::all(global_admin.clone());
        roles
            .create(&PostParams::default(), &role)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        bindings
            .create(&PostParams::default(), &binding)
            .await
            .unwrap_or_else(|e| panic!("{e}"));

        let groups = ["team-a", group.as_str()];
        let alice = sandbox
            .cluster("global")
            .client_as("alice@example.com", &groups)
            .await;
        let name = format!("t-img-alice-{run_id}");
        let spec = ImagePrunePolicySpec {
            schedule: "@every 1h".into(),
            policy: PrunePolicy {
                all: true,
                // What stays of team-a: the seeded repositories and the delete test's.
                allow: vec!["team-a/*".into(), "team-a/t-img-inuse-*/**".into()],
                ..PrunePolicy::default()
            },
            ..ImagePrunePolicySpec::default()
        };
        // The admission policy refuses an author annotation that names someone else.
        let controller = lead_controller(&run_id).await;
        let forged = Api::<ImagePrunePolicy>::all(alice.clone())
            .create(
                &PostParams::default(),
                &policy_object(
                    &format!("{name}-forged"),
                    &run_id,
                    spec.clone(),
                    Some(support::authored_by(
                        "admin@example.com",
                        &["platform-admins"],
                    )),
                ),
            )
            .await;
        assert!(
            forged.is_err(),
            "alice cannot claim to be the admin: {forged:?}"
        );
        Api::<ImagePrunePolicy>::all(alice)
            .create(
                &PostParams::default(),
                &policy_object(
                    &name,
                    &run_id,
                    spec,
                    Some(support::authored_by("alice@example.com", &groups)),
                ),
            )
            .await
            .unwrap_or_else(|e| panic!("alice writes her policy: {e}"));
        let policies = Api::<ImagePrunePolicy>::all(global_admin);
        let state = support::eventually("alice's policy ran", 90, || async {
            let state = policies
                .get(&name)
                .await
                .map_err(|e| e.to_string())?
                .status
                .unwrap_or_default();
            if state.history.is_empty() {
                Err(format!("{state:?}"))
            } else {
                Ok(state)
            }
        })
        .await;
        controller.abort();
        let _ = policies.delete(&name, &DeleteParams::default()).await;
        let _ = bindings.delete(&group, &DeleteParams::default()).await;
        let _ = roles.delete(&group, &DeleteParams::default()).await;

        let run = &state.history[0];
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        assert!(!run.dry_run);
        assert_eq!(run.scope, "namespaces team-a", "{run:?}");
        assert!(run.deleted >= 1, "{run:?}");
        assert!(
            run.plan.iter().all(|line| line.starts_with("team-a/")),
            "only team-a was planned: {:?}",
            run.plan
        );
        assert_eq!(state.author.as_deref(), Some("alice@example.com"));
        let condition = state.authorized().cloned().unwrap_or_default();
        assert_eq!(condition.status, "True", "{condition:?}");
        assert!(
            registry_state(&mine).await.is_empty(),
            "alice's image was pruned"
        );
        assert_eq!(
            registry_state(&theirs).await.len(),
            1,
            "nothing outside team-a was touched"
        );
        assert!(
            !registry_state("team-a/web").await.is_empty(),
            "the allow list kept team-a's own"
        );
    });
}

#[test]
fn a_scheduled_policy_runs_twice_and_keeps_its_history() {
    run(async {
        let _registry = REGISTRY.read().await;
        let sandbox = sandbox();
        let prefix = one_old_image("sched").await;
        let run_id = support::run_id();
        let name = format!("t-img-{run_id}");
        let (user, groups) = support::PLATFORM_ADMIN;
        let as_admin = sandbox.cluster("global").client_as(user, groups).await;
        let controller = lead_controller(&run_id).await;
        Api::<ImagePrunePolicy>::all(as_admin)
            .create(
                &PostParams::default(),
                &policy_object(
                    &name,
                    &run_id,
                    ImagePrunePolicySpec {
                        schedule: "@every 10s".into(),
                        policy: PrunePolicy {
                            all: true,
                            namespaces: vec![prefix.clone()],
                            ..PrunePolicy::default()
                        },
                        dry_run: true,
                        ..ImagePrunePolicySpec::default()
                    },
                    Some(support::authored_by(user, groups)),
                ),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let policies = Api::<ImagePrunePolicy>::all(sandbox.cluster("global").admin_client().await);
        let state = support::eventually("two runs in the history", 90, || async {
            let found = policies.get(&name).await.map_err(|e| e.to_string())?;
            let state = found.status.unwrap_or_default();
            if state.history.len() >= 2 {
                Ok(state)
            } else {
                Err(format!("{state:?}"))
            }
        })
        .await;
        controller.abort();
        let _ = policies.delete(&name, &DeleteParams::default()).await;
        for run in &state.history {
            assert!(run.errors.is_empty(), "{:?}", run.errors);
            assert_eq!(run.candidates, 1, "{run:?}");
            assert!(run.dry_run);
            assert_eq!(run.deleted, 0);
            assert_eq!(run.scope, "every repository");
        }
        assert!(state.next_run.is_some());
        assert_eq!(
            registry_state(&prefix).await.len(),
            1,
            "dry-run policies delete nothing"
        );
    });
}

#[test]
fn the_prune_cronjob_is_accepted_by_a_server_side_dry_run_on_global() {
    let origin = console();
    run(async {
        let sandbox = sandbox();
        let request = json!({
            "schedule": "0 3 * * *",
            "policy": {"keepNewest": 3, "keepYoungerThan": "7d", "namespaces": ["team-a"]},
            "gc": true,
            "server": "https://console.example",
            "ca": true,
        });
        let admin = signed_in(sandbox, origin, "admin").await;
        let yaml: String = call(&admin, "images/prune-cronjob", json!({"request": request}))
            .await
            .unwrap_or_else(|(s, t)| panic!("cronjob: {s} {t}"));
        assert!(yaml.contains("kind: CronJob"), "{yaml}");
        assert!(yaml.contains("--keep-tag-revisions=3"), "{yaml}");
        assert!(yaml.contains("--keep-younger-than=7d"), "{yaml}");
        assert!(yaml.contains("--gc"), "{yaml}");
        for expected in [
            "AC_SERVER",
            "https://console.example",
            "AC_TOKEN",
            "secretKeyRef",
            "prune-images-ac",
            "AC_CERTIFICATE_AUTHORITY",
            "serviceAccountName",
            // The default image: the ac of this version in the platform registry.
            &format!("{}/platform/ac:", host()),
            "kubectl -n nextgen-console-system create secret generic prune-images-ac",
        ] {
            assert!(yaml.contains(expected), "{expected} in {yaml}");
        }
        // Nothing was created: it was a dry run.
        let cronjobs = Api::<k8s_openapi::api::batch::v1::CronJob>::namespaced(
            sandbox.cluster("global").admin_client().await,
            app::images::api::CRONJOB_NAMESPACE,
        );
        assert!(
            cronjobs
                .get_opt("prune-images")
                .await
                .ok()
                .flatten()
                .is_none()
        );
        // Alice may not create CronJobs there.
        let alice = signed_in(sandbox, origin, "alice").await;
        let refused = call::<String>(
            &alice,
            "images/prune-cronjob",
            json!({"request": {"schedule": "0 3 * * *", "server": "https://console.example"}}),
        )
        .await;
        assert_eq!(refused.err().map(|(s, _)| s), Some(403));
    });
}
