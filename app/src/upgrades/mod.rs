//! Upgrades: the Kubernetes support matrix of the platform's releases and the upgrade
//! preflight over the registered workload clusters (ClusterVersionShadow requests follow).

pub mod feature;
pub use console_api::matrix;
pub use console_api::upgrade as shadow;
mod shadows_page;

pub use shadows_page::{ShadowPage, ShadowView, list_shadows};

use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{
    Badge, Button, Choice, Column, DataTable, Help, PageHeader, Section, SelectField, Table,
    TableSpec, Tone, tr,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use matrix::{PlatformRelease, RELEASES, Verdict};

/// One workload cluster's preflight result for a target release (a wire view of `console-api`,
/// which `ac adm upgrade` reads too).
pub use console_api::upgrade::ClusterPreflight;

/// Probes every registered workload cluster and judges it for an upgrade to `release`.
#[server(endpoint = "upgrades/preflight")]
pub async fn preflight_clusters(release: String) -> Result<Vec<ClusterPreflight>, ConsoleError> {
    use crate::platform::ClusterHealth;
    let target = matrix::release(&release).ok_or_else(|| ConsoleError::Invalid {
        message: format!(
            "{release:?} is not a platform release; choose one of {}",
            RELEASES.map(|r| r.name).join(", ")
        ),
    })?;
    let statuses = crate::platform::registry()?.probe_all().await;
    Ok(statuses
        .into_iter()
        .filter(|s| s.cluster.name != crate::platform::GLOBAL_CLUSTER)
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
        <PageHeader title=tr!(i18n, pages.upgrades_title) />
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
    let spec = TableSpec::new(
        "support-matrix",
        vec![
            Column::text(
                "release",
                tr!(i18n, upgrades.release),
                |r: &PlatformRelease| format!("ACP {}", r.name),
            )
            .row_header(),
            Column::text(
                "creates",
                tr!(i18n, upgrades.creates),
                move |r: &PlatformRelease| minors(r.creates),
            )
            .mono(),
            Column::text(
                "compatible",
                tr!(i18n, upgrades.compatible),
                |r: &PlatformRelease| format!("{} – {}", r.compatible_min, r.compatible_max),
            )
            .mono(),
            Column::new(
                "rule",
                tr!(i18n, upgrades.rule),
                move |r: &PlatformRelease| {
                    if r.needs_latest_compatible() {
                        t_string!(
                            i18n,
                            upgrades.rule_latest,
                            minor = r.compatible_max.to_string()
                        )
                        .to_string()
                    } else {
                        t_string!(i18n, upgrades.rule_within).to_string()
                    }
                },
            ),
        ],
    )
    .row_attrs(|r| vec![("data-release", r.name.to_string())]);
    view! {
        <section class="mb-8 max-w-3xl" aria-labelledby="matrix-heading">
            <h2 id="matrix-heading" class="mb-1 text-lg font-semibold">{t!(i18n, upgrades.matrix_title)}</h2>
            <Help>{t_string!(i18n, upgrades.matrix_help, range = matrix::MANAGED_RANGE).to_string()}</Help>
            <Table spec rows=RELEASES.to_vec() />
        </section>
    }
}

fn verdict_text(i18n: leptos_i18n::I18nContext<crate::i18n::Locale>, verdict: &Verdict) -> String {
    match verdict {
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
    let spec = TableSpec::new(
        "preflight",
        vec![
            Column::text("cluster", tr!(i18n, plugins.cluster), |r: &ClusterPreflight| r.cluster.clone()).mono(),
            Column::new("reason", tr!(i18n, upgrades.rule), move |r: &ClusterPreflight| verdict_text(i18n, &r.verdict))
                .filter_by(move |r: &ClusterPreflight| verdict_text(i18n, &r.verdict))
                .muted(),
            Column::new("verdict", tr!(i18n, clusters.status), move |r: &ClusterPreflight| {
                let blocking = r.verdict.is_blocking();
                let text = if blocking {
                    t_string!(i18n, upgrades.blocking).to_string()
                } else {
                    t_string!(i18n, upgrades.ok_badge).to_string()
                };
                view! { <Badge tone=if blocking { Tone::Danger } else { Tone::Success }>{text}</Badge> }
            })
            .sort_by(|r: &ClusterPreflight| r.verdict.is_blocking()),
        ],
    )
    .row_attrs(|r| {
        vec![
            ("data-cluster", r.cluster.clone()),
            ("data-blocking", r.verdict.is_blocking().to_string()),
        ]
    });
    view! {
        <Section id="preflight-heading" title=tr!(i18n, upgrades.preflight_title)>
            <form method="get" class="mb-3 flex items-end gap-2">
                <SelectField
                    id="release-select"
                    name="release"
                    label=tr!(i18n, upgrades.target)
                    inline=true
                    choices=RELEASES.iter().map(|r| Choice::new(r.name, format!("ACP {}", r.name))).collect()
                    selected=Signal::derive(move || chosen.get())
                    on_change=Callback::new(move |release: String| {
                        navigate(&format!("?release={release}"), Default::default())
                    })
                />
                <Button submit=true>{t!(i18n, upgrades.check)}</Button>
            </form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let rows = results.await.unwrap_or_default();
                    let blocking = rows.iter().filter(|r| r.verdict.is_blocking()).count();
                    (!rows.is_empty()).then(|| view! {
                        <p class="mb-2 text-sm font-medium" data-testid="preflight-summary" data-blocking=blocking>
                            {if blocking == 0 {
                                t_string!(i18n, upgrades.all_ok).to_string()
                            } else {
                                t_string!(i18n, upgrades.some_blocking, count = blocking).to_string()
                            }}
                        </p>
                    })
                })}
            </Transition>
            <DataTable
                spec
                rows=results
                empty_title=tr!(i18n, upgrades.no_workload_title)
                empty_body=tr!(i18n, upgrades.no_workload_body)
            />
        </Section>
    }
}
