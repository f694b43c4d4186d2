//! The projects' pages: the list of the user's projects, the project selector of the top bar
//! and a project's page (member clusters with their namespace's state, members, taking a
//! cluster out), built from the widget kit.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::api::{RemoveProjectCluster, get_project, list_projects};
use super::resource::{NamespaceState, ProjectRef, ProjectView};
use crate::i18n::{t, t_string, use_i18n};
use crate::routes;
use crate::ui::{
    Button, Checkbox, Choice, Column, DataTable, ErrorPanel, Loading, PageHeader, Section,
    SelectField, Table, TableSpec, TextLink, Tone, ToneText, TopBarSelect, Variant, tr,
};

/// `/platform/projects`: the projects the user belongs to, each opening its applications.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let i18n = use_i18n();
    let projects = Resource::new(|| (), |_| list_projects());
    let columns = vec![
        Column::new("name", tr!(i18n, projects.name), |p: &ProjectRef| {
            let name = p.name.clone();
            view! { <TextLink href=routes::applications(&p.name)>{name}</TextLink> }
        })
        .sort_by(|p: &ProjectRef| p.name.clone())
        .filter_by(|p: &ProjectRef| p.name.clone())
        .mono()
        .row_header(),
    ];
    let spec = TableSpec::new("projects", columns)
        .row_attrs(|p: &ProjectRef| vec![("data-project", p.name.clone())]);
    view! {
        <PageHeader title=tr!(i18n, pages.projects_title) />
        <DataTable
            spec
            rows=projects
            empty_title=tr!(i18n, pages.projects_empty_title)
            empty_body=tr!(i18n, pages.projects_empty_body)
        />
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
        navigate(&routes::applications(&name), Default::default());
    });
    view! {
        <TopBarSelect
            id="project-select"
            name="project"
            action=routes::APPLICATIONS
            label=Signal::derive(move || t_string!(i18n, selectors.project).to_string())
            all_label=Signal::derive(move || t_string!(i18n, selectors.all_projects).to_string())
            none_label=Signal::derive(move || t_string!(i18n, selectors.no_projects).to_string())
            options=projects
            selected
            on_select
        />
    }
}

/// `/platform/projects/:name`: member clusters with their namespace's state, members, and
/// taking a cluster out.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let remove = ServerAction::<RemoveProjectCluster>::new();
    let project = Resource::new(
        move || (name.get(), remove.version().get()),
        |(n, _)| get_project(n),
    );
    view! {
        <PageHeader title=Signal::derive(move || name.get()) />
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match project.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(project) => view! { <ProjectDetail project remove /> }.into_any(),
                }
            })}
        </Suspense>
        {move || match remove.value().get() {
            Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
            _ => ().into_any(),
        }}
    }
}

#[component]
fn ProjectDetail(
    project: ProjectView,
    remove: ServerAction<RemoveProjectCluster>,
) -> impl IntoView {
    let i18n = use_i18n();
    let columns = vec![
        Column::text(
            "cluster",
            tr!(i18n, projects.cluster),
            |n: &NamespaceState| n.cluster.clone(),
        )
        .mono()
        .row_header(),
        Column::text(
            "namespace",
            tr!(i18n, projects.namespace),
            |n: &NamespaceState| n.namespace.clone(),
        )
        .mono(),
        Column::new("state", tr!(i18n, projects.state), |n: &NamespaceState| {
            let tone = if n.ready {
                Tone::Success
            } else {
                Tone::Warning
            };
            let message = n.message.clone();
            view! { <ToneText tone>{message}</ToneText> }
        }),
    ];
    let spec = TableSpec::new("project-clusters", columns).row_attrs(|n: &NamespaceState| {
        vec![
            ("data-cluster", n.cluster.clone()),
            ("data-ready", n.ready.to_string()),
        ]
    });
    let members: Vec<String> = project
        .spec
        .members
        .iter()
        .map(|m| format!("{} {} · {}", m.kind, m.name, m.role.as_str()))
        .collect();
    let clusters: Vec<Choice> = project
        .spec
        .clusters
        .iter()
        .map(|c| Choice::new(c.name.clone(), c.name.clone()))
        .collect();
    view! {
        <Section id="project-clusters-heading" title=tr!(i18n, projects.clusters_title) wide=true>
            <Table spec rows=project.status.namespaces.clone() />
            <ActionForm action=remove attr:class="mt-4 flex flex-wrap items-end gap-3">
                <input type="hidden" name="project" value=project.name.clone() />
                <SelectField
                    id="remove-cluster"
                    name="cluster"
                    label=tr!(i18n, projects.remove_cluster)
                    choices=clusters
                    inline=true
                    mono=true
                />
                <Checkbox name="force" value="true" label=tr!(i18n, projects.force) />
                <Button submit=true variant=Variant::Danger busy=remove.pending()>
                    {t!(i18n, projects.remove)}
                </Button>
            </ActionForm>
        </Section>
        <Section id="project-members-heading" title=tr!(i18n, projects.members_title)>
            <ul class="text-sm" data-testid="project-members">
                {members.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
        </Section>
    }
}
