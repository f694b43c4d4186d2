//! The console's UI: the shell, pages, routes and server functions, plus the serde types
//! shared by the browser (hydrate) and the server (ssr).
#![recursion_limit = "256"]

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub mod apps;
pub mod clusters;
pub mod error;
pub mod images;
pub mod monitoring;
pub mod plugins;
pub mod projects;
pub mod shell;
pub mod ui;
pub mod upgrades;

pub use error::ConsoleError;
pub use shell::{App, SecurityPolicy, shell};
