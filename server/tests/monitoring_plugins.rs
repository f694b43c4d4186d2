//! The monitoring plugins against the sandbox: their settings checked against east's real nodes
//! (workers and tainted infra nodes), previewed with a dry run as the user, saved with the user
//! as author and applied by the plugin controller *as that user*; the real scheduler and PV
//! controller place the pods (kwok runs them), so they land only on infra nodes, bound to the
//! local volumes the controller made; settings no toleration covers leave pods Pending with the
//! scheduler's reason in the plugin's status; placement another field manager set is shown and
//! then taken over.
//!
//! Needs no console: the service functions the server functions call are called directly, with
//! the sandbox's own clients for the user. One test runs at a time (they share east.prometheus).

mod support;

use std::time::{Duration, Instant};

use app::{
    ConsoleError,
    auth::Identity,
    platform::registry::ClusterRegistry,
    plugins::{
        PluginRow,
        resource::{ClusterPlugin, ClusterPluginSpec, PLUGIN_NAMESPACE, PluginPhase},
        service,
        settings::{Backend, MonitoringSettings, PLUGIN_LABEL, PrometheusSettings, Toleration},
    },
};
use futures::StreamExt;
use k8s_openapi::api::{
    apps::v1::StatefulSet,
    core::v1::{Namespace, PersistentVolume, Pod},
    rbac::v1::{ClusterRole, ClusterRoleBinding},
    storage::v1::StorageClass,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams},
    runtime::{WatchStreamExt, watcher},
};
use support::{PLATFORM_ADMIN, RUN_LABEL, TestNamespace, eventually, sandbox};

const PLUGIN: &str = "east.prometheus";
/// One test at a time: they share east's Prometheus plugin and its cluster-scoped volumes.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn admin_identity() -> Identity {
    Identity {
        username: PLATFORM_ADMIN.0.into(),
        display_name: PLATFORM_ADMIN.0.into(),
        groups: PLATFORM_ADMIN.1.iter().map(|g| g.to_string()).collect(),
        local: false,
    }
}

struct Fixture {
    namespace: TestNamespace,
    registry: ClusterRegistry,
    /// global as the platform administrator (what the pages act as).
    global: Client,
    /// global with the sandbox's own administrator certificate (for test set-up).
    global_admin: Client,
    east: Client,
    plugins: Api<ClusterPlugin>,
    controller: Option<tokio::task::JoinHandle<()>>,
    crd_keeper: tokio::task::JoinHandle<()>,
}

