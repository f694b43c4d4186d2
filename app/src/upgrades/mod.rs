//! Upgrades: the Kubernetes support matrix of the platform's releases and the upgrade
//! preflight over the registered workload clusters (ClusterVersionShadow requests follow).

pub mod matrix;
pub mod shadow;
mod shadows_page;

pub use shadows_page::ShadowPage;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{EmptyState, ErrorPanel, PageHeader};
use matrix::{RELEASES, Verdict};

/// One workload cluster's preflight result for a target release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPreflight {
    pub cluster: String,
    /// What the cluster reported (its version), or why it could not be asked.
    pub reported: String,
    pub verdict: Verdict,
}

/// Probes every registered workload cluster and judges it for an upgrade to `release`.
#[server]
pub async fn preflight_clusters(release: String) -> Result<Vec<ClusterPreflight>, ConsoleError> {
    use crate::clusters::ClusterHealth;
    let target = matrix::release(&release).ok_or_else(|| ConsoleError::Invalid {
        message: format!(
            "{release:?} is not a platform release; choose one of {}",
            RELEASES.map(|r| r.name).join(", ")
        ),
    })?;
    let statuses = crate::clusters::registry()?.probe_all().await;
    Ok(statuses
        .into_iter()
        .filter(|s| s.cluster.name != crate::clusters::GLOBAL_CLUSTER)
        .map(|s| {
            let reported = match s.health {
                ClusterHealth::Reachable { version } => version,
                ClusterHealth::Unreachable { reason } => reason,
                ClusterHealth::Pending => "not probed yet".into(),
            };
            ClusterPreflight {
                verdict: matrix::preflight(target, &reported),
                cluster: s.cluster.name,
                reported,
            }
        })
        .collect())
}

#[component]
pub fn UpgradesPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, pages.upgrades_title).to_string()) />
        <SupportMatrix />
        <Preflight />
        <shadows_page::ClusterUpdates />
    }
}

