//! Server side: where the platform registry's images run, read from every registered cluster
//! with the console's own credential (Pods with their init and ephemeral containers and the
//! `imageID`s in their status; Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and
//! CronJobs by their templates). A cluster that cannot be listed completely is reported by name.

use std::time::Duration;

use console_api::image::{Usage, UsageIndex, UsageVia};
use futures::future::join_all;
use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet},
    batch::v1::{CronJob, Job},
    core::v1::{Pod, PodSpec},
};
use kube::{Api, Client, ResourceExt, api::ListParams};

use crate::platform::registry::ClusterRegistry;

/// How long one cluster may take to be listed before it counts as unreachable.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(15);

/// The index and how it was made: the clusters read, and those that could not be (with why).
#[derive(Clone, Debug, Default)]
pub struct Indexed {
    pub index: UsageIndex,
    pub clusters: Vec<String>,
    pub excluded: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// References `spec` makes, with the container kind they sit in.
fn spec_images(spec: &PodSpec) -> Vec<String> {
    let mut images: Vec<String> = spec
        .containers
        .iter()
        .filter_map(|c| c.image.clone())
        .collect();
    images.extend(
        spec.init_containers
            .iter()
            .flatten()
            .filter_map(|c| c.image.clone()),
    );
    images.extend(
        spec.ephemeral_containers
            .iter()
            .flatten()
            .filter_map(|c| c.image.clone()),
    );
    images
}

fn via(image: &str) -> UsageVia {
    if image.contains('@') {
        UsageVia::Digest
    } else {
        UsageVia::Tag
    }
}

/// Every image reference of one cluster as (image, usage).
pub async fn cluster_references(
    cluster: &str,
    client: Client,
) -> Result<Vec<(String, Usage)>, kube::Error> {
    let lp = ListParams::default();
    let usage = |namespace: String, kind: &str, name: String, via: UsageVia| Usage {
        cluster: cluster.to_string(),
        namespace,
        kind: kind.to_string(),
        name,
        via,
    };
    let (
        pod_api,
        deployment_api,
        statefulset_api,
        daemonset_api,
        replicaset_api,
        job_api,
        cronjob_api,
    ) = (
        Api::<Pod>::all(client.clone()),
        Api::<Deployment>::all(client.clone()),
        Api::<StatefulSet>::all(client.clone()),
        Api::<DaemonSet>::all(client.clone()),
        Api::<ReplicaSet>::all(client.clone()),
        Api::<Job>::all(client.clone()),
        Api::<CronJob>::all(client),
    );
    let (pods, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs) = futures::try_join!(
        pod_api.list(&lp),
        deployment_api.list(&lp),
        statefulset_api.list(&lp),
        daemonset_api.list(&lp),
        replicaset_api.list(&lp),
        job_api.list(&lp),
        cronjob_api.list(&lp),
    )?;
    let mut found = Vec::new();
    for pod in pods.items {
        let (ns, name) = (pod.namespace().unwrap_or_default(), pod.name_any());
        if let Some(spec) = &pod.spec {
            for image in spec_images(spec) {
                found.push((
                    image.clone(),
                    usage(ns.clone(), "Pod", name.clone(), via(&image)),
                ));
            }
        }
        if let Some(status) = &pod.status {
            let statuses = status
                .container_statuses
                .iter()
                .flatten()
                .chain(status.init_container_statuses.iter().flatten())
                .chain(status.ephemeral_container_statuses.iter().flatten());
            for s in statuses {
                if !s.image_id.is_empty() {
                    found.push((
                        s.image_id.clone(),
                        usage(ns.clone(), "Pod", name.clone(), UsageVia::ImageId),
                    ));
                }
            }
        }
    }
    let mut templates = |kind: &str, ns: String, name: String, spec: Option<&PodSpec>| {
        for image in spec.map(spec_images).unwrap_or_default() {
            found.push((
                image.clone(),
                usage(ns.clone(), kind, name.clone(), via(&image)),
            ));
        }
    };
    for o in deployments.items {
        let spec = o.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        templates(
            "Deployment",
            o.namespace().unwrap_or_default(),
            o.name_any(),
            spec,
        );
    }
    for o in statefulsets.items {
        let spec = o.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        templates(
            "StatefulSet",
            o.namespace().unwrap_or_default(),
            o.name_any(),
            spec,
        );
    }
    for o in daemonsets.items {
        let spec = o.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        templates(
            "DaemonSet",
            o.namespace().unwrap_or_default(),
            o.name_any(),
            spec,
        );
    }
    for o in replicasets.items {
        let spec = o
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.spec.as_ref());
        templates(
            "ReplicaSet",
            o.namespace().unwrap_or_default(),
            o.name_any(),
            spec,
        );
    }
    for o in jobs.items {
        let spec = o.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        templates("Job", o.namespace().unwrap_or_default(), o.name_any(), spec);
    }
    for o in cronjobs.items {
        let spec = o
            .spec
            .as_ref()
            .and_then(|s| s.job_template.spec.as_ref())
            .and_then(|s| s.template.spec.as_ref());
        templates(
            "CronJob",
            o.namespace().unwrap_or_default(),
            o.name_any(),
            spec,
        );
    }
    Ok(found)
}

/// Reads every registered cluster but `exclude` (concurrently, each within its own timeout)
/// into one index for a registry reachable under `hosts`.
pub async fn index_clusters(
    clusters: &ClusterRegistry,
    hosts: &[String],
    exclude: &[String],
) -> Indexed {
    let mut indexed = Indexed {
        index: UsageIndex::new(hosts),
        ..Indexed::default()
    };
    let names: Vec<String> = clusters.list().into_iter().map(|c| c.name).collect();
    let (excluded, included): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| exclude.contains(n));
    indexed.excluded = excluded;
    let reads = included.iter().map(|name| async move {
        let result = match clusters.console_client(name) {
            Ok(client) => {
                match tokio::time::timeout(CLUSTER_TIMEOUT, cluster_references(name, client)).await
                {
                    Ok(Ok(found)) => Ok(found),
                    Ok(Err(e)) => Err(crate::platform::kube_error(name, e).to_string()),
                    Err(_) => Err(format!(
                        "no complete answer within {} s",
                        CLUSTER_TIMEOUT.as_secs()
                    )),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        (name.clone(), result)
    });
    for (name, result) in join_all(reads).await {
        match result {
            Ok(found) => {
                for (image, usage) in found {
                    indexed.index.record(&image, usage);
                }
                indexed.clusters.push(name);
            }
            Err(reason) => indexed.failed.push((name, reason)),
        }
    }
    indexed
}
