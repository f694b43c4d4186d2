//! The Project controller: makes each project's namespace, RoleBindings and quota on every
//! member cluster and its namespace and RoleBindings on global (where its Applications live),
//! server-side applied *as the project's author* (the user its annotations name, vouched for by
//! the admission policy on global), so granting the project's roles takes the author's own right
//! to grant them. System namespaces and namespaces of another project are refused. Each
//! namespace and the `Authorized` condition are reported in the status. A cluster taken out of a
//! project keeps its namespace (nothing is deleted on a cluster without someone asking for it);
//! the console refuses to take it out while Applications run there.

use std::{sync::Arc, time::Duration};

use app::{
    access::author,
    apps::resource::{AUTHORIZED, set_condition},
    auth::Identity,
    error::innermost,
    platform::{GLOBAL_CLUSTER, registry::ClusterRegistry},
    projects::resource::{NamespaceState, Project, ProjectState, namespace_refusal, render},
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

/// Why a project's namespace on a cluster is not in place; its text is the namespace's status
/// message, its source (where there is one) goes to the log.
#[derive(Debug, thiserror::Error)]
enum NamespaceError {
    /// The cluster is not registered or has no usable credential.
    #[error("{0}")]
    Console(#[from] app::ConsoleError),
    /// The namespace is a system one or another project's.
    #[error("{0}")]
    Refused(String),
    /// The author may not apply one of the objects.
    #[error("{author} may not apply {kind} {name}: {}", .source.message)]
    AuthorForbidden {
        author: String,
        kind: String,
        name: String,
        source: kube::core::Status,
    },
    /// The cluster refused one of the objects for another reason.
    #[error("{kind} {name}: {}", .source.message)]
    Rejected {
        kind: String,
        name: String,
        source: kube::core::Status,
    },
    /// The cluster could not be reached or answered nothing readable.
    #[error("{}", innermost(.0))]
    Cluster(#[source] kube::Error),
    #[error("no answer within 10 s")]
    TimedOut,
}

pub struct Context {
    pub global: Client,
    pub clusters: ClusterRegistry,
    /// Whether the admission policy that vouches for authors is in force.
    pub policy: super::authors::PolicyCheck,
}

impl Context {
    pub fn new(global: Client, clusters: ClusterRegistry) -> Self {
        Context {
            global,
            clusters,
            policy: Default::default(),
        }
    }
}

pub async fn run(ctx: Context, watch: watcher::Config) {
    Controller::new(Api::<Project>::all(ctx.global.clone()), watch)
        .run(reconcile, |_, _, _| Action::requeue(RETRY), Arc::new(ctx))
        .for_each(|result| async move {
            crate::metrics::reconciled("projects", &result);
            if let Err(error) = result {
                tracing::debug!(%error, "project reconcile failed");
            }
        })
        .await;
}

async fn apply_all(client: &Client, objects: &[Value], author: &str) -> Result<(), NamespaceError> {
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
                kube::Error::Api(source) if source.code == 403 => NamespaceError::AuthorForbidden {
                    author: author.to_string(),
                    kind: resource.kind.clone(),
                    name: name.to_string(),
                    source: *source,
                },
                kube::Error::Api(source) => NamespaceError::Rejected {
                    kind: resource.kind.clone(),
                    name: name.to_string(),
                    source: *source,
                },
                other => NamespaceError::Cluster(other),
            })?;
    }
    Ok(())
}

/// Makes the project's objects in `namespace` on `cluster` as `author`, unless the namespace is
/// a system one or another project's (read with the console's credential, which may list
/// namespaces).
async fn apply_namespace(
    ctx: &Context,
    project: &Project,
    cluster: &str,
    namespace: &str,
    member: bool,
    author: &Identity,
) -> Result<(), NamespaceError> {
    let name = project.name_any();
    let console = ctx.clusters.console_client(cluster)?;
    let existing = Api::<Namespace>::all(console)
        .get_opt(namespace)
        .await
        .map_err(NamespaceError::Cluster)?;
    if let Some(refusal) =
        namespace_refusal(&name, namespace, existing.as_ref().map(|ns| ns.labels()))
    {
        return Err(NamespaceError::Refused(refusal));
    }
    let client = ctx.clusters.client_for(cluster, author)?;
    apply_all(
        &client,
        &render(&name, namespace, &project.spec, member),
        &author.username,
    )
    .await
}

async fn write_status(ctx: &Context, project: &Project, state: &ProjectState) -> Result<(), Error> {
    if project.status.as_ref() == Some(state) {
        return Ok(());
    }
    let name = project.name_any();
    super::apply_status(
        &Api::<Project>::all(ctx.global.clone()),
        &name,
        state,
        MANAGER,
    )
    .await
    .map_err(|source| Error::WriteStatus { name, source })
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
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut state = ProjectState {
        observed_generation: project.metadata.generation,
        conditions: project
            .status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default(),
        ..ProjectState::default()
    };
    let trusted = match ctx.policy.in_force(&ctx.global).await {
        Ok(()) => author::author_of(project.annotations()).map_err(|e| ("AuthorUnknown", e)),
        Err(e) => Err(("AuthorUntrusted", e)),
    };
    let author = match trusted {
        Ok(author) => author,
        Err((reason, error)) => {
            set_condition(
                &mut state.conditions,
                AUTHORIZED,
                false,
                reason,
                format!("nothing is applied: {error}"),
                &now,
            );
            state.namespaces = project
                .status
                .as_ref()
                .map(|s| s.namespaces.clone())
                .unwrap_or_default();
            write_status(&ctx, &project, &state).await?;
            return Ok(Action::requeue(RESYNC));
        }
    };
    let namespaces = join_all(targets.into_iter().map(|(cluster, namespace, member)| {
        let (ctx, project, author) = (ctx.clone(), project.clone(), author.clone());
        async move {
            let outcome = tokio::time::timeout(
                Duration::from_secs(10),
                apply_namespace(&ctx, &project, &cluster, &namespace, member, &author),
            )
            .await
            .unwrap_or(Err(NamespaceError::TimedOut));
            if let Err(error) = &outcome {
                let source = std::error::Error::source(error).map(innermost);
                tracing::debug!(%error, ?source, %cluster, %namespace, "project namespace not in place");
            }
            NamespaceState {
                ready: outcome.is_ok(),
                message: outcome
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "namespace and bindings applied".into()),
                cluster,
                namespace,
            }
        }
    }))
    .await;
    let all_ready = namespaces.iter().all(|n| n.ready);
    let refused: Vec<String> = namespaces
        .iter()
        .filter(|n| !n.ready)
        .map(|n| format!("{}/{}: {}", n.cluster, n.namespace, n.message))
        .collect();
    if refused.is_empty() {
        set_condition(
            &mut state.conditions,
            AUTHORIZED,
            true,
            "AsAuthor",
            format!("applied as {} on every cluster", author.username),
            &now,
        );
    } else {
        set_condition(
            &mut state.conditions,
            AUTHORIZED,
            false,
            "NotApplied",
            refused.join("; "),
            &now,
        );
    }
    state.namespaces = namespaces;
    state.author = Some(author.username.clone());
    write_status(&ctx, &project, &state).await?;
    Ok(Action::requeue(if all_ready { RESYNC } else { RETRY }))
}
