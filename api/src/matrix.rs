//! The Kubernetes support matrix of the platform's releases, the range of versions the console
//! manages, and the upgrade preflight that both decide. Data in code: it ships with the release
//! it describes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Kubernetes version as clusters report it: `v1.33.4`, `1.33`, `v1.33.4+k3s1`,
/// `v1.30.2-eks-1552ad0`. Vendor suffixes and build metadata are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KubeVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses what `/version`'s `gitVersion` (or a person) says; `None` when it is no version.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let core = text.split(['+', '-']).next()?;
        let mut parts = core.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            let part = part?;
            // GKE and others have reported minors such as "33+"; keep the leading digits.
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = match parts.next() {
            Some(p) => number(Some(p))?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self::new(major, minor, patch))
    }

    /// The minor line this version belongs to.
    pub const fn minor_line(self) -> Minor {
        Minor(self.major, self.minor)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A Kubernetes minor line, such as 1.33.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Minor(pub u32, pub u32);

impl fmt::Display for Minor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// The versions the console manages: `>=1.19.0 <1.35.0`.
pub const MANAGED_MIN: KubeVersion = KubeVersion::new(1, 19, 0);
pub const MANAGED_BELOW: KubeVersion = KubeVersion::new(1, 35, 0);
pub const MANAGED_RANGE: &str = ">=1.19.0 <1.35.0";

/// Why a cluster cannot be managed, in words that name the version and the range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ManagementRangeError {
    #[error("cluster reports {reported:?}, which is not a Kubernetes version")]
    Unparsable { reported: String },
    #[error("cluster reports {version}; the supported range is {MANAGED_RANGE}")]
    OutOfRange { version: KubeVersion },
}

/// Whether the console manages a cluster that reports `reported` (its `/version` gitVersion).
pub fn check_management_range(reported: &str) -> Result<KubeVersion, ManagementRangeError> {
    let version = KubeVersion::parse(reported).ok_or_else(|| ManagementRangeError::Unparsable {
        reported: reported.into(),
    })?;
    if version >= MANAGED_MIN && version < MANAGED_BELOW {
        Ok(version)
    } else {
        Err(ManagementRangeError::OutOfRange { version })
    }
}

/// One platform release: the Kubernetes minors it creates clusters with, and the minors its
/// global cluster is compatible with as workload clusters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformRelease {
    pub name: &'static str,
    pub order: (u32, u32),
    pub creates: &'static [Minor],
    pub compatible_min: Minor,
    pub compatible_max: Minor,
}

impl PlatformRelease {
    pub fn is_compatible(&self, minor: Minor) -> bool {
        self.compatible_min <= minor && minor <= self.compatible_max
    }

    /// From 4.3 on, an upgrade needs every workload cluster within the compatible minors; up
    /// to 4.2 it needs every workload cluster already on the latest compatible minor.
    pub fn needs_latest_compatible(&self) -> bool {
        self.order < (4, 3)
    }
}

/// The matrix, newest release first.
pub const RELEASES: [PlatformRelease; 4] = [
    PlatformRelease {
        name: "4.3",
        order: (4, 3),
        creates: &[Minor(1, 34)],
        compatible_min: Minor(1, 31),
        compatible_max: Minor(1, 34),
    },
    PlatformRelease {
        name: "4.2",
        order: (4, 2),
        creates: &[Minor(1, 33)],
        compatible_min: Minor(1, 30),
        compatible_max: Minor(1, 33),
    },
    PlatformRelease {
        name: "4.1",
        order: (4, 1),
        creates: &[Minor(1, 32)],
        compatible_min: Minor(1, 29),
        compatible_max: Minor(1, 32),
    },
    PlatformRelease {
        name: "4.0",
        order: (4, 0),
        creates: &[Minor(1, 31), Minor(1, 30), Minor(1, 29), Minor(1, 28)],
        compatible_min: Minor(1, 28),
        compatible_max: Minor(1, 31),
    },
];

pub fn release(name: &str) -> Option<&'static PlatformRelease> {
    RELEASES.iter().find(|r| r.name == name)
}

/// A workload cluster's verdict for an upgrade to a release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Ok,
    /// The cluster's minor is outside the release's compatible minors (4.3 and later).
    OutsideCompatible {
        version: KubeVersion,
        min: Minor,
        max: Minor,
    },
    /// The cluster is not on the latest compatible minor yet (4.2 and earlier).
    NotLatestCompatible {
        version: KubeVersion,
        required: Minor,
    },
    /// The cluster's version could not be read (unreachable, or no version).
    Unknown {
        reported: String,
    },
}

impl Verdict {
    pub fn is_blocking(&self) -> bool {
        !matches!(self, Verdict::Ok)
    }
}

