//! Applications across clusters against the sandbox, with the console's application controller
//! running as the console: deploy to east and west until Ready, scale west only, change the
//! image and follow the rollout, drift set back, roll back, delete with nothing left; west made
//! unreachable (through a forwarder this test stops) during an update, then recovering; the
//! ConfigMap line-ending and defaultMode cases; and leader election handing the controllers
//! over when the leader dies.

mod support;

use std::time::Duration;

use app::{
    apps::resource::{
        Application, ApplicationSpec, ApplicationState, ClusterOverride, ConfigMapTemplate,
        FINALIZER, Health, WorkloadTemplate,
    },
    platform::registry::ClusterRegistry,
    projects::resource::{Project, ProjectCluster, ProjectSpec},
};
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api, Client,
    api::{DeleteParams, Patch, PatchParams, PostParams},
    runtime::watcher,
};
use serde_json::json;
use support::{RUN_LABEL, TestNamespace, eventually, sandbox};

struct Fixture {
    run: String,
    apps: Api<Application>,
    /// The project namespace, on global and on every member cluster (deleted on drop).
    _ns: Vec<TestNamespace>,
    name: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    /// Stops the controller; whatever Application a failed test leaves keeps its finalizer with
    /// no controller to honour it, so it is released here (on a runtime of its own: the test's
    /// may be unwinding) before the namespace goes.
    fn drop(&mut self) {
        self.task.abort();
        let ns = self.name.clone();
        support::block_on_own_runtime(async move {
            let admin = sandbox().cluster("global").admin_client().await;
            let _ = Api::<Project>::all(admin.clone())
                .delete(&ns, &DeleteParams::background())
                .await;
            support::release_applications(&admin, &ns).await;
        });
    }
}

/// A project namespace on global, east and west, and the application controller for this run's
/// Applications, over `registry` (the sandbox console's clusters unless a test adds some).
async fn start(registry: Option<ClusterRegistry>) -> Fixture {
    let sandbox = sandbox();
    let console = support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let run = support::run_id();
    let name = format!("t-apps-{run}");
    let mut ns = Vec::new();
    for cluster in ["global", "east", "west"] {
        ns.push(TestNamespace::named(sandbox.cluster(cluster), &name).await);
    }
    let registry = match registry {
        Some(registry) => registry,
        None => ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    };
    let task = tokio::spawn(server::controllers::apps::run(
        server::controllers::apps::Context::new(console, registry),
        watcher::Config::default().labels(&format!("{RUN_LABEL}={run}")),
    ));
    // The project the Applications belong to: the controller places them only on its clusters
    // ("west-link" is west behind a forwarder a test stops, "gone" one that is not registered).
    let admin = sandbox.cluster("global").admin_client().await;
    let mut project = Project::new(
        &name,
        ProjectSpec {
            clusters: ["east", "west", "west-link", "gone"]
                .map(|c| ProjectCluster {
                    name: c.into(),
                    namespace: None,
                })
                .into(),
            ..ProjectSpec::default()
        },
    );
    project.metadata.labels = Some([(RUN_LABEL.to_string(), run.clone())].into());
    Api::<Project>::all(admin)
        .create(&PostParams::default(), &project)
        .await
        .unwrap_or_else(|e| panic!("project {name}: {e}"));
    let (user, groups) = support::PLATFORM_ADMIN;
    Fixture {
        apps: Api::namespaced(
            sandbox.cluster("global").client_as(user, groups).await,
            &name,
        ),
        run,
        _ns: ns,
        name,
        task,
    }
}

fn template(image: &str) -> WorkloadTemplate {
    WorkloadTemplate {
        deployment: json!({
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}}
        }),
        ..WorkloadTemplate::default()
    }
}

impl Fixture {
    async fn create(&self, app: &str, spec: ApplicationSpec) {
        let mut resource = Application::new(app, spec);
        resource.metadata.labels = Some([(RUN_LABEL.to_string(), self.run.clone())].into());
        let (user, groups) = support::PLATFORM_ADMIN;
        resource.metadata.annotations = Some(support::authored_by(user, groups));
        self.apps
            .create(&PostParams::default(), &resource)
            .await
            .unwrap_or_else(|e| panic!("application {app}: {e}"));
    }

