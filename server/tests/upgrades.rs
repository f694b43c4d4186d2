//! Cluster plugins and ClusterVersionShadow updates against the sandbox, with the console's
//! controllers running as the console: plugins install as Deployments on the workload cluster,
//! the lifecycle rules hold (Core refuses a standalone upgrade, Aligned stays within the
//! cluster's release, Agnostic moves freely), and a cvsh request is blocked by preflight, then
//! moves through its stages, upgrading the Core plugins for real, into the history.

mod support;

use app::{
    clusters::resource::Cluster,
    platform::registry::ClusterRegistry,
    plugins::resource::{
        ClusterPlugin, ClusterPluginSpec, PluginPhase, PluginState, VERSION_ANNOTATION,
        plugin_resource_name,
    },
    upgrades::shadow::{
        CheckResult, ClusterVersionShadow, ClusterVersionShadowSpec, DesiredUpdate,
        PREFLIGHT_BLOCKED, PROGRESSING, RunState, ShadowState, StageState,
    },
};
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Namespace};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, PostParams},
    runtime::watcher,
};
use support::{RUN_LABEL, eventually, sandbox};

struct Fixture {
    run: String,
    /// The plugin namespace the controllers use on the workload clusters.
    namespace: String,
    plugins: Api<ClusterPlugin>,
    shadows: Api<ClusterVersionShadow>,
    secret: String,
    /// The Cluster resources of this run, and the sandbox clusters they point at.
    clusters: Vec<String>,
    targets: Vec<&'static str>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Fixture {
    /// Registers `targets` (sandbox clusters) as Cluster resources of this run and starts the
    /// plugin and cvsh controllers for this run's resources, as the console.
    async fn start(targets: &[&'static str]) -> (Fixture, Vec<String>) {
        use base64::Engine as _;
        let sandbox = sandbox();
        let console = support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
        server::controllers::install_crds(&console)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let run = support::run_id();
        let admin = sandbox.cluster("global").admin_client().await;
        let secret = support::console_credential_secret(sandbox, &format!("u-{run}")).await;
        let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
        let mut names = Vec::new();
        for target in targets {
            let name = format!("u-{run}-{target}");
            // Owns the credential Secret, without which the console does not use it.
            support::create_cluster(
                &admin,
                &support::cluster_resource(
                    &name,
                    &run,
                    sandbox.cluster(target).server.clone(),
                    &ca,
                    &secret,
                ),
            )
            .await;
            names.push(name);
        }
        // No Cluster controller runs here, so nothing changes these Clusters after they are
        // listed: the registry must take them from its initial list alone.
        let registry = ClusterRegistry::empty();
        let mut tasks = vec![tokio::spawn(registry.clone().follow(console.clone()))];
        for name in &names {
            eventually("registered", 30, || {
                let registry = registry.clone();
                async move {
                    registry
                        .console_client(name)
                        .map(|_| ())
                        .map_err(|e| format!("{e}; registered: {:?}", registry.list()))
                }
            })
            .await;
        }
        let namespace = format!("plugins-{run}");
        let watch = || watcher::Config::default().labels(&format!("{RUN_LABEL}={run}"));
        tasks.push(tokio::spawn(server::controllers::plugins::run(
            server::controllers::plugins::Context::new(
                console.clone(),
                registry.clone(),
                namespace.clone(),
            ),
            watch(),
        )));
        tasks.push(tokio::spawn(server::controllers::shadows::run(
            server::controllers::shadows::Context {
                global: console.clone(),
                clusters: registry,
            },
            watch(),
        )));
        let fixture = Fixture {
            plugins: Api::all(admin.clone()),
            shadows: Api::all(admin.clone()),
            run,
            namespace,
            secret,
            clusters: names.clone(),
            targets: targets.to_vec(),
            tasks,
        };
        (fixture, names)
    }

    fn labels(&self) -> Option<std::collections::BTreeMap<String, String>> {
        Some([(RUN_LABEL.to_string(), self.run.clone())].into())
    }

    async fn install(&self, cluster: &str, plugin: &str, version: &str) {
        let mut resource = ClusterPlugin::new(
            &plugin_resource_name(cluster, plugin),
            ClusterPluginSpec {
                cluster: cluster.into(),
                plugin: plugin.into(),
                version: version.into(),
                monitoring: None,
            },
        );
        resource.metadata.labels = self.labels();
        self.plugins
            .create(&PostParams::default(), &resource)
            .await
            .unwrap_or_else(|e| panic!("plugin {plugin}: {e}"));
    }

    async fn shadow(&self, cluster: &str, request: Option<DesiredUpdate>) {
        let mut shadow = ClusterVersionShadow::new(
            cluster,
            ClusterVersionShadowSpec {
                desired_update: request,
            },
        );
        shadow.metadata.labels = self.labels();
        self.shadows
            .create(&PostParams::default(), &shadow)
            .await
            .unwrap_or_else(|e| panic!("cvsh {cluster}: {e}"));
    }

    async fn set_version(&self, cluster: &str, plugin: &str, version: &str) {
        self.plugins
            .patch(
                &plugin_resource_name(cluster, plugin),
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"version": version}})),
            )
            .await
            .unwrap_or_else(|e| panic!("{plugin} → {version}: {e}"));
    }

    async fn request(&self, cluster: &str, release: &str, force: bool) {
        self.shadows
            .patch(
                cluster,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({
                    "spec": {"desiredUpdate": {"release": release, "force": force}}
                })),
            )
            .await
            .unwrap_or_else(|e| panic!("cvsh {cluster} → {release}: {e}"));
    }

    /// Waits until the plugin's status (for its current generation) satisfies `want`.
    async fn plugin_until(
        &self,
        cluster: &str,
        plugin: &str,
        what: &str,
        want: impl Fn(&PluginState) -> bool,
    ) -> PluginState {
        let name = plugin_resource_name(cluster, plugin);
        eventually(&format!("{name} {what}"), 60, || async {
            let found = self.plugins.get(&name).await.map_err(|e| e.to_string())?;
            let state = found.status.clone().unwrap_or_default();
            if state.observed_generation == found.metadata.generation && want(&state) {
                Ok(state)
            } else {
                Err(format!("{state:?}"))
            }
        })
        .await
    }

    async fn shadow_until(
        &self,
        cluster: &str,
        what: &str,
        want: impl Fn(&ShadowState) -> bool,
    ) -> ShadowState {
        eventually(&format!("cvsh {cluster} {what}"), 90, || async {
            let state = self
                .shadows
                .get_status(cluster)
                .await
                .map_err(|e| e.to_string())?
                .status
                .unwrap_or_default();
            if want(&state) {
                Ok(state)
            } else {
                Err(format!("{state:#?}"))
            }
        })
        .await
    }

    /// The version the plugin's Deployment on `target` (a sandbox cluster) is set to run.
    async fn deployed(&self, target: &str, plugin: &str) -> Option<String> {
        let client = sandbox().cluster(target).admin_client().await;
        Api::<Deployment>::namespaced(client, &self.namespace)
            .get_opt(&server::controllers::plugins::deployment_name(plugin))
            .await
            .ok()
            .flatten()
            .and_then(|d| d.annotations().get(VERSION_ANNOTATION).cloned())
    }
}

