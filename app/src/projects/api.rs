//! The projects' server functions, at stable endpoints (`/api/projects/...`): each takes the
//! signed-in user from the request and calls `service.rs`.

use leptos::prelude::*;

use super::resource::{ProjectRef, ProjectView};
#[cfg(feature = "ssr")]
use super::service;
use crate::ConsoleError;

/// The projects the signed-in user belongs to (see `service::list`).
#[server(endpoint = "projects/list")]
pub async fn list_projects() -> Result<Vec<ProjectRef>, ConsoleError> {
    if !crate::platform::has_global() {
        return Ok(Vec::new());
    }
    service::list(&crate::platform::registry()?, &crate::platform::identity()?).await
}

#[server(endpoint = "projects/get")]
pub async fn get_project(name: String) -> Result<ProjectView, ConsoleError> {
    let global = crate::platform::client_as_user(crate::platform::GLOBAL_CLUSTER)?;
    service::get(global, &name).await
}

/// Takes a cluster out of a project, as the user (see `service::remove_cluster`).
#[server(endpoint = "projects/remove-cluster")]
pub async fn remove_project_cluster(
    project: String,
    cluster: String,
    #[server(default)] force: bool,
) -> Result<Vec<String>, ConsoleError> {
    let global = crate::platform::client_as_user(crate::platform::GLOBAL_CLUSTER)?;
    service::remove_cluster(global, &project, &cluster, force).await
}
