//! One list of the Deployments on every registered cluster, as the signed-in user: each
//! cluster's rows are shown as it answers, a slow cluster is shown as timed out after its own
//! deadline, and a cluster that refuses says why. `service` asks the clusters, `api` streams
//! their answers as newline-delimited JSON, `pages` reads the stream into the table.

pub mod api;
pub mod feature;
mod pages;
#[cfg(feature = "ssr")]
pub mod service;

pub use console_api::workload as types;
pub use pages::WorkloadsPage;
