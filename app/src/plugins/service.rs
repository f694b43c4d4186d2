//! ClusterPlugins as plain async functions over the signed-in user's clients: the server
//! functions (`api.rs`), the plugin controller and the tests call these. Reads and writes on
//! global are the user's; a monitoring plugin's settings are checked against the member cluster's
//! nodes, previewed as a diff and a server-side dry run as the user, and saved with the user as
//! their author (the controller applies them as that user).

use std::collections::BTreeMap;

use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    core::v1::{ConfigMap, Namespace, Node, PersistentVolume, Service},
    storage::v1::StorageClass,
};
use kube::{
    Api, Client, ResourceExt,
    api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

use super::PluginRow;
use super::resource::{ClusterPlugin, PLUGIN_NAMESPACE};
use crate::ConsoleError;
use crate::platform::{GLOBAL_CLUSTER, registry::ClusterRegistry};
use console_api::application::line_diff;
use console_api::identity::Identity;
use console_api::plugin_settings::{
    self as settings, Backend, FIELD_MANAGER, MonitoringSettings, NodeFacts, ObjectPreview,
    PLUGIN_LABEL, SettingsPreview, Taint, Target,
};

fn global_error(e: kube::Error) -> ConsoleError {
    crate::platform::kube_error(GLOBAL_CLUSTER, e)
}

/// The view the pages show.
pub fn view(p: ClusterPlugin) -> PluginRow {
    let status = p.status.unwrap_or_default();
    let backend = Backend::of_plugin(&p.spec.plugin);
    PluginRow {
        name: p.metadata.name.unwrap_or_default(),
        lifecycle: status
            .lifecycle
            .or_else(|| super::catalog::plugin(&p.spec.plugin).map(|c| c.lifecycle)),
        backend,
        settings: p
            .spec
            .monitoring
            .clone()
            .or_else(|| backend.map(MonitoringSettings::defaults)),
        settings_saved: p.spec.monitoring.is_some(),
        cluster: p.spec.cluster,
        plugin: p.spec.plugin,
        desired: p.spec.version,
        installed: status.installed_version,
        available: status.available_versions,
        cluster_release: status.cluster_release,
        phase: status.phase,
        message: status.message,
        author: status.author,
        workloads: status.workloads,
        pending_pods: status.pending_pods,
        customisations: status.customisations,
    }
}

pub async fn list(global: Client) -> Result<Vec<PluginRow>, ConsoleError> {
    let list = Api::<ClusterPlugin>::all(global)
        .list(&Default::default())
        .await
        .map_err(global_error)?;
    let mut rows: Vec<PluginRow> = list.items.into_iter().map(view).collect();
    rows.sort_by(|a, b| (&a.cluster, &a.plugin).cmp(&(&b.cluster, &b.plugin)));
    Ok(rows)
}

pub async fn get(global: Client, name: &str) -> Result<PluginRow, ConsoleError> {
    Api::<ClusterPlugin>::all(global)
        .get(name)
        .await
        .map(view)
        .map_err(global_error)
}

/// A node as the settings' checks see it.
pub fn facts(node: &Node) -> NodeFacts {
    let spec = node.spec.clone().unwrap_or_default();
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    NodeFacts {
        name: node.name_any(),
        labels: node.labels().clone(),
        taints: spec
            .taints
            .unwrap_or_default()
            .into_iter()
            .map(|t| Taint {
                key: t.key,
                value: t.value.unwrap_or_default(),
                effect: t.effect,
            })
            .collect(),
        ready,
        unschedulable: spec.unschedulable.unwrap_or(false),
    }
}

pub async fn node_facts(client: &Client) -> Result<Vec<NodeFacts>, kube::Error> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&Default::default())
        .await?;
    Ok(nodes.items.iter().map(facts).collect())
}

/// The local volumes of the plugin on the cluster and the node each is pinned to.
pub async fn existing_volumes(
    client: &Client,
    backend: Backend,
) -> Result<BTreeMap<String, String>, kube::Error> {
    let volumes = Api::<PersistentVolume>::all(client.clone())
        .list(&ListParams::default().labels(&format!("{PLUGIN_LABEL}={}", backend.plugin())))
        .await?;
    Ok(volumes
        .items
        .iter()
        .filter_map(|pv| {
            let node = pv
                .spec
                .as_ref()?
                .node_affinity
                .as_ref()?
                .required
                .as_ref()?
                .node_selector_terms
                .first()?
                .match_expressions
                .as_ref()?
                .first()?
                .values
                .as_ref()?
                .first()?
                .clone();
            Some((pv.name_any(), node))
        })
        .collect())
}

