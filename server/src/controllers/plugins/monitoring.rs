//! The monitoring plugins (`prometheus`, `victoria-metrics`): their settings rendered into
//! workloads on the member cluster and server-side applied *as the settings' author*, never
//! with the console's own rights, since the settings are user-written pod placement. Also reads
//! back what runs: each workload's readiness and nodes, Pending pods with the scheduler's reason,
//! and placement that other field managers set on the workloads (customisations), which the
//! plugin takes over once the settings say the same.

use std::{collections::BTreeSet, time::Duration};

use app::{
    access::author,
    auth::Identity,
    plugins::{
        resource::{ClusterPlugin, PluginPhase, PluginState},
        service,
        settings::{
            self, Backend, Customisation, FIELD_MANAGER, MonitoringSettings, PLUGIN_LABEL,
            PendingPod, WorkloadState,
        },
    },
};
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    core::v1::Pod,
};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams},
};
use serde_json::{Value, json};

use super::RESYNC;

/// How often a rollout is checked; Pending pods are looked at less often.
const ROLLOUT_POLL: Duration = Duration::from_secs(2);
const PENDING_POLL: Duration = Duration::from_secs(5);

/// Why the plugin was not (fully) applied.
pub enum Stop {
    /// No trusted author, the author may not, or the settings break a rule: retried at the
    /// next resync, without backoff.
    Refused(String),
    /// The cluster could not be reached or failed: retried with backoff.
    Failed(String),
}

fn stop(error: kube::Error, author: &Identity, what: &str) -> Stop {
    match &error {
        kube::Error::Api(status) if status.code == 403 => Stop::Refused(format!(
            "{} may not {what}: {}",
            author.username, status.message
        )),
        _ => Stop::Failed(format!("{what}: {}", service::describe(&error))),
    }
}

/// One reconcile of a monitoring plugin; `state` gets what runs.
pub async fn step(
    plugin: &ClusterPlugin,
    backend: Backend,
    ctx: &super::Context,
    state: &mut PluginState,
) -> Result<Duration, Stop> {
    let cluster = plugin.spec.cluster.as_str();
    let desired = plugin.spec.version.as_str();
    let s = plugin
        .spec
        .monitoring
        .clone()
        .unwrap_or_else(|| MonitoringSettings::defaults(backend));
    let errors = settings::validate(backend, &s);
    if !errors.is_empty() {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(Stop::Refused(format!(
            "the settings cannot be applied: {}",
            errors.join("; ")
        )));
    }
    ctx.policy
        .in_force(&ctx.global)
        .await
        .map_err(|e| Stop::Refused(format!("nothing is applied: {e}")))?;
    let author = author::author_of(plugin.annotations())
        .map_err(|e| Stop::Refused(format!("nothing is applied: {e}")))?;
    state.author = Some(author.username.clone());
    let client = ctx
        .clusters
        .client_for(cluster, &author)
        .map_err(|e| Stop::Failed(e.to_string()))?;
    let ns = ctx.namespace.as_str();

    let objects = service::render_on(&client, ns, backend, cluster, desired, &s)
        .await
        .map_err(|e| {
            stop(
                e,
                &author,
                &format!("read the nodes and volumes of {cluster}"),
            )
        })?;
    service::apply_object(&client, &service::namespace_object(ns), false)
        .await
        .map_err(|e| stop(e, &author, &format!("apply namespace {ns} on {cluster}")))?;

    // Until the settings are saved (by the page or kubectl), placement that others set on the
    // workloads stays as it runs: the defaults do not silently move pods off where an old
    // customisation put them. Saved settings take the placement over.
    let adopt = plugin.spec.monitoring.is_none();
    let mut found: Vec<Customisation> = Vec::new();
    let mut remaining: Vec<Customisation> = Vec::new();
    let mut workloads: Vec<(String, String, Value)> = Vec::new();
    for object in &objects {
        let mut object = object.clone();
        let object = &mut object;
        let reference = settings::object_ref(object);
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let workload = kind == "StatefulSet" || kind == "Deployment";
        if workload
            && let Some(api) = service::api_for(&client, object)
            && let Some(live) = api
                .get_opt(&name)
                .await
                .map_err(|e| stop(e, &author, &format!("read {reference} on {cluster}")))?
        {
            let live = serde_json::to_value(&live).unwrap_or_default();
            let theirs = settings::foreign_placement(&live);
            if adopt {
                settings::keep_placement(object, &live, &theirs);
            }
            found.extend(theirs);
        }
        let applied = service::apply_object(&client, object, false)
            .await
            .map_err(|e| stop(e, &author, &format!("apply {reference} on {cluster}")))?;
        if workload {
            let mut live = serde_json::to_value(&applied).unwrap_or_default();
            if !adopt
                && !settings::foreign_placement(&live).is_empty()
                && let Some(released) = release(&client, object, &live)
                    .await
                    .map_err(|e| stop(e, &author, &format!("take over {reference}")))?
            {
                live = released;
            }
            remaining.extend(settings::foreign_placement(&live));
            workloads.push((kind, name, live));
        }
    }
    prune(&client, ns, backend, &workloads)
        .await
        .map_err(|e| stop(e, &author, &format!("remove old workloads on {cluster}")))?;

    state.customisations = merge_customisations(&state.customisations, found, &remaining);
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&format!("{PLUGIN_LABEL}={}", backend.plugin())))
        .await
        .map_err(|e| stop(e, &author, &format!("read the pods on {cluster}")))?;
    state.pending_pods = pending(&pods.items);
    state.workloads = workloads
        .iter()
        .map(|(kind, name, live)| workload_state(kind, name, live, &pods.items))
        .collect();
    let rolled_out = workloads
        .iter()
        .all(|(_, _, live)| rolled_out(live, desired));
    if rolled_out {
        state.installed_version = Some(desired.to_string());
        state.phase = PluginPhase::Ready;
        state.message = format!(
            "{desired} runs on {cluster}, applied as {}",
            author.username
        );
        if adopt && !remaining.is_empty() {
            state.message = format!(
                "{}; placement set outside the plugin is kept as it runs until the settings are saved",
                state.message
            );
        }
        return Ok(RESYNC);
    }
    state.phase = PluginPhase::Progressing;
    let ready: i32 = state.workloads.iter().map(|w| w.ready).sum();
    let want: i32 = state.workloads.iter().map(|w| w.desired).sum();
    if let Some(first) = state.pending_pods.first() {
        // The scheduler counts nodes ("3 node(s) had untolerated taint(s)") without naming
        // taints or selectors; the settings' own checks against the nodes say which.
        let diagnosis = match service::node_facts(&client).await {
            Ok(nodes) => settings::check_nodes(backend, &s, &nodes)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Err(_) => String::new(),
        };
        state.message = format!(
            "{} pod(s) Pending on {cluster}: {}",
            state.pending_pods.len(),
            first.message
        );
        if !diagnosis.is_empty() {
            state.message = format!("{} The settings: {diagnosis}", state.message);
        }
        Ok(PENDING_POLL)
    } else {
        state.message = format!("rolling out {desired} on {cluster}: {ready}/{want} pods ready");
        Ok(ROLLOUT_POLL)
    }
}

