//! Every page's path in one place: one function per route builds its href, with each value
//! percent-encoded so a name stays one path segment (the router decodes it back). Links,
//! redirects and navigation entries use these, never string literals; the shell's tests check
//! that each one lands on the route it names. Also the two console views and the navigation
//! entries features register (`NavEntry`).

use std::{fmt, str::FromStr};

use console_api::watch::{Kind, encode};

use crate::i18n::Locale;

/// `/`: the view used last (as `/preview`).
pub const HOME: &str = "/";
/// `/preview`: the stable entry an older console links to ("Preview Next-Gen Console").
pub const PREVIEW: &str = "/preview";
/// `/signin`.
pub const SIGNIN: &str = "/signin";
/// `/platform`: redirects to [`PROJECTS`].
pub const PLATFORM: &str = "/platform";
/// `/admin`: redirects to [`ADMIN_OVERVIEW`].
pub const ADMIN: &str = "/admin";
/// `/admin/overview`: the Administrator view's landing page.
pub const ADMIN_OVERVIEW: &str = "/admin/overview";

pub const PROJECTS: &str = "/platform/projects";
pub const APPLICATIONS: &str = "/platform/applications";
pub const CLUSTERS: &str = "/admin/clusters";
pub const IMPORT_CLUSTER: &str = "/admin/clusters/import";
pub const PLUGINS: &str = "/admin/plugins";
pub const UPGRADES: &str = "/admin/upgrades";
pub const IMAGES: &str = "/admin/images";
/// `/platform/images?project={project}`: the images of a project's namespace.
pub const PROJECT_IMAGES: &str = "/platform/images";
pub const MONITORING: &str = "/admin/monitoring";
/// `/admin/workloads`: the Deployments of every registered cluster in one list.
pub const WORKLOADS: &str = "/admin/workloads";

/// `/signin?error={reason}`: the sign-in page explaining why (`expired`, `cancelled`, ...).
pub fn signin_error(reason: &str) -> String {
    format!("{SIGNIN}?error={}", encode(reason))
}

/// `/platform/projects/{name}`.
pub fn project(name: &str) -> String {
    format!("{PROJECTS}/{}", segment(name))
}

/// `/platform/applications?project={project}`, or the list without a project when it is empty.
pub fn applications(project: &str) -> String {
    with_project(APPLICATIONS, project)
}

/// `/platform/applications/new?project={project}`.
pub fn new_application(project: &str) -> String {
    with_project(&format!("{APPLICATIONS}/new"), project)
}

/// `/platform/applications/{project}/{name}`.
pub fn app(project: &str, name: &str) -> String {
    format!("{APPLICATIONS}/{}/{}", segment(project), segment(name))
}

/// `/admin/clusters/{name}` (a cluster called `import` is shadowed by [`IMPORT_CLUSTER`]).
pub fn cluster(name: &str) -> String {
    format!("{CLUSTERS}/{}", segment(name))
}

/// `/admin/clusters/{cluster}/resources`: the resource browser.
pub fn resources(cluster: &str) -> String {
    format!("{}/resources", self::cluster(cluster))
}

/// `/admin/clusters/{cluster}/resources/{kind}/{namespace}/{name}`: one object.
pub fn resource(cluster: &str, kind: Kind, namespace: &str, name: &str) -> String {
    format!(
        "{}/{}/{}/{}",
        resources(cluster),
        kind.as_str(),
        segment(namespace),
        segment(name)
    )
}

/// `/admin/clusters/{cluster}/namespaces`: redirects to the cluster's page.
pub fn namespaces(cluster: &str) -> String {
    format!("{}/namespaces", self::cluster(cluster))
}

/// `/admin/clusters/{cluster}/namespaces/{namespace}`: the user's access there.
pub fn namespace(cluster: &str, namespace: &str) -> String {
    format!("{}/{}", namespaces(cluster), segment(namespace))
}

/// `/admin/plugins/{name}`.
pub fn plugin(name: &str) -> String {
    format!("{PLUGINS}/{}", segment(name))
}

/// `/admin/upgrades/{cluster}`: the cluster's ClusterVersionShadow.
pub fn upgrade(cluster: &str) -> String {
    format!("{UPGRADES}/{}", segment(cluster))
}

/// One page of an images list: `/admin/images?q=&sort=&order=&page=`, or the project's
/// (`/platform/images?project=…&…`) when `project` is set. Empty and default values are left out.
pub fn images_page(project: &str, text: &str, sort: &str, descending: bool, page: usize) -> String {
    let mut query: Vec<String> = Vec::new();
    if !project.is_empty() {
        query.push(format!("project={}", encode(project)));
    }
    if !text.is_empty() {
        query.push(format!("q={}", encode(text)));
    }
    if !sort.is_empty() && sort != "repository" {
        query.push(format!("sort={}", encode(sort)));
    }
    if descending {
        query.push("order=desc".into());
    }
    if page > 0 {
        query.push(format!("page={}", page + 1));
    }
    let path = if project.is_empty() {
        IMAGES
    } else {
        PROJECT_IMAGES
    };
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn with_project(path: &str, project: &str) -> String {
    if project.is_empty() {
        path.to_string()
    } else {
        format!("{path}?project={}", encode(project))
    }
}

/// One path segment: percent-encoded, and `.`/`..` escaped too, which the browser would
/// otherwise resolve away.
fn segment(value: &str) -> String {
    match value {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => encode(value),
    }
}

/// Which of the two views a page belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConsoleView {
    /// Project teams: projects and their applications.
    #[default]
    Platform,
    /// Platform administrators: clusters, plugins, upgrades, images, monitoring.
    Admin,
}

