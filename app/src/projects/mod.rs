//! Projects: the project selector and the Container Platform view's project list.
//! Project resources on the global cluster arrive with the project issue; until then the list is empty
//! and the pages say so.

pub mod resource;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{EmptyState, ErrorPanel, PageHeader, TopBarSelect};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub name: String,
}

/// The label that makes a namespace on the global cluster a project's (its Applications live
/// there; the same namespace on member clusters runs them).
pub const PROJECT_NAMESPACE_LABEL: &str = "platform.nextgen-console.io/project";

/// The projects the signed-in user belongs to: project namespaces on global that the user may
/// see (RBAC decides), nothing else.
#[server]
pub async fn list_projects() -> Result<Vec<ProjectRef>, ConsoleError> {
    use crate::clusters::GLOBAL_CLUSTER;
    if !crate::clusters::has_global() {
        return Ok(Vec::new());
    }
    let identity = crate::auth::identity()?;
    let registry = crate::clusters::registry()?;
    let visible =
        crate::clusters::namespaces::ssr::visible_namespaces(&registry, GLOBAL_CLUSTER, &identity)
            .await?;
    let projects: std::collections::HashSet<String> =
        kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(
            registry.console_client(GLOBAL_CLUSTER)?,
        )
        .list(&kube::api::ListParams::default().labels(PROJECT_NAMESPACE_LABEL))
        .await
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .collect();
    Ok(visible
        .namespaces
        .into_iter()
        .filter(|ns| projects.contains(&ns.name))
        .map(|ns| ProjectRef { name: ns.name })
        .collect())
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let i18n = use_i18n();
    let projects = Resource::new(|| (), |_| list_projects());
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.projects_title).to_string()) />
        <Suspense fallback=move || view! { <p aria-busy="true">{t!(i18n, selectors.loading)}</p> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(projects) => {
                        if projects.is_empty() {
                            view! {
                                <EmptyState
                                    title=Signal::derive(move || t_string!(i18n, pages.projects_empty_title).to_string())
                                    body=Signal::derive(move || t_string!(i18n, pages.projects_empty_body).to_string())
                                />
                            }
                                .into_any()
                        } else {
                            view! {
                                <ul class="flex flex-col gap-2">
                                    {projects
                                        .into_iter()
                                        .map(|p| view! {
                                            <li class="rounded border border-slate-200 p-3 dark:border-slate-700" data-project=p.name.clone()>
                                                <a href=format!("/platform/applications?project={}", p.name) class="font-mono text-sky-700 hover:underline dark:text-sky-400 focus-ring">{p.name.clone()}</a>
                                            </li>
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                    }
                }
            })}
        </Suspense>
    }
}

/// The project selector in the top bar; the chosen project travels in the `project` query parameter.
#[component]
pub fn ProjectSelector() -> impl IntoView {
    let i18n = use_i18n();
    let projects = Resource::new(
        || (),
        |_| async {
            list_projects()
                .await
                .map(|list| list.into_iter().map(|p| p.name).collect())
        },
    );
    let query = use_query_map();
    let selected = Signal::derive(move || query.read().get("project").unwrap_or_default());
    let navigate = use_navigate();
    let on_select = Callback::new(move |name: String| {
        let target = if name.is_empty() {
            "/platform/applications".to_string()
        } else {
            format!("/platform/applications?project={name}")
        };
        navigate(&target, Default::default());
    });
    view! {
        <TopBarSelect
            id="project-select"
            name="project"
            action="/platform/applications"
            label=Signal::derive(move || t_string!(i18n, selectors.project).to_string())
            all_label=Signal::derive(move || t_string!(i18n, selectors.all_projects).to_string())
            none_label=Signal::derive(move || t_string!(i18n, selectors.no_projects).to_string())
            options=projects
            selected
            on_select
        />
    }
}

