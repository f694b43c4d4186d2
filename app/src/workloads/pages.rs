//! `/admin/workloads`: the Deployments of every registered cluster in one table, filled in as
//! each cluster answers, above a strip that says where each cluster is (waiting, how many
//! rows, timed out, refused). The list is read in the browser after hydration (rendering it on
//! the server would make the page wait for the slowest cluster); until then the page says it
//! is asking.

use leptos::prelude::*;

use crate::i18n::{t_string, use_i18n};
use crate::live::Kind;
use crate::routes;
use crate::ui::{
    Badge, Button, Column, EmptyState, ErrorPanel, Help, Loading, PageHeader, RelativeTime, Size,
    Sort, Table, TableSpec, TableState, Tone, Variant, tr,
};
use console_api::ConsoleError;
use console_api::workload::{ClusterProgress, DeploymentRow, ListProgress};

/// Rows a page of the table shows.
const PER_PAGE: usize = 50;

#[component]
pub fn WorkloadsPage() -> impl IntoView {
    let i18n = use_i18n();
    let progress = RwSignal::new(ListProgress::default());
    let failure = RwSignal::new(None::<ConsoleError>);
    // Each reading of the list has a number; lines of an older one are dropped.
    let reading = RwSignal::new(0u32);
    let read = move || {
        let this = reading.get_untracked().wrapping_add(1);
        reading.set(this);
        progress.set(ListProgress::default());
        failure.set(None);
        read_everywhere(this, reading, progress, failure);
    };
    // Effects run only in the browser: the list is read after hydration.
    Effect::new(move |_| read());
    let state = TableState::new(Some(Sort::ascending("cluster")));

    view! {
        <PageHeader title=tr!(i18n, workloads.title)>
            <Button
                variant=Variant::Secondary
                size=Size::Small
                busy=Signal::derive(move || {
                    progress.with(|p| !p.is_complete()) && failure.with(Option::is_none)
                })
                on_click=Callback::new(move |_| read())
                attr:data-testid="workloads-refresh"
            >
                {move || t_string!(i18n, workloads.refresh)}
            </Button>
        </PageHeader>
        <Help>{move || t_string!(i18n, workloads.help)}</Help>
        <StatusStrip progress />
        {move || {
            if let Some(error) = failure.get() {
                return view! { <ErrorPanel error /> }.into_any();
            }
            let (asked, rows) = progress.with(|p| (p.started, p.rows.clone()));
            if !asked {
                return view! { <Loading label=tr!(i18n, workloads.asking) /> }.into_any();
            }
            if rows.is_empty() {
                let complete = progress.with(ListProgress::is_complete);
                return if complete {
                    view! {
                        <EmptyState
                            title=tr!(i18n, workloads.empty_title)
                            body=tr!(i18n, workloads.empty_body)
                        />
                    }
                    .into_any()
                } else {
                    view! { <Loading label=tr!(i18n, workloads.asking) /> }.into_any()
                };
            }
            view! { <Table spec=spec() rows state /> }.into_any()
        }}
    }
}

/// The table's columns.
fn spec() -> TableSpec<DeploymentRow> {
    let i18n = use_i18n();
    TableSpec::new(
        "workloads",
        vec![
            Column::link(
                "cluster",
                tr!(i18n, workloads.cluster),
                |r: &DeploymentRow| (routes::cluster(&r.cluster), r.cluster.clone()),
            )
            .testid("cluster"),
            Column::text(
                "namespace",
                tr!(i18n, workloads.namespace),
                |r: &DeploymentRow| r.namespace.clone(),
            )
            .mono(),
            Column::link("name", tr!(i18n, workloads.name), |r: &DeploymentRow| {
                (
                    routes::resource(&r.cluster, Kind::Deployments, &r.namespace, &r.name),
                    r.name.clone(),
                )
            })
            .row_header()
            .testid("name"),
            Column::new("ready", tr!(i18n, workloads.ready), |r: &DeploymentRow| {
                let tone = if r.is_ready() {
                    Tone::Success
                } else {
                    Tone::Warning
                };
                let text = format!("{}/{}", r.ready, r.desired);
                view! { <Badge tone>{text}</Badge> }
            })
            .sort_by(|r: &DeploymentRow| i64::from(r.desired - r.ready))
            .testid("ready"),
            Column::text(
                "images",
                tr!(i18n, workloads.images),
                |r: &DeploymentRow| r.images.join(", "),
            )
            .mono()
            .muted(),
            Column::new(
                "created",
                tr!(i18n, workloads.created),
                |r: &DeploymentRow| match r.created.clone() {
                    Some(at) => view! { <RelativeTime at /> }.into_any(),
                    None => "-".into_any(),
                },
            )
            .sort_by(|r: &DeploymentRow| r.created.clone())
            .muted(),
        ],
    )
    .row_attrs(|r: &DeploymentRow| {
        vec![
            ("data-cluster", r.cluster.clone()),
            ("data-name", format!("{}/{}", r.namespace, r.name)),
        ]
    })
    .filter(tr!(i18n, ui.filter))
    .paged(PER_PAGE)
}

