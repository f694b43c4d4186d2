//! The ClusterVersionShadow controller, in the manner of a Cluster Version Operator: for a
//! requested platform release it runs preflight (reachability, the support matrix, plugin
//! compatibility), refuses what preflight blocks unless forced, and then carries out the update
//! stage by stage (each Core plugin moved to the release's version through its ClusterPlugin,
//! then a verification), recording every stage in the status as it goes and the whole run in
//! the history. Woken by its ClusterPlugins, so a stage finishes as soon as its rollout does.

use std::{sync::Arc, time::Duration};

use app::{
    platform::{ClusterHealth, GLOBAL_CLUSTER, registry::ClusterRegistry},
    plugins::resource::{ClusterPlugin, PluginPhase, plugin_resource_name},
    upgrades::shadow::{
        self, CheckResult, ClusterVersionShadow, ClusterVersionShadowSpec, HISTORY_LIMIT,
        Installed, PREFLIGHT_BLOCKED, PROGRESSING, RunState, ShadowState, StageState, UpdateRun,
    },
};
use futures::StreamExt;
use kube::{
    Api, Client, ResourceExt,
    api::{ListParams, Patch, PatchParams, PostParams},
    runtime::{Controller, controller::Action, reflector::ObjectRef, watcher},
};

use super::clusters::MANAGER;

/// How long one stage may run before the update fails.
pub const STAGE_TIMEOUT: Duration = Duration::from_secs(300);
const IDLE_RESYNC: Duration = Duration::from_secs(60);
/// A blocked preflight is run again this often (a plugin upgraded meanwhile may unblock it).
const BLOCKED_RECHECK: Duration = Duration::from_secs(10);
const STAGE_POLL: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of cvsh {name}: {source}")]
    WriteStatus { name: String, source: kube::Error },
    #[error("cvsh {name}: {source}")]
    Global { name: String, source: kube::Error },
}

pub struct Context {
    pub global: Client,
    pub clusters: ClusterRegistry,
}

pub async fn run(ctx: Context, watch: watcher::Config) {
    let shadows = Api::<ClusterVersionShadow>::all(ctx.global.clone());
    let plugins = Api::<ClusterPlugin>::all(ctx.global.clone());
    Controller::new(shadows, watch)
        .watches(plugins, watcher::Config::default(), |plugin| {
            Some(ObjectRef::new(&plugin.spec.cluster))
        })
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|result| async move {
            crate::metrics::reconciled("shadows", &result);
            if let Err(error) = result {
                tracing::warn!(%error, "cvsh reconcile failed");
            }
        })
        .await;
}

