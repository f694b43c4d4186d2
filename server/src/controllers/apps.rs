//! The Application controller: applies each Application to every cluster it is placed on
//! (server-side apply under its own field manager, with the console's credential), writes each
//! cluster's state and the aggregate health into the status, and keeps the revision history.
//!
//! - Every placed cluster is synced concurrently with a timeout, so an unreachable cluster costs
//!   at most that and never holds up the others; it is retried with exponential backoff.
//! - Watches of the managed Deployments on every member cluster wake the Application at once
//!   when its workload changes there (rollout progress, or drift, which the next sync sets back).
//! - A finalizer keeps a deleted Application until its workload is gone from every cluster it
//!   ran on; clusters that cannot be reached are named in the status and retried.

use std::{collections::HashSet, sync::Arc, time::Duration};

use app::{
    apps::resource::{
        self, APP_LABEL, Application, ApplicationState, CAUSE_ANNOTATION, ClusterSync,
        DEFAULT_HISTORY, FIELD_MANAGER, FINALIZER, Health, MANAGED_BY,
    },
    clusters::registry::ClusterRegistry,
    error::innermost,
};
use futures::{SinkExt, StreamExt, channel::mpsc, future::join_all};
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Service},
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{
        ApiResource, DeleteParams, DynamicObject, ListParams, PartialObjectMeta, Patch, PatchParams,
    },
    runtime::{
        Controller, WatchStreamExt,
        controller::Action,
        finalizer::{Event as Finalizer, finalizer},
        reflector::{self, ObjectRef},
        watcher,
    },
};

/// How long one cluster's sync may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(10);
const RESYNC: Duration = Duration::from_secs(60);
const PROGRESS_POLL: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Applications reconciled at once, and clusters one Application syncs at once.
const APP_CONCURRENCY: u16 = 8;
const CLUSTER_CONCURRENCY: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of application {name}: {source}")]
    WriteStatus { name: String, source: kube::Error },
    #[error("workloads of {name} remain on {clusters}")]
    CleanupPending { name: String, clusters: String },
    #[error("finalizer: {0}")]
    Finalizer(String),
}

pub struct Context {
    pub global: Client,
    pub clusters: ClusterRegistry,
    /// The status this controller last wrote per Application: a reconcile woken by a member
    /// cluster can start before the watch of global delivers that write, and must not build on
    /// (and write back) an older status.
    pub written: std::sync::Mutex<std::collections::HashMap<(String, String), ApplicationState>>,
}

impl Context {
    pub fn new(global: Client, clusters: ClusterRegistry) -> Self {
        Context {
            global,
            clusters,
            written: Default::default(),
        }
    }

    fn key(app: &Application) -> (String, String) {
        (app.namespace().unwrap_or_default(), app.name_any())
    }

    /// The newest status of `app`: the one written last, or the one it arrived with.
    fn status(&self, app: &Application) -> ApplicationState {
        self.written
            .lock()
            .ok()
            .and_then(|w| w.get(&Self::key(app)).cloned())
            .or_else(|| app.status.clone())
            .unwrap_or_default()
    }
}

/// Runs the controller until its watch ends. `watch` selects the Applications it manages.
pub async fn run(ctx: Context, watch: watcher::Config) {
    let apps = Api::<Application>::all(ctx.global.clone());
    let (wake, woken) = mpsc::channel(1024);
    tokio::spawn(follow_members(ctx.clusters.clone(), wake));
    // Only changes of the spec (generation), deletion and finalizers wake an Application from
    // its own watch: its status changes with every sync and must not start another one.
    let (reader, writer) = reflector::store();
    let changes = reflector::reflector(writer, watcher(apps, watch))
        .default_backoff()
        .applied_objects()
        .predicate_filter(
            |app: &Application| {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                app.metadata.generation.hash(&mut hasher);
                app.metadata.deletion_timestamp.is_some().hash(&mut hasher);
                app.metadata.finalizers.hash(&mut hasher);
                Some(hasher.finish())
            },
            Default::default(),
        );
    Controller::for_stream(changes, reader)
        // Bounded work: at most this many Applications at once, each syncing at most
        // CLUSTER_CONCURRENCY clusters at once, so a burst of changes queues rather than
        // flooding member API servers into timeouts.
        .with_config(kube::runtime::controller::Config::default().concurrency(APP_CONCURRENCY))
        .reconcile_on(woken)
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "application reconcile failed");
            }
        })
        .await;
}

