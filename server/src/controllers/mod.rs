//! The console's controllers, which act with its own credential on the global cluster, and the
//! CRDs they own (installed at start, so a new console version brings its schema along).

pub mod apps;
pub mod authors;
pub mod clusters;
pub mod images;
pub mod leader;
pub mod plugins;
pub mod projects;
pub mod shadows;

use std::time::Duration;

use app::{
    apps::resource::Application, clusters::resource::Cluster, plugins::resource::ClusterPlugin,
    projects::resource::Project, upgrades::shadow::ClusterVersionShadow,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, CustomResourceExt,
    api::{Patch, PatchParams},
    runtime::wait::{await_condition, conditions},
};

/// Server-side applies `status` as the status of `name`, one of the console's own resources,
/// under `manager` (its controllers are the only writers of their resources' status).
pub(crate) async fn apply_status<K>(
    api: &Api<K>,
    name: &str,
    status: &impl serde::Serialize,
    manager: &str,
) -> Result<(), kube::Error>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map(|_| ())
}

/// Every CRD the console owns.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        Cluster::crd(),
        ClusterPlugin::crd(),
        ClusterVersionShadow::crd(),
        Application::crd(),
        Project::crd(),
        app::images::types::ImagePrunePolicy::crd(),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(
        "installing CRD {name} on the global cluster failed: {source}. The console's credential there needs create and patch on customresourcedefinitions (see the README)."
    )]
    Apply { name: String, source: kube::Error },
    #[error(
        "installing the admission policy {} on the global cluster failed: {source}. The console's credential there needs create and patch on validatingadmissionpolicies and validatingadmissionpolicybindings (see the README).",
        app::access::author::AUTHOR_POLICY
    )]
    Policy { source: kube::Error },
    #[error("CRD {name} was not Established within 30 s")]
    NotEstablished { name: String },
}

/// Applies the console's CRDs to `global` and waits until the apiserver serves them. The
/// admission policy that vouches for authors goes first, so no Application or Project can be
/// written before it is in force.
pub async fn install_crds(global: &Client) -> Result<(), InstallError> {
    authors::install(global, clusters::MANAGER)
        .await
        .map_err(|source| InstallError::Policy { source })?;
    let api = Api::<CustomResourceDefinition>::all(global.clone());
    for crd in crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply(clusters::MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .map_err(|source| InstallError::Apply {
            name: name.clone(),
            source,
        })?;
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .map_err(|_| InstallError::NotEstablished { name: name.clone() })?
        .map_err(|_| InstallError::NotEstablished { name })?;
    }
    Ok(())
}

/// Labels that mark an object as a test run's or a benchmark's own (server/tests, server/benches):
/// those runs start controllers of their own that select exactly their objects by this label.
/// The console's controllers leave such objects alone, so the tests and benchmarks can run
/// beside a demo console (`scripts/run`) on the same sandbox.
pub const TEST_OWNED_LABELS: [&str; 2] = ["nextgen-console.test/run", "nextgen-console.bench/run"];

/// What the console's own controllers watch: everything but test-owned objects.
pub fn console_watch() -> kube::runtime::watcher::Config {
    let selector = TEST_OWNED_LABELS.map(|label| format!("!{label}")).join(",");
    kube::runtime::watcher::Config::default().labels(&selector)
}

/// Starts every controller (on the replica that leads): Cluster status, ClusterVersionShadow
/// (and one per registered cluster), ClusterPlugin and Application.
pub fn spawn_all(
    global: kube::Client,
    clusters: app::platform::registry::ClusterRegistry,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(clusters::run(
            global.clone(),
            console_watch(),
            Duration::from_secs(30),
        )),
        tokio::spawn(shadows::ensure_shadows(
            global.clone(),
            clusters.clone(),
            Duration::from_secs(30),
        )),
        tokio::spawn(shadows::run(
            shadows::Context {
                global: global.clone(),
                clusters: clusters.clone(),
            },
            console_watch(),
        )),
        tokio::spawn(plugins::run(
            plugins::Context::new(
                global.clone(),
                clusters.clone(),
                app::plugins::resource::PLUGIN_NAMESPACE,
            ),
            console_watch(),
        )),
        tokio::spawn(projects::run(
            projects::Context::new(global.clone(), clusters.clone()),
            console_watch(),
        )),
        tokio::spawn(apps::run(
            apps::Context::new(global, clusters),
            console_watch(),
        )),
    ]
}
