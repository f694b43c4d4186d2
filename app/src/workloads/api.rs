//! The server function of the list across clusters, at a stable endpoint:
//! `POST /api/workloads/deployments` answers newline-delimited JSON ([`ListLine`] per line),
//! each cluster's line sent as it answers.
//!
//! [`ListLine`]: console_api::workload::ListLine

use leptos::prelude::*;
use leptos::server_fn::codec::{StreamingText, TextStream};

use crate::ConsoleError;

/// The Deployments of every registered cluster the signed-in user may see, streamed per
/// cluster with a deadline each.
#[server(endpoint = "workloads/deployments", output = StreamingText)]
pub async fn deployments_everywhere() -> Result<TextStream<ConsoleError>, ConsoleError> {
    use console_api::workload::PER_CLUSTER_DEADLINE_MS;
    use futures::StreamExt;
    use std::time::Duration;

    let identity = crate::platform::identity()?;
    let registry = crate::platform::registry()?;
    let lines = super::service::deployments_everywhere(
        registry,
        identity,
        Duration::from_millis(PER_CLUSTER_DEADLINE_MS),
    );
    Ok(TextStream::new(lines.map(|line| Ok(line.to_line()))))
}
