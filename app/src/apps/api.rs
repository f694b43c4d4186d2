//! The applications' server functions, at stable endpoints (`/api/apps/...`): each checks its
//! input, takes the signed-in user and the cluster registry from the request and calls
//! `service.rs`.

use leptos::prelude::*;

use super::resource::AppView;
use crate::ConsoleError;
#[cfg(feature = "ssr")]
use {super::manifest, super::service};

/// The signed-in user and the cluster registry of this request.
#[cfg(feature = "ssr")]
fn caller() -> Result<
    (
        crate::platform::registry::ClusterRegistry,
        console_api::identity::Identity,
    ),
    ConsoleError,
> {
    Ok((crate::platform::registry()?, crate::platform::identity()?))
}

#[server(endpoint = "apps/list")]
pub async fn list_applications(project: String) -> Result<Vec<AppView>, ConsoleError> {
    let global = crate::platform::client_as_user(crate::platform::GLOBAL_CLUSTER)?;
    service::list(global, &project).await
}

#[server(endpoint = "apps/get")]
pub async fn get_application(project: String, name: String) -> Result<AppView, ConsoleError> {
    let global = crate::platform::client_as_user(crate::platform::GLOBAL_CLUSTER)?;
    service::get(global, &project, &name).await
}

/// Scales on every cluster (`cluster` empty) or on one (an override), as the user.
#[server(endpoint = "apps/scale")]
pub async fn scale_application(
    project: String,
    name: String,
    cluster: String,
    replicas: i32,
) -> Result<(), ConsoleError> {
    let (registry, identity) = caller()?;
    let cluster = Some(cluster.as_str()).filter(|c| !c.is_empty());
    service::scale(&registry, &identity, &project, &name, cluster, replicas).await
}

/// Sets the image of every container, a rolling update on every cluster.
#[server(endpoint = "apps/set-image")]
pub async fn set_image(project: String, name: String, image: String) -> Result<(), ConsoleError> {
    let (registry, identity) = caller()?;
    service::set_image(&registry, &identity, &project, &name, &image).await
}

/// Rolls back to `revision` of the history: its template becomes the current one again.
#[server(endpoint = "apps/rollback")]
pub async fn rollback_application(
    project: String,
    name: String,
    revision: i64,
) -> Result<(), ConsoleError> {
    let (registry, identity) = caller()?;
    service::rollback(&registry, &identity, &project, &name, revision).await
}

/// Deletes the application once its name is typed again as `confirm`.
#[server(endpoint = "apps/delete")]
pub async fn delete_application(
    project: String,
    name: String,
    confirm: String,
) -> Result<(), ConsoleError> {
    if confirm != name {
        return Err(ConsoleError::Invalid {
            message: format!("type the application's name, {name}, to delete it"),
        });
    }
    let global = crate::platform::client_as_user(crate::platform::GLOBAL_CLUSTER)?;
    service::delete(global, &project, &name).await
}

/// Creates an Application from the YAML editor's text in `project`, as the user.
#[server(endpoint = "apps/create")]
pub async fn create_application(project: String, yaml: String) -> Result<String, ConsoleError> {
    let manifest = manifest::parse(&yaml).map_err(|message| ConsoleError::Invalid { message })?;
    let (registry, identity) = caller()?;
    service::create(&registry, &identity, &project, manifest).await
}

/// Creates an Application from the form: one container, the same replicas everywhere.
#[server(endpoint = "apps/create-from-form")]
pub async fn create_from_form(
    project: String,
    name: String,
    image: String,
    replicas: i32,
    clusters: String,
) -> Result<String, ConsoleError> {
    let manifest = manifest::from_form(&name, &image, replicas, &clusters)
        .map_err(|message| ConsoleError::Invalid { message })?;
    let (registry, identity) = caller()?;
    service::create(&registry, &identity, &project, manifest).await
}