impl Fixture {
    /// Creates east.prometheus (no settings) labelled with this run, and, with `controller`,
    /// starts the plugin controller for this run as the console, in a namespace of its own.
    async fn start(controller: bool) -> Fixture {
        let sandbox = sandbox();
        let console = support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
        server::controllers::install_crds(&console)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let admin = sandbox.cluster("global").admin_client().await;
        let crd_keeper = keep_crd(admin.clone(), console.clone());
        let plugins = Api::<ClusterPlugin>::all(admin.clone());
        let _ = plugins.delete(PLUGIN, &DeleteParams::default()).await;
        eventually("the old plugin gone", 30, || {
            let plugins = plugins.clone();
            async move {
                match plugins.get_opt(PLUGIN).await {
                    Ok(None) => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            }
        })
        .await;
        let east = sandbox.cluster("east").admin_client().await;
        sweep(&east).await;
        let run = support::run_id();
        let mut plugin = ClusterPlugin::new(
            PLUGIN,
            ClusterPluginSpec {
                cluster: "east".into(),
                plugin: "prometheus".into(),
                version: "3.5.0".into(),
                monitoring: None,
            },
        );
        plugin.metadata.labels = Some([(RUN_LABEL.to_string(), run.clone())].into());
        // Installed by the platform administrator, as the console's pages install plugins.
        let (user, groups) = PLATFORM_ADMIN;
        let global = sandbox.cluster("global").client_as(user, groups).await;
        plugin.metadata.annotations = Some(support::authored_by(user, groups));
        Api::<ClusterPlugin>::all(global.clone())
            .create(&Default::default(), &plugin)
            .await
            .unwrap_or_else(|e| panic!("create {PLUGIN}: {e}"));
        let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Made here, labelled as a test's, so that a failing test deletes it too (on drop).
        let namespace = TestNamespace::named(sandbox.cluster("east"), &format!("mon-{run}")).await;
        let controller = controller.then(|| {
            tokio::spawn(server::controllers::plugins::run(
                server::controllers::plugins::Context::new(
                    console.clone(),
                    registry.clone(),
                    namespace.name.clone(),
                ),
                watcher::Config::default().labels(&format!("{RUN_LABEL}={run}")),
            ))
        });
        Fixture {
            global,
            global_admin: admin.clone(),
            east,
            namespace,
            registry,
            plugins,
            controller,
            crd_keeper,
        }
    }

    async fn row(&self) -> PluginRow {
        service::get(self.global.clone(), PLUGIN)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Has the controller look at the plugin now rather than at its next resync: a change of
    /// an annotation of no meaning is an event of the plugin's watch.
    async fn poke(&self) {
        let stamp = format!("{:?}", Instant::now());
        self.plugins
            .patch(
                PLUGIN,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"metadata": {"annotations": {"test.nextgen-console.io/poke": stamp}}})),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    async fn save(&self, settings: MonitoringSettings) {
        service::save(
            self.global.clone(),
            &self.registry,
            &admin_identity(),
            PLUGIN,
            settings,
        )
        .await
        .unwrap_or_else(|e| panic!("saving the settings: {e}"));
    }

    /// Waits until the plugin's status (through the service the server function calls) passes.
    async fn status_until(
        &self,
        what: &str,
        secs: u64,
        check: impl Fn(&PluginRow) -> bool,
    ) -> PluginRow {
        let check = &check;
        eventually(what, secs, || async move {
            let row = self.row().await;
            if check(&row) {
                Ok(row)
            } else {
                Err(format!(
                    "{:?}: {} (pending {:?}, workloads {:?}, customisations {:?})",
                    row.phase, row.message, row.pending_pods, row.workloads, row.customisations
                ))
            }
        })
        .await
    }

    async fn pods(&self) -> Vec<Pod> {
        Api::<Pod>::namespaced(self.east.clone(), &self.namespace.name)
            .list(&ListParams::default().labels(&format!("{PLUGIN_LABEL}=prometheus")))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
    }

    /// Removes what the run made: the plugin, its namespace on east, its volumes and class.
    async fn cleanup(mut self) {
        if let Some(task) = self.controller.take() {
            task.abort();
        }
        self.crd_keeper.abort();
        let dp = DeleteParams::default();
        let _ = self.plugins.delete(PLUGIN, &dp).await;
        let _ = Api::<Namespace>::all(self.east.clone())
            .delete(&self.namespace.name, &dp)
            .await;
        sweep(&self.east).await;
    }
}

const PLUGIN_CRD: &str = "clusterplugins.platform.nextgen-console.io";

/// The sandbox is shared: other branches' tests and consoles install their own ClusterPlugin
/// CRD, and one without `spec.monitoring` makes the apiserver prune the settings (and the new
/// status fields) from every read. While a test runs, this branch's CRD is put back as soon as
/// it has been replaced by one without the settings.
fn keep_crd(admin: Client, console: Client) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let crds = Api::<CustomResourceDefinition>::all(admin);
        let config = watcher::Config::default().fields(&format!("metadata.name={PLUGIN_CRD}"));
        let mut events = watcher(crds, config).applied_objects().boxed();
        while let Some(event) = events.next().await {
            let Ok(crd) = event else { continue };
            let schema = serde_json::to_value(&crd.spec.versions).unwrap_or_default();
            let settings = &schema[0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
                ["monitoring"];
            if settings.is_null() {
                eprintln!("{PLUGIN_CRD} was replaced by one without spec.monitoring: put back");
                let _ = server::controllers::install_crds(&console).await;
            }
        }
    })
}

