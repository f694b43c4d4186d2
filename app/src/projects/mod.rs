//! Projects: the project selector and the Container Platform view's project list.
//! Project resources on the global cluster arrive with the project issue; until then the list is empty
//! and the pages say so.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::shell::Hydrated;
use crate::ui::{EmptyState, ErrorPanel, PageHeader};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub name: String,
}

/// The projects the signed-in user belongs to. No Project resource exists yet, so none are listed.
#[server]
pub async fn list_projects() -> Result<Vec<ProjectRef>, ConsoleError> {
    Ok(Vec::new())
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
                                        .map(|p| view! { <li class="rounded border p-3">{p.name}</li> })
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
    let projects = Resource::new(|| (), |_| list_projects());
    let query = use_query_map();
    let selected = Memo::new(move |_| query.read().get("project").unwrap_or_default());
    let hydrated = use_context::<Hydrated>().map(|h| h.0);
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        let target = if name.is_empty() {
            "/platform/applications".to_string()
        } else {
            format!("/platform/applications?project={name}")
        };
        navigate(&target, Default::default());
    };
    view! {
        <form method="get" action="/platform/applications" class="flex items-center gap-2 text-sm" data-testid="project-selector">
            <label for="project-select" class="text-slate-300">{t!(i18n, selectors.project)}</label>
            <Transition fallback=move || view! { <span>{t!(i18n, selectors.loading)}</span> }>
                {move || {
                    let on_change = on_change.clone();
                    Suspend::new(async move {
                    let list = projects.await.unwrap_or_default();
                    let empty = list.is_empty();
                    view! {
                        <select
                            id="project-select"
                            name="project"
                            class="rounded border border-slate-600 bg-slate-800 px-2 py-1 text-slate-100 focus-ring"
                            disabled=empty
                            on:change=on_change.clone()
                            prop:value=move || selected.get()
                        >
                            <option value="" selected=move || selected.get().is_empty()>
                                {move || if empty {
                                    t_string!(i18n, selectors.no_projects)
                                } else {
                                    t_string!(i18n, selectors.all_projects)
                                }}
                            </option>
                            {list
                                .into_iter()
                                .map(|project| {
                                    let name = project.name.clone();
                                    let value = project.name.clone();
                                    view! {
                                        <option value=value selected=move || selected.get() == name>
                                            {project.name}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    }
                })}}
            </Transition>
            <button
                type="submit"
                class="rounded bg-slate-700 px-2 py-1 focus-ring"
                class:hidden=move || hydrated.is_some_and(|h| h.get())
            >
                {t!(i18n, selectors.apply)}
            </button>
        </form>
    }
}
