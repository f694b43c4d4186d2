//! Administrator view: the cluster list with live reachability, and one cluster's page.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::namespaces::NamespaceRow;
use super::{probe_cluster, probe_clusters};
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, WatchQuery, use_live_resource};
use crate::platform::{ClusterHealth, ClusterStatus, GLOBAL_CLUSTER};
use crate::routes;
use crate::ui::{
    Badge, ButtonLink, Column, ConfirmDialog, DataTable, EmptyAction, ErrorPanel, Fact, Facts,
    Loading, PageHeader, Section, Sort, StatusText, Table, TableSpec, TableState, TextLink, Tone,
    Variant, tr,
};

#[component]
pub fn ClustersPage() -> impl IntoView {
    let i18n = use_i18n();
    // Registered clusters' health is their Cluster resource's status: follow those.
    let clusters = use_live_resource(
        || WatchQuery::new(GLOBAL_CLUSTER, Kind::Clusters),
        |_| probe_clusters(),
    );
    let version = |status: &ClusterStatus| match &status.health {
        ClusterHealth::Reachable { version } => version.clone(),
        ClusterHealth::Unreachable { .. } | ClusterHealth::Pending => "—".into(),
    };
    let spec = TableSpec::new(
        "cluster-table",
        vec![
            Column::link("name", tr!(i18n, clusters.name), |s: &ClusterStatus| {
                (routes::cluster(&s.cluster.name), s.cluster.name.clone())
            }),
            Column::new("status", tr!(i18n, clusters.status), |s: &ClusterStatus| {
                view! { <HealthBadge health=s.health.clone() /> }
            })
            .sort_by(|s: &ClusterStatus| match s.health {
                ClusterHealth::Reachable { .. } => 0,
                ClusterHealth::Pending => 1,
                ClusterHealth::Unreachable { .. } => 2i64,
            }),
            Column::text("version", tr!(i18n, clusters.version), version).mono(),
            Column::text("server", tr!(i18n, clusters.server), |s: &ClusterStatus| {
                s.cluster.server.clone()
            })
            .mono()
            .muted(),
        ],
    )
    .row_attrs(|s| vec![("data-cluster", s.cluster.name.clone())])
    .filter(tr!(i18n, ui.filter))
    .sorted(Sort::ascending("name"))
    .paged(50);
    view! {
        <PageHeader title=tr!(i18n, pages.clusters_title)>
            {clusters.badge()}
            <ButtonLink href=routes::IMPORT_CLUSTER variant=Variant::Primary attr:data-testid="import-link">
                {t!(i18n, clusters.import)}
            </ButtonLink>
        </PageHeader>
        <DataTable
            spec
            rows=clusters.data
            empty_title=tr!(i18n, pages.clusters_empty_title)
            empty_body=tr!(i18n, pages.clusters_empty_body)
            empty_action=EmptyAction { label: tr!(i18n, clusters.import), href: routes::IMPORT_CLUSTER.into() }
        />
    }
}

/// A cluster's health as a badge (translated; the reason as title and for screen readers).
#[component]
pub fn HealthBadge(health: ClusterHealth) -> impl IntoView {
    let i18n = use_i18n();
    match health {
        ClusterHealth::Reachable { .. } => view! {
            <Badge tone=Tone::Success attr:data-health="reachable">{t!(i18n, clusters.reachable)}</Badge>
        }
        .into_any(),
        ClusterHealth::Pending => view! {
            <Badge tone=Tone::Neutral attr:data-health="pending">{t!(i18n, clusters.checking)}</Badge>
        }
        .into_any(),
        ClusterHealth::Unreachable { reason } => {
            let title = reason.clone();
            view! {
                <Badge tone=Tone::Danger attr:data-health="unreachable" attr:title=title>
                    {t!(i18n, clusters.unreachable)}
                    <span class="sr-only">": " {reason}</span>
                </Badge>
            }
            .into_any()
        }
    }
}

