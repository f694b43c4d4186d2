//! The ClusterPlugin controller: installs or upgrades each plugin on its cluster (a Deployment
//! in the plugin namespace, server-side applied with the console's credential) when the
//! lifecycle rules allow the version asked for, and reports what runs there.
//!
//! Rules: a first install takes any catalog version. After that, Aligned and Agnostic plugins
//! move as `catalog::check_upgrade` allows against the cluster's platform release (from its
//! ClusterVersionShadow); a Core plugin moves only to the version of the release its
//! ClusterVersionShadow is upgrading to. A refused version leaves the running one alone.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use app::{
    error::innermost,
    platform::registry::ClusterRegistry,
    plugins::{
        catalog::{self, Lifecycle},
        resource::{
            ClusterPlugin, PluginPhase, PluginState, VERSION_ANNOTATION, plugin_resource_name,
        },
    },
    upgrades::shadow::{ClusterVersionShadow, RunState},
};
use futures::StreamExt;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Namespace};
use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{Controller, controller::Action, reflector::ObjectRef, watcher},
};

use super::clusters::MANAGER;
use app::plugins::settings::Backend;

mod monitoring;

/// How often a Ready plugin is looked at again (drift on the cluster is corrected then).
const RESYNC: Duration = Duration::from_secs(60);
/// How often a rollout in progress is checked.
const ROLLOUT_POLL: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of plugin {name}: {source}")]
    WriteStatus { name: String, source: kube::Error },
}

/// Why a step of the plugin failed (retried with backoff); its text is the plugin's status
/// message, its source goes to the log.
#[derive(Debug, thiserror::Error)]
enum StepError {
    /// The cluster is not registered or has no usable credential.
    #[error("{0}")]
    Console(#[from] app::ConsoleError),
    #[error("reading ClusterVersionShadow {cluster} on global: {source}")]
    Shadow {
        cluster: String,
        source: kube::Error,
    },
    /// Reading or applying on the plugin's cluster.
    #[error("cluster {cluster}: {}", innermost(.source))]
    Cluster {
        cluster: String,
        source: kube::Error,
    },
    /// The monitoring plugins' own step (its message names what failed).
    #[error("{0}")]
    Monitoring(String),
}

pub struct Context {
    pub global: Client,
    pub clusters: ClusterRegistry,
    /// The namespace plugins run in on every cluster.
    pub namespace: String,
    /// Whether the admission policy that vouches for the authors of plugin settings is in force.
    pub policy: super::authors::PolicyCheck,
}

impl Context {
    pub fn new(global: Client, clusters: ClusterRegistry, namespace: impl Into<String>) -> Self {
        Context {
            global,
            clusters,
            namespace: namespace.into(),
            policy: super::authors::PolicyCheck::plugins(),
        }
    }
}

pub async fn run(ctx: Context, watch: watcher::Config) {
    let plugins = Api::<ClusterPlugin>::all(ctx.global.clone());
    let shadows = Api::<ClusterVersionShadow>::all(ctx.global.clone());
    Controller::new(plugins, watch)
        // A cluster's release decides what its plugins may move to: a change of its shadow
        // looks at every plugin the cluster may have (the catalog names them all).
        .watches(shadows, watcher::Config::default(), |shadow| {
            let cluster = shadow.name_any();
            catalog::CATALOG
                .iter()
                .map(|p| ObjectRef::new(&plugin_resource_name(&cluster, p.name)))
                .collect::<Vec<_>>()
        })
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|result| async move {
            crate::metrics::reconciled("plugins", &result);
            if let Err(error) = result {
                tracing::warn!(%error, "plugin reconcile failed");
            }
        })
        .await;
}

/// The Deployment that runs `plugin` at `version`.
pub fn deployment(plugin: &str, version: &str, namespace: &str) -> Deployment {
    let labels = BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), plugin.to_string()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            MANAGER.to_string(),
        ),
    ]);
    let annotations = BTreeMap::from([(VERSION_ANNOTATION.to_string(), version.to_string())]);
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": deployment_name(plugin),
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": plugin}},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {"containers": [{
                    "name": plugin,
                    "image": format!("registry.nextgen-console.local/plugins/{plugin}:{version}"),
                }]},
            },
        },
    }))
    .unwrap_or_default()
}

pub fn deployment_name(plugin: &str) -> String {
    format!("plugin-{plugin}")
}

/// The version a Deployment runs once its rollout is complete; `None` while it rolls out.
fn rolled_out(deployment: &Deployment) -> Option<String> {
    let version = deployment.annotations().get(VERSION_ANNOTATION)?.clone();
    let want = deployment.spec.as_ref()?.replicas.unwrap_or(1);
    let status = deployment.status.as_ref()?;
    let current = status.observed_generation >= deployment.metadata.generation
        && status.updated_replicas.unwrap_or(0) == want
        && status.available_replicas.unwrap_or(0) == want
        && status.replicas.unwrap_or(0) == want;
    current.then_some(version)
}

