//! The Monitoring page (`/admin/monitoring?cluster=&range=`): alerts grouped by cluster, then
//! one cluster's charts and the console's own over the chosen range. The pickers are a GET form
//! (they work before hydration); once hydrated, "Live" reads everything again every 15 s.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::chart::LineChart;
use super::{
    AlertState, ChartKind, ClusterAlerts, ClusterCharts, TimeRange, alerts_by_cluster,
    charts_of_cluster, monitored_clusters,
};
use crate::i18n::{t, t_string, td_string, use_i18n};
use crate::ui::{Button, EmptyState, ErrorPanel, PageHeader, Size};

/// How often a live page reads its figures again (the sandbox scrapes every 5 s, production
/// backends every 15-60 s).
const REFRESH: Duration = Duration::from_secs(15);

#[component]
pub fn MonitoringPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let cluster = Memo::new(move |_| query.read().get("cluster").unwrap_or_default());
    let range =
        Memo::new(move |_| TimeRange::parse(&query.read().get("range").unwrap_or_default()));
    let tick = RwSignal::new(0_u64);
    let live = RwSignal::new(true);
    Effect::new(move |_| {
        if live.get()
            && let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let clusters = Resource::new(|| (), |()| monitored_clusters());
    let alerts = Resource::new(move || tick.get(), |_| alerts_by_cluster());
    let charts = Resource::new(
        move || (cluster.get(), range.get(), tick.get()),
        |(cluster, range, _)| charts_of_cluster(cluster, range.as_str().to_string()),
    );
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.monitoring_title).to_string())>
            <Button
                size=Size::Small
                on_click=Callback::new(move |_| live.update(|l| *l = !*l))
                attr:aria-pressed=move || live.get().to_string()
                attr:data-testid="live-toggle"
            >
                {move || if live.get() { t_string!(i18n, monitoring.live_on) } else { t_string!(i18n, monitoring.live_off) }}
            </Button>
        </PageHeader>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match clusters.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(names) => view! { <Pickers names cluster range /> }.into_any(),
                }
            })}
        </Transition>
        <section class="mb-6" aria-labelledby="alerts-heading">
            <h2 id="alerts-heading" class="mb-2 text-lg font-semibold">{t!(i18n, monitoring.alerts_title)}</h2>
            <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, monitoring.loading)}</p> }>
                {move || Suspend::new(async move {
                    match alerts.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(groups) => view! { <AlertGroups groups /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, monitoring.loading)}</p> }>
            {move || Suspend::new(async move {
                match charts.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(data) => view! { <Charts data /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Cluster and time range: a GET form; once hydrated a change navigates at once.
#[component]
fn Pickers(names: Vec<String>, cluster: Memo<String>, range: Memo<TimeRange>) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let go = move |cluster: String, range: TimeRange| {
        navigate(
            &format!(
                "?cluster={}&range={}",
                console_api::watch::encode(&cluster),
                range.as_str()
            ),
            Default::default(),
        );
    };
    let go_cluster = go.clone();
    let range_label = move |r: TimeRange| match r {
        TimeRange::Minutes15 => t_string!(i18n, monitoring.range_15m),
        TimeRange::Hour1 => t_string!(i18n, monitoring.range_1h),
        TimeRange::Hours6 => t_string!(i18n, monitoring.range_6h),
        TimeRange::Hours24 => t_string!(i18n, monitoring.range_24h),
    };
    view! {
        <form method="get" class="mb-4 flex flex-wrap items-center gap-2 text-sm" data-testid="monitoring-pickers">
            <label for="monitoring-cluster">{t!(i18n, monitoring.cluster)}</label>
            <select
                id="monitoring-cluster"
                name="cluster"
                class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring"
                on:change=move |ev| go_cluster(event_target_value(&ev), range.get_untracked())
            >
                {names
                    .into_iter()
                    .map(|name| {
                        let selected = {
                            let name = name.clone();
                            move || cluster.get() == name
                        };
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    })
                    .collect_view()}
            </select>
            <label for="monitoring-range">{t!(i18n, monitoring.range)}</label>
            <select
                id="monitoring-range"
                name="range"
                class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring"
                on:change=move |ev| go(cluster.get_untracked(), TimeRange::parse(&event_target_value(&ev)))
            >
                {TimeRange::ALL
                    .into_iter()
                    .map(|r| {
                        view! { <option value=r.as_str() selected=move || range.get() == r>{move || range_label(r)}</option> }
                    })
                    .collect_view()}
            </select>
            <Button size=Size::Small submit=true>{t!(i18n, monitoring.show)}</Button>
        </form>
    }
}

#[component]
fn AlertGroups(groups: Vec<ClusterAlerts>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="alerts">
            {groups
                .into_iter()
                .map(|group| {
                    let body = if let Some(error) = group.error.clone() {
                        view! { <p class="text-sm text-red-700 dark:text-red-300" role="alert">{error}</p> }.into_any()
                    } else if group.backend.is_none() {
                        view! { <p class="text-sm text-slate-500 dark:text-slate-400">{t!(i18n, monitoring.alerts_no_backend)}</p> }.into_any()
                    } else if group.alerts.is_empty() {
                        view! { <p class="text-sm text-slate-500 dark:text-slate-400">{t!(i18n, monitoring.alerts_none)}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="space-y-1 text-sm">
                                {group
                                    .alerts
                                    .into_iter()
                                    .map(|alert| {
                                        let (state, badge) = match alert.state {
                                            AlertState::Firing => (
                                                t_string!(i18n, monitoring.firing),
                                                "rounded bg-red-100 px-2 py-0.5 text-red-900 dark:bg-red-900 dark:text-red-100",
                                            ),
                                            AlertState::Pending => (
                                                t_string!(i18n, monitoring.pending),
                                                "rounded bg-amber-100 px-2 py-0.5 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
                                            ),
                                        };
                                        let state_id = match alert.state {
                                            AlertState::Firing => "firing",
                                            AlertState::Pending => "pending",
                                        };
                                        view! {
                                            <li class="flex items-center justify-between gap-2" data-alert=alert.name.clone() data-state=state_id>
                                                <span class="font-mono">{alert.name.clone()}</span>
                                                <span class="text-slate-500 dark:text-slate-400">{alert.severity.clone()}</span>
                                                <span class=badge>{state}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                        .into_any()
                    };
                    view! {
                        <section class="rounded-lg border border-slate-200 p-3 dark:border-slate-700" data-cluster=group.cluster.clone()>
                            <h3 class="mb-1 font-medium">{group.cluster.clone()}</h3>
                            {body}
                        </section>
                    }
                })
                .collect_view()}
        </div>
    }
}

fn chart_title(locale: crate::i18n::Locale, kind: ChartKind) -> String {
    match kind {
        ChartKind::RequestRate => td_string!(locale, monitoring.chart_request_rate),
        ChartKind::LatencyP99 => td_string!(locale, monitoring.chart_latency_p99),
        ChartKind::ErrorRate => td_string!(locale, monitoring.chart_error_rate),
        ChartKind::EtcdObjects => td_string!(locale, monitoring.chart_etcd_objects),
        ChartKind::Nodes => td_string!(locale, monitoring.chart_nodes),
        ChartKind::Pods => td_string!(locale, monitoring.chart_pods),
        ChartKind::ConsoleProbe => td_string!(locale, monitoring.chart_console_probe),
        ChartKind::ConsoleRequests => td_string!(locale, monitoring.chart_console_requests),
        ChartKind::ConsoleStreams => td_string!(locale, monitoring.chart_console_streams),
        ChartKind::ConsoleReconcileErrors => {
            td_string!(locale, monitoring.chart_console_reconcile_errors)
        }
    }
    .to_string()
}

#[component]
fn Charts(data: ClusterCharts) -> impl IntoView {
    let i18n = use_i18n();
    let Some(backend) = data.backend.clone() else {
        let cluster = data.cluster.clone();
        return view! {
            <EmptyState
                title=Signal::derive(move || t_string!(i18n, monitoring.no_backend_title).to_string())
                body=Signal::derive(move || t_string!(i18n, monitoring.no_backend_body, cluster = cluster.clone()).to_string())
            />
        }
        .into_any();
    };
    let empty = t_string!(i18n, monitoring.no_data).to_string();
    let (range, end) = (data.range, data.end);
    let grid = move |charts: Vec<console_api::monitoring::Chart>, empty: String| {
        charts
            .into_iter()
            .map(|chart| {
                let title = chart_title(i18n.get_locale_untracked(), chart.kind);
                view! { <LineChart chart range end title empty=empty.clone() /> }
            })
            .collect_view()
    };
    let cluster = data.cluster.clone();
    view! {
        <section class="mb-6" aria-labelledby="charts-heading" data-testid="cluster-charts" data-cluster=data.cluster.clone()>
            <h2 id="charts-heading" class="text-lg font-semibold">
                {move || t_string!(i18n, monitoring.charts_title, cluster = cluster.clone()).to_string()}
            </h2>
            <p class="mb-2 text-xs text-slate-500 dark:text-slate-400" data-testid="backend">
                {move || t_string!(i18n, monitoring.backend, url = backend.clone()).to_string()}
            </p>
            <div class="grid gap-3 md:grid-cols-2 xl:grid-cols-3">{grid(data.charts, empty.clone())}</div>
        </section>
        <section aria-labelledby="console-heading" data-testid="console-charts">
            <h2 id="console-heading" class="mb-2 text-lg font-semibold">{t!(i18n, monitoring.console_title)}</h2>
            <div class="grid gap-3 md:grid-cols-2 xl:grid-cols-3">{grid(data.console, empty)}</div>
        </section>
    }
    .into_any()
}
