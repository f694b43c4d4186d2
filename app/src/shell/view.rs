//! The two console views, their navigation sections and the breadcrumb trail, as plain data
//! derived from the URL path so the server and the browser agree on them.

use std::{fmt, str::FromStr};

/// Which of the two views a page belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConsoleView {
    /// Project teams: projects and their applications.
    #[default]
    Platform,
    /// Platform administrators: clusters, plugins, upgrades, images, monitoring.
    Admin,
}

/// A left-navigation section of a view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Projects,
    Applications,
    Clusters,
    Plugins,
    Upgrades,
    Images,
    Monitoring,
}

impl ConsoleView {
    /// Cookie that remembers the view last used, read by `/preview` and `/`.
    pub const COOKIE: &'static str = "ngc_view";
    pub const ALL: [ConsoleView; 2] = [ConsoleView::Platform, ConsoleView::Admin];

    /// The URL prefix every page of this view lives under.
    pub fn prefix(self) -> &'static str {
        match self {
            ConsoleView::Platform => "/platform",
            ConsoleView::Admin => "/admin",
        }
    }

    /// The page a user lands on when entering the view.
    pub fn home(self) -> &'static str {
        self.sections()[0].path()
    }

    pub fn sections(self) -> &'static [Section] {
        match self {
            ConsoleView::Platform => &[Section::Projects, Section::Applications],
            ConsoleView::Admin => &[
                Section::Clusters,
                Section::Plugins,
                Section::Upgrades,
                Section::Images,
                Section::Monitoring,
            ],
        }
    }

    /// The view a path belongs to, if any.
    pub fn of_path(path: &str) -> Option<Self> {
        ConsoleView::ALL.into_iter().find(|view| {
            path.strip_prefix(view.prefix())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

impl fmt::Display for ConsoleView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConsoleView::Platform => "platform",
            ConsoleView::Admin => "admin",
        })
    }
}

impl FromStr for ConsoleView {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "platform" => Ok(ConsoleView::Platform),
            "admin" => Ok(ConsoleView::Admin),
            other => Err(format!("unknown console view {other:?}")),
        }
    }
}

impl Section {
    pub fn view(self) -> ConsoleView {
        match self {
            Section::Projects | Section::Applications => ConsoleView::Platform,
            _ => ConsoleView::Admin,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::Projects => "/platform/projects",
            Section::Applications => "/platform/applications",
            Section::Clusters => "/admin/clusters",
            Section::Plugins => "/admin/plugins",
            Section::Upgrades => "/admin/upgrades",
            Section::Images => "/admin/images",
            Section::Monitoring => "/admin/monitoring",
        }
    }

    /// The section a path is in (the section's page or anything below it).
    pub fn of_path(path: &str) -> Option<Self> {
        let view = ConsoleView::of_path(path)?;
        view.sections().iter().copied().find(|section| {
            path.strip_prefix(section.path())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// One step of the breadcrumb trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crumb {
    View(ConsoleView),
    Section(Section),
    /// A named object below a section, such as a cluster; carries its decoded name.
    Object {
        name: String,
        href: String,
    },
}

/// The breadcrumb trail for a path: view, section, then each object segment below it.
pub fn breadcrumbs(path: &str) -> Vec<Crumb> {
    let Some(view) = ConsoleView::of_path(path) else {
        return Vec::new();
    };
    let mut trail = vec![Crumb::View(view)];
    let Some(section) = Section::of_path(path) else {
        return trail;
    };
    trail.push(Crumb::Section(section));
    let mut href = section.path().to_string();
    let rest = &path[section.path().len()..];
    for segment in rest.split('/').filter(|s| !s.is_empty()) {
        href.push('/');
        href.push_str(segment);
        trail.push(Crumb::Object {
            name: percent_decode(segment),
            href: href.clone(),
        });
    }
    trail
}

/// Decodes `%XX` escapes in a path segment; malformed escapes are kept as written.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| segment.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_is_taken_from_the_path_prefix_only_at_a_segment_boundary() {
        assert_eq!(ConsoleView::of_path("/admin"), Some(ConsoleView::Admin));
        assert_eq!(
            ConsoleView::of_path("/admin/clusters/east"),
            Some(ConsoleView::Admin)
        );
        assert_eq!(
            ConsoleView::of_path("/platform/projects"),
            Some(ConsoleView::Platform)
        );
        assert_eq!(ConsoleView::of_path("/administrator"), None);
        assert_eq!(ConsoleView::of_path("/"), None);
    }

    #[test]
    fn every_section_belongs_to_the_view_that_lists_it() {
        for view in ConsoleView::ALL {
            for section in view.sections() {
                assert_eq!(section.view(), view);
                assert_eq!(Section::of_path(section.path()), Some(*section));
                assert_eq!(ConsoleView::of_path(section.path()), Some(view));
            }
        }
    }

    #[test]
    fn view_home_is_its_first_section() {
        assert_eq!(ConsoleView::Platform.home(), "/platform/projects");
        assert_eq!(ConsoleView::Admin.home(), "/admin/clusters");
    }

    #[test]
    fn view_survives_its_cookie_encoding() {
        for view in ConsoleView::ALL {
            assert_eq!(view.to_string().parse::<ConsoleView>(), Ok(view));
        }
        assert!("root".parse::<ConsoleView>().is_err());
    }

    #[test]
    fn breadcrumbs_name_view_section_and_objects() {
        assert_eq!(
            breadcrumbs("/admin/clusters/east%2Dbeta/nodes"),
            vec![
                Crumb::View(ConsoleView::Admin),
                Crumb::Section(Section::Clusters),
                Crumb::Object {
                    name: "east-beta".into(),
                    href: "/admin/clusters/east%2Dbeta".into()
                },
                Crumb::Object {
                    name: "nodes".into(),
                    href: "/admin/clusters/east%2Dbeta/nodes".into()
                },
            ]
        );
        assert_eq!(breadcrumbs("/nowhere"), vec![]);
        assert_eq!(
            breadcrumbs("/platform"),
            vec![Crumb::View(ConsoleView::Platform)]
        );
    }

    #[test]
    fn malformed_percent_escapes_are_kept_verbatim() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%E4%B8%9C"), "东");
    }
}