impl ConsoleView {
    /// Cookie that remembers the view last used, read by `/preview` and `/`.
    pub const COOKIE: &'static str = "ngc_view";
    pub const ALL: [ConsoleView; 2] = [ConsoleView::Platform, ConsoleView::Admin];

    /// The URL prefix every page of this view lives under.
    pub fn prefix(self) -> &'static str {
        match self {
            ConsoleView::Platform => PLATFORM,
            ConsoleView::Admin => ADMIN,
        }
    }

    /// The page a user lands on when entering the view (its first navigation entry).
    pub fn home(self) -> &'static str {
        match self {
            ConsoleView::Platform => PROJECTS,
            ConsoleView::Admin => ADMIN_OVERVIEW,
        }
    }

    /// The view a path belongs to, if any.
    pub fn of_path(path: &str) -> Option<Self> {
        ConsoleView::ALL
            .into_iter()
            .find(|view| under(path, view.prefix()))
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

/// A left-navigation entry a feature registers next to its routes: the page it opens, the view
/// that lists it and its translated name. The shell lists a view's entries in feature order.
#[derive(Clone, Copy)]
pub struct NavEntry {
    /// A stable name (the nav's `data-nav` hook).
    pub id: &'static str,
    pub view: ConsoleView,
    /// The page it opens; the entry is current on that page and every page below it.
    pub path: &'static str,
    pub label: fn(Locale) -> &'static str,
}

impl NavEntry {
    /// Whether `path` is this entry's page or below it.
    pub fn contains(&self, path: &str) -> bool {
        under(path, self.path)
    }
}

impl PartialEq for NavEntry {
    fn eq(&self, other: &Self) -> bool {
        (self.id, self.view, self.path) == (other.id, other.view, other.path)
    }
}

impl Eq for NavEntry {}

impl fmt::Debug for NavEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NavEntry")
            .field("id", &self.id)
            .field("view", &self.view)
            .field("path", &self.path)
            .finish()
    }
}

/// `path` is `prefix` or below it, at a segment boundary.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Lazy pages: `lazy_page!(ClustersRoute => ClustersPage)` defines `ClustersRoute` for
/// `<Route view=Lazy::<ClustersRoute>::new() />`. The server renders the page as usual; the
/// browser loads its code (a WASM chunk of its own under `cargo leptos build --split`) when
/// the route is first shown, so the first page of a view downloads only what it shows.
#[macro_export]
macro_rules! lazy_page {
    ($($route:ident => $page:ident),* $(,)?) => {
        $(
            #[doc = concat!("The lazily loaded route of [`", stringify!($page), "`].")]
            pub struct $route;

            #[leptos_router::lazy_route]
            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(this: Self) -> leptos::prelude::AnyView {
                    let _ = this;
                    leptos::prelude::IntoAny::into_any(leptos::view! { <$page /> })
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pages_keep_only_what_differs_from_the_defaults() {
        assert_eq!(images_page("", "", "repository", false, 0), "/admin/images");
        assert_eq!(
            images_page("team-a", "web app", "created", true, 2),
            "/platform/images?project=team-a&q=web%20app&sort=created&order=desc&page=3"
        );
    }

    #[test]
    fn names_stay_one_segment_whatever_they_hold() {
        assert_eq!(cluster("east"), "/admin/clusters/east");
        assert_eq!(cluster("../../etc"), "/admin/clusters/..%2F..%2Fetc");
        assert_eq!(
            cluster("//evil.example"),
            "/admin/clusters/%2F%2Fevil.example"
        );
        assert_eq!(cluster(".."), "/admin/clusters/%2E%2E");
        assert_eq!(
            app("team a", "web?x"),
            "/platform/applications/team%20a/web%3Fx"
        );
        assert_eq!(
            resource("east", Kind::Pods, "team-a", "web-1"),
            "/admin/clusters/east/resources/pods/team-a/web-1"
        );
    }

    #[test]
    fn a_project_query_is_left_out_when_empty_and_encoded_otherwise() {
        assert_eq!(applications(""), APPLICATIONS);
        assert_eq!(
            applications("team-a&x=1"),
            "/platform/applications?project=team-a%26x%3D1"
        );
        assert_eq!(
            new_application("team-a"),
            "/platform/applications/new?project=team-a"
        );
        assert_eq!(signin_error("expired"), "/signin?error=expired");
    }

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
    fn view_survives_its_cookie_encoding() {
        for view in ConsoleView::ALL {
            assert_eq!(view.to_string().parse::<ConsoleView>(), Ok(view));
        }
        assert!("root".parse::<ConsoleView>().is_err());
    }
}
