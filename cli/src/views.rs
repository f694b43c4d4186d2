//! The answers of the console's server functions `ac` reads, all from `console-api`: the same
//! structs the server answers with and the pages read, so the three agree by construction.

/// `list_projects`, `get_project`, `list_applications`, `get_application`.
pub use console_api::application::AppView;
/// `current_user`: who the token stands for.
pub use console_api::identity::Identity;
pub use console_api::project::{ProjectRef, ProjectView};
/// `list_shadows`, `get_shadow`, `request_update`; `preflight_clusters`; `available_updates`.
pub use console_api::upgrade::{AvailableUpdate, ClusterPreflight, ShadowView};
