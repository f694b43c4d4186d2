//! What projects add to the console: the project list and a project's page, and the Projects
//! entry of the Container Platform view.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[NavEntry {
    id: "projects",
    view: ConsoleView::Platform,
    path: routes::PROJECTS,
    label: |locale| td_string!(locale, nav.projects),
}];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/platform/projects") view={Lazy::<ProjectsRoute>::new()} ssr=SsrMode::InOrder />
        <Route path=path!("/platform/projects/:name") view={Lazy::<ProjectRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::{ProjectPage, ProjectsPage};
crate::lazy_page!(
    ProjectsRoute => ProjectsPage,
    ProjectRoute => ProjectPage,
);
