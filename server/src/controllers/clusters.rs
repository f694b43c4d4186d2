//! The Cluster controller: probes every managed cluster with the console's own credential and
//! writes what it found into the Cluster's status (version, nodes, Reachable,
//! VersionSupported). Each cluster reconciles on its own, with a timeout, so one unreachable
//! cluster never slows the others; failures back off exponentially.

use std::{sync::Arc, time::Duration};

use app::{
    clusters::resource::{Cluster, ClusterState, REACHABLE, VERSION_SUPPORTED},
    error::innermost,
    platform::credential::{CredentialError, console_client},
    upgrades::matrix::{MANAGED_RANGE, check_management_range},
};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::{
    Api, Client, ResourceExt,
    api::ListParams,
    runtime::{Controller, controller::Action, watcher},
};

pub const MANAGER: &str = "nextgen-console";
/// The longest wait between probes of a cluster that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of cluster {name}: {source}")]
    WriteStatus { name: String, source: kube::Error },
}

pub struct Context {
    pub global: Client,
    /// How often a reachable cluster is probed again.
    pub interval: Duration,
}

/// Runs until the watch ends. `watch` selects which Clusters this instance manages (tests use
/// a label so that each runs its own controller).
pub async fn run(global: Client, watch: watcher::Config, interval: Duration) {
    let clusters = Api::<Cluster>::all(global.clone());
    Controller::new(clusters, watch)
        .run(
            reconcile,
            error_policy,
            Arc::new(Context { global, interval }),
        )
        .for_each(|result| async move {
            crate::metrics::reconciled("clusters", &result);
            if let Err(error) = result {
                tracing::warn!(%error, "cluster reconcile failed");
            }
        })
        .await;
}

/// What one probe found.
struct Probe {
    version: String,
    nodes: u32,
    ready: u32,
}

/// Why a probe failed: the condition's reason and its message.
#[derive(Debug)]
struct Failure {
    reason: &'static str,
    message: String,
    /// The credential Secret does not exist (yet: the import creates it just after the Cluster).
    secret_missing: bool,
}

impl Failure {
    fn unreachable(message: String) -> Self {
        Failure {
            reason: "Unreachable",
            message,
            secret_missing: false,
        }
    }
}

impl From<CredentialError> for Failure {
    /// The console has no usable credential for the cluster, so it never contacted it.
    fn from(error: CredentialError) -> Self {
        let reason = match error {
            CredentialError::NotOwned { .. } => "CredentialNotOwned",
            CredentialError::Missing { .. }
            | CredentialError::Unreadable { .. }
            | CredentialError::Empty { .. } => "CredentialUnusable",
            CredentialError::Config { .. } => "InvalidSpec",
        };
        Failure {
            reason,
            secret_missing: matches!(error, CredentialError::Missing { .. }),
            message: error.to_string(),
        }
    }
}

async fn probe(global: &Client, cluster: &Cluster) -> Result<Probe, Failure> {
    let client = console_client(global, cluster).await?;
    let version = tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version())
        .await
        .map_err(|_| {
            Failure::unreachable(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))
        })?
        .map_err(|e| Failure::unreachable(innermost(&e)))?
        .git_version;
    let nodes = tokio::time::timeout(
        PROBE_TIMEOUT,
        Api::<Node>::all(client).list(&ListParams::default()),
    )
    .await
    .map_err(|_| {
        Failure::unreachable(format!(
            "listing nodes took over {} s",
            PROBE_TIMEOUT.as_secs()
        ))
    })?
    .map_err(|e| Failure::unreachable(innermost(&e)))?;
    let ready = nodes
        .items
        .iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count();
    Ok(Probe {
        version,
        nodes: nodes.items.len() as u32,
        ready: ready as u32,
    })
}

/// The next status from the previous one and a probe's outcome.
fn next_state(
    previous: &ClusterState,
    outcome: &Result<Probe, Failure>,
    now: &str,
) -> ClusterState {
    let mut state = previous.clone();
    state.last_probe_time = Some(now.to_string());
    match outcome {
        Ok(found) => {
            state.consecutive_failures = 0;
            state.version = Some(found.version.clone());
            state.nodes = Some(found.nodes);
            state.ready_nodes = Some(found.ready);
            state.set_condition(
                REACHABLE,
                Some(true),
                "Probed",
                format!("the API server answered {}", found.version),
                now,
            );
            match check_management_range(&found.version) {
                Ok(_) => state.set_condition(
                    VERSION_SUPPORTED,
                    Some(true),
                    "InRange",
                    format!("{} is within {MANAGED_RANGE}", found.version),
                    now,
                ),
                Err(error) => state.set_condition(
                    VERSION_SUPPORTED,
                    Some(false),
                    "OutOfRange",
                    error.to_string(),
                    now,
                ),
            }
        }
        Err(failure) => {
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
            state.set_condition(
                REACHABLE,
                Some(false),
                failure.reason,
                failure.message.clone(),
                now,
            );
            // Whether the version is supported is unknown while the cluster does not answer.
            let message = if failure.reason == "Unreachable" {
                "the cluster did not answer the last probe".to_string()
            } else {
                format!("the cluster was not probed: {}", failure.message)
            };
            state.set_condition(VERSION_SUPPORTED, None, failure.reason, message, now);
        }
    }
    state
}

/// When to probe again: the interval while the cluster answers, then 1×, 2×, 4×… the interval
/// (at most five minutes) while it keeps failing.
fn next_probe(state: &ClusterState, interval: Duration) -> Duration {
    if state.consecutive_failures == 0 {
        return interval;
    }
    let factor = 1u32 << state.consecutive_failures.saturating_sub(1).min(10);
    (interval * factor).min(MAX_BACKOFF.max(interval))
}