/// What the rules say of moving `plugin` to its desired version.
fn judge(
    plugin: &ClusterPlugin,
    entry: &catalog::CatalogPlugin,
    installed: Option<&str>,
    shadow: Option<&ClusterVersionShadow>,
) -> Result<(), String> {
    let desired = plugin.spec.version.as_str();
    if entry.version(desired).is_none() {
        return Err(format!(
            "{} has no version {desired} in the catalog; choose one of {}",
            entry.name,
            entry
                .versions
                .iter()
                .map(|v| v.version)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let Some(installed) = installed.filter(|i| *i != desired) else {
        return Ok(());
    };
    let state = shadow.and_then(|s| s.status.as_ref());
    if entry.lifecycle == Lifecycle::Core {
        let upgrading_to = state
            .and_then(|s| s.progress.as_ref())
            .filter(|run| run.state == RunState::Progressing)
            .and_then(|run| entry.for_release(&run.release));
        return match upgrading_to {
            Some(version) if version == desired => Ok(()),
            _ => Err(catalog::UpgradeRefused::Core {
                plugin: entry.name.into(),
            }
            .to_string()),
        };
    }
    let current = state.and_then(|s| s.current_release.as_deref());
    catalog::check_upgrade(entry, installed, desired, current).map_err(|e| e.to_string())
}

async fn reconcile(plugin: Arc<ClusterPlugin>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = plugin.name_any();
    let previous = plugin.status.clone().unwrap_or_default();
    let mut state = previous.clone();
    state.observed_generation = plugin.metadata.generation;
    let wait = match catalog::plugin(&plugin.spec.plugin) {
        None => {
            state.phase = PluginPhase::Failed;
            state.message = format!(
                "{:?} is not in the plugin catalog; known plugins: {}",
                plugin.spec.plugin,
                catalog::CATALOG.map(|p| p.name).join(", ")
            );
            RESYNC
        }
        Some(entry) => match step(&plugin, entry, &ctx, &mut state).await {
            Ok(wait) => {
                state.consecutive_failures = 0;
                wait
            }
            Err(error) => {
                let source = std::error::Error::source(&error).map(innermost);
                tracing::debug!(plugin = %name, %error, ?source, "plugin step failed");
                state.phase = PluginPhase::Failed;
                state.message = error.to_string();
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                let factor = 1u32 << state.consecutive_failures.min(8);
                (Duration::from_secs(1) * factor).min(MAX_BACKOFF)
            }
        },
    };
    if state != previous {
        super::apply_status(
            &Api::<ClusterPlugin>::all(ctx.global.clone()),
            &name,
            &state,
            MANAGER,
        )
        .await
        .map_err(|source| Error::WriteStatus { name, source })?;
    }
    Ok(Action::requeue(wait))
}

/// Reads the plugin's Deployment, applies the desired version when the rules allow it, and
/// fills `state`; returns when to look again. An error is a failure to reach or change the
/// cluster.
async fn step(
    plugin: &ClusterPlugin,
    entry: &catalog::CatalogPlugin,
    ctx: &Context,
    state: &mut PluginState,
) -> Result<Duration, StepError> {
    let cluster = &plugin.spec.cluster;
    let on_cluster = |source| StepError::Cluster {
        cluster: cluster.clone(),
        source,
    };
    let client = ctx.clusters.console_client(cluster)?;
    let shadow = Api::<ClusterVersionShadow>::all(ctx.global.clone())
        .get_opt(cluster)
        .await
        .map_err(|source| StepError::Shadow {
            cluster: cluster.clone(),
            source,
        })?;
    let deployments = Api::<Deployment>::namespaced(client.clone(), &ctx.namespace);
    let running = deployments
        .get_opt(&deployment_name(entry.name))
        .await
        .map_err(on_cluster)?;
    if let Some(version) = running.as_ref().and_then(rolled_out) {
        state.installed_version = Some(version);
    }
    state.lifecycle = Some(entry.lifecycle);
    state.cluster_release = shadow
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.current_release.clone());
    state.available_versions = state
        .installed_version
        .as_deref()
        .map(|installed| {
            entry
                .upgrades(installed, state.cluster_release.as_deref())
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();

    if let Err(refusal) = judge(
        plugin,
        entry,
        state.installed_version.as_deref(),
        shadow.as_ref(),
    ) {
        state.phase = PluginPhase::Refused;
        state.message = refusal;
        return Ok(RESYNC);
    }
    if let Some(backend) = Backend::of_plugin(entry.name) {
        return match monitoring::step(plugin, backend, ctx, state).await {
            Ok(wait) => Ok(wait),
            Err(monitoring::Stop::Refused(message)) => {
                state.phase = PluginPhase::Refused;
                state.message = message;
                Ok(RESYNC)
            }
            Err(monitoring::Stop::Failed(message)) => Err(StepError::Monitoring(message)),
        };
    }
    let desired = plugin.spec.version.as_str();
    apply(&client, &ctx.namespace, entry.name, desired)
        .await
        .map_err(on_cluster)?;
    if state.installed_version.as_deref() == Some(desired)
        && running
            .as_ref()
            .and_then(|d| d.annotations().get(VERSION_ANNOTATION))
            .map(String::as_str)
            == Some(desired)
    {
        state.phase = PluginPhase::Ready;
        state.message = format!("{desired} runs on {cluster}");
        Ok(RESYNC)
    } else {
        state.phase = PluginPhase::Progressing;
        state.message = match &state.installed_version {
            Some(from) => format!("rolling out {desired} (from {from})"),
            None => format!("installing {desired}"),
        };
        Ok(ROLLOUT_POLL)
    }
}

async fn apply(
    client: &Client,
    namespace: &str,
    plugin: &str,
    version: &str,
) -> Result<(), kube::Error> {
    let params = PatchParams::apply(MANAGER).force();
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace},
    }))
    .unwrap_or_default();
    Api::<Namespace>::all(client.clone())
        .patch(namespace, &params, &Patch::Apply(&ns))
        .await?;
    Api::<Deployment>::namespaced(client.clone(), namespace)
        .patch(
            &deployment_name(plugin),
            &params,
            &Patch::Apply(&deployment(plugin, version, namespace)),
        )
        .await?;
    Ok(())
}

