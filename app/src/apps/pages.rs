//! The applications' pages: the list of a project's applications, an application's page (its
//! clusters, the change actions for those allowed, the history with diffs and rollback) and the
//! page that creates one from a form or a YAML manifest. Built from the widget kit and the live
//! hook: both pages follow the project's Applications and read again on every change.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{
    CreateApplication, CreateFromForm, DeleteApplication, RollbackApplication, ScaleApplication,
    SetImage, get_application, list_applications,
};
use super::manifest::EXAMPLE;
use super::resource::{AppView, ClusterSync, Health, Revision, line_diff};
use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, WatchQuery, use_live_item, use_live_list};
use crate::platform::GLOBAL_CLUSTER;
use crate::routes;
use crate::ui::{
    Badge, Button, ButtonLink, Choice, Column, ConfirmDialog, DataTable, DiffView, EmptyState,
    ErrorPanel, Help, PageHeader, RelativeTime, SelectField, Size, StatusText, SubHeading, Table,
    TableSpec, TextAreaField, TextField, TextLink, Tone, ToneText, Variant, tr,
};

/// What a health means to the reader.
fn health_tone(health: Health) -> Tone {
    match health {
        Health::Healthy => Tone::Success,
        Health::Progressing | Health::Pending => Tone::Info,
        Health::Degraded => Tone::Warning,
        Health::Unreachable | Health::Refused => Tone::Danger,
    }
}

fn health_name(health: Health) -> String {
    format!("{health:?}")
}

fn health_badge(health: Health) -> impl IntoView {
    view! { <Badge tone=health_tone(health)>{health_name(health)}</Badge> }
}

/// What the project's Applications are watched by: a change to any of them reads again.
fn project_watch(project: &str) -> WatchQuery {
    WatchQuery::new(GLOBAL_CLUSTER, Kind::Applications).in_namespace(project)
}

/// `/platform/applications?project=`.
#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let project = Memo::new(move |_| query.read().get("project").unwrap_or_default());
    view! {
        <PageHeader title=tr!(i18n, pages.applications_title)>
            <Show when=move || !project.get().is_empty()>
                <ButtonLink
                    href=Signal::derive(move || routes::new_application(&project.get()))
                    variant=Variant::Primary
                    attr:data-testid="new-application"
                >
                    {t!(i18n, apps.create)}
                </ButtonLink>
            </Show>
        </PageHeader>
        {move || if project.get().is_empty() {
            view! {
                <EmptyState
                    title=tr!(i18n, pages.applications_empty_title)
                    body=tr!(i18n, pages.applications_empty_body)
                />
            }
            .into_any()
        } else {
            view! { <ApplicationList project /> }.into_any()
        }}
    }
}

#[component]
fn ApplicationList(project: Memo<String>) -> impl IntoView {
    let i18n = use_i18n();
    // Rows pushed by the stream: each change carries the application's row.
    let apps = use_live_list(
        move || project_watch(&project.get()),
        |query| list_applications(query.namespace.unwrap_or_default()),
    );
    let columns = vec![
        Column::new("name", tr!(i18n, apps.name), |app: &AppView| {
            let name = app.name.clone();
            view! { <TextLink href=routes::app(&app.project, &app.name)>{name}</TextLink> }
        })
        .sort_by(|app: &AppView| app.name.clone())
        .filter_by(|app: &AppView| app.name.clone())
        .mono(),
        Column::new("health", tr!(i18n, apps.health), |app: &AppView| {
            health_badge(app.status.health)
        })
        .sort_by(|app: &AppView| health_name(app.status.health))
        .filter_by(|app: &AppView| health_name(app.status.health)),
        Column::new("revision", tr!(i18n, apps.revision), |app: &AppView| {
            app.status.revision.to_string()
        })
        .sort_by(|app: &AppView| app.status.revision),
        Column::new("clusters", tr!(i18n, apps.clusters), |app: &AppView| {
            app.status
                .clusters
                .iter()
                .map(|c| {
                    let text = format!("{} {}/{}", c.cluster, c.ready, c.desired);
                    view! {
                        <Badge
                            tone=health_tone(c.health)
                            attr:data-cluster=c.cluster.clone()
                            attr:data-health=health_name(c.health)
                        >
                            {text}
                        </Badge>
                        " "
                    }
                })
                .collect_view()
        })
        .filter_by(|app: &AppView| app.placement.join(" ")),
    ];
    let spec = TableSpec::new("applications", columns)
        .row_attrs(|app: &AppView| {
            vec![
                ("data-app", app.name.clone()),
                ("data-health", health_name(app.status.health)),
            ]
        })
        .filter(tr!(i18n, ui.filter));
    view! {
        <div class="mb-2">{apps.badge()}</div>
        <DataTable
            spec
            rows=apps.data
            empty_title=tr!(i18n, apps.none_title)
            empty_body=tr!(i18n, apps.none_body)
        />
    }
}

