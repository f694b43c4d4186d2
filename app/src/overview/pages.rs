//! `/admin/overview`: four live panels, each a table that links to the page behind it.

use leptos::prelude::*;

use crate::clusters::HealthBadge;
use crate::clusters::probe_clusters;
use crate::i18n::{t, t_string, use_i18n};
use crate::live::{Kind, WatchQuery, use_live_resource};
use crate::monitoring::alerts_by_cluster;
use crate::platform::{ClusterHealth, ClusterStatus, GLOBAL_CLUSTER};
use crate::plugins::{PluginRow, list_plugins, phase_tone};
use crate::routes;
use crate::ui::{Badge, Column, DataTable, Help, PageHeader, PanelGrid, Section, TableSpec, tr};
use crate::upgrades::{ShadowView, list_shadows};
use console_api::monitoring::{AlertState, ClusterAlerts};
use console_api::upgrade::RunState;

/// Unreachable clusters first: they are what an administrator lands here for.
fn health_rank(health: &ClusterHealth) -> i64 {
    match health {
        ClusterHealth::Unreachable { .. } => 0,
        ClusterHealth::Pending => 1,
        ClusterHealth::Reachable { .. } => 2,
    }
}

#[component]
pub fn AdminOverviewPage() -> impl IntoView {
    let i18n = use_i18n();
    let clusters_watch = || WatchQuery::new(GLOBAL_CLUSTER, Kind::Clusters);
    let clusters = use_live_resource(clusters_watch, |_| probe_clusters());
    // Alerts have no watch of their own: read again whenever a cluster changes, or on reload.
    let alerts = use_live_resource(clusters_watch, |_| async {
        alerts_by_cluster().await.map(|all| {
            all.into_iter()
                .filter(|c| {
                    c.error.is_some() || c.alerts.iter().any(|a| a.state == AlertState::Firing)
                })
                .collect::<Vec<_>>()
        })
    });
    let upgrades = use_live_resource(
        || WatchQuery::new(GLOBAL_CLUSTER, Kind::ClusterVersionShadows),
        |_| async {
            list_shadows().await.map(|all| {
                all.into_iter()
                    .filter(|s| {
                        s.status
                            .progress
                            .as_ref()
                            .is_some_and(|p| p.state == RunState::Progressing)
                    })
                    .collect::<Vec<_>>()
            })
        },
    );
    let plugins = use_live_resource(
        || WatchQuery::new(GLOBAL_CLUSTER, Kind::ClusterPlugins),
        |_| async {
            list_plugins().await.map(|all| {
                all.into_iter()
                    .filter(PluginRow::needs_attention)
                    .collect::<Vec<_>>()
            })
        },
    );

    let cluster_spec = TableSpec::new(
        "overview-clusters",
        vec![
            Column::link("name", tr!(i18n, home.cluster), |s: &ClusterStatus| {
                (routes::cluster(&s.cluster.name), s.cluster.name.clone())
            }),
            Column::new("health", tr!(i18n, home.health), |s: &ClusterStatus| {
                let health = s.health.clone();
                view! { <HealthBadge health /> }
            })
            .sort_by(|s: &ClusterStatus| health_rank(&s.health))
            .testid("health"),
            Column::text(
                "version",
                tr!(i18n, home.version),
                |s: &ClusterStatus| match &s.health {
                    ClusterHealth::Reachable { version } => version.clone(),
                    _ => "—".into(),
                },
            )
            .mono(),
        ],
    )
    .row_attrs(|s| vec![("data-cluster", s.cluster.name.clone())]);
    let alert_spec = TableSpec::new(
        "overview-alerts",
        vec![
            Column::link("cluster", tr!(i18n, home.cluster), |c: &ClusterAlerts| {
                (routes::MONITORING.to_string(), c.cluster.clone())
            }),
            Column::text("firing", tr!(i18n, home.firing), |c: &ClusterAlerts| {
                let names: Vec<&str> = c
                    .alerts
                    .iter()
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| a.name.as_str())
                    .collect();
                match &c.error {
                    Some(error) if names.is_empty() => error.clone(),
                    _ => format!("{} — {}", names.len(), names.join(", ")),
                }
            })
            .testid("firing"),
        ],
    )
    .row_attrs(|c| vec![("data-cluster", c.cluster.clone())]);
    let upgrade_spec = TableSpec::new(
        "overview-upgrades",
        vec![
            Column::link("cluster", tr!(i18n, home.cluster), |s: &ShadowView| {
                (routes::upgrade(&s.cluster), s.cluster.clone())
            }),
            Column::text("release", tr!(i18n, home.release), |s: &ShadowView| {
                let run = s.status.progress.clone().unwrap_or_default();
                format!(
                    "{} → {}",
                    run.from_release.unwrap_or_else(|| "—".into()),
                    run.release
                )
            })
            .mono(),
            Column::text("stage", tr!(i18n, home.stage), |s: &ShadowView| {
                s.status
                    .progress
                    .as_ref()
                    .and_then(|p| p.current_stage.clone())
                    .unwrap_or_default()
            }),
        ],
    );
    let plugin_spec = TableSpec::new(
        "overview-plugins",
        vec![
            Column::link("plugin", tr!(i18n, home.plugin), |r: &PluginRow| {
                (routes::plugin(&r.name), r.name.clone())
            })
            .mono(),
            Column::new("phase", tr!(i18n, home.phase), |r: &PluginRow| {
                let (tone, text) = (phase_tone(r.phase), format!("{:?}", r.phase));
                view! { <Badge tone>{text}</Badge> }
            }),
            Column::text("why", tr!(i18n, home.why), move |r: &PluginRow| {
                match r.pending_pods.first() {
                    Some(p) => t_string!(
                        i18n,
                        home.pod_pending,
                        pod = p.name.clone(),
                        message = p.message.clone()
                    )
                    .to_string(),
                    None => r.message.clone(),
                }
            })
            .testid("why"),
        ],
    )
    .row_attrs(|r| vec![("data-plugin", r.name.clone())]);
    view! {
        <PageHeader title=tr!(i18n, home.title)>{clusters.badge()}</PageHeader>
        <Help>{t!(i18n, home.help)}</Help>
        <PanelGrid attr:data-testid="admin-overview">
            <Section id="overview-clusters-title" title=tr!(i18n, home.clusters) wide=true>
                <DataTable spec=cluster_spec rows=clusters.data empty_title=tr!(i18n, home.no_clusters) empty_body=tr!(i18n, home.no_clusters_body) />
            </Section>
            <Section id="overview-alerts-title" title=tr!(i18n, home.alerts) wide=true>
                <DataTable spec=alert_spec rows=alerts.data empty_title=tr!(i18n, home.no_alerts) empty_body=tr!(i18n, home.no_alerts_body) />
            </Section>
            <Section id="overview-upgrades-title" title=tr!(i18n, home.upgrades) wide=true>
                <DataTable spec=upgrade_spec rows=upgrades.data empty_title=tr!(i18n, home.no_upgrades) empty_body=tr!(i18n, home.no_upgrades_body) />
            </Section>
            <Section id="overview-plugins-title" title=tr!(i18n, home.plugins) wide=true>
                <DataTable spec=plugin_spec rows=plugins.data empty_title=tr!(i18n, home.no_plugins) empty_body=tr!(i18n, home.no_plugins_body) />
            </Section>
        </PanelGrid>
    }
}
