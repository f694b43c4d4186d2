//! Asking every registered cluster for its Deployments as the user, all at once, each answer
//! taken as it arrives with a deadline per cluster.

use std::time::{Duration, Instant};

use futures::{Stream, StreamExt, future::join_all, stream};
use k8s_openapi::api::apps::v1::Deployment;
use kube::{Api, api::ListParams};

use crate::ConsoleError;
use crate::platform::{namespaces::visible_namespaces, registry::ClusterRegistry};
use console_api::identity::Identity;
use console_api::workload::{ClusterAnswer, DeploymentRow, ListLine};

/// Clusters asked at once. Beyond this many, a cluster's deadline starts when it gets a place.
pub const IN_FLIGHT: usize = 128;

/// The lines of the list across clusters: the clusters that will be asked, then each one's
/// answer in the order they arrive. The stream owns what it needs, so it can outlive the
/// request that started it.
pub fn deployments_everywhere(
    registry: ClusterRegistry,
    identity: Identity,
    deadline: Duration,
) -> impl Stream<Item = ListLine> + Send + 'static {
    let names: Vec<String> = registry.list().into_iter().map(|c| c.name).collect();
    let first = ListLine::Clusters {
        names: names.clone(),
        deadline_ms: millis(deadline),
    };
    let answers = stream::iter(names)
        .map(move |cluster| {
            let (registry, identity) = (registry.clone(), identity.clone());
            async move { answer(&registry, &cluster, &identity, deadline).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .map(ListLine::Answer);
    stream::once(async move { first }).chain(answers)
}

/// One cluster's answer within `deadline`.
pub async fn answer(
    registry: &ClusterRegistry,
    cluster: &str,
    identity: &Identity,
    deadline: Duration,
) -> ClusterAnswer {
    let started = Instant::now();
    match tokio::time::timeout(deadline, deployments_on(registry, cluster, identity)).await {
        Err(_) => ClusterAnswer::TimedOut {
            cluster: cluster.to_string(),
            after_ms: millis(started.elapsed()),
        },
        Ok(Ok((rows, namespaces))) => ClusterAnswer::Rows {
            cluster: cluster.to_string(),
            rows,
            namespaces,
            elapsed_ms: millis(started.elapsed()),
        },
        Ok(Err(error)) => ClusterAnswer::Failed {
            cluster: cluster.to_string(),
            error,
            elapsed_ms: millis(started.elapsed()),
        },
    }
}

/// The Deployments the user may list on `cluster`: cluster-wide if they may, otherwise those of
/// each namespace they may see (with how many namespaces that was). A namespace whose
/// Deployments they may not list is left out; any other failure fails the cluster.
async fn deployments_on(
    registry: &ClusterRegistry,
    cluster: &str,
    identity: &Identity,
) -> Result<(Vec<DeploymentRow>, Option<usize>), ConsoleError> {
    let client = registry.client_for(cluster, identity)?;
    let error = |e| crate::platform::kube_error(cluster, e);
    match Api::<Deployment>::all(client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(list) => Ok((rows(cluster, list.items), None)),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            let visible = visible_namespaces(registry, cluster, identity).await?;
            let lists = join_all(visible.namespaces.iter().map(|ns| {
                let api = Api::<Deployment>::namespaced(client.clone(), &ns.name);
                async move { api.list(&ListParams::default()).await }
            }))
            .await;
            let mut found = Vec::new();
            for list in lists {
                match list {
                    Ok(list) => found.extend(rows(cluster, list.items)),
                    Err(kube::Error::Api(status)) if status.code == 403 => {}
                    Err(e) => return Err(error(e)),
                }
            }
            Ok((found, Some(visible.namespaces.len())))
        }
        Err(e) => Err(error(e)),
    }
}

fn rows(cluster: &str, items: Vec<Deployment>) -> Vec<DeploymentRow> {
    let mut rows: Vec<DeploymentRow> = items.iter().map(|d| row(cluster, d)).collect();
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    rows
}

/// The fields of a Deployment the list shows.
pub fn row(cluster: &str, deployment: &Deployment) -> DeploymentRow {
    let status = deployment.status.clone().unwrap_or_default();
    let spec = deployment.spec.as_ref();
    DeploymentRow {
        cluster: cluster.to_string(),
        namespace: deployment.metadata.namespace.clone().unwrap_or_default(),
        name: deployment.metadata.name.clone().unwrap_or_default(),
        desired: spec.and_then(|s| s.replicas).unwrap_or(1),
        ready: status.ready_replicas.unwrap_or(0),
        updated: status.updated_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        images: spec
            .and_then(|s| s.template.spec.as_ref())
            .map(|p| {
                p.containers
                    .iter()
                    .filter_map(|c| c.image.clone())
                    .collect()
            })
            .unwrap_or_default(),
        created: deployment
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStatus};
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};

    #[test]
    fn a_row_reads_replicas_and_images() {
        let deployment = Deployment {
            metadata: kube::api::ObjectMeta {
                name: Some("web".into()),
                namespace: Some("team-a".into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(3),
                template: PodTemplateSpec {
                    spec: Some(PodSpec {
                        containers: vec![
                            Container {
                                name: "app".into(),
                                image: Some("registry/team-a/web:1".into()),
                                ..Default::default()
                            },
                            Container {
                                name: "sidecar".into(),
                                image: Some("envoy:1.30".into()),
                                ..Default::default()
                            },
                        ],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            }),
            status: Some(DeploymentStatus {
                ready_replicas: Some(2),
                updated_replicas: Some(3),
                ..Default::default()
            }),
        };
        let row = row("east", &deployment);
        assert_eq!(
            (row.desired, row.ready, row.updated, row.available),
            (3, 2, 3, 0)
        );
        assert_eq!(row.images, ["registry/team-a/web:1", "envoy:1.30"]);
        assert!(!row.is_ready());
    }

    #[tokio::test]
    async fn an_unregistered_cluster_fails_alone() {
        let identity = Identity {
            username: "alice@example.com".into(),
            groups: vec![],
            display_name: "alice".into(),
            local: false,
        };
        let answer = answer(
            &ClusterRegistry::empty(),
            "nowhere",
            &identity,
            Duration::from_secs(1),
        )
        .await;
        assert!(
            matches!(&answer, ClusterAnswer::Failed { cluster, error: ConsoleError::ClusterNotFound { .. }, .. } if cluster == "nowhere"),
            "{answer:?}"
        );
    }
}
