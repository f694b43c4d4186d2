//! The plugin catalog as data: every plugin the platform ships, its lifecycle, and each of its
//! versions with the platform releases that version runs on; and the rules that follow from
//! the lifecycle.
//!
//! - **Core** plugins are part of a platform release: exactly one version per release. They
//!   refuse a standalone upgrade and move only when the cluster is upgraded
//!   (ClusterVersionShadow).
//! - **Aligned** plugins are released with the platform but upgrade on their own, among the
//!   versions made for the cluster's current release.
//! - **Agnostic** plugins have a life of their own: any newer version that runs on the
//!   cluster's current release.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum Lifecycle {
    Core,
    Aligned,
    Agnostic,
}

impl std::fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lifecycle::Core => "Core",
            Lifecycle::Aligned => "Aligned",
            Lifecycle::Agnostic => "Agnostic",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluginVersion {
    pub version: &'static str,
    /// The platform releases this version runs on.
    pub releases: &'static [&'static str],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogPlugin {
    pub name: &'static str,
    pub lifecycle: Lifecycle,
    /// Oldest first.
    pub versions: &'static [PluginVersion],
}

const fn v(version: &'static str, releases: &'static [&'static str]) -> PluginVersion {
    PluginVersion { version, releases }
}

pub const CATALOG: [CatalogPlugin; 7] = [
    CatalogPlugin {
        name: "platform-agent",
        lifecycle: Lifecycle::Core,
        versions: &[
            v("4.0.2", &["4.0"]),
            v("4.1.3", &["4.1"]),
            v("4.2.1", &["4.2"]),
            v("4.3.0", &["4.3"]),
        ],
    },
    CatalogPlugin {
        name: "log-collector",
        lifecycle: Lifecycle::Core,
        versions: &[
            v("2.8.0", &["4.0"]),
            v("2.9.1", &["4.1"]),
            v("3.0.2", &["4.2"]),
            v("3.1.0", &["4.3"]),
        ],
    },
    CatalogPlugin {
        name: "ingress-gateway",
        lifecycle: Lifecycle::Aligned,
        versions: &[
            v("4.1.0", &["4.1"]),
            v("4.2.0", &["4.2"]),
            v("4.2.3", &["4.2"]),
            v("4.3.0", &["4.3"]),
            v("4.3.1", &["4.3"]),
        ],
    },
    CatalogPlugin {
        name: "cert-manager",
        lifecycle: Lifecycle::Agnostic,
        versions: &[
            v("1.14.0", &["4.0", "4.1", "4.2"]),
            v("1.16.2", &["4.1", "4.2", "4.3"]),
            v("1.18.0", &["4.2", "4.3"]),
        ],
    },
    CatalogPlugin {
        name: "gpu-scheduler",
        lifecycle: Lifecycle::Agnostic,
        versions: &[
            v("0.9.0", &["4.0", "4.1", "4.2", "4.3"]),
            v("1.0.0", &["4.2", "4.3"]),
        ],
    },
    // The monitoring plugins: one per cluster, their settings in `spec.monitoring`
    // (`plugin_settings`). Released with the platform, upgraded within its release.
    CatalogPlugin {
        name: crate::plugin_settings::PROMETHEUS,
        lifecycle: Lifecycle::Aligned,
        versions: &[
            v("3.4.2", &["4.0", "4.1", "4.2"]),
            v("3.5.0", &["4.2", "4.3"]),
        ],
    },
    CatalogPlugin {
        name: crate::plugin_settings::VICTORIA_METRICS,
        lifecycle: Lifecycle::Aligned,
        versions: &[
            v("1.118.0", &["4.0", "4.1", "4.2"]),
            v("1.122.0", &["4.2", "4.3"]),
        ],
    },
];

pub fn plugin(name: &str) -> Option<&'static CatalogPlugin> {
    CATALOG.iter().find(|p| p.name == name)
}

impl CatalogPlugin {
    pub fn version(&self, version: &str) -> Option<&'static PluginVersion> {
        self.versions.iter().find(|v| v.version == version)
    }

    fn position(&self, version: &str) -> Option<usize> {
        self.versions.iter().position(|v| v.version == version)
    }

    /// The Core version a release ships (for a Core plugin).
    pub fn for_release(&self, release: &str) -> Option<&'static str> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.releases.contains(&release))
            .map(|v| v.version)
    }

    /// The versions a standalone upgrade may go to from `installed` on a cluster at platform
    /// release `current`, newest first; none for Core plugins.
    pub fn upgrades(&self, installed: &str, current: Option<&str>) -> Vec<&'static str> {
        if self.lifecycle == Lifecycle::Core {
            return Vec::new();
        }
        let from = self.position(installed);
        self.versions
            .iter()
            .enumerate()
            .filter(|(i, _)| from.is_none_or(|from| *i > from))
            .filter(|(_, v)| current.is_none_or(|current| v.releases.contains(&current)))
            .map(|(_, v)| v.version)
            .rev()
            .collect()
    }
}