fn error_policy(_plugin: Arc<ClusterPlugin>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(%error, "plugin status not written; retrying");
    Action::requeue(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::{
        plugins::resource::ClusterPluginSpec,
        upgrades::shadow::{ClusterVersionShadowSpec, ShadowState, UpdateRun},
    };

    fn plugin(name: &str, version: &str) -> ClusterPlugin {
        ClusterPlugin::new(
            &format!("east.{name}"),
            ClusterPluginSpec {
                cluster: "east".into(),
                plugin: name.into(),
                version: version.into(),
                monitoring: None,
            },
        )
    }

    fn shadow(current: &str, upgrading_to: Option<&str>) -> ClusterVersionShadow {
        let mut shadow = ClusterVersionShadow::new("east", ClusterVersionShadowSpec::default());
        shadow.status = Some(ShadowState {
            current_release: Some(current.into()),
            progress: upgrading_to.map(|release| UpdateRun {
                release: release.into(),
                ..UpdateRun::default()
            }),
            ..ShadowState::default()
        });
        shadow
    }

    fn entry(name: &str) -> &'static catalog::CatalogPlugin {
        catalog::plugin(name).unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn a_core_plugin_moves_only_to_the_release_its_cluster_is_upgrading_to() {
        let agent = entry("platform-agent");
        let wanted = plugin("platform-agent", "4.3.0");
        let idle = judge(&wanted, agent, Some("4.2.1"), Some(&shadow("4.2", None)));
        assert!(idle.is_err_and(|e| e.contains("follows the cluster upgrade")));
        let upgrading = judge(
            &wanted,
            agent,
            Some("4.2.1"),
            Some(&shadow("4.2", Some("4.3"))),
        );
        assert_eq!(upgrading, Ok(()));
        // The first install takes the version asked for.
        assert_eq!(judge(&wanted, agent, None, None), Ok(()));
    }

    #[test]
    fn aligned_and_agnostic_plugins_follow_the_catalog_rules() {
        let at_42 = shadow("4.2", None);
        let gateway = entry("ingress-gateway");
        assert_eq!(
            judge(
                &plugin("ingress-gateway", "4.2.3"),
                gateway,
                Some("4.2.0"),
                Some(&at_42)
            ),
            Ok(())
        );
        assert!(
            judge(
                &plugin("ingress-gateway", "4.3.0"),
                gateway,
                Some("4.2.0"),
                Some(&at_42)
            )
            .is_err_and(|e| e.contains("does not run on platform release 4.2"))
        );
        assert!(
            judge(
                &plugin("cert-manager", "2.0.0"),
                entry("cert-manager"),
                None,
                None
            )
            .is_err_and(|e| e.contains("no version 2.0.0"))
        );
    }

    #[test]
    fn a_deployment_counts_as_rolled_out_only_when_every_replica_is_updated_and_available() {
        let mut d = deployment("cert-manager", "1.16.2", "ns");
        d.metadata.generation = Some(2);
        assert_eq!(rolled_out(&d), None);
        d.status = Some(k8s_openapi::api::apps::v1::DeploymentStatus {
            observed_generation: Some(2),
            replicas: Some(1),
            updated_replicas: Some(1),
            available_replicas: Some(1),
            ..Default::default()
        });
        assert_eq!(rolled_out(&d).as_deref(), Some("1.16.2"));
        if let Some(s) = d.status.as_mut() {
            s.observed_generation = Some(1);
        }
        assert_eq!(
            rolled_out(&d),
            None,
            "an older generation is not the rollout"
        );
    }
}