/// Cleans up when the test ends, passed or panicked (a failed run must not leave Clusters and
/// ClusterPlugins behind for a console on the same sandbox to act on): with fresh clients on a
/// runtime of its own, since the test's runtime may be unwinding.
impl Drop for Fixture {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let (clusters, targets) = (self.clusters.clone(), self.targets.clone());
        let (secret, namespace) = (self.secret.clone(), self.namespace.clone());
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let sandbox = sandbox();
                let admin = sandbox.cluster("global").admin_client().await;
                let plugins = Api::<ClusterPlugin>::all(admin.clone());
                let shadows = Api::<ClusterVersionShadow>::all(admin.clone());
                let dp = DeleteParams::default();
                for cluster in &clusters {
                    // The Cluster first: once it is gone nothing recreates its shadow.
                    let _ = Api::<Cluster>::all(admin.clone())
                        .delete(cluster, &dp)
                        .await;
                    for plugin in app::plugins::catalog::CATALOG {
                        let _ = plugins
                            .delete(&plugin_resource_name(cluster, plugin.name), &dp)
                            .await;
                    }
                    let _ = shadows.delete(cluster, &dp).await;
                }
                let _ = Api::<k8s_openapi::api::core::v1::Secret>::namespaced(
                    admin,
                    support::SYSTEM_NAMESPACE,
                )
                .delete(&secret, &dp)
                .await;
                for target in targets {
                    let client = sandbox.cluster(target).admin_client().await;
                    let _ = Api::<Namespace>::all(client).delete(&namespace, &dp).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

fn ready_at(version: &'static str) -> impl Fn(&PluginState) -> bool {
    move |s| s.phase == PluginPhase::Ready && s.installed_version.as_deref() == Some(version)
}

#[tokio::test]
async fn plugins_keep_their_lifecycle_rules_and_a_cvsh_update_moves_through_its_stages() {
    let (f, names) = Fixture::start(&["east"]).await;
    let east = names[0].as_str();
    for (plugin, version) in [
        ("platform-agent", "4.2.1"),
        ("log-collector", "3.0.2"),
        ("ingress-gateway", "4.2.0"),
        ("cert-manager", "1.14.0"),
    ] {
        f.install(east, plugin, version).await;
    }
    f.shadow(east, None).await;
    for (plugin, version) in [
        ("platform-agent", "4.2.1"),
        ("log-collector", "3.0.2"),
        ("ingress-gateway", "4.2.0"),
        ("cert-manager", "1.14.0"),
    ] {
        f.plugin_until(east, plugin, "installed", ready_at(version))
            .await;
        assert_eq!(f.deployed("east", plugin).await.as_deref(), Some(version));
    }
    f.shadow_until(east, "at 4.2", |s| {
        s.current_release.as_deref() == Some("4.2")
    })
    .await;

    // Core: a standalone upgrade is refused and the running version stays.
    f.set_version(east, "platform-agent", "4.3.0").await;
    let refused = f
        .plugin_until(east, "platform-agent", "refused", |s| {
            s.phase == PluginPhase::Refused
        })
        .await;
    assert!(
        refused.message.contains("follows the cluster upgrade"),
        "{}",
        refused.message
    );
    assert_eq!(refused.installed_version.as_deref(), Some("4.2.1"));
    assert!(refused.available_versions.is_empty());
    assert_eq!(
        f.deployed("east", "platform-agent").await.as_deref(),
        Some("4.2.1")
    );
    f.set_version(east, "platform-agent", "4.2.1").await;
    f.plugin_until(east, "platform-agent", "back", ready_at("4.2.1"))
        .await;

    // Aligned: only the versions made for the cluster's release.
    let gateway = f
        .plugin_until(east, "ingress-gateway", "judged", ready_at("4.2.0"))
        .await;
    assert_eq!(gateway.available_versions, ["4.2.3"]);
    f.set_version(east, "ingress-gateway", "4.3.0").await;
    let refused = f
        .plugin_until(east, "ingress-gateway", "refused", |s| {
            s.phase == PluginPhase::Refused
        })
        .await;
    assert!(
        refused.message.contains("release 4.2"),
        "{}",
        refused.message
    );
    f.set_version(east, "ingress-gateway", "4.2.3").await;
    f.plugin_until(east, "ingress-gateway", "upgraded", ready_at("4.2.3"))
        .await;
    assert_eq!(
        f.deployed("east", "ingress-gateway").await.as_deref(),
        Some("4.2.3")
    );

    // The update to 4.3 is blocked by the Agnostic plugin that does not run on it.
    f.request(east, "4.3", false).await;
    let blocked = f
        .shadow_until(east, "blocked", |s| {
            s.condition(PREFLIGHT_BLOCKED)
                .is_some_and(|c| c.status == "True")
        })
        .await;
    let check = |name: &str| {
        blocked
            .preflight
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.result)
    };
    assert_eq!(check("Plugin cert-manager"), Some(CheckResult::Blocking));
    assert_eq!(check("Plugin ingress-gateway"), Some(CheckResult::Warning));
    assert_eq!(check("KubernetesVersion"), Some(CheckResult::Passed));
    assert!(blocked.progress.is_none());
    assert_eq!(
        f.deployed("east", "platform-agent").await.as_deref(),
        Some("4.2.1")
    );

    // Agnostic: any newer version for the release. Once it runs, the update goes ahead.
    let certs = f
        .plugin_until(east, "cert-manager", "judged", ready_at("1.14.0"))
        .await;
    assert_eq!(certs.available_versions, ["1.18.0", "1.16.2"]);
    // Every status the controller writes is watched, so each stage's Running is seen.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let watching = {
        use futures::StreamExt;
        use kube::runtime::WatchStreamExt;
        let (seen, shadows) = (seen.clone(), f.shadows.clone());
        let config = watcher::Config::default().fields(&format!("metadata.name={east}"));
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(watcher(shadows, config).applied_objects());
            while let Some(Ok(shadow)) = stream.next().await {
                if let (Some(run), Ok(mut seen)) =
                    (shadow.status.and_then(|s| s.progress), seen.lock())
                {
                    for stage in run.stages {
                        seen.insert((stage.name, format!("{:?}", stage.state)));
                    }
                }
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    f.set_version(east, "cert-manager", "1.16.2").await;
    let done = f
        .shadow_until(east, "updated to 4.3", |s| {
            s.history.first().is_some_and(|h| h.release == "4.3")
        })
        .await;
    watching.abort();
    let run = &done.history[0];
    assert_eq!(run.state, RunState::Completed, "{run:#?}");
    assert_eq!(run.from_release.as_deref(), Some("4.2"));
    assert!(!run.forced);
    let stages: Vec<(&str, StageState)> = run
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.state))
        .collect();
    assert_eq!(
        stages,
        [
            ("Preflight", StageState::Succeeded),
            ("Upgrade platform-agent to 4.3.0", StageState::Succeeded),
            ("Upgrade log-collector to 3.1.0", StageState::Succeeded),
            ("Verify", StageState::Succeeded),
        ]
    );
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    for stage in [
        "Upgrade platform-agent to 4.3.0",
        "Upgrade log-collector to 3.1.0",
    ] {
        assert!(
            seen.contains(&(stage.to_string(), "Running".to_string())),
            "{stage} was seen running: {seen:?}"
        );
    }
    assert_eq!(done.current_release.as_deref(), Some("4.3"));
    assert!(done.progress.is_none());
    assert!(
        done.condition(PROGRESSING).is_some_and(
            |c| c.status == "False" && ["Completed", "AtRelease"].contains(&c.reason.as_str())
        ),
        "{:?}",
        done.condition(PROGRESSING)
    );
    assert_eq!(
        f.deployed("east", "platform-agent").await.as_deref(),
        Some("4.3.0")
    );
    assert_eq!(
        f.deployed("east", "log-collector").await.as_deref(),
        Some("3.1.0")
    );
    // The Aligned plugin may now move to 4.3's versions.
    f.plugin_until(east, "ingress-gateway", "offered 4.3", |s| {
        s.available_versions == ["4.3.1", "4.3.0"]
    })
    .await;

