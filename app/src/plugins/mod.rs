//! Cluster plugins: the Administrator view's plugin list and detail pages, read and changed as
//! the signed-in user on the global cluster (ClusterPlugin resources).

pub mod catalog;
pub mod resource;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::clusters::GLOBAL_CLUSTER;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, LiveBadge, use_live, watch_url};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};
use catalog::Lifecycle;
use resource::PluginPhase;

/// A ClusterPlugin as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRow {
    pub name: String,
    pub cluster: String,
    pub plugin: String,
    pub lifecycle: Option<Lifecycle>,
    pub desired: String,
    pub installed: Option<String>,
    pub available: Vec<String>,
    pub cluster_release: Option<String>,
    pub phase: PluginPhase,
    pub message: String,
}

#[cfg(feature = "ssr")]
impl From<resource::ClusterPlugin> for PluginRow {
    fn from(p: resource::ClusterPlugin) -> Self {
        let status = p.status.unwrap_or_default();
        PluginRow {
            name: p.metadata.name.unwrap_or_default(),
            lifecycle: status
                .lifecycle
                .or_else(|| catalog::plugin(&p.spec.plugin).map(|c| c.lifecycle)),
            cluster: p.spec.cluster,
            plugin: p.spec.plugin,
            desired: p.spec.version,
            installed: status.installed_version,
            available: status.available_versions,
            cluster_release: status.cluster_release,
            phase: status.phase,
            message: status.message,
        }
    }
}

#[cfg(feature = "ssr")]
fn plugins_api() -> Result<kube::Api<resource::ClusterPlugin>, ConsoleError> {
    Ok(kube::Api::all(crate::clusters::client_as_user(
        GLOBAL_CLUSTER,
    )?))
}

/// Every plugin on every cluster the user may list ClusterPlugins of.
#[server]
pub async fn list_plugins() -> Result<Vec<PluginRow>, ConsoleError> {
    if !crate::clusters::has_global() {
        return Ok(Vec::new());
    }
    let list = plugins_api()?
        .list(&Default::default())
        .await
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    let mut rows: Vec<PluginRow> = list.items.into_iter().map(PluginRow::from).collect();
    rows.sort_by(|a, b| (&a.cluster, &a.plugin).cmp(&(&b.cluster, &b.plugin)));
    Ok(rows)
}

#[server]
pub async fn get_plugin(name: String) -> Result<PluginRow, ConsoleError> {
    plugins_api()?
        .get(&name)
        .await
        .map(PluginRow::from)
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))
}

/// Asks for `version` of the plugin `name`, as the user: refused with the rule's reason for a
/// Core plugin, an unknown, older or wrong-release version; the controller then rolls it out.
#[server]
pub async fn upgrade_plugin(name: String, version: String) -> Result<(), ConsoleError> {
    use kube::api::{Patch, PatchParams};
    let api = plugins_api()?;
    let current = api
        .get(&name)
        .await
        .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    let invalid = |message: String| ConsoleError::Invalid { message }.respond();
    let entry = catalog::plugin(&current.spec.plugin).ok_or_else(|| {
        invalid(format!(
            "{} is not in the plugin catalog",
            current.spec.plugin
        ))
    })?;
    let status = current.status.clone().unwrap_or_default();
    let installed = status
        .installed_version
        .clone()
        .unwrap_or_else(|| current.spec.version.clone());
    catalog::check_upgrade(
        entry,
        &installed,
        &version,
        status.cluster_release.as_deref(),
    )
    .map_err(|e| invalid(e.to_string()))?;
    api.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"version": version}})),
    )
    .await
    .map_err(|e| crate::clusters::kube_error(GLOBAL_CLUSTER, e))?;
    Ok(())
}

pub(crate) fn lifecycle_badge(lifecycle: Option<Lifecycle>) -> &'static str {
    match lifecycle {
        Some(Lifecycle::Core) => {
            "rounded bg-violet-100 px-2 py-0.5 text-xs text-violet-900 dark:bg-violet-900 dark:text-violet-100"
        }
        Some(Lifecycle::Aligned) => {
            "rounded bg-sky-100 px-2 py-0.5 text-xs text-sky-900 dark:bg-sky-900 dark:text-sky-100"
        }
        _ => {
            "rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-100"
        }
    }
}

