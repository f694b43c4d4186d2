//! The platform registry's images: list, delete and prune, scoped by namespace through the
//! global cluster's RBAC on `images.platform.nextgen-console.io`. `api` holds the server
//! functions (stable endpoints the `ac` CLI calls), `service` the plain async functions behind
//! them, `registry` the distribution API client, `usage` the usage index, `pages` the pages.

pub mod api;
pub mod feature;
mod pages;
#[cfg(feature = "ssr")]
pub mod registry;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod usage;

pub use console_api::image as types;
pub use pages::{ImagesPage, ProjectImagesPage};