/// One badge per cluster: waiting, how many rows it gave, timed out, or refused (why in the
/// badge's title and the line under the strip).
#[component]
fn StatusStrip(progress: RwSignal<ListProgress>) -> impl IntoView {
    let i18n = use_i18n();
    let badge = move |name: String, state: ClusterProgress| {
        let (tone, text, title) = match &state {
            ClusterProgress::Waiting => (
                Tone::Neutral,
                t_string!(i18n, workloads.waiting).to_string(),
                None,
            ),
            ClusterProgress::Answered {
                rows, namespaces, ..
            } => (
                Tone::Success,
                match namespaces {
                    None => t_string!(i18n, workloads.rows, count = *rows).to_string(),
                    Some(n) => t_string!(
                        i18n,
                        workloads.rows_in_namespaces,
                        count = *rows,
                        namespaces = *n
                    )
                    .to_string(),
                },
                None,
            ),
            ClusterProgress::TimedOut { after_ms } => (
                Tone::Warning,
                t_string!(
                    i18n,
                    workloads.timed_out,
                    seconds = format!("{:.1}", *after_ms as f64 / 1000.0)
                )
                .to_string(),
                None,
            ),
            ClusterProgress::Failed { error } => (
                Tone::Danger,
                match error {
                    ConsoleError::Forbidden { .. } => {
                        t_string!(i18n, workloads.forbidden).to_string()
                    }
                    ConsoleError::ClusterUnreachable { .. } => {
                        t_string!(i18n, workloads.unreachable).to_string()
                    }
                    _ => t_string!(i18n, workloads.failed).to_string(),
                },
                Some(error.to_string()),
            ),
        };
        let state_name = match state {
            ClusterProgress::Waiting => "waiting",
            ClusterProgress::Answered { .. } => "answered",
            ClusterProgress::TimedOut { .. } => "timed-out",
            ClusterProgress::Failed { .. } => "failed",
        };
        view! {
            <li data-cluster=name.clone() data-state=state_name title=title>
                <Badge tone>{format!("{name}: {text}")}</Badge>
            </li>
        }
    };
    view! {
        <div role="status" aria-live="polite" class="contents">
            {move || {
                let (clusters, waiting) = progress.with(|p| (p.clusters.clone(), p.waiting()));
                if clusters.is_empty() {
                    // Not asked yet, or no cluster is registered (the empty state says so).
                    return None;
                }
                let summary = t_string!(
                    i18n,
                    workloads.summary,
                    answered = clusters.len() - waiting,
                    total = clusters.len()
                )
                .to_string();
                let failures: Vec<_> = clusters
                    .iter()
                    .filter_map(|(name, state)| match state {
                        ClusterProgress::Failed { error } => Some(format!("{name}: {error}")),
                        _ => None,
                    })
                    .collect();
                Some(view! {
                    <p class="mb-1 text-sm" data-testid="workloads-summary">{summary}</p>
                    <ul class="mb-3 flex flex-wrap gap-1" data-testid="workloads-clusters">
                        {clusters.into_iter().map(|(name, state)| badge(name, state)).collect_view()}
                    </ul>
                    {(!failures.is_empty()).then(|| view! {
                        <ul class="mb-3 text-sm text-red-800 dark:text-red-200" data-testid="workloads-failures">
                            {failures.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                        </ul>
                    })}
                })
            }}
        </div>
    }
}

/// Reads the stream of the list into `progress`, as long as `reading` is still `this`.
#[cfg(feature = "hydrate")]
fn read_everywhere(
    this: u32,
    reading: RwSignal<u32>,
    progress: RwSignal<ListProgress>,
    failure: RwSignal<Option<ConsoleError>>,
) {
    use console_api::workload::LineReader;
    use futures::StreamExt;

    leptos::task::spawn_local(async move {
        let current = move || reading.get_untracked() == this;
        let stream = match super::api::deployments_everywhere().await {
            Ok(stream) => stream,
            Err(error) => {
                if current() {
                    failure.set(Some(error));
                }
                return;
            }
        };
        let mut stream = stream.into_inner();
        let mut reader = LineReader::default();
        while let Some(chunk) = stream.next().await {
            if !current() {
                return;
            }
            let lines = match chunk {
                Ok(text) => reader.push(&text),
                Err(error) => vec![Err(error)],
            };
            for line in lines {
                match line {
                    Ok(line) => progress.update(|p| p.apply(line)),
                    Err(error) => {
                        failure.set(Some(error));
                        return;
                    }
                }
            }
        }
        if current() && (reader.is_cut_off() || !progress.with_untracked(ListProgress::is_complete))
        {
            failure.set(Some(ConsoleError::Request {
                message: "the list across clusters ended before every cluster answered; refresh to ask again".into(),
            }));
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn read_everywhere(
    _this: u32,
    _reading: RwSignal<u32>,
    _progress: RwSignal<ListProgress>,
    _failure: RwSignal<Option<ConsoleError>>,
) {
}
