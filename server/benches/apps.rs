//! Status aggregation at scale: 50 Applications, each placed on 100 registered clusters (100
//! Cluster resources on global pointing at the sandbox's east and west, so 5,000 cluster syncs
//! land on two real API servers), reconciled by the application controller as the console.
//! Prints how long until every Application reports all 100 clusters Healthy at its revision,
//! first for the creation and then for an image change of all 50. Replicas are 0, so kwok runs
//! no pods and the figure is the console's work plus the API servers'. Needs the sandbox; run
//! with `cargo bench -p server --bench apps`.

#[path = "report/mod.rs"]
mod report;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::{
    apps::resource::{Application, ApplicationSpec, Health, WorkloadTemplate},
    clusters::resource::Cluster,
    platform::registry::ClusterRegistry,
};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::watcher,
};
use serde_json::json;

const CLUSTERS: usize = 100;
const APPS: usize = 50;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    runtime.block_on(run());
}

fn template(image: &str) -> WorkloadTemplate {
    WorkloadTemplate {
        deployment: json!({"replicas": 0, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}),
        ..WorkloadTemplate::default()
    }
}

async fn run() {
    use base64::Engine as _;
    let sandbox = support::sandbox();
    let global = sandbox.cluster("global");
    let console = support::client_from(&global.console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = global.admin_client().await;
    let run = support::run_id();
    let secret = support::console_credential_secret(sandbox, &format!("appbench-{run}")).await;
    let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
    let servers: Vec<String> = sandbox
        .workload_clusters()
        .map(|c| c.server.clone())
        .collect();
    let clusters = Api::<Cluster>::all(admin.clone());
    let names: Vec<String> = (0..CLUSTERS).map(|i| format!("ab-{run}-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        // Owns the credential Secret, without which the console does not use it.
        support::create_cluster(
            &admin,
            &support::cluster_resource(
                name,
                &run,
                servers[i % servers.len()].clone(),
                &ca,
                &secret,
            ),
        )
        .await;
    }
    let ns = format!("appbench-{run}");
    let _namespaces = futures::future::join_all(
        ["global", "east", "west"].map(|c| support::TestNamespace::named(sandbox.cluster(c), &ns)),
    )
    .await;
    let registry = ClusterRegistry::empty();
    tokio::spawn(registry.clone().follow(console.clone()));
    while registry.len() < CLUSTERS {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::spawn(server::controllers::apps::run(
        server::controllers::apps::Context::new(console, registry),
        watcher::Config::default().labels(&format!("{}={run}", support::RUN_LABEL)),
    ));

    // The project the Applications belong to, over every Cluster resource; authored by the
    // platform admin, as whom the controller applies.
    let project = app::projects::resource::Project::new(
        &ns,
        app::projects::resource::ProjectSpec {
            clusters: names
                .iter()
                .map(|n| app::projects::resource::ProjectCluster {
                    name: n.clone(),
                    namespace: None,
                })
                .collect(),
            ..Default::default()
        },
    );
    Api::<app::projects::resource::Project>::all(admin.clone())
        .create(&PostParams::default(), &project)
        .await
        .unwrap_or_else(|e| panic!("project {ns}: {e}"));
    let (user, groups) = support::PLATFORM_ADMIN;
    let apps = Api::<Application>::namespaced(
        sandbox.cluster("global").client_as(user, groups).await,
        &ns,
    );
    let started = Instant::now();
    for i in 0..APPS {
        let mut app = Application::new(
            &format!("app-{i:02}"),
            ApplicationSpec {
                template: template("registry.example/app:1"),
                placement: names.clone(),
                ..ApplicationSpec::default()
            },
        );
        app.metadata.labels = Some([(support::RUN_LABEL.to_string(), run.clone())].into());
        app.metadata.annotations = Some(support::authored_by(user, groups));
        apps.create(&PostParams::default(), &app)
            .await
            .unwrap_or_else(|e| panic!("app {i}: {e}"));
    }
    let created = all_healthy(&apps, 1, started).await;

    let started = Instant::now();
    for i in 0..APPS {
        apps.patch(
            &format!("app-{i:02}"),
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"template": template("registry.example/app:2")}})),
        )
        .await
        .unwrap_or_else(|e| panic!("app {i}: {e}"));
    }
    let updated = all_healthy(&apps, 2, started).await;

    println!(
        "status aggregation: {APPS} applications × {CLUSTERS} clusters (Cluster resources on global → east/west)"
    );
    println!("{:<36} {:>10} {:>14}", "step", "time", "cluster syncs/s");
    for (step, took) in [
        ("create, until all Healthy at rev 1", created),
        ("image change, until all at rev 2", updated),
    ] {
        println!(
            "{step:<36} {:>8.1} s {:>14.0}",
            took.as_secs_f64(),
            (APPS * CLUSTERS) as f64 / took.as_secs_f64()
        );
        report::line(
            &format!("applications: {APPS} × {CLUSTERS} clusters, {step}"),
            &format!("{:.1} s", took.as_secs_f64()),
            "-",
            &format!(
                "{:.0} cluster syncs/s",
                (APPS * CLUSTERS) as f64 / took.as_secs_f64()
            ),
        );
    }

    for i in 0..APPS {
        let _ = apps
            .delete(&format!("app-{i:02}"), &DeleteParams::default())
            .await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for name in &names {
        let _ = clusters.delete(name, &DeleteParams::default()).await;
    }
    let _ = Api::<app::projects::resource::Project>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await;
}

async fn all_healthy(apps: &Api<Application>, revision: i64, started: Instant) -> Duration {
    loop {
        let list = apps
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let done = list
            .items
            .iter()
            .filter(|a| {
                a.status.as_ref().is_some_and(|s| {
                    s.health == Health::Healthy
                        && s.clusters.len() == CLUSTERS
                        && s.clusters
                            .iter()
                            .all(|c| c.synced_revision == Some(revision))
                })
            })
            .count();
        if done == APPS {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "only {done} of {APPS} applications settled after 600 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