/// The preflight verdict for one workload cluster reporting `reported`.
pub fn preflight(release: &PlatformRelease, reported: &str) -> Verdict {
    let Some(version) = KubeVersion::parse(reported) else {
        return Verdict::Unknown {
            reported: reported.into(),
        };
    };
    let minor = version.minor_line();
    if minor > release.compatible_max
        || (!release.needs_latest_compatible() && minor < release.compatible_min)
    {
        // Newer than the release knows (or, from 4.3 on, older than it supports): no upgrade
        // of this cluster makes it fit, it must be replaced or the release must wait.
        return Verdict::OutsideCompatible {
            version,
            min: release.compatible_min,
            max: release.compatible_max,
        };
    }
    if release.needs_latest_compatible() {
        if minor == release.compatible_max {
            Verdict::Ok
        } else {
            Verdict::NotLatestCompatible {
                version,
                required: release.compatible_max,
            }
        }
    } else {
        Verdict::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> KubeVersion {
        KubeVersion::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn versions_parse_with_patch_prefix_and_vendor_suffixes() {
        assert_eq!(v("v1.33.4"), KubeVersion::new(1, 33, 4));
        assert_eq!(v("1.33"), KubeVersion::new(1, 33, 0));
        assert_eq!(v("v1.33.4+k3s1"), KubeVersion::new(1, 33, 4));
        assert_eq!(v("v1.30.2-eks-1552ad0"), KubeVersion::new(1, 30, 2));
        assert_eq!(v("v1.28.3-gke.1286000"), KubeVersion::new(1, 28, 3));
        assert_eq!(v("v1.29.1+rke2r1"), KubeVersion::new(1, 29, 1));
        assert_eq!(v("v1.35.0-alpha.1"), KubeVersion::new(1, 35, 0));
        for bad in [
            "",
            "v",
            "latest",
            "v1",
            "1.x.0",
            "1.2.3.4",
            "v0.0.0-master+$Format",
        ] {
            if bad.starts_with("v0.0.0") {
                // A binary built without version stamps parses, as 0.0.0: out of range.
                assert_eq!(v(bad), KubeVersion::new(0, 0, 0));
            } else {
                assert_eq!(KubeVersion::parse(bad), None, "{bad:?}");
            }
        }
    }

    #[test]
    fn the_management_range_is_half_open_and_names_itself_when_refusing() {
        for ok in ["v1.19.0", "v1.28.15", "v1.34.4", "v1.34.99+k3s1"] {
            assert!(check_management_range(ok).is_ok(), "{ok}");
        }
        for refused in ["v1.18.9", "v1.35.0", "v1.36.1", "v0.0.0-master+abc"] {
            let error = check_management_range(refused)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(MANAGED_RANGE), "{refused}: {error}");
            assert!(error.contains('v'), "{refused}: {error}");
        }
        assert_eq!(
            check_management_range("v1.35.0")
                .err()
                .map(|e| e.to_string()),
            Some("cluster reports v1.35.0; the supported range is >=1.19.0 <1.35.0".into())
        );
        assert!(matches!(
            check_management_range("banana"),
            Err(ManagementRangeError::Unparsable { .. })
        ));
    }

    #[test]
    fn every_row_of_the_matrix_is_as_published() {
        let row = |name: &str| release(name).unwrap_or_else(|| panic!("release {name}"));
        let minors =
            |r: &PlatformRelease| r.creates.iter().map(Minor::to_string).collect::<Vec<_>>();
        assert_eq!(minors(row("4.0")), ["1.31", "1.30", "1.29", "1.28"]);
        assert_eq!(
            (row("4.0").compatible_min, row("4.0").compatible_max),
            (Minor(1, 28), Minor(1, 31))
        );
        assert_eq!(minors(row("4.1")), ["1.32"]);
        assert_eq!(
            (row("4.1").compatible_min, row("4.1").compatible_max),
            (Minor(1, 29), Minor(1, 32))
        );
        assert_eq!(minors(row("4.2")), ["1.33"]);
        assert_eq!(
            (row("4.2").compatible_min, row("4.2").compatible_max),
            (Minor(1, 30), Minor(1, 33))
        );
        assert_eq!(minors(row("4.3")), ["1.34"]);
        assert_eq!(
            (row("4.3").compatible_min, row("4.3").compatible_max),
            (Minor(1, 31), Minor(1, 34))
        );
        assert!(release("4.4").is_none());
    }

    #[test]
    fn from_4_3_every_workload_cluster_must_be_within_the_compatible_minors() {
        let r = release("4.3").unwrap_or_else(|| panic!("4.3"));
        for ok in ["v1.31.0", "v1.32.7", "v1.33.4+k3s1", "v1.34.4"] {
            assert_eq!(preflight(r, ok), Verdict::Ok, "{ok}");
        }
        assert_eq!(
            preflight(r, "v1.30.9"),
            Verdict::OutsideCompatible {
                version: KubeVersion::new(1, 30, 9),
                min: Minor(1, 31),
                max: Minor(1, 34)
            }
        );
        assert!(preflight(r, "v1.35.0").is_blocking());
    }

    #[test]
    fn up_to_4_2_every_workload_cluster_must_already_be_on_the_latest_compatible_minor() {
        for (name, latest, older) in [
            ("4.2", "v1.33.1", "v1.32.9"),
            ("4.1", "v1.32.0+k3s1", "v1.31.4"),
            ("4.0", "v1.31.12-eks-1", "v1.28.0"),
        ] {
            let r = release(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(preflight(r, latest), Verdict::Ok, "{name} {latest}");
            assert_eq!(
                preflight(r, older),
                Verdict::NotLatestCompatible {
                    version: v(older),
                    required: r.compatible_max
                },
                "{name} {older}"
            );
        }
        // Newer than the release knows cannot be upgraded into it: outside, not "upgrade to".
        let r = release("4.2").unwrap_or_else(|| panic!("4.2"));
        assert_eq!(
            preflight(r, "v1.34.4"),
            Verdict::OutsideCompatible {
                version: KubeVersion::new(1, 34, 4),
                min: Minor(1, 30),
                max: Minor(1, 33)
            }
        );
    }

    #[test]
    fn an_unreadable_version_blocks() {
        let r = release("4.3").unwrap_or_else(|| panic!("4.3"));
        assert_eq!(
            preflight(r, "unreachable"),
            Verdict::Unknown {
                reported: "unreachable".into()
            }
        );
    }
}
