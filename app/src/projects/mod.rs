//! Projects: the project selector and the Container Platform view's project list and pages.
//! A project is a Project resource on global plus the namespace of that name there, where its
//! Applications live; a user sees the projects whose namespace RBAC lets them see.
//!
//! `api` (server functions, `/api/projects/...`) → `service` (plain async functions, server
//! only) → the resource and pure rules in `console_api::project`; `pages` for the UI;
//! `feature` registers routes and navigation.

mod api;
pub mod feature;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use console_api::project as resource;

pub use api::*;
pub use pages::{ProjectPage, ProjectSelector, ProjectsPage};
pub use resource::{ProjectRef, ProjectView};

/// The label that makes a namespace on the global cluster a project's (its Applications live
/// there; the same namespace on member clusters runs them).
pub use console_api::PROJECT_NAMESPACE_LABEL;