/// Whether a workload runs `version` with every replica updated and ready.
fn rolled_out(live: &Value, version: &str) -> bool {
    let want = live["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = &live["status"];
    let n = |key: &str| status[key].as_i64().unwrap_or(0);
    live["metadata"]["annotations"][app::plugins::resource::VERSION_ANNOTATION].as_str()
        == Some(version)
        && status["observedGeneration"].as_i64() >= live["metadata"]["generation"].as_i64()
        && n("readyReplicas") == want
        && n("updatedReplicas") == want
        && n("replicas") == want
}

fn workload_state(kind: &str, name: &str, live: &Value, pods: &[Pod]) -> WorkloadState {
    let nodes: Vec<String> = pods
        .iter()
        .filter(|p| p.labels().get("app.kubernetes.io/name").map(String::as_str) == Some(name))
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    WorkloadState {
        workload: format!("{kind} {name}"),
        desired: live["spec"]["replicas"].as_i64().unwrap_or(1) as i32,
        ready: live["status"]["readyReplicas"].as_i64().unwrap_or(0) as i32,
        nodes,
    }
}

/// Pods the scheduler could not place, with its own reason and message.
pub fn pending(pods: &[Pod]) -> Vec<PendingPod> {
    let mut out: Vec<PendingPod> = pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .filter_map(|p| {
            let condition = p
                .status
                .as_ref()?
                .conditions
                .as_ref()?
                .iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")?
                .clone();
            Some(PendingPod {
                name: p.name_any(),
                reason: condition.reason.unwrap_or_default(),
                message: condition.message.unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The customisations to show: those found before this apply and those still there after,
/// each marked whether it remains; ones seen earlier and gone now stay listed as gone.
fn merge_customisations(
    previous: &[Customisation],
    found: Vec<Customisation>,
    remaining: &[Customisation],
) -> Vec<Customisation> {
    let key = |c: &Customisation| (c.workload.clone(), c.field.clone(), c.manager.clone());
    let still: BTreeSet<_> = remaining.iter().map(key).collect();
    let mut out: Vec<Customisation> = Vec::new();
    for c in previous
        .iter()
        .cloned()
        .chain(found)
        .chain(remaining.iter().cloned())
    {
        let k = key(&c);
        let entry = Customisation {
            remaining: still.contains(&k),
            ..c
        };
        match out.iter_mut().find(|o| key(o) == k) {
            // The newest reading of the value wins.
            Some(existing) => {
                if entry.remaining || !existing.remaining {
                    *existing = entry;
                } else {
                    existing.remaining = false;
                }
            }
            None => out.push(entry),
        }
    }
    out
}

/// Releases other managers' ownership of the placement fields the plugin now owns too (the same
/// values came from the settings), so the old patches are gone rather than co-owned; returns the
/// workload after, or `None` when there was nothing to release.
async fn release(
    client: &Client,
    object: &Value,
    live: &Value,
) -> Result<Option<Value>, kube::Error> {
    let Some(entries) = live["metadata"]["managedFields"].as_array() else {
        return Ok(None);
    };
    let Some(ours) = entries
        .iter()
        .find(|e| e["manager"] == FIELD_MANAGER && e["operation"] == "Apply")
        .map(|e| e["fieldsV1"].clone())
    else {
        return Ok(None);
    };
    let mut changed = false;
    let mut kept = Vec::new();
    for entry in entries {
        let mut entry = entry.clone();
        let foreign = entry["manager"] != FIELD_MANAGER
            && entry["subresource"].as_str().is_none_or(str::is_empty);
        if foreign && settings::release_placement(&mut entry["fieldsV1"], &ours) {
            changed = true;
        }
        // A manager left owning nothing is dropped (the apiserver refuses empty entries).
        let empty = entry["fieldsV1"].as_object().is_none_or(|m| m.is_empty());
        if !(foreign && empty) {
            kept.push(entry);
        }
    }
    if !changed {
        return Ok(None);
    }
    let Some(api) = service::api_for(client, object) else {
        return Ok(None);
    };
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let patch = json!({"metadata": {
        "managedFields": kept,
        "resourceVersion": live["metadata"]["resourceVersion"],
    }});
    let after = api
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(Some(serde_json::to_value(&after).unwrap_or_default()))
}

/// Deletes the plugin's StatefulSets and Deployments that the settings no longer render (a
/// VictoriaMetrics plugin moved between single and cluster mode).
async fn prune(
    client: &Client,
    ns: &str,
    backend: Backend,
    rendered: &[(String, String, Value)],
) -> Result<(), kube::Error> {
    let labels = ListParams::default().labels(&format!("{PLUGIN_LABEL}={}", backend.plugin()));
    let keep = |kind: &str, name: &str| rendered.iter().any(|(k, n, _)| k == kind && n == name);
    let sets = Api::<StatefulSet>::namespaced(client.clone(), ns);
    for set in sets.list_metadata(&labels).await? {
        let name = set.name_any();
        if !keep("StatefulSet", &name) {
            sets.delete(&name, &DeleteParams::default()).await?;
        }
    }
    let deployments = Api::<Deployment>::namespaced(client.clone(), ns);
    for deployment in deployments.list_metadata(&labels).await? {
        let name = deployment.name_any();
        if !keep("Deployment", &name) {
            deployments.delete(&name, &DeleteParams::default()).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(field: &str, remaining: bool) -> Customisation {
        Customisation {
            workload: "StatefulSet prometheus".into(),
            field: field.into(),
            manager: "kubectl-patch".into(),
            value: "{}".into(),
            move_to: String::new(),
            remaining,
        }
    }

    #[test]
    fn customisations_seen_once_stay_listed_and_say_when_they_are_gone() {
        let found = vec![custom("nodeSelector", true), custom("affinity", true)];
        let remaining = vec![custom("affinity", true)];
        let merged = merge_customisations(&[], found, &remaining);
        assert_eq!(
            merged
                .iter()
                .map(|c| (c.field.as_str(), c.remaining))
                .collect::<Vec<_>>(),
            vec![("nodeSelector", false), ("affinity", true)]
        );
        // Next time nothing is found: both are listed as gone.
        let again = merge_customisations(&merged, Vec::new(), &[]);
        assert!(again.iter().all(|c| !c.remaining), "{again:?}");
        assert_eq!(again.len(), 2);
    }

    #[test]
    fn a_workload_is_rolled_out_only_at_its_version_with_every_replica_ready() {
        let mut live = json!({
            "metadata": {"generation": 2, "annotations": {app::plugins::resource::VERSION_ANNOTATION: "3.5.0"}},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1},
        });
        assert!(!rolled_out(&live, "3.5.0"));
        live["status"]["readyReplicas"] = json!(2);
        assert!(rolled_out(&live, "3.5.0"));
        assert!(!rolled_out(&live, "3.4.2"));
    }
}
