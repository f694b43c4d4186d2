//! Projects as plain async functions over the signed-in user's clients: the server functions
//! (`api.rs`), the `ac` CLI's server side and the tests call these.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client,
    api::{ListParams, Patch, PatchParams},
};

use super::resource::{Project, ProjectRef, ProjectView};
use crate::ConsoleError;
use crate::platform::{GLOBAL_CLUSTER, registry::ClusterRegistry};
use console_api::application::Application;
use console_api::identity::Identity;

fn global_error(e: kube::Error) -> ConsoleError {
    crate::platform::kube_error(GLOBAL_CLUSTER, e)
}

/// The projects `identity` belongs to: project namespaces on global that the user may see
/// (RBAC decides), nothing else; none without a global cluster.
pub async fn list(
    registry: &ClusterRegistry,
    identity: &Identity,
) -> Result<Vec<ProjectRef>, ConsoleError> {
    if !registry.list().iter().any(|c| c.name == GLOBAL_CLUSTER) {
        return Ok(Vec::new());
    }
    let visible =
        crate::platform::namespaces::visible_namespaces(registry, GLOBAL_CLUSTER, identity).await?;
    let projects: HashSet<String> = Api::<Namespace>::all(registry.console_client(GLOBAL_CLUSTER)?)
        .list(&ListParams::default().labels(console_api::PROJECT_NAMESPACE_LABEL))
        .await
        .map_err(global_error)?
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .collect();
    Ok(visible
        .namespaces
        .into_iter()
        .filter(|ns| projects.contains(&ns.name))
        .map(|ns| ProjectRef { name: ns.name })
        .collect())
}

/// The Project `name`, read with `global` (a client as the user).
pub async fn get(global: Client, name: &str) -> Result<ProjectView, ConsoleError> {
    let project = Api::<Project>::all(global)
        .get(name)
        .await
        .map_err(global_error)?;
    Ok(ProjectView {
        name: name.to_string(),
        spec: project.spec,
        status: project.status.unwrap_or_default(),
    })
}

/// Takes `cluster` out of `project`, with `global` acting as the user. Refused while
/// Applications of the project are placed there, unless `force`, which first takes the
/// cluster out of those Applications' placements (their controller removes the workload).
/// Answers the applications moved.
pub async fn remove_cluster(
    global: Client,
    project: &str,
    cluster: &str,
    force: bool,
) -> Result<Vec<String>, ConsoleError> {
    let projects = Api::<Project>::all(global.clone());
    let current = projects.get(project).await.map_err(global_error)?;
    if !current.spec.clusters.iter().any(|c| c.name == cluster) {
        return Err(ConsoleError::Invalid {
            message: format!("{cluster} is not a member cluster of {project}"),
        });
    }
    let apps = Api::<Application>::namespaced(global.clone(), project);
    let placed: Vec<Application> = apps
        .list(&Default::default())
        .await
        .map_err(global_error)?
        .items
        .into_iter()
        .filter(|a| a.spec.placement.iter().any(|c| c == cluster))
        .collect();
    let names: Vec<String> = placed
        .iter()
        .filter_map(|a| a.metadata.name.clone())
        .collect();
    if !names.is_empty() && !force {
        return Err(ConsoleError::Invalid {
            message: format!(
                "applications {} still run on {cluster}; move them first, or force to take {cluster} out of their placement too",
                names.join(", ")
            ),
        });
    }
    // Whoever changes a spec becomes its author: the controllers act as them from now on.
    let author = crate::access::author::stamp(&global).await?;
    for app in &placed {
        let placement: Vec<&String> = app
            .spec
            .placement
            .iter()
            .filter(|c| *c != cluster)
            .collect();
        apps.patch(
            app.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({
                "metadata": {"annotations": author},
                "spec": {"placement": placement},
            })),
        )
        .await
        .map_err(global_error)?;
    }
    let clusters: Vec<_> = current
        .spec
        .clusters
        .iter()
        .filter(|c| c.name != cluster)
        .collect();
    projects
        .patch(
            project,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({
                "metadata": {"annotations": author},
                "spec": {"clusters": clusters},
            })),
        )
        .await
        .map_err(global_error)?;
    Ok(names)
}