/// Removes east's Prometheus volumes and local class, and the test namespaces (`mon-*`) whose
/// claims hold them: what this run leaves, or what an earlier run that failed left (volumes are
/// cluster-scoped and named by replica, so a claim left bound keeps the next run's pods Pending).
/// Waits until the volumes are gone.
async fn sweep(east: &Client) {
    let dp = DeleteParams::default();
    let labels = ListParams::default().labels(&format!("{PLUGIN_LABEL}=prometheus"));
    let volumes = Api::<PersistentVolume>::all(east.clone());
    let namespaces = Api::<Namespace>::all(east.clone());
    if let Ok(list) = volumes.list(&labels).await {
        for pv in list {
            let claim_ns = pv
                .spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .and_then(|c| c.namespace.clone())
                .filter(|ns| ns.starts_with("mon-"));
            if let Some(ns) = claim_ns {
                let _ = namespaces.delete(&ns, &dp).await;
            }
            let _ = volumes.delete(&pv.name_any(), &dp).await;
        }
    }
    let _ = Api::<StorageClass>::all(east.clone())
        .delete("nextgen-prometheus-local", &dp)
        .await;
    // The next test must not find these volumes still terminating.
    eventually("east's Prometheus volumes gone", 120, || {
        let volumes = volumes.clone();
        let labels = labels.clone();
        async move {
            let left = volumes
                .list_metadata(&labels)
                .await
                .map_err(|e| e.to_string())?;
            if left.items.is_empty() {
                Ok(())
            } else {
                Err(format!("{} left", left.items.len()))
            }
        }
    })
    .await;
}

/// A group that may read ClusterPlugins on global and, on east, what the settings' checks and
/// the preview read (nodes, volumes, classes, the plugin's objects), and change nothing.
const READER_GROUP: &str = "test-monitoring-plugins-readers";

