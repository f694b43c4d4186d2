//! The Project controller: makes each project's namespace, RoleBindings and quota on every
//! member cluster and its namespace and RoleBindings on global (where its Applications live),
//! server-side applied with the console's credential; reports each namespace in the status. A
//! cluster taken out of a project keeps its namespace (nothing is deleted on a cluster without
//! someone asking for it); the console refuses to take it out while Applications run there.

use std::{sync::Arc, time::Duration};

use app::{
    clusters::{GLOBAL_CLUSTER, registry::ClusterRegistry},
    error::innermost,
    projects::resource::{NamespaceState, Project, ProjectState, render},
};
use futures::{StreamExt, future::join_all};
use k8s_openapi::api::{
    core::v1::{Namespace, ResourceQuota},
    rbac::v1::RoleBinding,
};
use kube::{
    Api, Client, ResourceExt,
    api::{ApiResource, DynamicObject, Patch, PatchParams},
    runtime::{Controller, controller::Action, watcher},
};
use serde_json::Value;

use super::clusters::MANAGER;

const RESYNC: Duration = Duration::from_secs(120);
const RETRY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of project {name}: {source}")]
    WriteStatus { name: String, source: kube::Error },
}

pub struct Context {
    pub global: Client,
    pub clusters: ClusterRegistry,
}

pub async fn run(ctx: Context, watch: watcher::Config) {
    Controller::new(Api::<Project>::all(ctx.global.clone()), watch)
        .run(reconcile, |_, _, _| Action::requeue(RETRY), Arc::new(ctx))
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "project reconcile failed");
            }
        })
        .await;
}

async fn apply_all(client: &Client, objects: &[Value]) -> Result<(), String> {
    let params = PatchParams::apply(MANAGER).force();
    for object in objects {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let ns = object["metadata"]["namespace"].as_str();
        let resource = match object["kind"].as_str() {
            Some("Namespace") => ApiResource::erase::<Namespace>(&()),
            Some("RoleBinding") => ApiResource::erase::<RoleBinding>(&()),
            _ => ApiResource::erase::<ResourceQuota>(&()),
        };
        let api = match ns {
            Some(ns) => Api::<DynamicObject>::namespaced_with(client.clone(), ns, &resource),
            None => Api::<DynamicObject>::all_with(client.clone(), &resource),
        };
        api.patch(name, &params, &Patch::Apply(object))
            .await
            .map_err(|e| match e {
                kube::Error::Api(s) => format!("{} {name}: {}", resource.kind, s.message),
                other => innermost(&other),
            })?;
    }
    Ok(())
}

async fn reconcile(project: Arc<Project>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = project.name_any();
    let spec = &project.spec;
    let mut targets: Vec<(String, String, bool)> =
        vec![(GLOBAL_CLUSTER.into(), name.clone(), false)];
    targets.extend(
        spec.clusters
            .iter()
            .map(|c| (c.name.clone(), spec.namespace_on(&name, &c.name), true)),
    );
    let namespaces = join_all(targets.into_iter().map(|(cluster, namespace, member)| {
        let (ctx, name) = (ctx.clone(), name.clone());
        async move {
            let outcome = match ctx.clusters.console_client(&cluster) {
                Err(e) => Err(e.to_string()),
                Ok(client) => tokio::time::timeout(
                    Duration::from_secs(10),
                    apply_all(&client, &render(&name, &namespace, spec, member)),
                )
                .await
                .unwrap_or_else(|_| Err("no answer within 10 s".into())),
            };
            NamespaceState {
                ready: outcome.is_ok(),
                message: outcome
                    .err()
                    .unwrap_or_else(|| "namespace and bindings applied".into()),
                cluster,
                namespace,
            }
        }
    }))
    .await;
    let all_ready = namespaces.iter().all(|n| n.ready);
    let state = ProjectState {
        namespaces,
        observed_generation: project.metadata.generation,
    };
    if project.status.as_ref() != Some(&state) {
        super::apply_status(
            &Api::<Project>::all(ctx.global.clone()),
            &name,
            &state,
            MANAGER,
        )
        .await
        .map_err(|source| Error::WriteStatus { name, source })?;
    }
    Ok(Action::requeue(if all_ready { RESYNC } else { RETRY }))
}
