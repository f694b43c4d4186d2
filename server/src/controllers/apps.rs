//! The Application controller: applies each Application to every cluster it is placed on,
//! writes each cluster's state and the aggregate health into the status, and keeps the revision
//! history. It never does more than the Application's author may:
//! - the author is the user the annotations name, which the admission policy on global vouches
//!   for (`app::access::author`); without a trustworthy author nothing is applied;
//! - only clusters of the Application's Project, in the namespace the project uses there;
//! - every object is server-side applied *as the author* (impersonation), so each member
//!   cluster's RBAC and admission decide, and objects the console did not create are refused
//!   rather than taken over. A refusal is shown per cluster and in the `Authorized` condition.
//!
//! - Every placed cluster is synced concurrently with a timeout, so an unreachable cluster costs
//!   at most that and never holds up the others; it is retried with exponential backoff.
//! - Watches of the managed Deployments on every member cluster wake the Application at once
//!   when its workload changes there (rollout progress, or drift, which the next sync sets back).
//! - A finalizer keeps a deleted Application until its workload is gone from every cluster it
//!   ran on; clusters that cannot be reached are named in the status and retried.

use std::{sync::Arc, time::Duration};

use app::{
    access::author,
    apps::resource::{
        self, APP_LABEL, AUTHORIZED, Application, ApplicationState, CAUSE_ANNOTATION, ClusterSync,
        DEFAULT_HISTORY, FIELD_MANAGER, FINALIZER, Health, MANAGED_BY,
    },
    auth::Identity,
    error::innermost,
    platform::registry::ClusterRegistry,
    projects::resource::{Project, ProjectSpec},
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
    #[error("reading project {name} on global: {source}")]
    ReadProject { name: String, source: kube::Error },
}

pub struct Context {
    pub global: Client,
    pub clusters: ClusterRegistry,
    /// The status this controller last wrote per Application: a reconcile woken by a member
    /// cluster can start before the watch of global delivers that write, and must not build on
    /// (and write back) an older status.
    pub written: std::sync::Mutex<std::collections::HashMap<(String, String), ApplicationState>>,
    /// Whether the admission policy that vouches for authors is in force.
    pub policy: super::authors::PolicyCheck,
}

impl Context {
    pub fn new(global: Client, clusters: ClusterRegistry) -> Self {
        Context {
            global,
            clusters,
            written: Default::default(),
            policy: Default::default(),
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
            crate::metrics::reconciled("applications", &result);
            if let Err(error) = result {
                tracing::debug!(%error, "application reconcile failed");
            }
        })
        .await;
}

