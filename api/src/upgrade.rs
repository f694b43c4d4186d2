//! The ClusterVersionShadow resource (`clusterversionshadows.platform.nextgen-console.io`,
//! short name `cvsh`, cluster-scoped on global, named after its cluster), in the manner of a
//! Cluster Version Operator: `spec.desiredUpdate` requests a platform release; the status holds
//! the preflight, the stages of the update in flight and the history of past ones.
//!
//! This module is the resource and the decisions (which release a cluster is on, what preflight
//! says, which stages an update has); the controller in the server carries them out.

use serde::{Deserialize, Serialize};

use crate::catalog::{self, Lifecycle};
use crate::cluster::ClusterCondition;
use crate::matrix::{self, PlatformRelease, Verdict};

/// Condition types.
pub const PROGRESSING: &str = "Progressing";
pub const PREFLIGHT_BLOCKED: &str = "PreflightBlocked";
/// How many past updates the history keeps.
pub const HISTORY_LIMIT: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "ClusterVersionShadow",
        plural = "clusterversionshadows",
        status = "ShadowState",
        shortname = "cvsh",
        printcolumn = r#"{"name":"Current","type":"string","jsonPath":".status.currentRelease"}"#,
        printcolumn = r#"{"name":"Desired","type":"string","jsonPath":".spec.desiredUpdate.release"}"#,
        printcolumn = r#"{"name":"Stage","type":"string","jsonPath":".status.progress.currentStage"}"#,
        printcolumn = r#"{"name":"Progressing","type":"string","jsonPath":".status.conditions[?(@.type==\"Progressing\")].status"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterVersionShadowSpec {
    /// The platform release the cluster should be on; unset, nothing is requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_update: Option<DesiredUpdate>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DesiredUpdate {
    /// A platform release of the support matrix, for example "4.3".
    pub release: String,
    /// Go ahead although preflight blocks (each blocking check is recorded in the history).
    #[serde(default)]
    pub force: bool,
    /// Allow a release that is not a recommended next step from the cluster's current one
    /// (skipping releases); without it such a request is refused, by the console and by the
    /// controller alike. Always written, so a merge patch of a new request clears an old `true`.
    #[serde(default)]
    pub allow_explicit_upgrade: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShadowState {
    /// The platform release the cluster's Core plugins are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_release: Option<String>,
    #[serde(default)]
    pub conditions: Vec<ClusterCondition>,
    /// The last preflight of the desired release.
    #[serde(default)]
    pub preflight: Vec<PreflightCheck>,
    /// The update in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<UpdateRun>,
    /// Past updates, newest first.
    #[serde(default)]
    pub history: Vec<UpdateRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum CheckResult {
    #[default]
    Passed,
    /// Worth knowing; does not stop the update.
    Warning,
    /// Stops the update unless it is forced.
    Blocking,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct PreflightCheck {
    /// "Reachability", "KubernetesVersion" or "Plugin <name>".
    pub name: String,
    pub result: CheckResult,
    pub message: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum RunState {
    #[default]
    Progressing,
    Completed,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateRun {
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_release: Option<String>,
    #[serde(default)]
    pub forced: bool,
    pub state: RunState,
    pub started_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// The name of the stage running now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_stage: Option<String>,
    pub stages: Vec<Stage>,
    #[serde(default)]
    pub message: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum StageState {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub name: String,
    /// For a plugin stage: the Core plugin and the version it goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub state: StageState,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_time: Option<String>,
}

/// A cluster's ClusterVersionShadow as the console answers it (`upgrades/list`, `upgrades/get`,
/// and `upgrades/request`, which answers the shadow it wrote).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowView {
    pub cluster: String,
    /// `metadata.generation`: the answer to a request carries the generation it wrote, which the
    /// status's `observedGeneration` reaches once the controller has judged that request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    pub desired: Option<DesiredUpdate>,
    pub status: ShadowState,
}

impl ShadowView {
    /// Whether the status is the controller's verdict on the spec as it is now (its
    /// `observedGeneration` has reached the spec's generation); true when either is unknown.
    pub fn observed(&self) -> bool {
        match (self.generation, self.status.observed_generation) {
            (Some(generation), Some(observed)) => observed >= generation,
            (Some(_), None) => false,
            (None, _) => true,
        }
    }
}

#[cfg(feature = "kube")]
impl From<ClusterVersionShadow> for ShadowView {
    fn from(s: ClusterVersionShadow) -> Self {
        ShadowView {
            cluster: s.metadata.name.unwrap_or_default(),
            generation: s.metadata.generation,
            desired: s.spec.desired_update,
            status: s.status.unwrap_or_default(),
        }
    }
}

/// One workload cluster's Kubernetes-version verdict for a target release
/// (`upgrades/preflight`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPreflight {
    pub cluster: String,
    /// What the cluster reported (its version), or why it could not be asked.
    pub reported: String,
    pub verdict: Verdict,
}

/// A release a cluster may move to, as the console offers it (`upgrades/available`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailableUpdate {
    pub release: String,
    /// A recommended next step from the cluster's current release; any other needs
    /// `allowExplicitUpgrade`.
    pub recommended: bool,
    /// The Kubernetes minors the release is compatible with (`1.31 – 1.34`).
    pub kubernetes: String,
}

/// The recommended next step from `current`: the release right after it. Releases are taken
/// one at a time, as the support matrix is built (each release's compatible Kubernetes minors
/// overlap its predecessor's, so the workload clusters can follow). `None` when the current
/// release is unknown or the newest.
pub fn recommended_next(current: Option<&str>) -> Option<&'static PlatformRelease> {
    let current = matrix::release(current?)?;
    matrix::RELEASES
        .iter()
        .filter(|r| r.order > current.order)
        .min_by_key(|r| r.order)
}

/// The releases newer than `current`, newest first, each marked whether it is a recommended
/// next step; every release, none recommended, when the current one is unknown.
pub fn available_updates(current: Option<&str>) -> Vec<AvailableUpdate> {
    let known = current.and_then(matrix::release);
    let next = recommended_next(current);
    matrix::RELEASES
        .iter()
        .filter(|r| known.is_none_or(|c| r.order > c.order))
        .map(|r| AvailableUpdate {
            release: r.name.into(),
            recommended: next.is_some_and(|n| n.name == r.name),
            kubernetes: format!("{} – {}", r.compatible_min, r.compatible_max),
        })
        .collect()
}

/// Why an update from `current` to `target` needs `allowExplicitUpgrade`: a newer release that
/// is not the recommended next step. `None` for the recommended one, for what is not newer
/// (refused or a no-op on its own terms) and when the current release is unknown.
pub fn explicit_upgrade_reason(current: Option<&str>, target: &PlatformRelease) -> Option<String> {
    let from = matrix::release(current?)?;
    if target.order <= from.order {
        return None;
    }
    let next = recommended_next(Some(from.name))?;
    (next.name != target.name).then(|| {
        format!(
            "{} is not a recommended next step from {} (recommended: {}); it skips releases",
            target.name, from.name, next.name
        )
    })
}

impl ShadowState {
    pub fn condition(&self, type_: &str) -> Option<&ClusterCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

impl UpdateRun {
    /// Stages done out of all, for a progress bar.
    pub fn done(&self) -> (usize, usize) {
        let done = self
            .stages
            .iter()
            .filter(|s| s.state == StageState::Succeeded)
            .count();
        (done, self.stages.len())
    }
}

/// A plugin installed on the cluster, as the shadow sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub plugin: String,
    pub version: String,
}

/// The release every installed Core plugin is on, if they agree on one.
pub fn current_release(installed: &[Installed]) -> Option<&'static str> {
    let core: Vec<(&catalog::CatalogPlugin, &str)> = installed
        .iter()
        .filter_map(|i| catalog::plugin(&i.plugin).map(|p| (p, i.version.as_str())))
        .filter(|(p, _)| p.lifecycle == Lifecycle::Core)
        .collect();
    if core.is_empty() {
        return None;
    }
    matrix::RELEASES.iter().map(|r| r.name).find(|release| {
        core.iter()
            .all(|(p, version)| p.for_release(release) == Some(*version))
    })
}