fn phase_class(phase: PluginPhase) -> &'static str {
    match phase {
        PluginPhase::Ready => "text-emerald-700 dark:text-emerald-400",
        PluginPhase::Progressing | PluginPhase::Pending => "text-sky-700 dark:text-sky-400",
        PluginPhase::Refused => "text-amber-700 dark:text-amber-400",
        PluginPhase::Failed => "text-red-700 dark:text-red-400",
    }
}

#[component]
pub fn PluginsPage() -> impl IntoView {
    let i18n = use_i18n();
    let (changes, live) = use_live(Signal::derive(|| {
        watch_url(GLOBAL_CLUSTER, Kind::ClusterPlugins, None)
    }));
    let plugins = Resource::new(move || changes.get(), |_| list_plugins());
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.plugins_title).to_string())>
            <LiveBadge state=live />
        </PageHeader>
        <p class="mb-3 max-w-3xl text-sm text-slate-600 dark:text-slate-300">{t!(i18n, plugins.help)}</p>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match plugins.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState
                            title=Signal::derive(move || t_string!(i18n, pages.plugins_empty_title).to_string())
                            body=Signal::derive(move || t_string!(i18n, pages.plugins_empty_body).to_string())
                        />
                    }
                    .into_any(),
                    Ok(rows) => view! {
                        <table class="w-full max-w-5xl border-collapse text-left text-sm" data-testid="plugins">
                            <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                                <tr>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, plugins.cluster)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, plugins.plugin)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, plugins.lifecycle)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, plugins.installed)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, plugins.status)}</th>
                                    <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, plugins.upgrade)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|row| view! { <PluginTableRow row /> }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PluginTableRow(row: PluginRow) -> impl IntoView {
    let i18n = use_i18n();
    let lifecycle = row.lifecycle.map(|l| l.to_string()).unwrap_or_default();
    view! {
        <tr class="border-b border-slate-100 align-top dark:border-slate-800" data-plugin=row.name.clone() data-phase=format!("{:?}", row.phase)>
            <td class="py-2 pr-4 font-mono">{row.cluster.clone()}</td>
            <td class="py-2 pr-4">
                <a href=format!("/admin/plugins/{}", row.name) class="font-mono text-sky-700 hover:underline dark:text-sky-400 focus-ring">
                    {row.plugin.clone()}
                </a>
            </td>
            <td class="py-2 pr-4"><span class=lifecycle_badge(row.lifecycle) data-testid="lifecycle">{lifecycle}</span></td>
            <td class="py-2 pr-4 font-mono" data-testid="installed">
                {row.installed.clone().unwrap_or_else(|| "—".into())}
                {(row.installed.as_deref() != Some(row.desired.as_str())).then(|| format!(" → {}", row.desired))}
            </td>
            <td class=format!("py-2 pr-4 {}", phase_class(row.phase)) data-testid="phase">
                {format!("{:?}", row.phase)}
                <span class="block text-xs text-slate-500">{row.message.clone()}</span>
            </td>
            <td class="py-2 pr-4">
                {if row.lifecycle == Some(Lifecycle::Core) {
                    view! {
                        <a href=format!("/admin/upgrades/{}", row.cluster) class="text-xs text-slate-600 underline dark:text-slate-300 focus-ring" data-testid="follows-cluster">
                            {t!(i18n, plugins.follows_cluster)}
                        </a>
                    }
                    .into_any()
                } else {
                    view! { <UpgradeForm row=row.clone() /> }.into_any()
                }}
            </td>
        </tr>
    }
}

/// The version picker and button of an Aligned or Agnostic plugin (a plain form: works before
/// hydration too).
#[component]
fn UpgradeForm(row: PluginRow) -> impl IntoView {
    let i18n = use_i18n();
    let upgrade = ServerAction::<UpgradePlugin>::new();
    if row.available.is_empty() {
        return view! { <span class="text-xs text-slate-500" data-testid="no-upgrade">{t!(i18n, plugins.up_to_date)}</span> }
            .into_any();
    }
    let select_id = format!("version-{}", row.name);
    view! {
        <ActionForm action=upgrade attr:class="flex flex-wrap items-center gap-2" attr:data-testid="upgrade-form">
            <input type="hidden" name="name" value=row.name.clone() />
            <label for=select_id.clone() class="sr-only">{t!(i18n, plugins.target_version)}</label>
            <select id=select_id name="version" class="rounded border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-600 focus-ring">
                {row.available.iter().map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()}
            </select>
            <button
                type="submit"
                class="rounded-md bg-sky-600 px-3 py-1 text-sm font-medium text-white hover:bg-sky-700 disabled:opacity-50 focus-ring"
                disabled=move || upgrade.pending().get()
                data-testid="upgrade"
            >
                {move || if upgrade.pending().get() { t_string!(i18n, plugins.upgrading).to_string() } else { t_string!(i18n, plugins.upgrade).to_string() }}
            </button>
            {move || match upgrade.value().get() {
                Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
                Some(Ok(())) => view! { <span role="status" class="text-xs text-emerald-700 dark:text-emerald-400">{t!(i18n, plugins.requested)}</span> }.into_any(),
                None => ().into_any(),
            }}
        </ActionForm>
    }
    .into_any()
}