/// How long until the next probe is due, when the last one is recent and used the current
/// spec. Writing the status wakes the controller again at once; this keeps that from probing.
fn not_due(cluster: &Cluster, interval: Duration) -> Option<Duration> {
    let state = cluster.status.as_ref()?;
    if state.observed_generation != cluster.metadata.generation {
        return None;
    }
    let last = time::OffsetDateTime::parse(
        state.last_probe_time.as_deref()?,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    let age = Duration::try_from(time::OffsetDateTime::now_utc() - last).ok()?;
    next_probe(state, interval).checked_sub(age)
}

async fn reconcile(cluster: Arc<Cluster>, ctx: Arc<Context>) -> Result<Action, Error> {
    if let Some(wait) = not_due(&cluster, ctx.interval) {
        return Ok(Action::requeue(wait));
    }
    let name = cluster.name_any();
    let outcome = crate::metrics::timed_probe(&name, probe(&ctx.global, &cluster)).await;
    if let Err(failure) = &outcome
        && failure.secret_missing
        && young(&cluster)
    {
        // Just imported: its Secret follows the Cluster within a moment. Look again soon
        // rather than report a failure (and back off) for what is still being created.
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let now = now();
    let mut state = next_state(&cluster.status.clone().unwrap_or_default(), &outcome, &now);
    state.observed_generation = cluster.metadata.generation;
    if let Err(failure) = &outcome {
        tracing::info!(cluster = %name, reason = failure.reason, message = %failure.message, failures = state.consecutive_failures, "cluster not probed");
    }
    super::apply_status(
        &Api::<Cluster>::all(ctx.global.clone()),
        &name,
        &state,
        MANAGER,
    )
    .await
    .map_err(|source| Error::WriteStatus {
        name: name.clone(),
        source,
    })?;
    Ok(Action::requeue(next_probe(&state, ctx.interval)))
}

/// Whether the Cluster was created less than a minute ago.
fn young(cluster: &Cluster) -> bool {
    cluster
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| {
            let created = time::OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok()?;
            Duration::try_from(time::OffsetDateTime::now_utc() - created).ok()
        })
        .is_some_and(|age| age < Duration::from_secs(60))
}

fn error_policy(_cluster: Arc<Cluster>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(%error, "cluster status not written; retrying");
    Action::requeue(ctx.interval.max(Duration::from_secs(1)))
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_exponentially_up_to_five_minutes_and_success_resets() {
        let interval = Duration::from_secs(10);
        let mut state = ClusterState::default();
        assert_eq!(next_probe(&state, interval), interval);
        let waits: Vec<u64> = (1..=8)
            .map(|n| {
                state.consecutive_failures = n;
                next_probe(&state, interval).as_secs()
            })
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 300, 300, 300]);
        let found = Ok(Probe {
            version: "v1.34.4".into(),
            nodes: 3,
            ready: 3,
        });
        let state = next_state(&state, &found, "t");
        assert_eq!(next_probe(&state, interval), interval);
    }

    #[test]
    fn a_credential_the_cluster_does_not_own_is_the_reason_in_its_status() {
        let failure = Failure::from(CredentialError::NotOwned {
            namespace: "nextgen-console-system".into(),
            name: "cluster-east-credential".into(),
            cluster: "thief".into(),
        });
        let state = next_state(&ClusterState::default(), &Err(failure), "t");
        let reachable = state.condition(REACHABLE).cloned().unwrap_or_default();
        assert_eq!(
            (reachable.status.as_str(), reachable.reason.as_str()),
            ("False", "CredentialNotOwned")
        );
        assert_eq!(
            reachable.message,
            "credential Secret nextgen-console-system/cluster-east-credential is not owned by Cluster thief; re-import the cluster"
        );
        let supported = state
            .condition(VERSION_SUPPORTED)
            .cloned()
            .unwrap_or_default();
        assert_eq!(supported.status, "Unknown");
        assert!(
            supported.message.contains("not owned"),
            "{}",
            supported.message
        );
    }

    #[test]
    fn a_probe_sets_reachable_and_version_supported_and_a_failure_makes_support_unknown() {
        let found = Ok(Probe {
            version: "v1.35.0".into(),
            nodes: 3,
            ready: 2,
        });
        let state = next_state(&ClusterState::default(), &found, "t1");
        assert_eq!(
            state.condition(REACHABLE).map(|c| c.status.as_str()),
            Some("True")
        );
        let supported = state
            .condition(VERSION_SUPPORTED)
            .cloned()
            .unwrap_or_default();
        assert_eq!(supported.status, "False");
        assert!(
            supported.message.contains(MANAGED_RANGE),
            "{}",
            supported.message
        );
        assert_eq!((state.nodes, state.ready_nodes), (Some(3), Some(2)));

        let failed = next_state(
            &state,
            &Err(Failure::unreachable("connection refused".into())),
            "t2",
        );
        assert_eq!(
            failed.condition(REACHABLE).map(|c| c.status.as_str()),
            Some("False")
        );
        assert_eq!(
            failed
                .condition(VERSION_SUPPORTED)
                .map(|c| c.status.as_str()),
            Some("Unknown")
        );
        assert_eq!(
            failed.version.as_deref(),
            Some("v1.35.0"),
            "the last known version stays"
        );
        assert_eq!(failed.consecutive_failures, 1);
    }
}