/// A ClusterRole named after [`READER_GROUP`] with `rules`, bound to that group.
async fn grant(client: &Client, rules: serde_json::Value) {
    let params = PatchParams::apply("monitoring-plugins-test").force();
    let role = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": READER_GROUP}, "rules": rules,
    });
    let binding = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": READER_GROUP},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER_GROUP},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": READER_GROUP}],
    });
    Api::<ClusterRole>::all(client.clone())
        .patch(READER_GROUP, &params, &Patch::Apply(&role))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Api::<ClusterRoleBinding>::all(client.clone())
        .patch(READER_GROUP, &params, &Patch::Apply(&binding))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn grant_reading(global: &Client, east: &Client) {
    grant(
        global,
        serde_json::json!([{"apiGroups": ["platform.nextgen-console.io"],
            "resources": ["clusterplugins"], "verbs": ["get", "list", "watch"]}]),
    )
    .await;
    grant(
        east,
        serde_json::json!([
            {"apiGroups": [""], "resources": ["nodes", "persistentvolumes", "namespaces",
                "configmaps", "services"], "verbs": ["get", "list"]},
            {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list"]},
            {"apiGroups": ["apps"], "resources": ["statefulsets", "deployments"], "verbs": ["get", "list"]},
        ]),
    )
    .await;
}

fn defaults() -> MonitoringSettings {
    MonitoringSettings::defaults(Backend::Prometheus)
}

#[tokio::test]
async fn settings_are_checked_against_easts_nodes_and_dry_run_before_anything_is_saved() {
    let _serial = SERIAL.lock().await;
    let sandbox = sandbox();
    assert!(
        sandbox.cluster("east").infra_nodes >= 2,
        "east needs infra nodes (sandbox/up makes three)"
    );
    let f = Fixture::start(false).await;
    let identity = admin_identity();
    let preview = |s: MonitoringSettings| {
        service::preview(f.global.clone(), &f.registry, &identity, PLUGIN, s)
    };

    // The classic: on the infra nodes, without tolerating their taint.
    let mut untolerated = defaults();
    untolerated.tolerations.clear();
    let found = preview(untolerated.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text = found.errors.join("\n");
    assert!(
        text.contains("node-role.kubernetes.io/infra:NoSchedule that no toleration covers")
            && text.contains("east-infra-1")
            && text.contains("stay Pending"),
        "{text}"
    );
    assert!(found.objects.is_empty(), "nothing is dry-run: {found:?}");

    // More replicas than infra nodes, with one local volume per replica and node.
    let mut too_many = defaults();
    too_many.prometheus = Some(PrometheusSettings {
        replicas: sandbox.cluster("east").infra_nodes as i32 + 1,
        ..PrometheusSettings::default()
    });
    let text = preview(too_many)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .errors
        .join("\n");
    assert!(
        text.contains("one local volume per replica and node"),
        "{text}"
    );

    // Syntax, each with its own message.
    let mut bad = defaults();
    bad.retention = "two weeks".into();
    bad.storage.path = "/var/../etc".into();
    bad.tolerations.push(Toleration {
        key: "x".into(),
        operator: "Exists".into(),
        value: "y".into(),
        ..Toleration::default()
    });
    let errors = preview(bad.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .errors;
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("retention \"two weeks\""), "{errors:?}");
    // Saving refuses the same, and nothing is written.
    match service::save(f.global.clone(), &f.registry, &identity, PLUGIN, bad).await {
        Err(ConsoleError::Invalid { message }) => {
            assert!(message.contains("contains '..'"), "{message}")
        }
        other => panic!("saving bad settings: {other:?}"),
    }
    match service::save(
        f.global.clone(),
        &f.registry,
        &identity,
        PLUGIN,
        untolerated,
    )
    .await
    {
        Err(ConsoleError::Invalid { message }) => {
            assert!(message.contains("no toleration covers"), "{message}")
        }
        other => panic!("saving untolerated settings: {other:?}"),
    }
    assert!(!f.row().await.settings_saved);

    // Good settings: every object, a diff, and the cluster's dry run as the user.
    let good = preview(defaults()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(good.errors.is_empty(), "{:?}", good.errors);
    let objects: Vec<&str> = good.objects.iter().map(|o| o.object.as_str()).collect();
    assert!(
        objects.contains(&format!("StatefulSet {PLUGIN_NAMESPACE}/prometheus").as_str())
            && objects.contains(&"PersistentVolume nextgen-prometheus-prometheus-1")
            && objects.contains(&"StorageClass nextgen-prometheus-local"),
        "{objects:?}"
    );
    for object in &good.objects {
        if object.object.starts_with("PersistentVolume")
            || object.object.starts_with("StorageClass")
        {
            assert_eq!(object.dry_run_error, None, "{}", object.object);
        }
        assert!(!object.diff.is_empty(), "{}", object.object);
        // Objects in a namespace not made yet are not asked about; the namespace itself is.
        assert!(
            object.dry_run || objects.contains(&format!("Namespace {PLUGIN_NAMESPACE}").as_str()),
            "{} was not dry-run",
            object.object
        );
    }
    assert!(
        good.settings_yaml.contains("retention: 15d"),
        "{}",
        good.settings_yaml
    );
    // Someone who may read the plugin and east's nodes and volumes but change nothing on east:
    // the checks pass, and the cluster's dry run as them refuses each object, so the preview
    // cannot be applied.
    let reader = Identity {
        username: "mon-reader@example.com".into(),
        display_name: "mon-reader".into(),
        groups: vec![READER_GROUP.into()],
        local: false,
    };
    grant_reading(&f.global_admin, &f.east).await;
    let reader_global = sandbox
        .cluster("global")
        .client_as(&reader.username, &[READER_GROUP])
        .await;
    let refused = service::preview(reader_global, &f.registry, &reader, PLUGIN, defaults())
        .await
        .unwrap_or_else(|e| panic!("the reader's preview: {e}"));
    assert!(refused.errors.is_empty(), "{:?}", refused.errors);
    assert!(!refused.applicable(), "{:?}", refused.objects);
    for object in refused
        .objects
        .iter()
        .filter(|o| !o.object.contains(&format!(" {PLUGIN_NAMESPACE}/")))
    {
        let error = object.dry_run_error.as_deref().unwrap_or_default();
        assert!(
            error.contains("forbidden") && error.contains("mon-reader@example.com"),
            "{}: {error:?}",
            object.object
        );
    }
    for client in [&f.global_admin, &f.east] {
        let dp = DeleteParams::default();
        let _ = Api::<ClusterRoleBinding>::all(client.clone())
            .delete(READER_GROUP, &dp)
            .await;
        let _ = Api::<ClusterRole>::all(client.clone())
            .delete(READER_GROUP, &dp)
            .await;
    }
    // Alice may not even read the plugin on global.
    let alice = Identity {
        username: "alice@example.com".into(),
        display_name: "alice".into(),
        groups: vec!["team-a".into()],
        local: false,
    };
    let alice_global = sandbox
        .cluster("global")
        .client_as("alice@example.com", &["team-a"])
        .await;
    match service::preview(alice_global, &f.registry, &alice, PLUGIN, defaults()).await {
        Err(ConsoleError::Forbidden { .. }) => {}
        other => panic!("alice's preview: {other:?}"),
    }
    f.cleanup().await;
}

#[tokio::test]
async fn prometheus_runs_only_on_infra_nodes_as_its_author_and_pending_pods_say_why() {
    let _serial = SERIAL.lock().await;
    let f = Fixture::start(true).await;
    let settings = defaults();
    let started = Instant::now();
    f.save(settings.clone()).await;
    let ready = f
        .status_until("Prometheus Ready on east", 120, |r| {
            r.phase == PluginPhase::Ready
        })
        .await;
    println!(
        "figure: save to Ready (2 replicas, LocalVolume, on infra nodes): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(ready.author.as_deref(), Some(PLATFORM_ADMIN.0));
    assert_eq!(ready.installed.as_deref(), Some("3.5.0"));
    let pods = f.pods().await;
    assert_eq!(
        pods.len(),
        2,
        "{:?}",
        pods.iter().map(|p| p.name_any()).collect::<Vec<_>>()
    );
    let mut nodes = Vec::new();
    for pod in &pods {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        assert!(
            node.starts_with("east-infra-"),
            "{} on {node}",
            pod.name_any()
        );
        assert_eq!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Running"),
            "{}",
            pod.name_any()
        );
        nodes.push(node);
    }
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 2, "one replica per node: {nodes:?}");
    // Local volumes: one per replica, pinned to a distinct infra node, at the data directory,
    // bound by the PV controller to the StatefulSet's claims.
    let volumes = Api::<PersistentVolume>::all(f.east.clone());
    let mut pinned = Vec::new();
    for i in 0..2 {
        let pv = volumes
            .get(&format!("nextgen-prometheus-prometheus-{i}"))
            .await
            .unwrap_or_else(|e| panic!("volume {i}: {e}"));
        let spec = pv.spec.clone().unwrap_or_default();
        assert_eq!(
            spec.local.as_ref().map(|l| l.path.as_str()),
            Some(settings.storage.path.as_str())
        );
        assert_eq!(
            spec.storage_class_name.as_deref(),
            Some("nextgen-prometheus-local")
        );
        let node = serde_json::to_value(&spec.node_affinity).unwrap_or_default()["required"]
            ["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(node.starts_with("east-infra-"), "{node}");
        assert_eq!(
            pv.status.and_then(|s| s.phase).as_deref(),
            Some("Bound"),
            "volume {i}"
        );
        pinned.push(node);
    }
    pinned.sort();
    assert_eq!(pinned, nodes, "the pods run where their volumes are");
    let class = Api::<StorageClass>::all(f.east.clone())
        .get("nextgen-prometheus-local")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(class.provisioner, "kubernetes.io/no-provisioner");
    assert_eq!(
        class.volume_binding_mode.as_deref(),
        Some("WaitForFirstConsumer")
    );
    // The workloads were applied as the author, not as the console.
    let set = Api::<StatefulSet>::namespaced(f.east.clone(), &f.namespace.name)
        .get("prometheus")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let managers: Vec<String> = set
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&app::plugins::settings::FIELD_MANAGER.to_string()),
        "{managers:?}"
    );

    // Written as kubectl edit would (past the page's checks): no toleration of the infra taint.
    // The new pod stays Pending and the status says what the scheduler says.
    let mut untolerated = settings.clone();
    untolerated.tolerations.clear();
    let mut plugin = f
        .plugins
        .get(PLUGIN)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    plugin.spec.monitoring = Some(untolerated);
    plugin.status = None;
    Api::<ClusterPlugin>::all(f.global.clone())
        .replace(PLUGIN, &Default::default(), &plugin)
        .await
        .unwrap_or_else(|e| panic!("the admin edits the settings: {e}"));
    let pending = f
        .status_until("a Pending pod with the scheduler's reason", 90, |r| {
            r.pending_pods
                .iter()
                .any(|p| p.message.contains("untolerated taint"))
        })
        .await;
    let pod = &pending.pending_pods[0];
    assert_eq!(pod.reason, "Unschedulable", "{pod:?}");
    assert_eq!(pending.phase, PluginPhase::Progressing);
    // The scheduler (v1.34) counts the tainted nodes without naming the taint; the status adds
    // the settings' own check against the nodes, which does.
    assert!(
        pending.message.contains("Pending")
            && pending.message.contains("untolerated taint")
            && pending
                .message
                .contains("node-role.kubernetes.io/infra:NoSchedule that no toleration covers"),
        "{}",
        pending.message
    );
    assert!(pending.needs_attention());
    f.cleanup().await;
}

#[tokio::test]
async fn placement_another_field_manager_set_is_shown_then_taken_over_by_the_settings() {
    let _serial = SERIAL.lock().await;
    let f = Fixture::start(true).await;
    // Installed and never configured: the plugin runs on its defaults.
    f.status_until("Prometheus Ready on east", 120, |r| {
        r.phase == PluginPhase::Ready && !r.settings_saved
    })
    .await;
    // An old customisation, as `kubectl patch` makes it (an Update by field manager
    // kubectl-patch): another node selector on the plugin's StatefulSet.
    let sets = Api::<StatefulSet>::namespaced(f.east.clone(), &f.namespace.name);
    sets.patch(
        "prometheus",
        &PatchParams {
            field_manager: Some("kubectl-patch".into()),
            ..PatchParams::default()
        },
        &Patch::Merge(serde_json::json!({"spec": {"template": {"spec": {
            "nodeSelector": {"kubernetes.io/os": "linux"},
        }}}})),
    )
    .await
    .unwrap_or_else(|e| panic!("kubectl patch: {e}"));
    f.poke().await;
    // Shown on the page with where it goes, and kept as it runs while the settings are unsaved.
    let found = f
        .status_until("the customisation on the plugin page", 90, |r| {
            r.customisations
                .iter()
                .any(|c| c.field == "nodeSelector" && c.manager == "kubectl-patch" && c.remaining)
        })
        .await;
    let shown = found
        .customisations
        .iter()
        .find(|c| c.manager == "kubectl-patch")
        .cloned()
        .unwrap_or_default();
    assert!(shown.value.contains("kubernetes.io/os"), "{shown:?}");
    assert!(shown.move_to.contains("nodeSelector"), "{shown:?}");
    assert!(found.needs_attention(), "{found:?}");
    let kept = serde_json::to_value(
        sets.get("prometheus")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_default();
    assert_eq!(
        kept["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/os"], "linux",
        "the plugin's apply kept the customisation"
    );

    // The settings take it over: the same selector now comes from them, and the old patch is
    // gone (kubectl-patch owns no placement any more).
    let mut settings = defaults();
    settings
        .node_selector
        .insert("kubernetes.io/os".into(), "linux".into());
    f.save(settings).await;
    f.status_until("the old patch gone", 90, |r| {
        r.settings_saved
            && r.customisations
                .iter()
                .any(|c| c.manager == "kubectl-patch")
            && r.customisations.iter().all(|c| !c.remaining)
    })
    .await;
    let set = sets
        .get("prometheus")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let live = serde_json::to_value(&set).unwrap_or_default();
    assert!(
        app::plugins::settings::foreign_placement(&live).is_empty(),
        "{}",
        live["metadata"]["managedFields"]
    );
    assert_eq!(
        live["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/os"],
        "linux"
    );
    f.cleanup().await;
}

/// A figure, not an assertion: how long east's scheduler, PV controller and kwok take from the
/// settings saved to every pod Running, for 1 and 3 replicas.
#[tokio::test]
async fn figure_apply_to_running_on_infra_nodes() {
    let _serial = SERIAL.lock().await;
    let f = Fixture::start(true).await;
    for replicas in [1, 3] {
        let mut settings = defaults();
        settings.prometheus = Some(PrometheusSettings {
            replicas,
            ..PrometheusSettings::default()
        });
        let started = Instant::now();
        f.save(settings).await;
        f.status_until("Ready", 180, |r| {
            r.phase == PluginPhase::Ready
                && !r.workloads.is_empty()
                && r.workloads
                    .iter()
                    .all(|w| w.desired == replicas && w.ready == replicas)
        })
        .await;
        println!(
            "figure: {replicas} replica(s) saved to Running on infra nodes: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    f.cleanup().await;
}