    async fn patch(&self, app: &str, patch: serde_json::Value) {
        self.apps
            .patch(app, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .unwrap_or_else(|e| panic!("patch {app}: {e}"));
    }

    /// Waits until the application's status (for its current generation) satisfies `want`.
    async fn until(
        &self,
        app: &str,
        what: &str,
        secs: u64,
        want: impl Fn(&ApplicationState) -> bool,
    ) -> ApplicationState {
        support::application_state(&self.apps, app, what, secs, want).await
    }

    async fn deployment(&self, cluster: &str, app: &str) -> Option<Deployment> {
        Api::<Deployment>::namespaced(sandbox().cluster(cluster).admin_client().await, &self.name)
            .get_opt(app)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

fn cluster<'a>(state: &'a ApplicationState, name: &str) -> &'a app::apps::resource::ClusterSync {
    state
        .clusters
        .iter()
        .find(|c| c.cluster == name)
        .unwrap_or_else(|| panic!("no status for {name}: {state:#?}"))
}

fn image(deployment: &Option<Deployment>) -> String {
    deployment
        .as_ref()
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

fn replicas(deployment: &Option<Deployment>) -> i32 {
    deployment
        .as_ref()
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.replicas)
        .unwrap_or(-1)
}

fn healthy_at(revision: i64) -> impl Fn(&ApplicationState) -> bool {
    move |s| {
        s.health == Health::Healthy
            && s.clusters
                .iter()
                .all(|c| c.synced_revision == Some(revision) && c.ready == c.desired)
    }
}

#[tokio::test]
async fn an_application_lives_on_east_and_west_from_create_to_delete() {
    let f = start(None).await;
    f.create(
        "web",
        ApplicationSpec {
            template: template("registry.example/web:1"),
            placement: vec!["east".into(), "west".into()],
            ..ApplicationSpec::default()
        },
    )
    .await;
    let state = f.until("web", "healthy on both", 60, healthy_at(1)).await;
    assert_eq!(state.revision, 1);
    for c in ["east", "west"] {
        assert_eq!(
            (cluster(&state, c).desired, cluster(&state, c).ready),
            (2, 2)
        );
        assert_eq!(
            image(&f.deployment(c, "web").await),
            "registry.example/web:1"
        );
    }
    let resource = f.apps.get("web").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        resource
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&FINALIZER.to_string())
    );

    // Scale west only: no new revision, east untouched.
    f.patch(
        "web",
        json!({"spec": {"overrides": [ClusterOverride {
            cluster: "west".into(), replicas: Some(4), ..ClusterOverride::default()
        }]}}),
    )
    .await;
    let state = f
        .until("web", "west at 4", 60, |s| {
            s.health == Health::Healthy
                && s.clusters
                    .iter()
                    .any(|c| c.cluster == "west" && c.ready == 4)
        })
        .await;
    assert_eq!(state.revision, 1);
    assert_eq!(cluster(&state, "east").desired, 2);
    assert_eq!(
        cluster(&state, "west").drift,
        None,
        "a scale through the console is not drift"
    );
    assert_eq!(replicas(&f.deployment("west", "web").await), 4);

    // A new image is a new revision, rolled out on both.
    f.patch(
        "web",
        json!({"spec": {"template": template("registry.example/web:2")}}),
    )
    .await;
    let state = f
        .until("web", "rolled out revision 2", 60, healthy_at(2))
        .await;
    assert_eq!(state.history.len(), 2);
    for c in ["east", "west"] {
        assert_eq!(
            image(&f.deployment(c, "web").await),
            "registry.example/web:2"
        );
    }

    // Drift: scaled by hand on east, set back, and said so.
    Api::<Deployment>::namespaced(sandbox().cluster("east").admin_client().await, &f.name)
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = f
        .until("web", "drift set back on east", 30, |s| {
            s.clusters.iter().any(|c| {
                c.cluster == "east" && c.drift.as_deref().is_some_and(|d| d.contains("replicas 5"))
            })
        })
        .await;
    assert!(cluster(&state, "east").drift.is_some());
    eventually("east back at 2 replicas", 30, || async {
        match replicas(&f.deployment("east", "web").await) {
            2 => Ok(()),
            n => Err(n.to_string()),
        }
    })
    .await;

    // Roll back to revision 1: its template again, as revision 3.
    let first = state
        .history
        .iter()
        .find(|r| r.revision == 1)
        .map(|r| r.template.clone())
        .unwrap_or_else(|| panic!("revision 1 is in the history"));
    f.patch(
        "web",
        json!({"metadata": {"annotations": {app::apps::resource::CAUSE_ANNOTATION: "rollback to 1"}},
               "spec": {"template": first}}),
    )
    .await;
    let state = f.until("web", "rolled back", 60, healthy_at(3)).await;
    assert_eq!(state.history[0].cause, "rollback to 1");
    assert_eq!(
        image(&f.deployment("west", "web").await),
        "registry.example/web:1"
    );

    // Delete: the finalizer removes the workload everywhere first.
    f.apps
        .delete("web", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eventually("web gone", 60, || async {
        match f.apps.get_opt("web").await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(_) => Err("still there".into()),
        }
    })
    .await;
    for c in ["east", "west"] {
        assert!(
            f.deployment(c, "web").await.is_none(),
            "a Deployment remains on {c}"
        );
    }
}

