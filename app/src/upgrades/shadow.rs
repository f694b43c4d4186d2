//! The ClusterVersionShadow resource (`clusterversionshadows.platform.nextgen-console.io`,
//! short name `cvsh`, cluster-scoped on global, named after its cluster), in the manner of a
//! Cluster Version Operator: `spec.desiredUpdate` requests a platform release; the status holds
//! the preflight, the stages of the update in flight and the history of past ones.
//!
//! This module is the resource and the decisions (which release a cluster is on, what preflight
//! says, which stages an update has); the controller in the server carries them out.

use serde::{Deserialize, Serialize};

use super::matrix::{self, PlatformRelease, Verdict};
use crate::clusters::resource::ClusterCondition;
use crate::plugins::catalog::{self, Lifecycle};

/// Condition types.
pub const PROGRESSING: &str = "Progressing";
pub const PREFLIGHT_BLOCKED: &str = "PreflightBlocked";
/// How many past updates the history keeps.
pub const HISTORY_LIMIT: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "ssr",
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DesiredUpdate {
    /// A platform release of the support matrix, for example "4.3".
    pub release: String,
    /// Go ahead although preflight blocks (each blocking check is recorded in the history).
    #[serde(default)]
    pub force: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum CheckResult {
    #[default]
    Passed,
    /// Worth knowing; does not stop the update.
    Warning,
    /// Stops the update unless it is forced.
    Blocking,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PreflightCheck {
    /// "Reachability", "KubernetesVersion" or "Plugin <name>".
    pub name: String,
    pub result: CheckResult,
    pub message: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum RunState {
    #[default]
    Progressing,
    Completed,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum StageState {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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

/// Why an update is refused before preflight.
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
            force: false,
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
