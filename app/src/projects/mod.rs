//! Projects: the project selector and the Container Platform view's project list.
//! Project resources on the global cluster arrive with the project issue; until then the list is empty
//! and the pages say so.

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
