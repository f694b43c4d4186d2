//! Tests beside the demo (issue 16, item 8): `./scripts/test` and `./scripts/run` share one
//! sandbox. A test's objects carry `nextgen-console.test/run=<run>` (a benchmark's
//! `nextgen-console.bench/run=<run>`) and its controllers select exactly those; the console's own
//! controllers — the demo's — leave every object with such a label alone.
//!
//! Here a second instance of the console's controllers (`spawn_all`, leading a Lease of its own as
//! a demo console would lead its) runs against global beside this test's objects: it probes,
//! shadows and finalizes an unlabelled control Cluster and Application, proving it runs, and never
//! connects to, shadows or touches the test-owned ones; the test's own label-scoped controller
//! still probes its Cluster with the demo running.

mod support;

use std::{sync::atomic::Ordering, time::Duration};

use app::{
    apps::resource::{Application, ApplicationSpec, FINALIZER, WorkloadTemplate},
    clusters::resource::Cluster,
    platform::registry::ClusterRegistry,
    upgrades::shadow::ClusterVersionShadow,
};
use k8s_openapi::api::coordination::v1::Lease;
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, PostParams},
    runtime::watcher,
};
use support::{RUN_LABEL, TestNamespace, console::counting_listener, eventually, sandbox};

/// Everything the test made, removed on drop whether it passed or not.
struct Cleanup {
    run: String,
    clusters: Vec<String>,
    namespace: String,
    lease: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let (clusters, namespace, lease, run) = (
            self.clusters.clone(),
            self.namespace.clone(),
            self.lease.clone(),
            self.run.clone(),
        );
        support::block_on_own_runtime(async move {
            let admin = sandbox().cluster("global").admin_client().await;
            support::release_applications(&admin, &namespace).await;
            for name in &clusters {
                let _ = Api::<Cluster>::all(admin.clone())
                    .delete(name, &DeleteParams::background())
                    .await;
                let _ = Api::<ClusterVersionShadow>::all(admin.clone())
                    .delete(name, &DeleteParams::background())
                    .await;
            }
            let _ = Api::<Lease>::namespaced(admin.clone(), support::SYSTEM_NAMESPACE)
                .delete(&lease, &DeleteParams::background())
                .await;
            let _ = Api::<k8s_openapi::api::core::v1::Secret>::namespaced(
                admin,
                support::SYSTEM_NAMESPACE,
            )
            .delete(&format!("t-{run}-credential"), &DeleteParams::background())
            .await;
        });
    }
}

