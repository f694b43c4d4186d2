//! The console's UI: the shell, pages, routes and server functions, plus the serde types
//! shared by the browser (hydrate) and the server (ssr).
#![recursion_limit = "256"]

/// The typed translations `build.rs` generates from `locales/*.json`. The generated code parses
/// its locale tags with `expect`, which this workspace's lints otherwise refuse.
#[allow(clippy::expect_used)]
mod translations {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}
pub use translations::i18n;

pub mod access;
pub mod apps;
pub mod auth;
pub mod clusters;
pub mod error;
pub mod images;
pub mod live;
pub mod monitoring;
pub mod overview;
pub mod platform;
pub mod plugins;
pub mod projects;
pub mod routes;
pub mod shell;
pub mod ui;
pub mod upgrades;
pub mod workloads;

pub use error::ConsoleError;
pub use shell::{App, SecurityPolicy, shell};