/// A Project as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub name: String,
    pub spec: resource::ProjectSpec,
    pub status: resource::ProjectState,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use kube::{
        Api,
        api::{Patch, PatchParams},
    };

    use super::resource::Project;
    use crate::ConsoleError;
    use crate::apps::resource::Application;

    fn global_error(e: kube::Error) -> ConsoleError {
        crate::clusters::kube_error(crate::clusters::GLOBAL_CLUSTER, e)
    }

    /// Takes `cluster` out of `project`, with `global` acting as the user. Refused while
    /// Applications of the project are placed there, unless `force`, which first takes the
    /// cluster out of those Applications' placements (their controller removes the workload).
    pub async fn remove_cluster(
        global: kube::Client,
        project: &str,
        cluster: &str,
        force: bool,
    ) -> Result<Vec<String>, ConsoleError> {
        let projects = Api::<Project>::all(global.clone());
        let current = projects.get(project).await.map_err(global_error)?;
        if !current.spec.clusters.iter().any(|c| c.name == cluster) {
            return Err(ConsoleError::Invalid {
                message: format!("{cluster} is not a member cluster of {project}"),
            }
            .respond());
        }
        let apps = Api::<Application>::namespaced(global.clone(), project);
        let placed: Vec<Application> = apps
            .list(&Default::default())
            .await
            .map_err(global_error)?
            .items
            .into_iter()
            .filter(|a| a.spec.placement.iter().any(|c| c == cluster))
            .collect();
        let names: Vec<String> = placed
            .iter()
            .filter_map(|a| a.metadata.name.clone())
            .collect();
        if !names.is_empty() && !force {
            return Err(ConsoleError::Invalid {
                message: format!(
                    "applications {} still run on {cluster}; move them first, or force to take {cluster} out of their placement too",
                    names.join(", ")
                ),
            }
            .respond());
        }
        // Whoever changes a spec becomes its author: the controllers act as them from now on.
        let author = crate::access::author::stamp(&global).await?;
        for app in &placed {
            let placement: Vec<&String> = app
                .spec
                .placement
                .iter()
                .filter(|c| *c != cluster)
                .collect();
            apps.patch(
                app.metadata.name.as_deref().unwrap_or_default(),
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({
                    "metadata": {"annotations": author},
                    "spec": {"placement": placement},
                })),
            )
            .await
            .map_err(global_error)?;
        }
        let clusters: Vec<_> = current
            .spec
            .clusters
            .iter()
            .filter(|c| c.name != cluster)
            .collect();
        projects
            .patch(
                project,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({
                    "metadata": {"annotations": author},
                    "spec": {"clusters": clusters},
                })),
            )
            .await
            .map_err(global_error)?;
        Ok(names)
    }
}

#[server]
pub async fn get_project(name: String) -> Result<ProjectView, ConsoleError> {
    use crate::clusters::GLOBAL_CLUSTER;
    let project =
        kube::Api::<resource::Project>::all(crate::clusters::client_as_user(GLOBAL_CLUSTER)?)
            .get(&name)
            .await
            .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    Ok(ProjectView {
        name,
        spec: project.spec,
        status: project.status.unwrap_or_default(),
    })
}

/// Takes a cluster out of a project, as the user (see `ssr::remove_cluster`).
#[server]
pub async fn remove_project_cluster(
    project: String,
    cluster: String,
    #[server(default)] force: bool,
) -> Result<Vec<String>, ConsoleError> {
    let global = crate::clusters::client_as_user(crate::clusters::GLOBAL_CLUSTER)?;
    ssr::remove_cluster(global, &project, &cluster, force).await
}

/// `/platform/projects/:name`: member clusters with their namespace's state, members, and
/// taking a cluster out.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = leptos_router::hooks::use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let remove = ServerAction::<RemoveProjectCluster>::new();
    let project = Resource::new(
        move || (name.get(), remove.version().get()),
        |(n, _)| get_project(n),
    );
    view! {
        <PageHeader title=Signal::derive(move || name.get()) />
        <Suspense fallback=move || view! { <p aria-busy="true">{t!(i18n, selectors.loading)}</p> }>
            {move || Suspend::new(async move {
                match project.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(p) => view! {
                        <table class="w-full max-w-4xl border-collapse text-left text-sm" data-testid="project-clusters">
                            <tbody>
                                {p.status.namespaces.iter().map(|n| view! {
                                    <tr class="border-b border-slate-100 dark:border-slate-800" data-cluster=n.cluster.clone() data-ready=n.ready.to_string()>
                                        <td class="py-1.5 pr-4 font-mono">{n.cluster.clone()}</td>
                                        <td class="py-1.5 pr-4 font-mono">{n.namespace.clone()}</td>
                                        <td class="py-1.5 pr-4">{n.message.clone()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <ul class="mt-4 text-sm" data-testid="project-members">
                            {p.spec.members.iter().map(|m| view! { <li>{format!("{} {} · {}", m.kind, m.name, m.role.as_str())}</li> }).collect_view()}
                        </ul>
                        <ActionForm action=remove attr:class="mt-4 flex flex-wrap items-center gap-2 text-sm">
                            <input type="hidden" name="project" value=p.name.clone() />
                            <label for="remove-cluster">{t!(i18n, projects.remove_cluster)}</label>
                            <select id="remove-cluster" name="cluster" class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring">
                                {p.spec.clusters.iter().map(|c| view! { <option value=c.name.clone()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                            <label class="flex items-center gap-1"><input type="checkbox" name="force" value="true" />{t!(i18n, projects.force)}</label>
                            <button type="submit" class="rounded-md border border-red-300 px-3 py-1 text-red-800 dark:border-red-800 dark:text-red-300 focus-ring">{t!(i18n, projects.remove)}</button>
                        </ActionForm>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        {move || match remove.value().get() {
            Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
            _ => ().into_any(),
        }}
    }
}
