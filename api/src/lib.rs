//! The console's shared vocabulary, free of Leptos, used by the server, the pages (browser and
//! server rendering) and the `ac` CLI, so the three agree by construction:
//! - the resources of the platform's API group ([`cluster`], [`application`], [`project`],
//!   [`plugin`], [`upgrade`]), as kube-rs custom resources with the `kube` feature;
//! - the pure rules over them (rendering, health, the version matrix, the plugin catalog);
//! - the views that cross the wire (who is signed in: [`identity`]; a cluster's update:
//!   [`upgrade::ShadowView`]);
//! - what a page can follow live ([`watch`]) and how it batches changes ([`coalesce`]);
//! - [`ConsoleError`], the error every call answers with.

pub mod application;
pub mod catalog;
pub mod cluster;
pub mod coalesce;
pub mod error;
pub mod identity;
pub mod image;
pub mod matrix;
pub mod monitoring;
pub mod plugin;
pub mod plugin_settings;
pub mod project;
pub mod upgrade;
pub mod watch;
pub mod workload;

pub use error::{ConsoleError, innermost};

/// The API group of the console's own resources.
pub const GROUP: &str = cluster::GROUP;

/// Namespaces a Project owns carry this label with the project's name.
pub const PROJECT_NAMESPACE_LABEL: &str = "platform.nextgen-console.io/project";