/// Watches the Deployments the controller manages on every registered cluster (new clusters
/// joining as they register) and wakes their Applications. The watch of a cluster that is no
/// longer registered stops; one registered again (or at another address) starts afresh with
/// the client the registry has now.
async fn follow_members(clusters: ClusterRegistry, wake: mpsc::Sender<ObjectRef<Application>>) {
    let mut followed = Followed::default();
    loop {
        for cluster in followed.update(clusters.list()) {
            let Ok(client) = clusters.console_client(&cluster.name) else {
                continue;
            };
            let mut wake = wake.clone();
            let task = tokio::spawn(async move {
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
            followed.insert(&cluster, task);
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// The member-cluster watches running, by cluster name, with the address each was started for.
#[derive(Default)]
struct Followed(std::collections::HashMap<String, (String, tokio::task::JoinHandle<()>)>);

impl Followed {
    /// Stops the watches of clusters no longer registered, registered at another address, or
    /// whose watch ended, and returns the clusters of `current` that need a watch.
    fn update(
        &mut self,
        current: Vec<app::platform::ClusterRef>,
    ) -> Vec<app::platform::ClusterRef> {
        self.0.retain(|name, (server, task)| {
            let keep = current
                .iter()
                .any(|c| &c.name == name && &c.server == server)
                && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        current
            .into_iter()
            .filter(|c| !self.0.contains_key(&c.name))
            .collect()
    }

    fn insert(&mut self, cluster: &app::platform::ClusterRef, task: tokio::task::JoinHandle<()>) {
        self.0
            .insert(cluster.name.clone(), (cluster.server.clone(), task));
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

    // Who to act as, and where: without a project or a trustworthy author nothing is applied.
    let (project_spec, author) = match establish(app, ctx).await? {
        Ok(found) => found,
        Err((reason, message)) => {
            state.author = None;
            state.health = Health::Refused;
            state.message = format!("nothing is applied: {message}");
            state.set_condition(AUTHORIZED, false, reason, message, &now);
            state.observed_generation = app.metadata.generation;
            write_status(app, ctx, &state).await?;
            return Ok(Action::requeue(RESYNC));
        }
    };
    let targets: std::collections::HashMap<String, Result<String, String>> =
        resource::placement_namespaces(&project, &project_spec, &app.spec.placement)
            .into_iter()
            .collect();

    // Clusters no longer in the placement lose the workload first.
    let placed: Vec<String> = app.spec.placement.clone();
    let dropped: Vec<ClusterSync> = state
        .clusters
        .iter()
        .filter(|c| !placed.contains(&c.cluster) && !c.namespace.is_empty())
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
            let target = targets
                .get(&cluster)
                .cloned()
                .unwrap_or_else(|| Err(format!("{cluster} is not placed")));
            let (name, project, author) = (name.clone(), project.clone(), &author);
            async move {
                let cluster = &cluster;
                let namespace = match target {
                    Ok(namespace) => namespace,
                    Err(reason) => {
                        let mut sync = before.unwrap_or_default();
                        sync.cluster = cluster.clone();
                        sync.health = Health::Refused;
                        sync.message = reason.clone();
                        sync.last_error = Some(reason);
                        sync.consecutive_failures = 0;
                        sync.last_sync_time = Some(self::now());
                        return sync;
                    }
                };
                let mut sync = before
                    .clone()
                    .filter(|s| s.namespace == namespace)
                    .unwrap_or(ClusterSync {
                        cluster: cluster.clone(),
                        namespace: namespace.clone(),
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
                    sync_cluster(
                        ctx, app, &name, &project, revision, overrides, &sync, author,
                    ),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(SyncError::Failed(format!(
                        "no answer within {} s",
                        SYNC_TIMEOUT.as_secs()
                    )))
                });
                sync.last_sync_time = Some(self::now());
                match outcome {
                    Ok(found) => {
                        sync = ClusterSync {
                            last_sync_time: sync.last_sync_time,
                            ..found
                        };
                    }
                    Err(SyncError::Refused(reason)) => {
                        sync.health = Health::Refused;
                        sync.message = format!("refused on {cluster}: {reason}");
                        sync.last_error = Some(reason);
                        sync.consecutive_failures = 0;
                    }
                    Err(SyncError::Failed(reason)) => {
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
    let refused: Vec<String> = state
        .clusters
        .iter()
        .filter(|c| c.health == Health::Refused)
        .map(|c| {
            format!(
                "{}: {}",
                c.cluster,
                c.last_error.as_deref().unwrap_or_default()
            )
        })
        .collect();
    state.author = Some(author.username.clone());
    if refused.is_empty() {
        state.set_condition(
            AUTHORIZED,
            true,
            "AsAuthor",
            format!("applied as {} on every placed cluster", author.username),
            &now,
        );
    } else {
        state.set_condition(AUTHORIZED, false, "Forbidden", refused.join("; "), &now);
    }
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

/// The application's Project (named like its namespace on global) and the author to act as,
/// or the reason (condition reason, message) why the controller acts for no one.
#[allow(clippy::type_complexity)]
async fn establish(
    app: &Application,
    ctx: &Context,
) -> Result<Result<(ProjectSpec, Identity), (&'static str, String)>, Error> {
    let project = app.namespace().unwrap_or_default();
    let found = Api::<Project>::all(ctx.global.clone())
        .get_opt(&project)
        .await
        .map_err(|source| Error::ReadProject {
            name: project.clone(),
            source,
        })?;
    let Some(found) = found else {
        return Ok(Err((
            "NotInProject",
            format!(
                "namespace {project} on global is not a project's namespace; applications run only in the namespace of a Project, on its clusters"
            ),
        )));
    };
    if let Err(error) = ctx.policy.in_force(&ctx.global).await {
        return Ok(Err(("AuthorUntrusted", error.to_string())));
    }
    match author::author_of(app.annotations()) {
        Ok(author) => Ok(Ok((found.spec, author))),
        Err(error) => Ok(Err(("AuthorUnknown", error.to_string()))),
    }
}

/// Why one cluster's sync did not happen.
#[derive(Debug)]
enum SyncError {
    /// The author may not, or an object there is not the console's: tried again at the next
    /// resync, without backoff (rights may be granted meanwhile).
    Refused(String),
    /// The cluster could not be reached or failed: retried with backoff.
    Failed(String),
}

impl SyncError {
    fn from_api(error: kube::Error, author: &Identity, what: &str) -> Self {
        match error {
            kube::Error::Api(status) if status.code == 403 => SyncError::Refused(format!(
                "{} may not apply {what}: {}",
                author.username, status.message
            )),
            other => SyncError::Failed(describe(&other)),
        }
    }
}

/// Whether `live` was made by the console for application `app`: anything else with the same
/// name is left alone rather than taken over.
fn made_for(live: &DynamicObject, app: &str) -> bool {
    let labels = live.labels();
    labels.get(MANAGED_BY).map(String::as_str) == Some("nextgen-console")
        && labels.get(APP_LABEL).map(String::as_str) == Some(app)
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

/// Applies the application to one cluster as its author and reads back its state.
#[allow(clippy::too_many_arguments)]
async fn sync_cluster(
    ctx: &Context,
    app: &Application,
    name: &str,
    project: &str,
    revision: i64,
    overrides: Option<&resource::ClusterOverride>,
    before: &ClusterSync,
    author: &Identity,
) -> Result<ClusterSync, SyncError> {
    let cluster = &before.cluster;
    let ns = &before.namespace;
    let client = ctx
        .clusters
        .client_for(cluster, author)
        .map_err(|e| SyncError::Failed(e.to_string()))?;
    // Forced only over the console's own objects (checked first): kubectl edits of its fields
    // are drift to set back, but nothing someone else made is taken over.
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let template = &app.spec.template;
    let desired = resource::render_deployment(name, ns, project, revision, template, overrides);
    let mut objects: Vec<(Api<DynamicObject>, String, String, serde_json::Value)> = Vec::new();
    for map in resource::render_config_maps(name, ns, project, template) {
        let (api, resource) = dynamic_api::<ConfigMap>(&client, ns);
        let map_name = map["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        objects.push((api, resource.kind, map_name, map));
    }
    if let Some(service) = resource::render_service(name, ns, project, template) {
        let (api, resource) = dynamic_api::<Service>(&client, ns);
        objects.push((api, resource.kind, name.to_string(), service));
    }
    let (deployments, _) = dynamic_api::<Deployment>(&client, ns);
    let existing = deployments
        .get_opt(name)
        .await
        .map_err(|e| SyncError::from_api(e, author, &format!("Deployment {name} in {ns}")))?;
    let mut existing_of_others = Vec::new();
    if let Some(live) = &existing
        && !made_for(live, name)
    {
        existing_of_others.push(format!("Deployment {name}"));
    }
    for (api, kind, object, _) in &objects {
        if let Some(live) = api
            .get_opt(object)
            .await
            .map_err(|e| SyncError::from_api(e, author, &format!("{kind} {object} in {ns}")))?
            && !made_for(&live, name)
        {
            existing_of_others.push(format!("{kind} {object}"));
        }
    }
    if !existing_of_others.is_empty() {
        return Err(SyncError::Refused(format!(
            "{} in namespace {ns} already exist and were not made by the console for this application; rename the application or remove them",
            existing_of_others.join(", ")
        )));
    }
    let drift = existing
        .as_ref()
        .and_then(|live| resource::drift(&serde_json::to_value(live).unwrap_or_default()))
        .map(|found| format!("changed on the cluster and set back at {}: {found}", now()));
    for (api, kind, object, body) in &objects {
        api.patch(object, &params, &Patch::Apply(body))
            .await
            .map_err(|e| SyncError::from_api(e, author, &format!("{kind} {object} in {ns}")))?;
    }
    let applied = deployments
        .patch(name, &params, &Patch::Apply(&desired))
        .await
        .map_err(|e| SyncError::from_api(e, author, &format!("Deployment {name} in {ns}")))?;
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
    if ns.is_empty() {
        // Never a cluster-wide delete: no namespace means nothing was applied there.
        return Ok(());
    }
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
    // Only what the console made for this application: the same label on someone else's object
    // does not make it the console's to delete.
    let selector =
        ListParams::default().labels(&format!("{MANAGED_BY}=nextgen-console,{APP_LABEL}={name}"));
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
    // Where something was applied (the status says), and every placed cluster of the project
    // in case a sync applied before its status was written. A cluster outside the project never
    // got anything and has no namespace to look in.
    let mut targets: Vec<(String, String)> = state
        .clusters
        .iter()
        .filter(|c| !c.namespace.is_empty())
        .map(|c| (c.cluster.clone(), c.namespace.clone()))
        .collect();
    if let Ok(Some(found)) = Api::<Project>::all(ctx.global.clone())
        .get_opt(&project)
        .await
    {
        for (cluster, target) in
            resource::placement_namespaces(&project, &found.spec, &app.spec.placement)
        {
            if let Ok(ns) = target
                && !targets.iter().any(|(c, _)| *c == cluster)
            {
                targets.push((cluster, ns));
            }
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

    #[tokio::test]
    async fn watches_of_removed_or_moved_clusters_stop_and_new_ones_are_asked_for() {
        let cluster = |name: &str, server: &str| app::platform::ClusterRef {
            name: name.into(),
            server: server.into(),
            managed: true,
        };
        let mut followed = Followed::default();
        let wanted = followed.update(vec![
            cluster("east", "https://e"),
            cluster("west", "https://w"),
        ]);
        assert_eq!(wanted.len(), 2);
        let mut handles = Vec::new();
        for c in &wanted {
            let task = tokio::spawn(std::future::pending::<()>());
            handles.push(task.abort_handle());
            followed.insert(c, task);
        }
        // west is removed, east moves to another address, north joins.
        let wanted = followed.update(vec![
            cluster("east", "https://e2"),
            cluster("north", "https://n"),
        ]);
        let names: Vec<&str> = wanted.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["east", "north"]);
        tokio::task::yield_now().await;
        assert!(
            handles.iter().all(|h| h.is_finished()),
            "both old watches stopped"
        );
        assert!(followed.0.is_empty());
    }

    #[test]
    fn unreachable_clusters_back_off_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}
