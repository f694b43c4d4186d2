//! The error type that crosses the wire between server functions and pages lives in the shared
//! crate (`console_api::error`), so the `ac` CLI reads the same answers. The server sets each
//! failed call's HTTP status from it in one place (`server/src/layers.rs`).

pub use console_api::error::{ConsoleError, innermost};
