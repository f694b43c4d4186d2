//! Applications: the Container Platform view's application list and detail pages, scoped to a
//! project (its namespace on global). Every read and write is the signed-in user's, on global
//! and, for the workload itself, checked on each member cluster by a server-side dry run as the
//! user. Every change records the user as the Application's author; the controller applies it
//! to the project's clusters as that author, so it never does more than the user may.
//!
//! `api` (server functions, `/api/apps/...`) → `service` (plain async functions, server only)
//! → the resource and pure rules in `console_api::application`; `pages` for the UI;
//! `manifest` parses what the editor holds; `feature` registers routes and navigation.

mod api;
pub mod feature;
pub mod manifest;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use console_api::application as resource;

pub use api::*;
pub use pages::{ApplicationPage, ApplicationsPage, NewApplicationPage};
pub use resource::{AppView, line_diff};

/// Application pages take the rows the live stream pushes: the server computes each with
/// [`service::view`], as `apps/list` and `apps/get` do.
impl crate::live::LiveRow for AppView {
    fn is(&self, change: &crate::live::Change) -> bool {
        self.name == change.name && Some(self.project.as_str()) == change.namespace.as_deref()
    }

    /// By name, as the API server lists them.
    fn order(_kind: crate::live::Kind, rows: &mut [Self]) {
        rows.sort_by(|a, b| a.name.cmp(&b.name));
    }
}