/// `/platform/applications/:project/:name`.
#[component]
pub fn ApplicationPage() -> impl IntoView {
    use crate::access::{AccessCheck, may};
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    // The application's row comes with each change to it: no read again.
    let app = use_live_item(
        move || project_watch(&project.get()),
        move || (project.get(), name.get()),
        |(project, name)| get_application(project, name),
    );
    // Whether the global cluster lets the user change it: awaited beside the first answer, so
    // the actions need no boundary of their own.
    let allowed = Resource::new(
        move || (project.get(), name.get()),
        |(project, name)| {
            may(
                GLOBAL_CLUSTER.to_string(),
                AccessCheck::new("patch", console_api::GROUP, "applications")
                    .in_namespace(&project)
                    .named(&name),
            )
        },
    );
    view! {
        <PageHeader title=Signal::derive(move || name.get())>{app.badge()}</PageHeader>
        {app.stable_view_with(
            move || allowed.into_future(),
            |app, allowed| view! { <ApplicationDetail app allowed /> },
        )}
    }
}

/// The application as it changes: the summary, its clusters and its history follow `app`; the
/// actions are keyed on what they act on (placement, being deleted), though a change still
/// builds them anew (the known gap of `LiveResource::stable_view`).
#[component]
fn ApplicationDetail(app: Memo<AppView>, allowed: Result<bool, ConsoleError>) -> impl IntoView {
    let i18n = use_i18n();
    let columns = vec![
        Column::text("cluster", tr!(i18n, apps.cluster), |c: &ClusterSync| {
            c.cluster.clone()
        })
        .mono()
        .row_header(),
        Column::new("health", tr!(i18n, apps.health), |c: &ClusterSync| {
            health_badge(c.health)
        })
        .sort_by(|c: &ClusterSync| health_name(c.health)),
        Column::new("replicas", tr!(i18n, apps.replicas), |c: &ClusterSync| {
            format!("{} / {} ready, {} updated", c.ready, c.desired, c.updated)
        }),
        Column::new("revision", tr!(i18n, apps.revision), |c: &ClusterSync| {
            c.synced_revision
                .map_or_else(|| "—".to_string(), |r| r.to_string())
        })
        .sort_by(|c: &ClusterSync| c.synced_revision),
        Column::new("details", tr!(i18n, apps.details), |c: &ClusterSync| {
            view! {
                {c.message.clone()}
                {c.last_error.clone().map(|e| view! { <span class="block"><ToneText tone=Tone::Danger>{e}</ToneText></span> })}
                {c.drift.clone().map(|d| view! {
                    <span class="block" data-testid="drift"><ToneText tone=Tone::Warning>{d}</ToneText></span>
                })}
            }
        })
        .muted(),
    ];
    let spec = TableSpec::new("app-clusters", columns).row_attrs(|c: &ClusterSync| {
        vec![
            ("data-cluster", c.cluster.clone()),
            ("data-health", health_name(c.health)),
            ("data-ready", c.ready.to_string()),
            ("data-desired", c.desired.to_string()),
            ("data-revision", c.synced_revision.unwrap_or(0).to_string()),
        ]
    });
    let state = spec.new_state();
    let health = Memo::new(move |_| app.with(|a| a.status.health));
    let target = Memo::new(move |_| {
        app.with(|a| Target {
            project: a.project.clone(),
            name: a.name.clone(),
            placement: a.placement.clone(),
            deleting: a.deleting,
        })
    });
    view! {
        <p
            class="mb-3 flex flex-wrap items-center gap-2 text-sm"
            data-testid="app-summary"
            data-health=move || health_name(health.get())
            data-revision=move || app.with(|a| a.status.revision)
        >
            {move || health_badge(health.get())}
            {move || app.with(|a| a.status.message.clone())}
            {move || app.with(|a| a.deleting).then(|| view! { <ToneText tone=Tone::Danger>{t!(i18n, apps.deleting)}</ToneText> })}
        </p>
        {move || {
            let rows = app.with(|a| a.status.clusters.clone());
            view! { <Table spec=spec.clone() rows state /> }
        }}
        // Known gap: a change on the cluster still builds this part anew (an open confirmation
        // closes); see `LiveResource::stable_view`.
        {move || view! { <GuardedActions target=target.get() app allowed=allowed.clone() /> }}
    }
}