/// Why a standalone plugin upgrade is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum UpgradeRefused {
    #[error(
        "{plugin} is a Core plugin: it follows the cluster upgrade. Request the platform release on the cluster's ClusterVersionShadow instead."
    )]
    Core { plugin: String },
    #[error("{plugin} has no version {version} in the catalog")]
    UnknownVersion { plugin: String, version: String },
    #[error("{plugin} {version} is not newer than the installed {installed}")]
    NotNewer {
        plugin: String,
        version: String,
        installed: String,
    },
    #[error(
        "{plugin} {version} does not run on platform release {release}; {lifecycle} plugins upgrade among the versions for the cluster's release"
    )]
    WrongRelease {
        plugin: String,
        version: String,
        release: String,
        lifecycle: Lifecycle,
    },
}

/// Checks a standalone upgrade of `plugin` from `installed` to `version` on a cluster at
/// `current`.
pub fn check_upgrade(
    plugin: &CatalogPlugin,
    installed: &str,
    version: &str,
    current: Option<&str>,
) -> Result<(), UpgradeRefused> {
    let name = plugin.name.to_string();
    if plugin.lifecycle == Lifecycle::Core {
        return Err(UpgradeRefused::Core { plugin: name });
    }
    let Some(target) = plugin.version(version) else {
        return Err(UpgradeRefused::UnknownVersion {
            plugin: name,
            version: version.into(),
        });
    };
    if let (Some(from), Some(to)) = (plugin.position(installed), plugin.position(version))
        && to <= from
    {
        return Err(UpgradeRefused::NotNewer {
            plugin: name,
            version: version.into(),
            installed: installed.into(),
        });
    }
    if let Some(release) = current
        && !target.releases.contains(&release)
    {
        return Err(UpgradeRefused::WrongRelease {
            plugin: name,
            version: version.into(),
            release: release.into(),
            lifecycle: plugin.lifecycle,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(name: &str) -> &'static CatalogPlugin {
        plugin(name).unwrap_or_else(|| panic!("{name} is in the catalog"))
    }

    #[test]
    fn every_core_plugin_has_exactly_one_version_per_release() {
        for p in CATALOG.iter().filter(|p| p.lifecycle == Lifecycle::Core) {
            for release in crate::matrix::RELEASES.map(|r| r.name) {
                let count = p
                    .versions
                    .iter()
                    .filter(|v| v.releases.contains(&release))
                    .count();
                assert_eq!(count, 1, "{} for {release}", p.name);
            }
        }
    }

    #[test]
    fn core_plugins_refuse_a_standalone_upgrade() {
        let agent = get("platform-agent");
        assert_eq!(
            check_upgrade(agent, "4.2.1", "4.3.0", Some("4.2")),
            Err(UpgradeRefused::Core {
                plugin: "platform-agent".into()
            })
        );
        assert!(agent.upgrades("4.2.1", Some("4.2")).is_empty());
        assert_eq!(agent.for_release("4.3"), Some("4.3.0"));
    }

    #[test]
    fn aligned_plugins_upgrade_within_the_clusters_release_only() {
        let gateway = get("ingress-gateway");
        assert_eq!(
            check_upgrade(gateway, "4.2.0", "4.2.3", Some("4.2")),
            Ok(())
        );
        assert!(matches!(
            check_upgrade(gateway, "4.2.0", "4.3.0", Some("4.2")),
            Err(UpgradeRefused::WrongRelease { .. })
        ));
        assert_eq!(gateway.upgrades("4.2.0", Some("4.2")), vec!["4.2.3"]);
        assert_eq!(
            gateway.upgrades("4.2.3", Some("4.3")),
            vec!["4.3.1", "4.3.0"]
        );
    }

    #[test]
    fn agnostic_plugins_take_any_newer_version_that_runs_on_the_release() {
        let certs = get("cert-manager");
        assert_eq!(
            certs.upgrades("1.14.0", Some("4.2")),
            vec!["1.18.0", "1.16.2"]
        );
        assert_eq!(certs.upgrades("1.14.0", Some("4.1")), vec!["1.16.2"]);
        assert_eq!(
            check_upgrade(certs, "1.14.0", "1.18.0", Some("4.2")),
            Ok(())
        );
        assert!(matches!(
            check_upgrade(certs, "1.16.2", "1.14.0", Some("4.2")),
            Err(UpgradeRefused::NotNewer { .. })
        ));
        assert!(matches!(
            check_upgrade(certs, "1.14.0", "9.9.9", Some("4.2")),
            Err(UpgradeRefused::UnknownVersion { .. })
        ));
        // A cluster whose release is not known yet is not held to one.
        assert_eq!(check_upgrade(certs, "1.14.0", "1.18.0", None), Ok(()));
    }
}