#[component]
pub fn ClusterPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let status = Resource::new(move || name.get(), probe_cluster);
    view! {
        <PageHeader title=tr!(i18n, pages.cluster_title, name = name.get())>
            <TextLink href=routes::CLUSTERS>{t!(i18n, clusters.back)}</TextLink>
        </PageHeader>
        <Suspense fallback=move || view! { <Loading /> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(status) => {
                        let removable = status.cluster.managed.then(|| status.cluster.name.clone());
                        let (version, reachable) = match &status.health {
                            ClusterHealth::Reachable { version } => (version.clone(), true),
                            ClusterHealth::Unreachable { .. } | ClusterHealth::Pending => ("—".into(), false),
                        };
                        view! {
                            <Facts attr:data-testid="cluster-detail">
                                <Fact label=tr!(i18n, clusters.status)><HealthBadge health=status.health /></Fact>
                                <Fact label=tr!(i18n, clusters.version) mono=true>{version}</Fact>
                                <Fact label=tr!(i18n, clusters.server) mono=true>{status.cluster.server}</Fact>
                                <Fact label=tr!(i18n, clusters.context) mono=true>{status.cluster.name}</Fact>
                            </Facts>
                            {removable.map(|name| view! { <RemoveCluster name /> })}
                            // Only a cluster that answers has namespaces to list; an unknown or
                            // unreachable one already says why above.
                            {reachable.then(|| view! {
                                <div class="mt-4">
                                    <ButtonLink href=routes::resources(&name.get_untracked()) attr:data-testid="browse-resources">
                                        {t!(i18n, browser.open)}
                                    </ButtonLink>
                                </div>
                                <super::overview::OverviewSection cluster=name />
                                <NamespacesSection cluster=name />
                            })}
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The namespaces the signed-in user may see on the cluster.
#[component]
fn NamespacesSection(cluster: Memo<String>) -> impl IntoView {
    let i18n = use_i18n();
    let namespaces = use_live_resource(
        move || WatchQuery::new(cluster.get(), Kind::Namespaces),
        |query| super::namespaces::list_namespaces(query.cluster),
    );
    let spec = TableSpec::new(
        "namespaces",
        vec![
            Column::link(
                "name",
                tr!(i18n, clusters.name),
                move |ns: &NamespaceRow| {
                    (
                        routes::namespace(&cluster.get_untracked(), &ns.name),
                        ns.name.clone(),
                    )
                },
            )
            .mono(),
            Column::text("phase", tr!(i18n, clusters.status), |ns: &NamespaceRow| {
                ns.phase.clone()
            })
            .muted(),
        ],
    )
    .row_attrs(|ns| vec![("data-namespace", ns.name.clone())])
    .filter(tr!(i18n, ui.filter))
    .paged(50);
    // Kept across live reloads, so a change on the cluster does not undo the user's filter.
    let state = TableState::new(None);
    view! {
        <Section id="namespaces-heading" title=tr!(i18n, clusters.namespaces) aside=move || namespaces.badge()>
            <Transition fallback=move || view! { <Loading /> }>
                {move || {
                    let spec = spec.clone();
                    Suspend::new(async move {
                        match namespaces.data.await {
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                            Ok(visible) if visible.namespaces.is_empty() => view! {
                                <p data-testid="namespaces-empty" class="text-sm text-slate-600 dark:text-slate-300">
                                    {t!(i18n, clusters.no_namespaces)}
                                </p>
                            }
                            .into_any(),
                            Ok(visible) => view! {
                                {(!visible.cluster_wide).then(|| view! {
                                    <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">{t!(i18n, clusters.namespaces_filtered)}</p>
                                })}
                                <Table spec rows=visible.namespaces state />
                            }
                            .into_any(),
                        }
                    })
                }}
            </Transition>
        </Section>
    }
}

/// `/admin/clusters/:name/namespaces` (a breadcrumb of every namespace page): the namespaces are
/// listed on the cluster's page.
#[component]
pub fn NamespacesRedirect() -> impl IntoView {
    let params = use_params_map();
    let name = params.read_untracked().get("name").unwrap_or_default();
    view! { <leptos_router::components::Redirect path=crate::routes::cluster(&name) /> }
}

/// "Remove from console" for a cluster registered by a Cluster resource: offered only when the
/// user may delete that resource on global, behind a confirmation.
#[component]
fn RemoveCluster(name: String) -> impl IntoView {
    use crate::access::{AccessCheck, Guarded};
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let remove = ServerAction::<super::import::RemoveCluster>::new();
    let check = AccessCheck::new("delete", super::resource::GROUP, "clusters").named(&name);
    let shown = StoredValue::new(name.clone());
    view! {
        <div class="mt-4">
            <Guarded
                cluster=GLOBAL_CLUSTER.to_string()
                check=check
                label=tr!(i18n, clusters.remove)
                variant=Variant::Danger
                testid="remove-cluster"
                on_click=Callback::new(move |()| open.set(true))
            />
        </div>
        <ConfirmDialog
            open
            testid="remove"
            title=tr!(i18n, clusters.remove_title, name = shown.get_value())
            body=tr!(i18n, clusters.remove_body, name = shown.get_value())
            confirm_label=tr!(i18n, clusters.remove_confirm)
            busy=remove.pending()
            on_confirm=Callback::new(move |_| {
                remove.dispatch(super::import::RemoveCluster { name: shown.get_value() });
            })
        >
            {move || match remove.value().get() {
                Some(Ok(())) => view! {
                    <StatusText tone=Tone::Success attr:data-testid="remove-done">
                        {t_string!(i18n, clusters.removed, name = shown.get_value()).to_string()}
                    </StatusText>
                }
                .into_any(),
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                None => ().into_any(),
            }}
        </ConfirmDialog>
    }
}