/// The objects `settings` render to on the cluster `client` reaches: local volumes go to the
/// Ready nodes the selector matches, keeping those already pinned.
pub async fn render_on(
    client: &Client,
    namespace: &str,
    backend: Backend,
    cluster: &str,
    version: &str,
    s: &MonitoringSettings,
) -> Result<Vec<Value>, kube::Error> {
    let mut nodes = BTreeMap::new();
    if s.storage.kind == settings::StorageType::LocalVolume {
        let facts = node_facts(client).await?;
        let mut selected: Vec<String> = settings::selected(s, &facts)
            .into_iter()
            .map(|n| n.name.clone())
            .collect();
        selected.sort();
        let existing = existing_volumes(client, backend).await?;
        nodes = settings::assign_nodes(backend, s, &selected, &existing);
    }
    let target = Target {
        backend,
        cluster,
        namespace,
        version,
    };
    Ok(settings::render(&target, s, &nodes))
}

/// The API of a rendered object's kind on `client`'s cluster.
pub fn api_for(client: &Client, object: &Value) -> Option<Api<DynamicObject>> {
    let resource = match object["kind"].as_str()? {
        "Namespace" => ApiResource::erase::<Namespace>(&()),
        "StorageClass" => ApiResource::erase::<StorageClass>(&()),
        "PersistentVolume" => ApiResource::erase::<PersistentVolume>(&()),
        "ConfigMap" => ApiResource::erase::<ConfigMap>(&()),
        "Service" => ApiResource::erase::<Service>(&()),
        "StatefulSet" => ApiResource::erase::<StatefulSet>(&()),
        "Deployment" => ApiResource::erase::<Deployment>(&()),
        _ => return None,
    };
    Some(match object["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    })
}

/// The plugin namespace as an object to apply.
pub fn namespace_object(namespace: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
}

/// Server-side applies `object` with the plugins' field manager (forced: drift is set back),
/// as whoever `client` acts as; `dry_run` asks the cluster without changing anything.
pub async fn apply_object(
    client: &Client,
    object: &Value,
    dry_run: bool,
) -> Result<DynamicObject, kube::Error> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let Some(api) = api_for(client, object) else {
        return Err(kube::Error::Api(
            kube::core::Status::failure(
                &format!("the console cannot apply {}", settings::object_ref(object)),
                "BadRequest",
            )
            .with_code(400)
            .boxed(),
        ));
    };
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = dry_run;
    api.patch(name, &params, &Patch::Apply(object)).await
}

/// An apiserver's answer as a line (its own message, or the connection failure).
pub fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.reason),
        other => crate::error::innermost(other),
    }
}