fn application(name: &str, cluster: &str, labels: Option<(&str, &str)>) -> Application {
    let mut app = Application::new(
        name,
        ApplicationSpec {
            template: WorkloadTemplate {
                deployment: serde_json::json!({
                    "replicas": 0,
                    "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}
                }),
                ..WorkloadTemplate::default()
            },
            placement: vec![cluster.into()],
            ..ApplicationSpec::default()
        },
    );
    app.metadata.labels = labels.map(|(k, v)| [(k.to_string(), v.to_string())].into());
    let (user, groups) = support::PLATFORM_ADMIN;
    app.metadata.annotations = Some(support::authored_by(user, groups));
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_controllers_leave_test_owned_objects_alone() {
    assert!(
        server::controllers::TEST_OWNED_LABELS.contains(&RUN_LABEL),
        "the tests' label is one the console's controllers leave alone"
    );
    let sandbox = sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = global.admin_client().await;
    let run = support::run_id();
    let secret = support::console_credential_secret(sandbox, &format!("t-{run}-credential")).await;
    let ca = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem())
    };

    // Two unreachable "clusters" that count every connection made to them.
    let (owned_addr, owned_hits) = counting_listener().await;
    let (control_addr, control_hits) = counting_listener().await;
    let owned = format!("t-{run}-owned");
    let control = format!("t-{run}-control");
    support::create_cluster(
        &admin,
        &support::cluster_resource(&owned, &run, format!("https://{owned_addr}"), &ca, &secret),
    )
    .await;
    let mut unlabelled = support::cluster_resource(
        &control,
        &run,
        format!("https://{control_addr}"),
        &ca,
        &secret,
    );
    unlabelled.metadata.labels = None;
    support::create_cluster(&admin, &unlabelled).await;

    let ns = TestNamespace::create(global, "coexist").await;
    let lease = format!("t-{run}-demo-controllers");
    let mut cleanup = Cleanup {
        run: run.clone(),
        clusters: vec![owned.clone(), control.clone()],
        namespace: ns.name.clone(),
        lease: lease.clone(),
        tasks: Vec::new(),
    };
    let (user, groups) = support::PLATFORM_ADMIN;
    let apps = Api::<Application>::namespaced(global.client_as(user, groups).await, &ns.name);
    for app in [
        application("owned", &owned, Some((RUN_LABEL, &run))),
        application("control", &control, None),
    ] {
        apps.create(&PostParams::default(), &app)
            .await
            .unwrap_or_else(|e| panic!("application {}: {e}", app.name_any()));
    }

    // The demo console's controllers, as `server::run` starts them (registry following global,
    // leader election), on a Lease of their own so they lead even beside a real demo console.
    let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("registry: {e}"));
    cleanup
        .tasks
        .push(tokio::spawn(registry.clone().follow(console.clone())));
    for name in [&owned, &control] {
        eventually(&format!("{name} registered"), 30, || {
            let registry = registry.clone();
            async move {
                registry
                    .console_client(name)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await;
    }
    cleanup.tasks.push(tokio::spawn({
        let (console, registry) = (console.clone(), registry.clone());
        async move {
            server::controllers::leader::lead(
                console.clone(),
                format!("demo-{run}"),
                &lease,
                move || server::controllers::spawn_all(console.clone(), registry.clone()),
            )
            .await
        }
    }));

    // The demo's controllers run: they probe, shadow and finalize the unlabelled control objects.
    let clusters = Api::<Cluster>::all(admin.clone());
    let shadows = Api::<ClusterVersionShadow>::all(admin.clone());
    eventually("the control Cluster probed by the demo", 60, || async {
        let found = clusters.get(&control).await.map_err(|e| e.to_string())?;
        let hits = control_hits.load(Ordering::SeqCst);
        if found.status.is_some() && hits > 0 {
            Ok(())
        } else {
            Err(format!("status {:?}, {hits} connections", found.status))
        }
    })
    .await;
    eventually(
        "the control Cluster's shadow created by the demo",
        60,
        || async {
            shadows
                .get(&control)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    )
    .await;
    eventually(
        "the control Application finalized by the demo",
        60,
        || async {
            let found = apps.get("control").await.map_err(|e| e.to_string())?;
            if found.finalizers().iter().any(|f| f == FINALIZER) && found.status.is_some() {
                Ok(())
            } else {
                Err(format!("{:?} {:?}", found.finalizers(), found.status))
            }
        },
    )
    .await;
    // Give the demo a little more time, as much as its first round took again at least.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // ... and never touch the test-owned ones. (Connections to the test-owned cluster are not
    // counted against the demo: its application controller watches, read-only, the Deployments
    // it manages on every registered cluster.)
    let owned_cluster = clusters.get(&owned).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        owned_cluster.status.is_none(),
        "the demo wrote the test-owned Cluster's status: {:?}",
        owned_cluster.status
    );
    assert!(
        shadows.get_opt(&owned).await.ok().flatten().is_none(),
        "the demo created a ClusterVersionShadow for the test-owned Cluster"
    );
    let owned_app = apps.get("owned").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        owned_app.finalizers().is_empty() && owned_app.status.is_none(),
        "the demo reconciled the test-owned Application: finalizers {:?}, status {:?}",
        owned_app.finalizers(),
        owned_app.status
    );

    // The test's own controller, selecting its run's objects, still works beside the demo.
    cleanup
        .tasks
        .push(tokio::spawn(server::controllers::clusters::run(
            console.clone(),
            watcher::Config::default().labels(&format!("{RUN_LABEL}={}", cleanup.run)),
            Duration::from_millis(500),
        )));
    eventually("the test's controller probes its Cluster", 30, || async {
        let found = clusters.get(&owned).await.map_err(|e| e.to_string())?;
        found
            .status
            .map(|_| ())
            .ok_or_else(|| "no status".to_string())
    })
    .await;
    assert!(owned_hits.load(Ordering::SeqCst) > 0);
}

/// The console's controllers select every object without a test or benchmark label: the API
/// server's "does not exist" requirement, one per label.
#[test]
fn console_controllers_select_objects_without_test_labels() {
    let watch = server::controllers::console_watch();
    assert_eq!(
        watch.label_selector.as_deref(),
        Some("!nextgen-console.test/run,!nextgen-console.bench/run")
    );
}
