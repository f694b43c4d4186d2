//! What images add to the console: the Administrator view's images page (list, delete, prune)
//! and the Container Platform view's images of a project, with their navigation entries.

use crate::i18n::td_string;
use leptos::prelude::*;
use leptos_router::{Lazy, MatchNestedRoutes, SsrMode, components::Route, path};

use crate::routes::{self, ConsoleView, NavEntry};

/// The navigation entries this feature adds.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        id: "images",
        view: ConsoleView::Admin,
        path: routes::IMAGES,
        label: |locale| td_string!(locale, nav.images),
    },
    NavEntry {
        id: "project-images",
        view: ConsoleView::Platform,
        path: routes::PROJECT_IMAGES,
        label: |locale| td_string!(locale, images.title),
    },
];

/// The pages this feature adds (in the order the router tries them).
pub fn routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/admin/images") view={Lazy::<ImagesRoute>::new()} ssr=SsrMode::InOrder />
        <Route path=path!("/platform/images") view={Lazy::<ProjectImagesRoute>::new()} ssr=SsrMode::InOrder />
    }
    .into_inner()
}

// Each page's code is a WASM chunk of its own, loaded when the route is first shown.
use super::{ImagesPage, ProjectImagesPage};
crate::lazy_page!(
    ImagesRoute => ImagesPage,
    ProjectImagesRoute => ProjectImagesPage,
);