/// Keeps one ClusterVersionShadow per registered cluster, creating the missing ones every
/// `interval` (an existing one is never touched: its spec is the administrators'). Clusters of a
/// test run or benchmark (`super::TEST_OWNED_LABELS`) get none: their runs make their own.
pub async fn ensure_shadows(global: Client, clusters: ClusterRegistry, interval: Duration) {
    let api = Api::<ClusterVersionShadow>::all(global.clone());
    let registered = Api::<app::clusters::resource::Cluster>::all(global);
    loop {
        let test_owned = test_owned_clusters(&registered).await;
        for cluster in clusters.list() {
            let Some(test_owned) = &test_owned else { break };
            if test_owned.contains(&cluster.name) {
                continue;
            }
            let shadow =
                ClusterVersionShadow::new(&cluster.name, ClusterVersionShadowSpec::default());
            match api.create(&PostParams::default(), &shadow).await {
                Ok(_) => tracing::info!(cluster = %cluster.name, "ClusterVersionShadow created"),
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(error) => {
                    tracing::warn!(cluster = %cluster.name, %error, "ClusterVersionShadow not created")
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}

/// The names of the Clusters a test run or benchmark owns; `None` (nothing is created this
/// round) when they cannot be listed.
async fn test_owned_clusters(
    registered: &Api<app::clusters::resource::Cluster>,
) -> Option<std::collections::HashSet<String>> {
    let mut names = std::collections::HashSet::new();
    for label in super::TEST_OWNED_LABELS {
        match registered
            .list_metadata(&ListParams::default().labels(label))
            .await
        {
            Ok(list) => names.extend(list.items.into_iter().map(|c| c.name_any())),
            Err(error) => {
                tracing::warn!(%error, "cannot list test-owned Clusters; no shadow created this round");
                return None;
            }
        }
    }
    Some(names)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn age(since: Option<&str>) -> Duration {
    since
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .and_then(|t| Duration::try_from(time::OffsetDateTime::now_utc() - t).ok())
        .unwrap_or_default()
}

fn set(state: &mut ShadowState, type_: &str, ok: bool, reason: &str, message: String) {
    let now = now();
    let mut holder = app::clusters::resource::ClusterState {
        conditions: std::mem::take(&mut state.conditions),
        ..Default::default()
    };
    holder.set_condition(type_, Some(ok), reason, message, &now);
    state.conditions = holder.conditions;
}

async fn reconcile(cvsh: Arc<ClusterVersionShadow>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = cvsh.name_any();
    let previous = cvsh.status.clone().unwrap_or_default();
    let mut state = previous.clone();
    let plugins = Api::<ClusterPlugin>::all(ctx.global.clone())
        .list(&ListParams::default())
        .await
        .map_err(|source| Error::Global {
            name: name.clone(),
            source,
        })?
        .items
        .into_iter()
        .filter(|p| p.spec.cluster == name)
        .collect::<Vec<_>>();
    let installed: Vec<Installed> = plugins
        .iter()
        .filter_map(|p| {
            let version = p.status.as_ref()?.installed_version.clone()?;
            Some(Installed {
                plugin: p.spec.plugin.clone(),
                version,
            })
        })
        .collect();

    let wait = if let Some(run) = state.progress.clone() {
        advance(&ctx, &name, run, &plugins, &installed, &mut state).await
    } else {
        if let Some(release) = shadow::current_release(&installed) {
            state.current_release = Some(release.into());
        }
        consider(&ctx, &cvsh, &installed, &mut state).await
    };
    state.observed_generation = cvsh.metadata.generation;
    if state != previous {
        super::apply_status(
            &Api::<ClusterVersionShadow>::all(ctx.global.clone()),
            &name,
            &state,
            MANAGER,
        )
        .await
        .map_err(|source| Error::WriteStatus { name, source })?;
    }
    Ok(Action::requeue(wait))
}

/// No update in flight: decides whether the requested one may start.
async fn consider(
    ctx: &Context,
    cvsh: &ClusterVersionShadow,
    installed: &[Installed],
    state: &mut ShadowState,
) -> Duration {
    let name = cvsh.name_any();
    let Some(request) = cvsh.spec.desired_update.clone() else {
        state.preflight.clear();
        set(
            state,
            PROGRESSING,
            false,
            "Idle",
            "no update requested".into(),
        );
        set(state, PREFLIGHT_BLOCKED, false, "NoRequest", String::new());
        return IDLE_RESYNC;
    };
    if state.current_release.as_deref() == Some(request.release.as_str()) {
        set(
            state,
            PROGRESSING,
            false,
            "AtRelease",
            format!("the cluster is on {}", request.release),
        );
        set(state, PREFLIGHT_BLOCKED, false, "AtRelease", String::new());
        return IDLE_RESYNC;
    }
    // A run of this very request that failed is not retried until the request changes.
    if let Some(last) = state.history.first()
        && last.release == request.release
        && last.state == RunState::Failed
        && state.observed_generation == cvsh.metadata.generation
    {
        return IDLE_RESYNC;
    }
    let target = match shadow::check_request(&request, state.current_release.as_deref()) {
        Ok(target) => target,
        Err(message) => {
            set(state, PROGRESSING, false, "Refused", message);
            return IDLE_RESYNC;
        }
    };
    let version = match ctx.clusters.probe(&name).await.map(|s| s.health) {
        Ok(ClusterHealth::Reachable { version }) => Ok(version),
        Ok(ClusterHealth::Unreachable { reason }) => Err(reason),
        Ok(ClusterHealth::Pending) => Err("not probed yet".into()),
        Err(error) => Err(error.to_string()),
    };
    state.preflight = shadow::preflight(target, &version, name != GLOBAL_CLUSTER, installed);
    let blocking: Vec<String> = state
        .preflight
        .iter()
        .filter(|c| c.result == CheckResult::Blocking)
        .map(|c| format!("{}: {}", c.name, c.message))
        .collect();
    if !blocking.is_empty() && !request.force {
        set(
            state,
            PREFLIGHT_BLOCKED,
            true,
            "Blocking",
            format!(
                "{}. Fix these, or set spec.desiredUpdate.force to go ahead anyway.",
                blocking.join("; ")
            ),
        );
        set(
            state,
            PROGRESSING,
            false,
            "PreflightBlocked",
            format!("the update to {} is blocked by preflight", target.name),
        );
        return BLOCKED_RECHECK;
    }
    let now = now();
    let mut stages = shadow::plan(target, installed, &now);
    if !blocking.is_empty()
        && let Some(first) = stages.first_mut()
    {
        first.message = format!("forced past: {}", blocking.join("; "));
    }
    set(
        state,
        PREFLIGHT_BLOCKED,
        false,
        if blocking.is_empty() {
            "Passed"
        } else {
            "Forced"
        },
        String::new(),
    );
    set(
        state,
        PROGRESSING,
        true,
        "Updating",
        format!("updating to {}", target.name),
    );
    tracing::info!(cluster = %name, release = target.name, forced = !blocking.is_empty(), "cluster update started");
    state.progress = Some(UpdateRun {
        release: target.name.into(),
        from_release: state.current_release.clone(),
        forced: !blocking.is_empty(),
        state: RunState::Progressing,
        started_time: now,
        completion_time: None,
        current_stage: None,
        stages,
        message: String::new(),
    });
    Duration::ZERO
}

/// An update in flight: moves its current stage on, or ends the run.
async fn advance(
    ctx: &Context,
    name: &str,
    mut run: UpdateRun,
    plugins: &[ClusterPlugin],
    installed: &[Installed],
    state: &mut ShadowState,
) -> Duration {
    let Some(index) = run
        .stages
        .iter()
        .position(|s| s.state != StageState::Succeeded)
    else {
        finish(state, run, RunState::Completed, String::new());
        return Duration::ZERO;
    };
    let now = now();
    let stage = &mut run.stages[index];
    run.current_stage = Some(stage.name.clone());
    if stage.state == StageState::Pending {
        stage.state = StageState::Running;
        stage.started_time = Some(now.clone());
    }
    let outcome: Result<bool, StageError> = match (stage.plugin.clone(), stage.version.clone()) {
        (Some(plugin), Some(version)) => {
            step_plugin(ctx, name, &plugin, &version, plugins, stage).await
        }
        _ => {
            // Verify: every Core plugin on the release's version.
            let on = shadow::current_release(installed);
            if on == Some(run.release.as_str()) {
                stage.message = format!("every Core plugin runs {}'s version", run.release);
                Ok(true)
            } else {
                stage.message =
                    "waiting for every Core plugin to report the release's version".into();
                Ok(false)
            }
        }
    };
    let timed_out = age(stage.started_time.as_deref()) > STAGE_TIMEOUT;
    match outcome {
        Ok(true) => {
            stage.state = StageState::Succeeded;
            stage.finished_time = Some(now);
            state.progress = Some(run);
            Duration::ZERO
        }
        Ok(false) if !timed_out => {
            state.progress = Some(run);
            STAGE_POLL
        }
        Ok(false) => {
            let message = format!(
                "{} did not finish within {} s: {}",
                stage.name,
                STAGE_TIMEOUT.as_secs(),
                stage.message
            );
            fail(state, run, index, message)
        }
        Err(error) => {
            tracing::warn!(%error, "cluster update stage failed");
            fail(state, run, index, error.to_string())
        }
    }
}

/// Why a stage of a cluster update failed; its text is the stage's message.
#[derive(Debug, thiserror::Error)]
enum StageError {
    #[error("ClusterPlugin {0} no longer exists")]
    PluginGone(String),
    #[error("setting {resource} to {version}: {source}")]
    SetVersion {
        resource: String,
        version: String,
        source: kube::Error,
    },
}

fn fail(state: &mut ShadowState, mut run: UpdateRun, index: usize, message: String) -> Duration {
    if let Some(stage) = run.stages.get_mut(index) {
        stage.state = StageState::Failed;
        stage.message = message.clone();
        stage.finished_time = Some(now());
    }
    finish(state, run, RunState::Failed, message);
    IDLE_RESYNC
}

fn finish(state: &mut ShadowState, mut run: UpdateRun, outcome: RunState, message: String) {
    run.state = outcome;
    run.completion_time = Some(now());
    run.current_stage = None;
    run.message = message.clone();
    match outcome {
        RunState::Completed => {
            state.current_release = Some(run.release.clone());
            set(
                state,
                PROGRESSING,
                false,
                "Completed",
                format!("updated to {}", run.release),
            );
        }
        _ => set(state, PROGRESSING, false, "Failed", message),
    }
    tracing::info!(release = %run.release, state = ?run.state, "cluster update ended");
    state.history.insert(0, run);
    state.history.truncate(HISTORY_LIMIT);
    state.progress = None;
}

/// Moves one Core plugin: sets its ClusterPlugin's version (once) and reports whether it runs
/// that version now. A refusal or failure the plugin reports while moving is waited out up to
/// the stage timeout (a rollout may need a retry); a missing plugin fails the stage.
async fn step_plugin(
    ctx: &Context,
    cluster: &str,
    plugin: &str,
    version: &str,
    plugins: &[ClusterPlugin],
    stage: &mut shadow::Stage,
) -> Result<bool, StageError> {
    let resource = plugin_resource_name(cluster, plugin);
    let Some(current) = plugins.iter().find(|p| p.name_any() == resource) else {
        return Err(StageError::PluginGone(resource));
    };
    if current.spec.version != version {
        Api::<ClusterPlugin>::all(ctx.global.clone())
            .patch(
                &resource,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"version": version}})),
            )
            .await
            .map_err(|source| StageError::SetVersion {
                resource: resource.clone(),
                version: version.to_string(),
                source,
            })?;
        stage.message = format!("{resource}: version set to {version}");
        return Ok(false);
    }
    let status = current.status.clone().unwrap_or_default();
    let done = status.installed_version.as_deref() == Some(version)
        && status.phase == PluginPhase::Ready
        && status.observed_generation == current.metadata.generation;
    stage.message = if done {
        format!("{plugin} runs {version}")
    } else {
        format!("{plugin}: {:?}, {}", status.phase, status.message)
    };
    Ok(done)
}

fn error_policy(_cvsh: Arc<ClusterVersionShadow>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(%error, "cvsh not reconciled; retrying");
    Action::requeue(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_run_moves_into_the_history_which_keeps_the_newest_ten() {
        let mut state = ShadowState::default();
        for i in 0..12 {
            let run = UpdateRun {
                release: format!("4.{i}"),
                ..UpdateRun::default()
            };
            state.progress = Some(run.clone());
            finish(&mut state, run, RunState::Completed, String::new());
        }
        assert_eq!(state.history.len(), HISTORY_LIMIT);
        assert_eq!(state.history[0].release, "4.11");
        assert_eq!(state.current_release.as_deref(), Some("4.11"));
        assert!(state.progress.is_none());
        assert_eq!(
            state.condition(PROGRESSING).map(|c| c.reason.as_str()),
            Some("Completed")
        );
    }
}