/// What the actions act on: they are built again only when it changes.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    project: String,
    name: String,
    placement: Vec<String>,
    deleting: bool,
}

/// The change actions, shown only to users the global cluster lets change the application
/// (a viewer sees why they are missing instead of buttons that would be refused).
#[component]
fn GuardedActions(
    target: Target,
    app: Memo<AppView>,
    allowed: Result<bool, ConsoleError>,
) -> impl IntoView {
    let i18n = use_i18n();
    match allowed {
        Ok(true) => {
            let deleting = target.deleting;
            view! {
                {(!deleting).then(|| view! { <Actions target /> })}
                <History app can_roll_back=!deleting />
            }
            .into_any()
        }
        Ok(false) => view! {
            <div class="mt-6">
                <Help attr:data-testid="read-only">{t!(i18n, apps.read_only)}</Help>
            </div>
            <History app can_roll_back=false />
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error /> }.into_any(),
    }
}

/// What became of an action: its error, or "requested" (the controller does the rest).
fn outcome(value: Option<Result<(), ConsoleError>>) -> impl IntoView {
    let i18n = use_i18n();
    match value {
        Some(Err(error)) => {
            view! { <div class="w-full"><ErrorPanel error=leptos::error::Error::from(error) /></div> }
                .into_any()
        }
        Some(Ok(())) => {
            view! { <StatusText tone=Tone::Success>{t!(i18n, apps.requested)}</StatusText> }
                .into_any()
        }
        None => ().into_any(),
    }
}

