//! The ImagePrunePolicy controller: runs each policy's prune of the platform registry on its
//! schedule and keeps each run's plan and result in the policy's status history. It never does
//! more than the policy's author may: the author is the user the annotations name (vouched for
//! by the admission policy on global, `app::access::author`), and the prune's scope is what
//! global's RBAC lets that author delete (`images.platform.nextgen-console.io` per namespace;
//! the registry's garbage collection only for an author who may delete them cluster-wide).
//! Without a trustworthy author, or beyond the author's rights, nothing runs, and the
//! `Authorized` condition says why.

use std::{sync::Arc, time::Duration};

use app::{
    access::{author, ssr::AccessCache},
    auth::Identity,
    images::{
        registry::PlatformRegistry,
        service::{Caller, Images, catalog_namespaces, scope_of},
        types::{
            HISTORY_LIMIT, ImagePrunePolicy, ImagePruneState, PruneRequest, PruneRun,
            schedule_interval,
        },
    },
    platform::registry::ClusterRegistry,
};
use futures::StreamExt;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::{
    Api, Client, ResourceExt,
    runtime::{Controller, controller::Action, watcher},
};

/// The field manager of the policies' status.
pub const MANAGER: &str = "nextgen-console-images";
/// Candidates recorded per run in the history (the counts hold them all).
const PLAN_LINES: usize = 50;
/// How soon a refused policy is looked at again (rights may be granted meanwhile), at most.
const RETRY: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of image prune policy {name}: {source}")]
    WriteStatus {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("asking global what the author of image prune policy {name} may do: {source}")]
    Access {
        name: String,
        #[source]
        source: app::ConsoleError,
    },
}

pub struct Context {
    pub global: Client,
    pub images: Images,
    /// Answers what an author may do, asked of global as the author (impersonation).
    pub access: AccessCache,
    /// Whether the admission policy that vouches for authors is in force.
    pub policy: super::authors::PolicyCheck,
}

impl Context {
    pub fn new(global: Client, clusters: ClusterRegistry, registry: PlatformRegistry) -> Self {
        Self {
            global,
            images: Images { registry, clusters },
            access: AccessCache::default(),
            policy: super::authors::PolicyCheck::default(),
        }
    }
}

/// Starts the controller for the console (on the replica that leads), beside `spawn_all`'s.
pub fn spawn(
    global: Client,
    clusters: ClusterRegistry,
    registry: PlatformRegistry,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(
        Context::new(global, clusters, registry),
        super::console_watch(),
    ))
}

pub async fn run(ctx: Context, watch: watcher::Config) {
    let policies = Api::<ImagePrunePolicy>::all(ctx.global.clone());
    Controller::new(policies, watch)
        .run(reconcile, error_policy, Arc::new(ctx))
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::warn!(%error, "image prune policy reconcile failed");
            }
        })
        .await;
}

fn error_policy(_: Arc<ImagePrunePolicy>, _: &Error, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(30))
}

/// When the next run is due: `interval` after the last one, or now when none ran.
pub fn due(last_run: Option<&str>, interval: u64, now: Timestamp) -> Timestamp {
    last_run
        .and_then(|t| t.parse::<Timestamp>().ok())
        .and_then(|t| {
            t.checked_add(SignedDuration::from_secs(interval as i64))
                .ok()
        })
        .unwrap_or(now)
}

fn now_text() -> String {
    Timestamp::now().to_string()
}

/// The author to act for, or why there is none to trust (condition reason, message): a policy
/// that names no author is told so first, as only its writer can mend that.
async fn establish(
    policy: &ImagePrunePolicy,
    ctx: &Context,
) -> Result<Identity, (&'static str, String)> {
    let author =
        author::author_of(policy.annotations()).map_err(|e| ("AuthorUnknown", e.to_string()))?;
    ctx.policy
        .in_force(&ctx.global)
        .await
        .map_err(|e| ("AuthorUntrusted", e.to_string()))?;
    Ok(author)
}