#[tokio::test]
async fn config_map_line_endings_are_normalised_and_default_mode_is_kept() {
    let f = start(None).await;
    let mut t = template("registry.example/web:1");
    t.deployment["template"]["spec"]["volumes"] =
        json!([{"name": "conf", "configMap": {"name": "conf", "defaultMode": 288}}]);
    t.deployment["template"]["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "conf", "mountPath": "/etc/app"}]);
    t.config_maps = vec![ConfigMapTemplate {
        name: "conf".into(),
        data: [("app.ini".to_string(), "a=1\r\nb=2\r\n".to_string())].into(),
    }];
    f.create(
        "conf",
        ApplicationSpec {
            template: t,
            placement: vec!["east".into()],
            ..ApplicationSpec::default()
        },
    )
    .await;
    f.until("conf", "healthy", 60, healthy_at(1)).await;
    let east = sandbox().cluster("east").admin_client().await;
    let map = Api::<ConfigMap>::namespaced(east.clone(), &f.name)
        .get("conf")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        map.data
            .unwrap_or_default()
            .get("app.ini")
            .map(String::as_str),
        Some("a=1\nb=2\n")
    );
    let deployment = f.deployment("east", "conf").await;
    let mode = deployment
        .and_then(|d| d.spec)
        .and_then(|s| s.template.spec)
        .and_then(|s| s.volumes)
        .and_then(|v| {
            v.first()
                .and_then(|v| v.config_map.as_ref())
                .and_then(|c| c.default_mode)
        });
    assert_eq!(mode, Some(288));
    f.apps
        .delete("conf", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn an_unreachable_cluster_is_reported_retried_and_caught_up_without_holding_the_others() {
    let sandbox = sandbox();
    let mut forwarder = support::Forwarder::new(&sandbox.cluster("west").server).await;
    let kubeconfig = support::kubeconfig_with_alias(sandbox, "west", "west-link", forwarder.addr);
    let registry = ClusterRegistry::from_kubeconfig(kubeconfig.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let f = start(Some(registry)).await;
    f.create(
        "api",
        ApplicationSpec {
            template: template("registry.example/api:1"),
            placement: vec!["east".into(), "west-link".into()],
            ..ApplicationSpec::default()
        },
    )
    .await;
    f.until("api", "healthy", 60, healthy_at(1)).await;

    // West goes away during an update: east moves on, west is Unreachable with the reason.
    forwarder.stop();
    f.patch(
        "api",
        json!({"spec": {"template": template("registry.example/api:2")}}),
    )
    .await;
    let state = f
        .until("api", "unreachable on west", 60, |s| {
            s.health == Health::Unreachable
                && s.clusters.iter().any(|c| {
                    c.cluster == "west-link"
                        && c.health == Health::Unreachable
                        && c.last_error.is_some()
                })
                && s.clusters.iter().any(|c| {
                    c.cluster == "east"
                        && c.synced_revision == Some(2)
                        && c.health == Health::Healthy
                })
        })
        .await;
    assert!(state.message.contains("west-link"), "{}", state.message);
    assert_eq!(
        image(&f.deployment("west", "api").await),
        "registry.example/api:1"
    );

    // It comes back: caught up to revision 2.
    forwarder.start().await;
    f.until("api", "caught up", 90, healthy_at(2)).await;
    assert_eq!(
        image(&f.deployment("west", "api").await),
        "registry.example/api:2"
    );

    // Deleted while west is away: the Application stays, naming west, until it is back.
    forwarder.stop();
    f.apps
        .delete("api", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eventually("east cleaned, west reported", 60, || async {
        let found = f.apps.get_opt("api").await.map_err(|e| e.to_string())?;
        let message = found
            .and_then(|a| a.status)
            .map(|s| s.message)
            .unwrap_or_default();
        let east_gone = f.deployment("east", "api").await.is_none();
        if east_gone && message.contains("remains on west-link") {
            Ok(())
        } else {
            Err(format!("east gone {east_gone}, message {message:?}"))
        }
    })
    .await;
    assert!(f.deployment("west", "api").await.is_some());
    forwarder.start().await;
    eventually("api gone once west is back", 120, || async {
        match f.apps.get_opt("api").await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(a) => Err(format!("{:?}", a.status.map(|s| s.message))),
        }
    })
    .await;
    assert!(f.deployment("west", "api").await.is_none());
}

/// Leader election: two replicas compete for one lease; only the leader runs its tasks; when
/// the leader's process dies (its runtime stops without releasing the lease) the other takes
/// over within 30 s.
#[test]
fn a_second_replica_takes_over_within_30_s_when_the_leader_dies() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    let lease = format!("t-lease-{}", support::run_id());
    let running = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let replica = |index: usize| {
        let (lease, running) = (lease.clone(), running.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        runtime.spawn(async move {
            let console: Client =
                support::client_from(&sandbox().cluster("global").console_kubeconfig).await;
            server::controllers::leader::lead(console, format!("replica-{index}"), &lease, || {
                let running = running.clone();
                vec![tokio::spawn(async move {
                    running[index].fetch_add(1, Ordering::SeqCst);
                    let _still = scopeguard(running.clone(), index);
                    std::future::pending::<()>().await;
                })]
            })
            .await;
        });
        runtime
    };
    let first = replica(0);
    let wait = |what: &str, secs: u64, check: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while !check() {
            assert!(
                std::time::Instant::now() < deadline,
                "not {what} within {secs} s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("replica 0 leading", 20, &|| {
        running[0].load(Ordering::SeqCst) == 1
    });
    let second = replica(1);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        running[1].load(Ordering::SeqCst),
        0,
        "only the leader runs controllers"
    );

    // The leader dies without a word: its runtime stops, the lease is not released.
    let died = std::time::Instant::now();
    first.shutdown_background();
    wait("replica 1 leading", 30, &|| {
        running[1].load(Ordering::SeqCst) == 1
    });
    println!("takeover after {:.1} s", died.elapsed().as_secs_f64());
    second.shutdown_background();
}

/// Counts a running controller down when its task ends.
fn scopeguard(
    running: std::sync::Arc<[std::sync::atomic::AtomicUsize; 2]>,
    index: usize,
) -> impl Drop {
    struct Guard(std::sync::Arc<[std::sync::atomic::AtomicUsize; 2]>, usize);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0[self.1].fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    Guard(running, index)
}

#[tokio::test]
async fn a_cluster_no_longer_registered_is_reported_and_does_not_hold_a_delete_forever() {
    let f = start(None).await;
    f.create(
        "orphan",
        ApplicationSpec {
            template: template("registry.example/web:1"),
            placement: vec!["east".into(), "gone".into()],
            ..ApplicationSpec::default()
        },
    )
    .await;
    let state = f
        .until("orphan", "gone reported", 60, |s| {
            s.clusters.iter().any(|c| {
                c.cluster == "gone"
                    && c.health == Health::Unreachable
                    && c.last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("not registered"))
            }) && s
                .clusters
                .iter()
                .any(|c| c.cluster == "east" && c.health == Health::Healthy)
        })
        .await;
    assert_eq!(state.health, Health::Unreachable);
    f.apps
        .delete("orphan", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eventually("orphan deleted", 60, || async {
        match f.apps.get_opt("orphan").await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(a) => Err(format!("{:?}", a.status.map(|s| s.message))),
        }
    })
    .await;
    assert!(f.deployment("east", "orphan").await.is_none());
}