/// Scale and change the image (forms that work before the page hydrates), and delete after
/// typing the name in the kit's confirmation dialog.
#[component]
fn Actions(target: Target) -> impl IntoView {
    let i18n = use_i18n();
    let scale = ServerAction::<ScaleApplication>::new();
    let image = ServerAction::<SetImage>::new();
    let delete = ServerAction::<DeleteApplication>::new();
    let confirming = RwSignal::new(false);
    let ids = StoredValue::new((target.project.clone(), target.name.clone()));
    let hidden = move || {
        view! {
            <input type="hidden" name="project" value=ids.with_value(|i| i.0.clone()) />
            <input type="hidden" name="name" value=ids.with_value(|i| i.1.clone()) />
        }
    };
    let placement = target.placement.join(", ");
    let clusters: Vec<Choice> = std::iter::once(Choice::new(
        "",
        t_string!(i18n, apps.all_clusters).to_string(),
    ))
    .chain(
        target
            .placement
            .iter()
            .map(|c| Choice::new(c.clone(), c.clone())),
    )
    .collect();
    view! {
        <section class="mt-6 flex max-w-4xl flex-col gap-4" aria-label=move || t_string!(i18n, apps.actions)>
            <ActionForm action=scale attr:class="flex flex-wrap items-end gap-2" attr:data-testid="scale-form">
                {hidden()}
                <SelectField id="scale-cluster" name="cluster" label=tr!(i18n, apps.scale) choices=clusters inline=true />
                <TextField
                    id="scale-replicas"
                    name="replicas"
                    input_type="number"
                    value="1".to_string()
                    required=true
                    label=tr!(i18n, apps.replicas)
                    label_hidden=true
                />
                <Button submit=true busy=scale.pending() attr:data-testid="scale">{t!(i18n, apps.apply)}</Button>
                {move || outcome(scale.value().get())}
            </ActionForm>
            <ActionForm action=image attr:class="flex flex-wrap items-end gap-2" attr:data-testid="image-form">
                {hidden()}
                <TextField
                    id="image"
                    name="image"
                    required=true
                    mono=true
                    inline=true
                    placeholder="registry.example/web:2".to_string()
                    label=tr!(i18n, apps.image)
                />
                <Button submit=true busy=image.pending() attr:data-testid="set-image">{t!(i18n, apps.update)}</Button>
                {move || outcome(image.value().get())}
            </ActionForm>
            <div>
                <Button
                    variant=Variant::Danger
                    on_click=Callback::new(move |_| confirming.set(true))
                    attr:data-testid="delete-app"
                >
                    {t!(i18n, apps.delete)}
                </Button>
            </div>
            <ConfirmDialog
                open=confirming
                testid="delete"
                title=tr!(i18n, apps.delete_title, name = ids.with_value(|i| i.1.clone()))
                body=tr!(i18n, apps.delete_body, clusters = placement.clone())
                confirm_label=tr!(i18n, apps.delete)
                typed_name=ids.with_value(|i| i.1.clone())
                busy=delete.pending()
                on_confirm=Callback::new(move |confirm| {
                    let (project, name) = ids.get_value();
                    delete.dispatch(DeleteApplication { project, name, confirm });
                })
            >
                {move || outcome(delete.value().get())}
            </ConfirmDialog>
        </section>
    }
}

/// The revision history, newest first: when and why each was made, a diff against the current
/// template, and rollback for those allowed.
#[component]
fn History(app: Memo<AppView>, can_roll_back: bool) -> impl IntoView {
    let i18n = use_i18n();
    let rollback = ServerAction::<RollbackApplication>::new();
    let template = |r: &Revision| serde_json::to_string_pretty(&r.template).unwrap_or_default();
    // The diff shown stays open while the history changes.
    let shown = RwSignal::new(None::<i64>);
    let history = Memo::new(move |_| app.with(|a| a.status.history.clone()));
    let row = move |r: &Revision, current: Option<i64>, (project, name): (String, String)| {
        let (revision, created, cause) = (r.revision, r.created_time.clone(), r.cause.clone());
        let actions = if current == Some(revision) {
            view! { <ToneText>{t!(i18n, apps.current)}</ToneText> }.into_any()
        } else {
            view! {
                <Button size=Size::Small on_click=Callback::new(move |_| shown.set(Some(revision))) attr:data-testid="diff">
                    {t!(i18n, apps.diff)}
                </Button>
                {can_roll_back.then(|| view! {
                    <ActionForm action=rollback>
                        <input type="hidden" name="project" value=project />
                        <input type="hidden" name="name" value=name />
                        <input type="hidden" name="revision" value=revision />
                        <Button submit=true size=Size::Small attr:data-testid="rollback">{t!(i18n, apps.rollback)}</Button>
                    </ActionForm>
                })}
            }
            .into_any()
        };
        view! {
            <li class="flex flex-wrap items-center gap-3 py-1.5" data-revision=revision>
                <span class="w-10 font-mono">{revision}</span>
                <span class="w-52"><ToneText><RelativeTime at=created /></ToneText></span>
                <span class="flex-1">{cause}</span>
                {actions}
            </li>
        }
    };
    view! {
        <section class="mt-6 max-w-5xl">
            <SubHeading title=tr!(i18n, apps.history) />
            <ul class="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="history">
                {move || {
                    let ids = app.with(|a| (a.project.clone(), a.name.clone()));
                    history.with(|h| {
                        let current = h.first().map(|r| r.revision);
                        h.iter().map(|r| row(r, current, ids.clone())).collect_view()
                    })
                }}
            </ul>
            {move || match rollback.value().get() {
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                _ => ().into_any(),
            }}
            {move || shown.get().and_then(|revision| {
                let (old, current) = history.with(|h| {
                    (h.iter().find(|r| r.revision == revision).map(template), h.first().map(template))
                });
                let lines = line_diff(&old?, &current.unwrap_or_default());
                Some(view! {
                    <div class="mt-3">
                        <DiffView lines label=format!("revision {revision} → current") testid="diff-view" />
                    </div>
                })
            })}
        </section>
    }
}