/// Watches the Deployments the controller manages on every registered cluster (new clusters
/// joining as they register) and wakes their Applications.
async fn follow_members(clusters: ClusterRegistry, wake: mpsc::Sender<ObjectRef<Application>>) {
    let mut followed = HashSet::new();
    loop {
        for cluster in clusters.list() {
            if !followed.insert(cluster.name.clone()) {
                continue;
            }
            let Ok(client) = clusters.console_client(&cluster.name) else {
                continue;
            };
            let mut wake = wake.clone();
            tokio::spawn(async move {
                let api = Api::<PartialObjectMeta<Deployment>>::all(client);
                let config = watcher::Config::default()
                    .labels(&format!("{MANAGED_BY}=nextgen-console,{APP_LABEL}"));
                let mut changes =
                    std::pin::pin!(watcher(api, config).default_backoff().touched_objects());
                while let Some(change) = changes.next().await {
                    let Ok(meta) = change else { continue };
                    let (Some(name), Some(ns)) = (meta.labels().get(APP_LABEL), meta.namespace())
                    else {
                        continue;
                    };
                    if wake.send(ObjectRef::new(name).within(&ns)).await.is_err() {
                        return;
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn seconds_since(t: Option<&str>) -> Option<Duration> {
    let t = time::OffsetDateTime::parse(t?, &time::format_description::well_known::Rfc3339).ok()?;
    Duration::try_from(time::OffsetDateTime::now_utc() - t).ok()
}

fn backoff(failures: u32) -> Duration {
    (Duration::from_secs(1) * (1u32 << failures.min(9))).min(MAX_BACKOFF)
}

async fn reconcile(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = app.namespace().unwrap_or_default();
    let api = Api::<Application>::namespaced(ctx.global.clone(), &ns);
    finalizer(&api, FINALIZER, app, |event| async {
        match event {
            Finalizer::Apply(app) => apply(&app, &ctx).await,
            Finalizer::Cleanup(app) => cleanup(&app, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    })
}

fn error_policy(app: Arc<Application>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::info!(app = %app.name_any(), %error, "application not settled; retrying");
    let failures = ctx
        .status(&app)
        .clusters
        .iter()
        .map(|c| c.consecutive_failures)
        .max()
        .unwrap_or(0);
    Action::requeue(backoff(failures))
}

async fn write_status(
    app: &Application,
    ctx: &Context,
    state: &ApplicationState,
) -> Result<(), Error> {
    if app.status.as_ref() == Some(state) {
        return Ok(());
    }
    let name = app.name_any();
    let api =
        Api::<Application>::namespaced(ctx.global.clone(), &app.namespace().unwrap_or_default());
    super::apply_status(&api, &name, state, FIELD_MANAGER)
        .await
        .map_err(|source| Error::WriteStatus { name, source })?;
    if let Ok(mut written) = ctx.written.lock() {
        written.insert(Context::key(app), state.clone());
    }
    Ok(())
}

async fn apply(app: &Application, ctx: &Context) -> Result<Action, Error> {
    let name = app.name_any();
    let project = app.namespace().unwrap_or_default();
    let mut state = ctx.status(app);
    let now = now();
    let cause = app
        .annotations()
        .get(CAUSE_ANNOTATION)
        .cloned()
        .unwrap_or_default();
    let limit = app
        .spec
        .revision_history_limit
        .map_or(DEFAULT_HISTORY, |l| l as usize);
    resource::record_revision(&mut state, &app.spec.template, &cause, &now, limit);
    let revision = state.revision;

    // Clusters no longer in the placement lose the workload first.
    let placed: Vec<String> = app.spec.placement.clone();
    let dropped: Vec<ClusterSync> = state
        .clusters
        .iter()
        .filter(|c| !placed.contains(&c.cluster))
        .cloned()
        .collect();
    let mut kept_dropped = Vec::new();
    for sync in dropped {
        if let Err(reason) = remove_from(ctx, &sync.cluster, &sync.namespace, &name).await {
            let reason = reason.to_string();
            kept_dropped.push(ClusterSync {
                health: Health::Unreachable,
                message: format!("removed from the placement; its workload remains: {reason}"),
                last_error: Some(reason),
                consecutive_failures: sync.consecutive_failures.saturating_add(1),
                ..sync
            });
        }
    }

    let previous: Vec<ClusterSync> = state.clusters.clone();
    let pending: Vec<_> = placed
        .iter()
        .cloned()
        .map(|cluster| {
            let before = previous.iter().find(|c| c.cluster == cluster).cloned();
            let overrides = app.spec.overrides.iter().find(|o| o.cluster == cluster);
            let (name, project) = (name.clone(), project.clone());
            async move {
                let cluster = &cluster;
                let mut sync = before.clone().unwrap_or(ClusterSync {
                    cluster: cluster.clone(),
                    namespace: project.clone(),
                    ..ClusterSync::default()
                });
                // An unreachable cluster is tried again only once its backoff has passed.
                if sync.consecutive_failures > 0
                    && seconds_since(sync.last_sync_time.as_deref())
                        .is_some_and(|age| age < backoff(sync.consecutive_failures))
                {
                    return sync;
                }
                let outcome = tokio::time::timeout(
                    SYNC_TIMEOUT,
                    sync_cluster(ctx, app, &name, &project, revision, overrides, &sync),
                )
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {} s", SYNC_TIMEOUT.as_secs())));
                sync.last_sync_time = Some(self::now());
                match outcome {
                    Ok(found) => {
                        sync = ClusterSync {
                            last_sync_time: sync.last_sync_time,
                            ..found
                        };
                    }
                    Err(reason) => {
                        sync.health = Health::Unreachable;
                        sync.message = format!("cluster {cluster} could not be synced: {reason}");
                        sync.last_error = Some(reason);
                        sync.consecutive_failures = sync.consecutive_failures.saturating_add(1);
                    }
                }
                sync
            }
        })
        .collect();
    let syncs: Vec<ClusterSync> = futures::stream::iter(pending)
        .buffered(CLUSTER_CONCURRENCY)
        .collect()
        .await;
    state.clusters = syncs;
    state.clusters.extend(kept_dropped);
    state.health = resource::aggregate(&state.clusters);
    state.message = match state.health {
        Health::Healthy => format!("revision {revision} runs on every cluster"),
        other => {
            let names: Vec<&str> = state
                .clusters
                .iter()
                .filter(|c| c.health == other)
                .map(|c| c.cluster.as_str())
                .collect();
            format!("{other:?} on {}", names.join(", "))
        }
    };
    state.observed_generation = app.metadata.generation;
    write_status(app, ctx, &state).await?;
    let unreachable = state
        .clusters
        .iter()
        .filter(|c| c.consecutive_failures > 0)
        .map(|c| backoff(c.consecutive_failures))
        .min();
    let wait = if state
        .clusters
        .iter()
        .any(|c| c.health == Health::Progressing)
    {
        PROGRESS_POLL
    } else {
        RESYNC
    };
    Ok(Action::requeue(unreachable.map_or(wait, |b| b.min(wait))))
}

fn dynamic_api<K: Resource<DynamicType = ()>>(
    client: &Client,
    ns: &str,
) -> (Api<DynamicObject>, ApiResource) {
    let resource = ApiResource::erase::<K>(&());
    (
        Api::namespaced_with(client.clone(), ns, &resource),
        resource,
    )
}

/// Applies the application to one cluster and reads back its state.
async fn sync_cluster(
    ctx: &Context,
    app: &Application,
    name: &str,
    project: &str,
    revision: i64,
    overrides: Option<&resource::ClusterOverride>,
    before: &ClusterSync,
) -> Result<ClusterSync, String> {
    let cluster = &before.cluster;
    let ns = &before.namespace;
    let client = ctx
        .clusters
        .console_client(cluster)
        .map_err(|e| e.to_string())?;
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let template = &app.spec.template;
    let desired = resource::render_deployment(name, ns, project, revision, template, overrides);
    let (deployments, _) = dynamic_api::<Deployment>(&client, ns);
    let existing = deployments.get_opt(name).await.map_err(|e| innermost(&e))?;
    let drift = existing
        .as_ref()
        .and_then(|live| resource::drift(&serde_json::to_value(live).unwrap_or_default()))
        .map(|found| format!("changed on the cluster and set back at {}: {found}", now()));
    for map in resource::render_config_maps(name, ns, project, template) {
        let (api, _) = dynamic_api::<ConfigMap>(&client, ns);
        let map_name = map["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        api.patch(&map_name, &params, &Patch::Apply(&map))
            .await
            .map_err(|e| describe(&e))?;
    }
    if let Some(service) = resource::render_service(name, ns, project, template) {
        let (api, _) = dynamic_api::<Service>(&client, ns);
        api.patch(name, &params, &Patch::Apply(&service))
            .await
            .map_err(|e| describe(&e))?;
    }
    let applied = deployments
        .patch(name, &params, &Patch::Apply(&desired))
        .await
        .map_err(|e| describe(&e))?;
    let live = serde_json::to_value(&applied).unwrap_or_default();
    let (health, message) = resource::deployment_health(&live);
    let n = |key: &str| live["status"][key].as_i64().unwrap_or(0) as i32;
    let conditions = live["status"]["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    format!(
                        "{}={} ({})",
                        c["type"].as_str().unwrap_or_default(),
                        c["status"].as_str().unwrap_or_default(),
                        c["reason"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(drift) = &drift {
        tracing::info!(app = %name, %cluster, %drift, "drift on the cluster set back");
    }
    Ok(ClusterSync {
        cluster: cluster.clone(),
        namespace: ns.clone(),
        health,
        synced_revision: Some(revision),
        desired: live["spec"]["replicas"].as_i64().unwrap_or(1) as i32,
        ready: n("readyReplicas"),
        available: n("availableReplicas"),
        updated: n("updatedReplicas"),
        conditions,
        message,
        last_error: None,
        drift: drift.or_else(|| before.drift.clone()),
        last_sync_time: None,
        consecutive_failures: 0,
    })
}

/// An API error as the status should name it: the cluster's own message (a refused field, a
/// forbidden action), or the connection failure.
fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.reason),
        other => innermost(other),
    }
}

/// Why an application's objects are still on a cluster.
#[derive(Debug)]
enum Remains {
    /// Deleted and going (pods first): looked at again shortly.
    Terminating(String),
    /// The cluster could not be reached or refused: retried with backoff.
    Failed(String),
}

impl std::fmt::Display for Remains {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remains::Terminating(what) | Remains::Failed(what) => f.write_str(what),
        }
    }
}

/// Deletes the application's objects from one cluster (foreground: pods go first); Ok once none
/// remain, so nothing is left behind when the finalizer goes.
async fn remove_from(ctx: &Context, cluster: &str, ns: &str, name: &str) -> Result<(), Remains> {
    let client = match ctx.clusters.console_client(cluster) {
        Ok(client) => client,
        // A cluster the console no longer manages is left as it is: removing a cluster from the
        // console deletes nothing on it, and nothing could be.
        Err(app::ConsoleError::ClusterNotFound { .. }) => {
            tracing::info!(%cluster, app = %name, "cluster no longer registered; its workload is left as it is");
            return Ok(());
        }
        Err(error) => return Err(Remains::Failed(error.to_string())),
    };
    let selector = ListParams::default().labels(&format!("{APP_LABEL}={name}"));
    let work = async {
        let mut remaining = Vec::new();
        for (api, resource) in [
            dynamic_api::<Deployment>(&client, ns),
            dynamic_api::<Service>(&client, ns),
            dynamic_api::<ConfigMap>(&client, ns),
        ] {
            api.delete_collection(&DeleteParams::foreground(), &selector)
                .await
                .map_err(|e| Remains::Failed(describe(&e)))?;
            let left = api
                .list_metadata(&selector)
                .await
                .map_err(|e| Remains::Failed(describe(&e)))?;
            if !left.items.is_empty() {
                remaining.push(format!("{} {}", left.items.len(), resource.kind));
            }
        }
        if remaining.is_empty() {
            Ok(())
        } else {
            Err(Remains::Terminating(format!(
                "{} still terminating",
                remaining.join(", ")
            )))
        }
    };
    tokio::time::timeout(SYNC_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| {
            Err(Remains::Failed(format!(
                "no answer within {} s",
                SYNC_TIMEOUT.as_secs()
            )))
        })
}

/// Removes the workload from every cluster the application ran on or is placed on. Fails, and
/// keeps the finalizer, while a cluster cannot be reached; the status names it.
async fn cleanup(app: &Application, ctx: &Context) -> Result<Action, Error> {
    let name = app.name_any();
    let project = app.namespace().unwrap_or_default();
    let mut state = ctx.status(app);
    let mut targets: Vec<(String, String)> = state
        .clusters
        .iter()
        .map(|c| (c.cluster.clone(), c.namespace.clone()))
        .collect();
    for cluster in &app.spec.placement {
        if !targets.iter().any(|(c, _)| c == cluster) {
            targets.push((cluster.clone(), project.clone()));
        }
    }
    let results = join_all(targets.iter().map(|(cluster, ns)| {
        let name = &name;
        async move { (cluster.clone(), remove_from(ctx, cluster, ns, name).await) }
    }))
    .await;
    let failed: Vec<(String, Remains)> = results
        .into_iter()
        .filter_map(|(cluster, r)| r.err().map(|e| (cluster, e)))
        .collect();
    if failed.is_empty() {
        tracing::info!(app = %name, "workload removed from every cluster");
        if let Ok(mut written) = ctx.written.lock() {
            written.remove(&Context::key(app));
        }
        return Ok(Action::await_change());
    }
    for sync in state.clusters.iter_mut() {
        match failed.iter().find(|(c, _)| *c == sync.cluster) {
            // Going: looked at again shortly, no backoff.
            Some((_, Remains::Terminating(what))) => {
                sync.health = Health::Progressing;
                sync.message = format!("deleting: {what}");
                sync.consecutive_failures = 0;
            }
            Some((_, Remains::Failed(reason))) => {
                sync.health = Health::Unreachable;
                sync.message = format!("deleting: the workload remains here: {reason}");
                sync.last_error = Some(reason.clone());
                sync.consecutive_failures = sync.consecutive_failures.saturating_add(1);
            }
            None => {}
        }
    }
    state
        .clusters
        .retain(|c| failed.iter().any(|(f, _)| *f == c.cluster));
    state.message = format!(
        "deleting; the workload remains on {}",
        failed
            .iter()
            .map(|(c, e)| format!("{c} ({e})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    write_status(app, ctx, &state).await?;
    Err(Error::CleanupPending {
        name,
        clusters: failed
            .iter()
            .map(|(c, e)| format!("{c} ({e})"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_clusters_back_off_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
