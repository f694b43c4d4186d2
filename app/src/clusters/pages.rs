//! Administrator view: the cluster list with live reachability, and one cluster's page.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{ClusterHealth, ClusterStatus, probe_cluster, probe_clusters};
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, LiveBadge, use_live, watch_url};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};

#[component]
pub fn ClustersPage() -> impl IntoView {
    let i18n = use_i18n();
    // Registered clusters' health is their Cluster resource's status: follow those.
    let (changes, live) = use_live(Signal::derive(|| {
        watch_url(super::GLOBAL_CLUSTER, Kind::Clusters, None)
    }));
    let statuses = Resource::new(move || changes.get(), |_| probe_clusters());
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.clusters_title).to_string())>
            <LiveBadge state=live />
            <a
                href="/admin/clusters/import"
                data-testid="import-link"
                class="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 focus-ring"
            >
                {t!(i18n, clusters.import)}
            </a>
        </PageHeader>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match statuses.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(statuses) => {
                        if statuses.is_empty() {
                            view! {
                                <EmptyState
                                    title=Signal::derive(move || t_string!(i18n, pages.clusters_empty_title).to_string())
                                    body=Signal::derive(move || t_string!(i18n, pages.clusters_empty_body).to_string())
                                />
                            }
                                .into_any()
                        } else {
                            view! { <ClusterTable statuses /> }.into_any()
                        }
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn ClusterTable(statuses: Vec<ClusterStatus>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="w-full border-collapse text-left text-sm" data-testid="cluster-table">
            <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, clusters.name)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, clusters.status)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, clusters.version)}</th>
                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, clusters.server)}</th>
                </tr>
            </thead>
            <tbody>
                {statuses
                    .into_iter()
                    .map(|status| {
                        let href = format!("/admin/clusters/{}", status.cluster.name);
                        let version = match &status.health {
                            ClusterHealth::Reachable { version } => version.clone(),
                            ClusterHealth::Unreachable { .. } | ClusterHealth::Pending => "—".into(),
                        };
                        view! {
                            <tr class="border-b border-slate-100 dark:border-slate-800" data-cluster=status.cluster.name.clone()>
                                <td class="py-2 pr-4">
                                    <a href=href class="text-sky-700 hover:underline dark:text-sky-400 focus-ring">
                                        {status.cluster.name.clone()}
                                    </a>
                                </td>
                                <td class="py-2 pr-4"><HealthBadge health=status.health /></td>
                                <td class="py-2 pr-4 font-mono">{version}</td>
                                <td class="py-2 pr-4 font-mono text-slate-500">{status.cluster.server}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn HealthBadge(health: ClusterHealth) -> impl IntoView {
    let i18n = use_i18n();
    match health {
        ClusterHealth::Reachable { .. } => view! {
            <span class="rounded bg-emerald-100 px-2 py-0.5 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100" data-health="reachable">
                {t!(i18n, clusters.reachable)}
            </span>
        }
        .into_any(),
        ClusterHealth::Pending => view! {
            <span class="rounded bg-slate-100 px-2 py-0.5 text-slate-700 dark:bg-slate-800 dark:text-slate-200" data-health="pending">
                {t!(i18n, clusters.checking)}
            </span>
        }
        .into_any(),
        ClusterHealth::Unreachable { reason } => view! {
            <span
                class="rounded bg-red-100 px-2 py-0.5 text-red-900 dark:bg-red-900 dark:text-red-100"
                data-health="unreachable"
                title=reason.clone()
            >
                {t!(i18n, clusters.unreachable)}
                <span class="sr-only">": " {reason.clone()}</span>
            </span>
        }
        .into_any(),
    }
}

#[component]
pub fn ClusterPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let status = Resource::new(move || name.get(), probe_cluster);
    view! {
        <PageHeader title=Signal::derive(move || {
            let name = name.get();
            t_string!(i18n, pages.cluster_title, name = name).to_string()
        })>
            <a href="/admin/clusters" class="text-sm text-sky-700 hover:underline dark:text-sky-400 focus-ring">
                {t!(i18n, clusters.back)}
            </a>
        </PageHeader>
        <Suspense fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
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
                            <dl class="grid max-w-2xl grid-cols-[12rem_1fr] gap-y-2 text-sm" data-testid="cluster-detail">
                                <dt class="text-slate-500">{t!(i18n, clusters.status)}</dt>
                                <dd><HealthBadge health=status.health /></dd>
                                <dt class="text-slate-500">{t!(i18n, clusters.version)}</dt>
                                <dd class="font-mono">{version}</dd>
                                <dt class="text-slate-500">{t!(i18n, clusters.server)}</dt>
                                <dd class="font-mono">{status.cluster.server}</dd>
                                <dt class="text-slate-500">{t!(i18n, clusters.context)}</dt>
                                <dd class="font-mono">{status.cluster.name}</dd>
                            </dl>
                            {removable.map(|name| view! { <RemoveCluster name /> })}
                            // Only a cluster that answers has namespaces to list; an unknown or
                            // unreachable one already says why above.
                            {reachable.then(|| view! {
                                <a
                                    href=format!("/admin/clusters/{}/resources", name.get_untracked())
                                    class="mt-4 inline-block rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-50 dark:border-slate-600 dark:hover:bg-slate-800 focus-ring"
                                    data-testid="browse-resources"
                                >
                                    {t!(i18n, browser.open)}
                                </a>
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
    let (changes, live) = use_live(Signal::derive(move || {
        watch_url(&cluster.get(), Kind::Namespaces, None)
    }));
    let namespaces = Resource::new(
        move || (cluster.get(), changes.get()),
        |(c, _)| super::namespaces::list_namespaces(c),
    );
    view! {
        <section class="mt-8 max-w-2xl" aria-labelledby="namespaces-heading">
            <div class="mb-2 flex items-center gap-3">
                <h2 id="namespaces-heading" class="text-lg font-semibold">{t!(i18n, clusters.namespaces)}</h2>
                <LiveBadge state=live />
            </div>
            <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
                {move || Suspend::new(async move {
                    match namespaces.await {
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
                            <ul data-testid="namespaces" class="divide-y divide-slate-100 text-sm dark:divide-slate-800">
                                {visible
                                    .namespaces
                                    .into_iter()
                                    .map(|ns| view! {
                                        <li class="flex justify-between py-1" data-namespace=ns.name.clone()>
                                            <a
                                                href=format!("/admin/clusters/{}/namespaces/{}", cluster.get_untracked(), ns.name)
                                                class="font-mono text-sky-700 hover:underline dark:text-sky-400 focus-ring"
                                            >
                                                {ns.name.clone()}
                                            </a>
                                            <span class="text-slate-500">{ns.phase}</span>
                                        </li>
                                    })
                                    .collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `/admin/clusters/:name/namespaces` (a breadcrumb of every namespace page): the namespaces are
/// listed on the cluster's page.
#[component]
pub fn NamespacesRedirect() -> impl IntoView {
    let params = use_params_map();
    let name = params.read_untracked().get("name").unwrap_or_default();
    view! { <leptos_router::components::Redirect path=format!("/admin/clusters/{name}") /> }
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
                cluster=super::GLOBAL_CLUSTER.to_string()
                check=check
                label=Signal::derive(move || t_string!(i18n, clusters.remove).to_string())
                class="bg-red-600 text-white hover:bg-red-700"
                testid="remove-cluster"
                on_click=Callback::new(move |()| open.set(true))
            />
        </div>
        <Show when=move || open.get()>
            <div
                role="dialog"
                aria-modal="true"
                aria-labelledby="remove-title"
                data-testid="remove-dialog"
                class="mt-4 max-w-xl rounded-lg border border-red-300 p-4 dark:border-red-800"
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                <h2 id="remove-title" class="font-semibold">
                    {move || t_string!(i18n, clusters.remove_title, name = shown.get_value()).to_string()}
                </h2>
                <p class="mt-1 text-sm">{move || t_string!(i18n, clusters.remove_body, name = shown.get_value()).to_string()}</p>
                {move || match remove.value().get() {
                    Some(Ok(())) => view! {
                        <p role="status" data-testid="remove-done" class="mt-2 text-sm text-emerald-800 dark:text-emerald-300">
                            {t_string!(i18n, clusters.removed, name = shown.get_value()).to_string()}
                        </p>
                    }
                    .into_any(),
                    Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                    None => ().into_any(),
                }}
                <ActionForm action=remove attr:class="mt-3 flex gap-2">
                    <input type="hidden" name="name" value=shown.get_value() />
                    <button type="submit" data-testid="remove-confirm" class="rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-700 focus-ring">
                        {t!(i18n, clusters.remove_confirm)}
                    </button>
                    <button type="button" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm dark:border-slate-600 focus-ring" on:click=move |_| open.set(false)>
                        {t!(i18n, clusters.cancel)}
                    </button>
                </ActionForm>
            </div>
        </Show>
    }
}