/// `/platform/applications/new?project=`: create from the short form or from a YAML manifest.
#[component]
pub fn NewApplicationPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let project = Memo::new(move |_| query.read().get("project").unwrap_or_default());
    let from_yaml = ServerAction::<CreateApplication>::new();
    let from_form = ServerAction::<CreateFromForm>::new();
    let done = move |value: Option<Result<String, ConsoleError>>| match value {
        Some(Ok(name)) => view! {
            <StatusText tone=Tone::Success attr:data-testid="created">
                <TextLink href=routes::app(&project.get_untracked(), &name)>
                    {t_string!(i18n, apps.created, name = name.clone()).to_string()}
                </TextLink>
            </StatusText>
        }
        .into_any(),
        Some(Err(error)) => {
            view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any()
        }
        None => ().into_any(),
    };
    let create_label = move |pending: bool| {
        if pending {
            t_string!(i18n, apps.creating).to_string()
        } else {
            t_string!(i18n, apps.create).to_string()
        }
    };
    view! {
        <PageHeader title=tr!(i18n, apps.new_title, project = project.get()) />
        <section class="mb-8 max-w-3xl">
            <SubHeading title=tr!(i18n, apps.from_form) />
            <ActionForm action=from_form attr:class="flex flex-col gap-2" attr:data-testid="app-form">
                <input type="hidden" name="project" value=move || project.get() />
                <TextField id="f-name" name="name" required=true mono=true label=tr!(i18n, apps.name) />
                <TextField id="f-image" name="image" required=true mono=true label=tr!(i18n, apps.image) />
                <TextField id="f-replicas" name="replicas" input_type="number" value="1".to_string() label=tr!(i18n, apps.replicas) />
                <TextField
                    id="f-clusters"
                    name="clusters"
                    required=true
                    mono=true
                    placeholder="east, west".to_string()
                    label=tr!(i18n, apps.clusters)
                />
                <div>
                    <Button submit=true variant=Variant::Primary busy=from_form.pending()>
                        {move || create_label(from_form.pending().get())}
                    </Button>
                </div>
            </ActionForm>
            <div class="mt-2">{move || done(from_form.value().get())}</div>
        </section>
        <section class="max-w-4xl">
            <SubHeading title=tr!(i18n, apps.from_yaml) />
            <Help>{t!(i18n, apps.yaml_help)}</Help>
            <ActionForm action=from_yaml attr:class="flex flex-col gap-2" attr:data-testid="yaml-form">
                <input type="hidden" name="project" value=move || project.get() />
                <TextAreaField id="yaml" name="yaml" rows=24 value=EXAMPLE.to_string() label=tr!(i18n, apps.from_yaml) />
                <div>
                    <Button submit=true variant=Variant::Primary busy=from_yaml.pending() attr:data-testid="create-yaml">
                        {move || create_label(from_yaml.pending().get())}
                    </Button>
                </div>
            </ActionForm>
            <div class="mt-2">{move || done(from_yaml.value().get())}</div>
        </section>
    }
}