    // A downgrade is refused by name.
    f.request(east, "4.1", false).await;
    let refused = f
        .shadow_until(east, "refusing the downgrade", |s| {
            s.condition(PROGRESSING)
                .is_some_and(|c| c.reason == "Refused")
        })
        .await;
    assert!(
        refused
            .condition(PROGRESSING)
            .is_some_and(|c| c.message.contains("downgrades are not supported"))
    );
}

#[tokio::test]
async fn a_forced_update_goes_past_a_blocking_preflight_and_says_so() {
    let (f, names) = Fixture::start(&["west"]).await;
    let west = names[0].as_str();
    f.install(west, "platform-agent", "4.2.1").await;
    f.install(west, "cert-manager", "1.14.0").await;
    f.plugin_until(west, "platform-agent", "installed", ready_at("4.2.1"))
        .await;
    f.plugin_until(west, "cert-manager", "installed", ready_at("1.14.0"))
        .await;
    f.shadow(
        west,
        Some(DesiredUpdate {
            release: "4.3".into(),
            force: true,
            ..DesiredUpdate::default()
        }),
    )
    .await;
    let done = f
        .shadow_until(west, "updated", |s| {
            s.history.first().is_some_and(|h| h.release == "4.3")
        })
        .await;
    let run = &done.history[0];
    assert_eq!(run.state, RunState::Completed, "{run:#?}");
    assert!(run.forced);
    assert!(
        run.stages[0].message.contains("cert-manager"),
        "the forced check is recorded: {}",
        run.stages[0].message
    );
    assert_eq!(
        f.deployed("west", "platform-agent").await.as_deref(),
        Some("4.3.0")
    );
    assert_eq!(
        f.deployed("west", "cert-manager").await.as_deref(),
        Some("1.14.0"),
        "the update moves Core plugins only"
    );
}
