//! Applications as plain async functions over the signed-in user's clients: the server
//! functions (`api.rs`), the `ac` CLI's server side and the tests call these. Reads and writes
//! on global are the user's; the workload is checked on each member cluster by a server-side
//! dry run as the user; every change records the user as the author (the controller applies
//! it as them).

use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams, ValidationDirective},
};
use serde_json::{Value, json};

use super::manifest::Manifest;
use super::resource::{
    self, AppView, Application, ApplicationSpec, CAUSE_ANNOTATION, ClusterOverride, FIELD_MANAGER,
};
use crate::ConsoleError;
use crate::platform::{GLOBAL_CLUSTER, registry::ClusterRegistry};
use console_api::identity::Identity;

/// The most replicas a page or the CLI may ask for on one cluster.
pub const MAX_REPLICAS: i32 = 1000;

/// The Applications of `project` (its namespace on global), through `global`.
pub fn applications(global: Client, project: &str) -> Result<Api<Application>, ConsoleError> {
    if project.is_empty() {
        return Err(ConsoleError::Invalid {
            message: "choose a project first".into(),
        });
    }
    Ok(Api::namespaced(global, project))
}

/// The view the pages and the CLI show.
pub fn view(app: Application) -> AppView {
    AppView {
        name: app.metadata.name.clone().unwrap_or_default(),
        project: app.metadata.namespace.clone().unwrap_or_default(),
        placement: app.spec.placement.clone(),
        spec_yaml: serde_saphyr::to_string(&app.spec).unwrap_or_default(),
        status: app.status.clone().unwrap_or_default(),
        deleting: app.metadata.deletion_timestamp.is_some(),
    }
}

fn global_error(e: kube::Error) -> ConsoleError {
    crate::platform::kube_error(GLOBAL_CLUSTER, e)
}

/// The applications of `project` that `global` (a client as the user) may list.
pub async fn list(global: Client, project: &str) -> Result<Vec<AppView>, ConsoleError> {
    let list = applications(global, project)?
        .list(&Default::default())
        .await
        .map_err(global_error)?;
    Ok(list.items.into_iter().map(view).collect())
}

pub async fn get(global: Client, project: &str, name: &str) -> Result<AppView, ConsoleError> {
    applications(global, project)?
        .get(name)
        .await
        .map(view)
        .map_err(global_error)
}

/// Deletes the Application; its controller then removes the workload from every cluster.
pub async fn delete(global: Client, project: &str, name: &str) -> Result<(), ConsoleError> {
    applications(global, project)?
        .delete(name, &Default::default())
        .await
        .map_err(global_error)?;
    Ok(())
}

/// The namespace the application's project uses on each placed cluster; a cluster outside
/// the project, or a namespace of global that is no project's, is refused with the reason.
/// The Project is read with the console's credential: it is platform state every member's
/// page needs, and it decides nothing the user could widen.
pub async fn targets(
    registry: &ClusterRegistry,
    project: &str,
    spec: &ApplicationSpec,
) -> Result<Vec<(String, String)>, ConsoleError> {
    let global = registry.console_client(GLOBAL_CLUSTER)?;
    let found = Api::<console_api::project::Project>::all(global)
        .get_opt(project)
        .await
        .map_err(global_error)?;
    let Some(found) = found else {
        return Err(ConsoleError::Invalid {
            message: format!(
                "{project} is not a project's namespace: applications run only in the namespace of a Project (kubectl get projects.platform.nextgen-console.io)"
            ),
        });
    };
    let mut targets = Vec::new();
    let mut refused = Vec::new();
    for (cluster, target) in resource::placement_namespaces(project, &found.spec, &spec.placement) {
        match target {
            Ok(ns) => targets.push((cluster, ns)),
            Err(reason) => refused.push(reason),
        }
    }
    if refused.is_empty() {
        Ok(targets)
    } else {
        Err(ConsoleError::Invalid {
            message: format!("spec.placement: {}", refused.join("; ")),
        })
    }
}

