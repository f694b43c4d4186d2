//! Monitoring: per-cluster charts (API request rate by verb, latency p99, error rate, etcd
//! objects, nodes, pods, the console's probe) and the console's own figures, read from the
//! cluster's metrics backend through the Prometheus query API; firing and pending alerts grouped
//! by cluster. Who may list a cluster's nodes may see its metrics and alerts.

mod chart;
pub mod feature;
mod page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use console_api::monitoring::{
    Alert, AlertState, BackendSpec, Backends, Chart, ChartKind, ClusterAlerts, ClusterCharts,
    TimeRange,
};
pub use page::MonitoringPage;

use leptos::prelude::*;

use crate::ConsoleError;

/// Whether the signed-in user may see `cluster`'s metrics: they may list its nodes.
#[cfg(feature = "ssr")]
async fn may_see(cluster: &str) -> Result<bool, ConsoleError> {
    use crate::access::{AccessCheck, ssr::cache};
    let identity = crate::platform::identity()?;
    let registry = crate::platform::registry()?;
    let (allowed, _) = cache()?
        .decide(
            &registry,
            cluster,
            &identity,
            &[AccessCheck::new("list", "", "nodes")],
        )
        .await?;
    Ok(allowed.first().copied().unwrap_or(false))
}

#[cfg(feature = "ssr")]
fn monitoring() -> Result<ssr::Monitoring, ConsoleError> {
    use_context::<ssr::Monitoring>().ok_or_else(|| ConsoleError::Internal {
        message: "the metrics backends are not available to this request".into(),
    })
}

/// The registered clusters whose metrics the user may see, global first.
#[cfg(feature = "ssr")]
async fn visible_clusters() -> Result<Vec<String>, ConsoleError> {
    let names: Vec<String> = crate::platform::registry()?
        .list()
        .into_iter()
        .map(|c| c.name)
        .collect();
    let allowed = futures::future::join_all(names.iter().map(|n| may_see(n))).await;
    let mut visible: Vec<String> = names
        .into_iter()
        .zip(allowed)
        .filter_map(|(name, allowed)| matches!(allowed, Ok(true)).then_some(name))
        .collect();
    visible.sort_by_key(|n| (n != crate::platform::GLOBAL_CLUSTER, n.clone()));
    Ok(visible)
}

/// The clusters the user may see metrics of.
#[server(endpoint = "monitoring/clusters")]
pub async fn monitored_clusters() -> Result<Vec<String>, ConsoleError> {
    visible_clusters().await
}

/// The charts of `cluster` (the first workload cluster the user may see when empty) over
/// `range` (`15m`, `1h`, `6h`, `24h`) ending now.
#[server(endpoint = "monitoring/charts")]
pub async fn charts_of_cluster(
    cluster: String,
    range: String,
) -> Result<ClusterCharts, ConsoleError> {
    let range = TimeRange::parse(&range);
    let cluster = if cluster.is_empty() {
        let visible = visible_clusters().await?;
        visible
            .iter()
            .find(|c| *c != crate::platform::GLOBAL_CLUSTER)
            .or(visible.first())
            .cloned()
            .ok_or_else(|| ConsoleError::Forbidden {
                message: "you may list the nodes of no registered cluster, so no cluster's metrics are shown; ask a platform administrator for read access to nodes".into(),
            })?
    } else {
        // An unknown cluster is ClusterNotFound from the access check's client.
        if !may_see(&cluster).await? {
            return Err(ConsoleError::Forbidden {
                message: format!(
                    "the metrics of {cluster} are shown to those who may list its nodes, and you may not"
                ),
            });
        }
        cluster
    };
    Ok(monitoring()?.cluster_charts(&cluster, range).await)
}

/// Firing and pending alerts of every cluster the user may see, grouped by cluster.
#[server(endpoint = "monitoring/alerts")]
pub async fn alerts_by_cluster() -> Result<Vec<ClusterAlerts>, ConsoleError> {
    let monitoring = monitoring()?;
    let clusters = visible_clusters().await?;
    Ok(futures::future::join_all(clusters.iter().map(|c| monitoring.cluster_alerts(c))).await)
}