#[component]
fn SupportMatrix() -> impl IntoView {
    let i18n = use_i18n();
    let minors = |list: &[matrix::Minor]| {
        list.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section class="mb-8 max-w-3xl" aria-labelledby="matrix-heading">
            <h2 id="matrix-heading" class="mb-1 text-lg font-semibold">{t!(i18n, upgrades.matrix_title)}</h2>
            <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">
                {t_string!(i18n, upgrades.matrix_help, range = matrix::MANAGED_RANGE).to_string()}
            </p>
            <table class="w-full border-collapse text-left text-sm" data-testid="support-matrix">
                <thead class="border-b border-slate-200 text-slate-500 dark:border-slate-700 dark:text-slate-400">
                    <tr>
                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, upgrades.release)}</th>
                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, upgrades.creates)}</th>
                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, upgrades.compatible)}</th>
                        <th scope="col" class="py-2 pr-4 font-medium">{t!(i18n, upgrades.rule)}</th>
                    </tr>
                </thead>
                <tbody>
                    {RELEASES
                        .iter()
                        .map(|r| {
                            let rule = if r.needs_latest_compatible() {
                                t_string!(i18n, upgrades.rule_latest, minor = r.compatible_max.to_string()).to_string()
                            } else {
                                t_string!(i18n, upgrades.rule_within).to_string()
                            };
                            view! {
                                <tr class="border-b border-slate-100 dark:border-slate-800" data-release=r.name>
                                    <th scope="row" class="py-2 pr-4 font-medium">{format!("ACP {}", r.name)}</th>
                                    <td class="py-2 pr-4 font-mono">{minors(r.creates)}</td>
                                    <td class="py-2 pr-4 font-mono">{format!("{} – {}", r.compatible_min, r.compatible_max)}</td>
                                    <td class="py-2 pr-4">{rule}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A release picker (a plain GET form, so it works before hydration) and the verdict for every
/// registered workload cluster.
#[component]
fn Preflight() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let chosen = Memo::new(move |_| {
        query
            .read()
            .get("release")
            .filter(|r| matrix::release(r).is_some())
            .unwrap_or_else(|| RELEASES[0].name.to_string())
    });
    let results = Resource::new(move || chosen.get(), preflight_clusters);
    let navigate = leptos_router::hooks::use_navigate();
    view! {
        <section class="max-w-3xl" aria-labelledby="preflight-heading">
            <h2 id="preflight-heading" class="mb-2 text-lg font-semibold">{t!(i18n, upgrades.preflight_title)}</h2>
            <form method="get" class="mb-3 flex items-center gap-2 text-sm">
                <label for="release-select">{t!(i18n, upgrades.target)}</label>
                <select
                    id="release-select"
                    name="release"
                    class="rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring"
                    on:change=move |ev| navigate(&format!("?release={}", event_target_value(&ev)), Default::default())
                >
                    {RELEASES
                        .iter()
                        .map(|r| view! { <option value=r.name selected=move || chosen.get() == r.name>{format!("ACP {}", r.name)}</option> })
                        .collect_view()}
                </select>
                <button type="submit" class="rounded border border-slate-300 px-2 py-1 dark:border-slate-600 focus-ring">
                    {t!(i18n, upgrades.check)}
                </button>
            </form>
            <Transition fallback=move || view! { <p aria-busy="true">{t!(i18n, clusters.checking)}</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! {
                            <EmptyState
                                title=Signal::derive(move || t_string!(i18n, upgrades.no_workload_title).to_string())
                                body=Signal::derive(move || t_string!(i18n, upgrades.no_workload_body).to_string())
                            />
                        }
                        .into_any(),
                        Ok(rows) => {
                            let blocking = rows.iter().filter(|r| r.verdict.is_blocking()).count();
                            view! {
                                <p class="mb-2 text-sm font-medium" data-testid="preflight-summary" data-blocking=blocking>
                                    {if blocking == 0 {
                                        t_string!(i18n, upgrades.all_ok).to_string()
                                    } else {
                                        t_string!(i18n, upgrades.some_blocking, count = blocking).to_string()
                                    }}
                                </p>
                                <ul class="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="preflight">
                                    {rows.into_iter().map(|row| view! { <PreflightRow row /> }).collect_view()}
                                </ul>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PreflightRow(row: ClusterPreflight) -> impl IntoView {
    let i18n = use_i18n();
    let blocking = row.verdict.is_blocking();
    let reason = match &row.verdict {
        Verdict::Ok => t_string!(i18n, upgrades.ok).to_string(),
        Verdict::OutsideCompatible { version, min, max } => t_string!(
            i18n,
            upgrades.outside_compatible,
            version = version.to_string(),
            min = min.to_string(),
            max = max.to_string()
        )
        .to_string(),
        Verdict::NotLatestCompatible { version, required } => t_string!(
            i18n,
            upgrades.not_latest,
            version = version.to_string(),
            required = required.to_string()
        )
        .to_string(),
        Verdict::Unknown { reported } => {
            t_string!(i18n, upgrades.unknown, reported = reported.clone()).to_string()
        }
    };
    let badge = if blocking {
        "rounded bg-red-100 px-2 py-0.5 text-red-900 dark:bg-red-900 dark:text-red-100"
    } else {
        "rounded bg-emerald-100 px-2 py-0.5 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100"
    };
    view! {
        <li class="flex items-start justify-between gap-4 py-2" data-cluster=row.cluster.clone() data-blocking=blocking.to_string()>
            <span class="font-mono">{row.cluster.clone()}</span>
            <span class="flex-1 text-slate-600 dark:text-slate-300">{reason}</span>
            <span class=badge>
                {if blocking { t_string!(i18n, upgrades.blocking).to_string() } else { t_string!(i18n, upgrades.ok_badge).to_string() }}
            </span>
        </li>
    }
}