fn yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// The checks that need the cluster: its nodes, read as the user.
async fn check_on_cluster(
    member: &Client,
    backend: Backend,
    s: &MonitoringSettings,
) -> Result<Vec<String>, ConsoleError> {
    let nodes = node_facts(member)
        .await
        .map_err(|e| ConsoleError::Invalid {
            message: format!(
                "the settings are checked against the cluster's nodes, which you may not list there: {}",
                describe(&e)
            ),
        })?;
    Ok(settings::check_nodes(backend, s, &nodes)
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// The plugin `name` and its backend, refused for a plugin that has no settings.
async fn monitoring_plugin(
    global: &Client,
    name: &str,
) -> Result<(ClusterPlugin, Backend), ConsoleError> {
    let plugin = Api::<ClusterPlugin>::all(global.clone())
        .get(name)
        .await
        .map_err(global_error)?;
    let backend = Backend::of_plugin(&plugin.spec.plugin).ok_or_else(|| ConsoleError::Invalid {
        message: format!(
            "{} has no settings; only the monitoring plugins ({} and {}) do",
            plugin.spec.plugin,
            settings::PROMETHEUS,
            settings::VICTORIA_METRICS
        ),
    })?;
    Ok((plugin, backend))
}

/// Everything saving `s` would do, checked as the user: the settings' rules, the cluster's
/// nodes, then each rendered object as a diff against what runs and a server-side dry run.
pub async fn preview(
    global: Client,
    registry: &ClusterRegistry,
    identity: &Identity,
    name: &str,
    s: MonitoringSettings,
) -> Result<SettingsPreview, ConsoleError> {
    let (plugin, backend) = monitoring_plugin(&global, name).await?;
    let cluster = plugin.spec.cluster.clone();
    let member = registry.client_for(&cluster, identity)?;
    let mut out = SettingsPreview {
        settings_yaml: serde_saphyr::to_string(&s).unwrap_or_default(),
        settings_json: serde_json::to_string(&s).unwrap_or_default(),
        ..SettingsPreview::default()
    };
    out.errors = settings::validate(backend, &s)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !out.errors.is_empty() {
        return Ok(out);
    }
    out.errors = check_on_cluster(&member, backend, &s).await?;
    if !out.errors.is_empty() {
        return Ok(out);
    }
    let objects = render_on(
        &member,
        PLUGIN_NAMESPACE,
        backend,
        &cluster,
        &plugin.spec.version,
        &s,
    )
    .await
    .map_err(|e| crate::platform::kube_error(&cluster, e))?;
    let namespace_exists = Api::<Namespace>::all(member.clone())
        .get_opt(PLUGIN_NAMESPACE)
        .await
        .map_err(|e| crate::platform::kube_error(&cluster, e))?
        .is_some();
    // The controller makes the namespace first: when it does not exist yet, its creation is
    // what the cluster is asked about (objects inside a namespace that does not exist cannot be
    // dry-run; the cluster would only say the namespace is missing).
    let namespace = (!namespace_exists).then(|| namespace_object(PLUGIN_NAMESPACE));
    for object in namespace.into_iter().chain(objects) {
        let reference = settings::object_ref(&object);
        let live = match api_for(&member, &object) {
            Some(api) => api
                .get_opt(object["metadata"]["name"].as_str().unwrap_or_default())
                .await
                .map_err(|e| crate::platform::kube_error(&cluster, e))?,
            None => None,
        };
        let (old, new) = match &live {
            Some(live) => {
                let live = serde_json::to_value(live).unwrap_or_default();
                (yaml(&settings::project_onto(&live, &object)), yaml(&object))
            }
            None => (String::new(), yaml(&object)),
        };
        let dry_run = namespace_exists || !object["metadata"]["namespace"].is_string();
        let dry_run_error = if dry_run {
            apply_object(&member, &object, true)
                .await
                .err()
                .map(|e| describe(&e))
        } else {
            None
        };
        out.objects.push(ObjectPreview {
            object: reference,
            new: live.is_none(),
            diff: line_diff(&old, &new),
            dry_run_error,
            dry_run,
        });
    }
    Ok(out)
}

/// Saves `s` as the plugin's settings, as the user and with the user recorded as their author,
/// once the settings' rules and the cluster's nodes allow them.
pub async fn save(
    global: Client,
    registry: &ClusterRegistry,
    identity: &Identity,
    name: &str,
    s: MonitoringSettings,
) -> Result<(), ConsoleError> {
    let (mut plugin, backend) = monitoring_plugin(&global, name).await?;
    let invalid = |errors: Vec<String>| ConsoleError::Invalid {
        message: errors.join("; "),
    };
    let errors: Vec<String> = settings::validate(backend, &s)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let member = registry.client_for(&plugin.spec.cluster, identity)?;
    let errors = check_on_cluster(&member, backend, &s).await?;
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let stamp = crate::access::author::stamp(&global).await?;
    let api = Api::<ClusterPlugin>::all(global);
    // The controller writes the status meanwhile, which changes the resourceVersion: on a
    // conflict the settings go onto the plugin as it is now (as client-go's RetryOnConflict).
    let mut attempts = 0;
    loop {
        let annotations = plugin.annotations_mut();
        if let Some(stamp) = stamp.as_object() {
            for (key, value) in stamp {
                annotations.insert(key.clone(), value.as_str().unwrap_or_default().to_string());
            }
        }
        plugin.spec.monitoring = Some(s.clone());
        plugin.status = None;
        match api.replace(name, &PostParams::default(), &plugin).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 && attempts < SAVE_ATTEMPTS => {
                attempts += 1;
                plugin = api.get(name).await.map_err(global_error)?;
            }
            Err(e) => return Err(global_error(e)),
        }
    }
}

/// How often saving retries after a conflict with the controller's status writes.
const SAVE_ATTEMPTS: u32 = 5;

/// Asks for `version` of the plugin `name`, as the user: refused with the rule's reason for a
/// Core plugin, an unknown, older or wrong-release version; the controller then rolls it out.
pub async fn upgrade(global: Client, name: &str, version: &str) -> Result<(), ConsoleError> {
    let api = Api::<ClusterPlugin>::all(global);
    let current = api.get(name).await.map_err(global_error)?;
    let invalid = |message: String| ConsoleError::Invalid { message };
    let entry = super::catalog::plugin(&current.spec.plugin).ok_or_else(|| {
        invalid(format!(
            "{} is not in the plugin catalog",
            current.spec.plugin
        ))
    })?;
    let status = current.status.clone().unwrap_or_default();
    let installed = status
        .installed_version
        .clone()
        .unwrap_or_else(|| current.spec.version.clone());
    super::catalog::check_upgrade(
        entry,
        &installed,
        version,
        status.cluster_release.as_deref(),
    )
    .map_err(|e| invalid(e.to_string()))?;
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"version": version}})),
    )
    .await
    .map_err(global_error)?;
    Ok(())
}