/// Why an update is refused before preflight: an unknown release, a downgrade, or a release
/// that skips the recommended next step without `allowExplicitUpgrade`. The console's server
/// function and the controller both apply it, so a request is judged the same wherever it is
/// written.
pub fn check_request(
    request: &DesiredUpdate,
    current: Option<&str>,
) -> Result<&'static PlatformRelease, String> {
    let target = matrix::release(&request.release).ok_or_else(|| {
        format!(
            "{:?} is not a platform release; choose one of {}",
            request.release,
            matrix::RELEASES.map(|r| r.name).join(", ")
        )
    })?;
    if let Some(current) = current.and_then(matrix::release)
        && target.order < current.order
    {
        return Err(format!(
            "{} is older than the cluster's release {}; downgrades are not supported",
            target.name, current.name
        ));
    }
    if !request.allow_explicit_upgrade
        && let Some(reason) = explicit_upgrade_reason(current, target)
    {
        return Err(format!(
            "{reason}. To skip releases anyway, request it as an explicit upgrade \
             (spec.desiredUpdate.allowExplicitUpgrade; `ac adm upgrade --allow-explicit-upgrade`; \
             \"Allow an explicit upgrade\" on the cluster's update page)"
        ));
    }
    Ok(target)
}

/// Preflight for an update of a cluster to `target`: reachable (`version` is what its API
/// server reported, or why it did not answer), its Kubernetes version per the support matrix,
/// and every non-Core plugin's version able to run on the release. `is_workload` is false for
/// the global cluster, which the matrix does not judge.
pub fn preflight(
    target: &PlatformRelease,
    version: &Result<String, String>,
    is_workload: bool,
    installed: &[Installed],
) -> Vec<PreflightCheck> {
    let mut checks = Vec::new();
    match version {
        Ok(v) => {
            checks.push(PreflightCheck {
                name: "Reachability".into(),
                result: CheckResult::Passed,
                message: format!("the API server answered {v}"),
            });
            checks.push(kubernetes_check(target, v, is_workload));
        }
        Err(reason) => checks.push(PreflightCheck {
            name: "Reachability".into(),
            result: CheckResult::Blocking,
            message: format!("the cluster does not answer: {reason}"),
        }),
    }
    for i in installed {
        let Some(plugin) = catalog::plugin(&i.plugin) else {
            checks.push(PreflightCheck {
                name: format!("Plugin {}", i.plugin),
                result: CheckResult::Warning,
                message: "not in the catalog; the update does not touch it".into(),
            });
            continue;
        };
        let runs = plugin
            .version(&i.version)
            .is_some_and(|v| v.releases.contains(&target.name));
        let (result, message) = match plugin.lifecycle {
            Lifecycle::Core => (
                CheckResult::Passed,
                match plugin.for_release(target.name) {
                    Some(to) if to != i.version => {
                        format!("Core: {} → {to} during the update", i.version)
                    }
                    _ => format!("Core: {} already", i.version),
                },
            ),
            _ if runs => (
                CheckResult::Passed,
                format!("{} runs on {}", i.version, target.name),
            ),
            Lifecycle::Aligned => (
                CheckResult::Warning,
                format!(
                    "{} is made for the current release; upgrade it to a {} version after the update",
                    i.version, target.name
                ),
            ),
            Lifecycle::Agnostic => (
                CheckResult::Blocking,
                format!(
                    "{} does not run on {}; upgrade it first (to {})",
                    i.version,
                    target.name,
                    plugin
                        .versions
                        .iter()
                        .filter(|v| v.releases.contains(&target.name))
                        .map(|v| v.version)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ),
        };
        checks.push(PreflightCheck {
            name: format!("Plugin {}", i.plugin),
            result,
            message,
        });
    }
    checks
}

fn kubernetes_check(target: &PlatformRelease, version: &str, is_workload: bool) -> PreflightCheck {
    let name = "KubernetesVersion".to_string();
    if !is_workload {
        return PreflightCheck {
            name,
            result: CheckResult::Passed,
            message: format!("{version}: the global cluster is upgraded with the platform"),
        };
    }
    match matrix::preflight(target, version) {
        Verdict::Ok => PreflightCheck {
            name,
            result: CheckResult::Passed,
            message: format!(
                "{version} is within {}'s compatible {} – {}",
                target.name, target.compatible_min, target.compatible_max
            ),
        },
        Verdict::OutsideCompatible { version, min, max } => PreflightCheck {
            name,
            result: CheckResult::Blocking,
            message: format!(
                "{version} is outside {}'s compatible {min} – {max}",
                target.name
            ),
        },
        Verdict::NotLatestCompatible { version, required } => PreflightCheck {
            name,
            result: CheckResult::Blocking,
            message: format!(
                "{version}: {} needs every workload cluster on {required} first",
                target.name
            ),
        },
        Verdict::Unknown { reported } => PreflightCheck {
            name,
            result: CheckResult::Blocking,
            message: format!("the version {reported:?} cannot be read"),
        },
    }
}

/// The stages of an update to `target`: preflight (already run), one per Core plugin that is
/// not on the release's version yet (in catalog order), and a final verification.
pub fn plan(target: &PlatformRelease, installed: &[Installed], now: &str) -> Vec<Stage> {
    let mut stages = vec![Stage {
        name: "Preflight".into(),
        state: StageState::Succeeded,
        message: "checks passed or forced".into(),
        started_time: Some(now.into()),
        finished_time: Some(now.into()),
        ..Stage::default()
    }];
    for plugin in catalog::CATALOG
        .iter()
        .filter(|p| p.lifecycle == Lifecycle::Core)
    {
        let Some(on) = installed.iter().find(|i| i.plugin == plugin.name) else {
            continue;
        };
        let Some(to) = plugin.for_release(target.name) else {
            continue;
        };
        if on.version != to {
            stages.push(Stage {
                name: format!("Upgrade {} to {to}", plugin.name),
                plugin: Some(plugin.name.into()),
                version: Some(to.into()),
                ..Stage::default()
            });
        }
    }
    stages.push(Stage {
        name: "Verify".into(),
        ..Stage::default()
    });
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installed(list: &[(&str, &str)]) -> Vec<Installed> {
        list.iter()
            .map(|(p, v)| Installed {
                plugin: (*p).into(),
                version: (*v).into(),
            })
            .collect()
    }

    fn release(name: &str) -> &'static PlatformRelease {
        matrix::release(name).unwrap_or_else(|| panic!("{name} is a release"))
    }

    #[test]
    fn the_current_release_is_the_one_all_core_plugins_agree_on() {
        let at_42 = installed(&[
            ("platform-agent", "4.2.1"),
            ("log-collector", "3.0.2"),
            ("cert-manager", "1.14.0"),
        ]);
        assert_eq!(current_release(&at_42), Some("4.2"));
        let halfway = installed(&[("platform-agent", "4.3.0"), ("log-collector", "3.0.2")]);
        assert_eq!(current_release(&halfway), None);
        assert_eq!(
            current_release(&installed(&[("cert-manager", "1.14.0")])),
            None
        );
    }

    #[test]
    fn requests_name_unknown_releases_and_refuse_downgrades() {
        let ask = |release: &str| DesiredUpdate {
            release: release.into(),
            ..DesiredUpdate::default()
        };
        assert!(
            check_request(&ask("5.0"), Some("4.2"))
                .err()
                .is_some_and(|e| e.contains("4.3, 4.2, 4.1, 4.0"))
        );
        assert!(
            check_request(&ask("4.1"), Some("4.2"))
                .err()
                .is_some_and(|e| e.contains("downgrades"))
        );
        assert_eq!(
            check_request(&ask("4.3"), Some("4.2")).map(|r| r.name),
            Ok("4.3")
        );
    }

    #[test]
    fn a_skipped_release_is_refused_unless_the_request_allows_an_explicit_upgrade() {
        let skip = DesiredUpdate {
            release: "4.3".into(),
            ..DesiredUpdate::default()
        };
        let refused = check_request(&skip, Some("4.1")).err().unwrap_or_default();
        assert!(
            refused.contains("not a recommended next step from 4.1 (recommended: 4.2)")
                && refused.contains("allowExplicitUpgrade")
                && refused.contains("--allow-explicit-upgrade"),
            "{refused}"
        );
        let allowed = DesiredUpdate {
            allow_explicit_upgrade: true,
            ..skip.clone()
        };
        assert_eq!(
            check_request(&allowed, Some("4.1")).map(|r| r.name),
            Ok("4.3")
        );
        // The next release needs nothing; an unknown current release is not judged.
        assert!(check_request(&skip, Some("4.2")).is_ok());
        assert!(check_request(&skip, None).is_ok());
        // A downgrade is refused as such, allowed or not.
        let down = DesiredUpdate {
            release: "4.0".into(),
            allow_explicit_upgrade: true,
            ..DesiredUpdate::default()
        };
        assert!(
            check_request(&down, Some("4.2"))
                .err()
                .is_some_and(|e| e.contains("downgrades"))
        );
    }

    #[test]
    fn the_console_offers_newer_releases_newest_first_with_the_next_one_recommended() {
        let offered = |current| {
            available_updates(current)
                .into_iter()
                .map(|u| (u.release, u.recommended))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            offered(Some("4.1")),
            [("4.3".to_string(), false), ("4.2".to_string(), true)]
        );
        assert_eq!(offered(Some("4.3")), []);
        assert_eq!(
            offered(None).iter().filter(|(_, r)| *r).count(),
            0,
            "nothing is recommended from an unknown release"
        );
        assert_eq!(offered(None).len(), matrix::RELEASES.len());
        assert_eq!(available_updates(Some("4.2"))[0].kubernetes, "1.31 – 1.34");
        assert_eq!(recommended_next(Some("4.0")).map(|r| r.name), Some("4.1"));
        assert_eq!(recommended_next(Some("4.3")), None);
        assert_eq!(
            explicit_upgrade_reason(Some("4.0"), release("4.3")).as_deref(),
            Some(
                "4.3 is not a recommended next step from 4.0 (recommended: 4.1); it skips releases"
            )
        );
        assert_eq!(explicit_upgrade_reason(Some("4.2"), release("4.3")), None);
        assert_eq!(explicit_upgrade_reason(Some("4.3"), release("4.1")), None);
    }

    #[test]
    fn a_view_is_observed_once_the_status_reaches_the_specs_generation() {
        let view = |generation, observed| ShadowView {
            generation,
            status: ShadowState {
                observed_generation: observed,
                ..ShadowState::default()
            },
            ..ShadowView::default()
        };
        assert!(!view(Some(3), Some(2)).observed());
        assert!(!view(Some(3), None).observed());
        assert!(view(Some(3), Some(3)).observed());
        assert!(view(None, None).observed());
    }

    #[test]
    fn preflight_blocks_on_unreachable_version_and_agnostic_plugins_but_only_warns_for_aligned() {
        let plugins = installed(&[
            ("platform-agent", "4.2.1"),
            ("ingress-gateway", "4.2.3"),
            ("cert-manager", "1.14.0"),
        ]);
        let checks = preflight(release("4.3"), &Ok("v1.34.4".into()), true, &plugins);
        let result = |name: &str| {
            checks
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.result)
                .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
        };
        assert_eq!(result("Reachability"), CheckResult::Passed);
        assert_eq!(result("KubernetesVersion"), CheckResult::Passed);
        assert_eq!(result("Plugin platform-agent"), CheckResult::Passed);
        assert_eq!(result("Plugin ingress-gateway"), CheckResult::Warning);
        assert_eq!(result("Plugin cert-manager"), CheckResult::Blocking);

        let old = preflight(release("4.3"), &Ok("v1.30.2+k3s1".into()), true, &[]);
        assert_eq!(old[1].result, CheckResult::Blocking, "{old:?}");
        // The global cluster is not judged by the workload matrix.
        let global = preflight(release("4.3"), &Ok("v1.30.2".into()), false, &[]);
        assert_eq!(global[1].result, CheckResult::Passed);
        let down = preflight(release("4.3"), &Err("connection refused".into()), true, &[]);
        assert_eq!((down.len(), down[0].result), (1, CheckResult::Blocking));
    }

    #[test]
    fn the_plan_upgrades_each_core_plugin_not_on_the_release_then_verifies() {
        let plugins = installed(&[
            ("log-collector", "3.1.0"),
            ("platform-agent", "4.2.1"),
            ("cert-manager", "1.16.2"),
        ]);
        let stages = plan(release("4.3"), &plugins, "t");
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["Preflight", "Upgrade platform-agent to 4.3.0", "Verify"]
        );
        assert_eq!(stages[0].state, StageState::Succeeded);
        assert_eq!(stages[1].state, StageState::Pending);
        let run = UpdateRun {
            stages,
            ..UpdateRun::default()
        };
        assert_eq!(run.done(), (1, 3));
    }
}