/// `/admin/plugins/:name`: one plugin, its versions and the rule that applies.
#[component]
pub fn PluginPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let (changes, live) = use_live(Signal::derive(|| {
        watch_url(GLOBAL_CLUSTER, Kind::ClusterPlugins, None)
    }));
    let plugin = Resource::new(
        move || (name.get(), changes.get()),
        |(name, _)| get_plugin(name),
    );
    view! {
        <PageHeader title=Signal::derive(move || name.get())>
            <LiveBadge state=live />
        </PageHeader>
        <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
            {move || Suspend::new(async move {
                match plugin.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(row) => {
                        let entry = catalog::plugin(&row.plugin);
                        let rule = match row.lifecycle {
                            Some(Lifecycle::Core) => t_string!(i18n, plugins.rule_core).to_string(),
                            Some(Lifecycle::Aligned) => t_string!(i18n, plugins.rule_aligned).to_string(),
                            _ => t_string!(i18n, plugins.rule_agnostic).to_string(),
                        };
                        view! {
                            <dl class="grid max-w-2xl grid-cols-[auto_1fr] gap-x-6 gap-y-1 text-sm" data-testid="plugin-detail" data-phase=format!("{:?}", row.phase)>
                                <dt class="text-slate-500">{t!(i18n, plugins.cluster)}</dt>
                                <dd class="font-mono">{row.cluster.clone()}</dd>
                                <dt class="text-slate-500">{t!(i18n, plugins.lifecycle)}</dt>
                                <dd><span class=lifecycle_badge(row.lifecycle)>{row.lifecycle.map(|l| l.to_string())}</span></dd>
                                <dt class="text-slate-500">{t!(i18n, plugins.installed)}</dt>
                                <dd class="font-mono" data-testid="installed">{row.installed.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt class="text-slate-500">{t!(i18n, plugins.desired)}</dt>
                                <dd class="font-mono">{row.desired.clone()}</dd>
                                <dt class="text-slate-500">{t!(i18n, plugins.cluster_release)}</dt>
                                <dd class="font-mono">{row.cluster_release.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt class="text-slate-500">{t!(i18n, plugins.status)}</dt>
                                <dd class=phase_class(row.phase) data-testid="phase">{format!("{:?}: {}", row.phase, row.message)}</dd>
                            </dl>
                            <p class="mt-4 max-w-2xl text-sm">{rule}</p>
                            <div class="mt-3">
                                {if row.lifecycle == Some(Lifecycle::Core) {
                                    view! {
                                        <a href=format!("/admin/upgrades/{}", row.cluster) class="text-sm text-sky-700 underline dark:text-sky-400 focus-ring" data-testid="follows-cluster">
                                            {t!(i18n, plugins.follows_cluster)}
                                        </a>
                                    }
                                    .into_any()
                                } else {
                                    view! { <UpgradeForm row=row.clone() /> }.into_any()
                                }}
                            </div>
                            <h2 class="mt-6 mb-2 text-lg font-semibold">{t!(i18n, plugins.versions)}</h2>
                            <table class="max-w-2xl border-collapse text-left text-sm">
                                <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                                    <tr>
                                        <th scope="col" class="py-1 pr-6 font-medium">{t!(i18n, plugins.version)}</th>
                                        <th scope="col" class="py-1 pr-6 font-medium">{t!(i18n, plugins.runs_on)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {entry.map(|e| e.versions.iter().rev().map(|v| view! {
                                        <tr class="border-b border-slate-100 dark:border-slate-800">
                                            <td class="py-1 pr-6 font-mono">{v.version}</td>
                                            <td class="py-1 pr-6 font-mono">{v.releases.join(", ")}</td>
                                        </tr>
                                    }).collect_view())}
                                </tbody>
                            </table>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}