/// Checks, as the user, that every placed cluster would accept the rendered workload in the
/// project's namespace there: the member's API server validates every field (strictly) and
/// applies the user's RBAC, as it will when the controller applies it as this user.
pub async fn dry_run(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    name: &str,
    spec: &ApplicationSpec,
) -> Result<(), ConsoleError> {
    let mut problems = Vec::new();
    for (cluster, namespace) in targets(registry, project, spec).await? {
        let client = match registry.client_for(&cluster, identity) {
            Ok(client) => client,
            Err(error) => {
                problems.push(format!("{cluster}: {error}"));
                continue;
            }
        };
        let overrides = spec.overrides.iter().find(|o| o.cluster == cluster);
        let deployment =
            resource::render_deployment(name, &namespace, project, 0, &spec.template, overrides);
        let ar = ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&());
        let api = Api::<DynamicObject>::namespaced_with(client, &namespace, &ar);
        let mut params = PatchParams::apply(FIELD_MANAGER).force();
        params.dry_run = true;
        params.field_validation = Some(ValidationDirective::Strict);
        if let Err(error) = api.patch(name, &params, &Patch::Apply(&deployment)).await {
            problems.push(match error {
                kube::Error::Api(status) if status.code == 403 => format!(
                    "{cluster}: you may not deploy to namespace {namespace} there ({})",
                    status.message
                ),
                kube::Error::Api(status) => format!("{cluster}: {}", status.message),
                other => format!(
                    "{cluster} cannot be reached: {}",
                    crate::error::innermost(&other)
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConsoleError::Invalid {
            message: problems.join("; "),
        })
    }
}

/// Checks `spec` (a changed copy of the Application's) on every placed cluster as the user,
/// then writes it with the user as author and `cause` in the history; `fields` picks what of
/// the spec the merge patch carries.
async fn change(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    name: &str,
    spec: &ApplicationSpec,
    cause: Option<String>,
    fields: Value,
) -> Result<(), ConsoleError> {
    dry_run(registry, identity, project, name, spec).await?;
    let global = registry.client_for(GLOBAL_CLUSTER, identity)?;
    let mut annotations = crate::access::author::stamp(&global).await?;
    if let Some(cause) = cause {
        annotations[CAUSE_ANNOTATION] = cause.into();
    }
    applications(global, project)?
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": annotations}, "spec": fields})),
        )
        .await
        .map_err(global_error)?;
    Ok(())
}

async fn current(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    name: &str,
) -> Result<Application, ConsoleError> {
    applications(registry.client_for(GLOBAL_CLUSTER, identity)?, project)?
        .get(name)
        .await
        .map_err(global_error)
}

/// Scales on every cluster (`cluster` None: the template's replicas, overrides cleared) or on
/// one (an override), as the user.
pub async fn scale(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    name: &str,
    cluster: Option<&str>,
    replicas: i32,
) -> Result<(), ConsoleError> {
    if !(0..=MAX_REPLICAS).contains(&replicas) {
        return Err(ConsoleError::Invalid {
            message: format!("{replicas} replicas: choose between 0 and {MAX_REPLICAS}"),
        });
    }
    let mut spec = current(registry, identity, project, name).await?.spec;
    match cluster {
        None => {
            spec.template.deployment["replicas"] = json!(replicas);
            for o in spec.overrides.iter_mut() {
                o.replicas = None;
            }
        }
        Some(cluster) => {
            if !spec.placement.iter().any(|c| c == cluster) {
                return Err(ConsoleError::Invalid {
                    message: format!("{name} is not placed on {cluster}"),
                });
            }
            match spec.overrides.iter_mut().find(|o| o.cluster == cluster) {
                Some(o) => o.replicas = Some(replicas),
                None => spec.overrides.push(ClusterOverride {
                    cluster: cluster.to_string(),
                    replicas: Some(replicas),
                    ..Default::default()
                }),
            }
        }
    }
    let fields = json!({"template": spec.template, "overrides": spec.overrides});
    change(registry, identity, project, name, &spec, None, fields).await
}

/// Sets the image of every container, a rolling update on every cluster.
pub async fn set_image(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    name: &str,
    image: &str,
) -> Result<(), ConsoleError> {
    let image = image.trim();
    if image.is_empty() || image.contains(char::is_whitespace) {
        return Err(ConsoleError::Invalid {
            message: format!(
                "{image:?} is not an image reference (for example registry.example/web:2)"
            ),
        });
    }
    let mut spec = current(registry, identity, project, name).await?.spec;
    if let Some(containers) =
        spec.template.deployment["template"]["spec"]["containers"].as_array_mut()
    {
        for c in containers {
            c["image"] = json!(image);
        }
    }
    let fields = json!({"template": spec.template});
    let cause = Some(format!("image {image}"));
    change(registry, identity, project, name, &spec, cause, fields).await
}

/// Rolls back to `revision` of the history: its template becomes the current one again.
pub async fn rollback(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    name: &str,
    revision: i64,
) -> Result<(), ConsoleError> {
    let app = current(registry, identity, project, name).await?;
    let status = app.status.unwrap_or_default();
    let Some(target) = status.history.iter().find(|r| r.revision == revision) else {
        return Err(ConsoleError::Invalid {
            message: format!(
                "revision {revision} is not in {name}'s history (kept: {})",
                status
                    .history
                    .iter()
                    .map(|r| r.revision.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    };
    let mut spec = app.spec;
    spec.template = target.template.clone();
    let fields = json!({"template": spec.template});
    let cause = Some(format!("rollback to {revision}"));
    change(registry, identity, project, name, &spec, cause, fields).await
}

/// Creates the Application `manifest` describes in `project`, as the user: its clusters must be
/// registered, every placed cluster must accept it (dry run); ConfigMap text is saved with LF
/// line endings. Answers the name.
pub async fn create(
    registry: &ClusterRegistry,
    identity: &Identity,
    project: &str,
    mut manifest: Manifest,
) -> Result<String, ConsoleError> {
    let known: Vec<String> = registry.list().into_iter().map(|c| c.name).collect();
    if let Some(unknown) = manifest.spec.placement.iter().find(|c| !known.contains(c)) {
        return Err(ConsoleError::Invalid {
            message: format!(
                "spec.placement: {unknown} is not a registered cluster; choose among {}",
                known.join(", ")
            ),
        });
    }
    for map in manifest.spec.template.config_maps.iter_mut() {
        for value in map.data.values_mut() {
            *value = resource::normalize_line_endings(value);
        }
    }
    let name = manifest.metadata.name.clone();
    dry_run(registry, identity, project, &name, &manifest.spec).await?;
    let global = registry.client_for(GLOBAL_CLUSTER, identity)?;
    let mut app = Application::new(&name, manifest.spec);
    let mut annotations: std::collections::BTreeMap<String, String> =
        serde_json::from_value(crate::access::author::stamp(&global).await?).unwrap_or_default();
    annotations.insert(CAUSE_ANNOTATION.into(), "created".into());
    app.metadata.annotations = Some(annotations);
    applications(global, project)?
        .create(&PostParams::default(), &app)
        .await
        .map_err(global_error)?;
    Ok(name)
}
