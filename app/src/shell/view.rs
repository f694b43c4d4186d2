//! The breadcrumb trail (view, navigation entry, then each object segment), as plain data
//! derived from the URL path so the server and the browser agree on it.

pub use crate::routes::ConsoleView;
use crate::routes::NavEntry;

use super::features::section_of;

/// One step of the breadcrumb trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crumb {
    View(ConsoleView),
    Section(&'static NavEntry),
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
    let Some(section) = section_of(path) else {
        return trail;
    };
    trail.push(Crumb::Section(section));
    let mut href = section.path.to_string();
    let rest = &path[section.path.len()..];
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
pub(super) fn percent_decode(segment: &str) -> String {
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
    fn every_nav_entry_is_its_own_section_in_its_view() {
        for view in ConsoleView::ALL {
            let entries: Vec<_> = super::super::features::sections(view).collect();
            assert!(!entries.is_empty(), "{view} lists no entry");
            assert_eq!(
                entries[0].path,
                view.home(),
                "{view} opens on its first entry"
            );
            for entry in entries {
                assert_eq!(section_of(entry.path), Some(entry));
                assert_eq!(ConsoleView::of_path(entry.path), Some(view));
            }
        }
    }

    #[test]
    fn breadcrumbs_name_view_section_and_objects() {
        assert_eq!(
            breadcrumbs("/admin/clusters/east%2Dbeta/nodes"),
            vec![
                Crumb::View(ConsoleView::Admin),
                Crumb::Section(
                    section_of(crate::routes::CLUSTERS).unwrap_or_else(|| panic!("clusters"))
                ),
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
