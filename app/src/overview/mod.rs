//! The Administrator view's landing page: clusters by health and version, firing alerts by
//! cluster, upgrades in flight and plugins that need attention, each linking to its page, live.
//! It composes the other features' public server functions (as the shell composes their
//! pages), so every read is the signed-in user's own.

pub mod feature;
mod pages;

pub use pages::AdminOverviewPage;