async fn reconcile(policy: Arc<ImagePrunePolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = policy.name_any();
    let api = Api::<ImagePrunePolicy>::all(ctx.global.clone());
    let mut state = policy.status.clone().unwrap_or_default();
    let write = |state: ImagePruneState| {
        let (api, name) = (api.clone(), name.clone());
        async move {
            super::apply_status(&api, &name, &state, MANAGER)
                .await
                .map_err(|source| Error::WriteStatus { name, source })
        }
    };
    let interval = match schedule_interval(&policy.spec.schedule) {
        Ok(i) => i,
        Err(message) => {
            if state.message.as_deref() != Some(message.as_str()) {
                state.message = Some(message);
                state.observed_generation = policy.metadata.generation;
                write(state).await?;
            }
            return Ok(Action::await_change());
        }
    };
    if policy.spec.suspend {
        return Ok(Action::await_change());
    }
    let now = Timestamp::now();
    let due_at = due(state.last_run.as_deref(), interval, now);
    if due_at > now {
        let wait = due_at.duration_since(now).as_secs().max(1) as u64;
        return Ok(Action::requeue(Duration::from_secs(wait)));
    }
    let retry = Action::requeue(RETRY.min(Duration::from_secs(interval)));
    // Refused: nothing ran; the condition and the message say why (no history entry, and no
    // run time, so the policy runs as soon as it may).
    let refuse = |mut state: ImagePruneState, reason: &str, message: String| {
        state.author = None;
        state.message = Some(format!("nothing was pruned: {message}"));
        state.authorize(false, reason, message, &now_text());
        state.observed_generation = policy.metadata.generation;
        state
    };

    let author = match establish(&policy, &ctx).await {
        Ok(author) => author,
        Err((reason, message)) => {
            write(refuse(state, reason, message)).await?;
            return Ok(retry);
        }
    };
    let request = PruneRequest {
        policy: policy.spec.policy.clone(),
        confirm: !policy.spec.dry_run,
        gc: policy.spec.gc,
    };
    let started = Timestamp::now();
    let clock = std::time::Instant::now();
    let mut run = PruneRun {
        started: started.to_string(),
        dry_run: policy.spec.dry_run,
        ..PruneRun::default()
    };
    let outcome = match ctx.images.registry.catalog().await {
        Err(error) => Err(app::ConsoleError::from(error)),
        Ok(repositories) => {
            // What the author may delete, as global's RBAC answers for them (in the
            // namespaces of the catalog and those the policy names).
            let mut namespaces = catalog_namespaces(&repositories);
            namespaces.extend(request.policy.namespaces.iter().cloned());
            namespaces.sort();
            namespaces.dedup();
            let scope = scope_of(
                &ctx.access,
                &ctx.images.clusters,
                &author,
                "delete",
                &namespaces,
            )
            .await
            .map_err(|source| Error::Access {
                name: name.clone(),
                source,
            })?;
            run.scope = scope.describe();
            let caller = Caller {
                identity: author.clone(),
                access: ctx.access.clone(),
            };
            ctx.images
                .prune(
                    Some(&caller),
                    &scope,
                    repositories,
                    &request,
                    started.as_second(),
                )
                .await
        }
    };
    match outcome {
        Err(app::ConsoleError::Forbidden { message }) => {
            let message = format!("{} may not prune this: {message}", author.username);
            write(refuse(state, "Forbidden", message)).await?;
            return Ok(retry);
        }
        Ok(result) => {
            run.candidates = result.plan.candidates.len() as u32;
            run.kept = result.plan.kept.len() as u32;
            run.bytes_reclaimable = result.plan.bytes_reclaimable;
            run.deleted = result.deleted.iter().filter(|d| d.error.is_none()).count() as u32;
            run.errors = result
                .deleted
                .iter()
                .filter_map(|d| {
                    d.error
                        .as_ref()
                        .map(|e| format!("{}@{}: {e}", d.repository, d.digest))
                })
                .collect();
            if let Some(error) = result.gc_error {
                run.errors.push(format!("garbage collection: {error}"));
            }
            run.plan = result
                .plan
                .candidates
                .iter()
                .take(PLAN_LINES)
                .map(|c| format!("{}@{} ({})", c.repository, c.digest, c.tags.join(", ")))
                .collect();
            run.gc_output = result.gc_output;
        }
        Err(error) => run.errors.push(error.to_string()),
    }
    run.duration_ms = clock.elapsed().as_millis() as u64;
    tracing::info!(policy = %name, author = %author.username, scope = %run.scope, candidates = run.candidates, deleted = run.deleted, errors = run.errors.len(), "image prune ran");
    state.authorize(
        true,
        "Authorized",
        format!("pruned as {} within {}", author.username, run.scope),
        &now_text(),
    );
    state.author = Some(author.username.clone());
    state.history.insert(0, run);
    state.history.truncate(HISTORY_LIMIT);
    state.last_run = Some(started.to_string());
    state.next_run = started
        .checked_add(SignedDuration::from_secs(interval as i64))
        .ok()
        .map(|t| t.to_string());
    state.message = None;
    state.observed_generation = policy.metadata.generation;
    write(state).await?;
    Ok(Action::requeue(Duration::from_secs(interval)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_that_never_ran_is_due_at_once_and_then_after_its_interval() {
        let now: Timestamp = "2026-11-30T06:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(due(None, 60, now), now);
        let last = "2026-11-30T05:59:30Z";
        let expected: Timestamp = "2026-11-30T06:00:30Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(due(Some(last), 60, now), expected);
        assert_eq!(due(Some("not a time"), 60, now), now);
    }
}
