//! The plugins' server functions, at stable endpoints (`/api/plugins/...`): each checks its
//! input, takes the signed-in user's clients from the request and calls `service.rs`.

use leptos::prelude::*;

use super::PluginRow;
use super::settings::{SettingsForm, SettingsPreview};
use crate::ConsoleError;
#[cfg(feature = "ssr")]
use {super::service, crate::platform::GLOBAL_CLUSTER};

#[cfg(feature = "ssr")]
fn global() -> Result<kube::Client, ConsoleError> {
    crate::platform::client_as_user(GLOBAL_CLUSTER)
}

/// Every plugin on every cluster the user may list ClusterPlugins of.
#[server(endpoint = "plugins/list")]
pub async fn list_plugins() -> Result<Vec<PluginRow>, ConsoleError> {
    if !crate::platform::has_global() {
        return Ok(Vec::new());
    }
    service::list(global()?).await
}

#[server(endpoint = "plugins/get")]
pub async fn get_plugin(name: String) -> Result<PluginRow, ConsoleError> {
    service::get(global()?, &name).await
}

/// Asks for `version` of the plugin `name`, as the user.
#[server(endpoint = "plugins/upgrade")]
pub async fn upgrade_plugin(name: String, version: String) -> Result<(), ConsoleError> {
    service::upgrade(global()?, &name, &version).await
}

/// Checks the settings in `form` and shows what applying them would change, as the user:
/// nothing is saved.
#[server(endpoint = "plugins/preview")]
pub async fn preview_settings(
    name: String,
    form: SettingsForm,
) -> Result<SettingsPreview, ConsoleError> {
    let (_, backend) = backend_of(&name).await?;
    let settings = match form.parse(backend) {
        Ok(settings) => settings,
        Err(errors) => {
            return Ok(SettingsPreview {
                errors,
                ..SettingsPreview::default()
            });
        }
    };
    let (registry, identity) = (crate::platform::registry()?, crate::platform::identity()?);
    service::preview(global()?, &registry, &identity, &name, settings).await
}

/// Saves the settings a preview showed (`settings`, its JSON), checked again, with the user as
/// their author; the controller then applies them as the user.
#[server(endpoint = "plugins/save-settings")]
pub async fn save_settings(name: String, settings: String) -> Result<(), ConsoleError> {
    let settings = serde_json::from_str(&settings).map_err(|e| ConsoleError::Invalid {
        message: format!("the settings cannot be read ({e}); preview them again"),
    })?;
    let (registry, identity) = (crate::platform::registry()?, crate::platform::identity()?);
    service::save(global()?, &registry, &identity, &name, settings).await
}

#[cfg(feature = "ssr")]
async fn backend_of(name: &str) -> Result<(PluginRow, super::settings::Backend), ConsoleError> {
    let row = service::get(global()?, name).await?;
    let backend = row.backend.ok_or_else(|| ConsoleError::Invalid {
        message: format!(
            "{} has no settings; only the monitoring plugins do",
            row.plugin
        ),
    })?;
    Ok((row, backend))
}
