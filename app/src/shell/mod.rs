//! The shell both views live in: the HTML document, the router, the top bar, the left
//! navigation, breadcrumbs and the error boundary around every page.

mod features;
mod nav;
mod not_found;
pub mod prefs;
mod preview;
mod topbar;
pub mod view;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Html, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    any_nested_route::IntoAnyNestedRoute,
    components::{Redirect, Route, Router, Routes},
    path,
};

use crate::i18n::{I18nContextProvider, t, use_i18n};
use crate::routes;
use crate::ui::ErrorPanel;
use features::FeatureRoutes;
use prefs::use_theme;

/// Security settings the server decides and the document applies (its CSP carries a per-response nonce).
#[derive(Clone, Debug)]
pub struct SecurityPolicy {
    /// Value of the CSP `frame-ancestors` directive, for example `'none'` or an older console's origin.
    pub frame_ancestors: String,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            frame_ancestors: "'none'".into(),
        }
    }
}

impl SecurityPolicy {
    /// The Content-Security-Policy for an HTML page whose inline scripts carry `nonce`.
    pub fn content_security_policy(&self, nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {}",
            self.frame_ancestors
        )
    }
}

/// The HTML document rendered by the server around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                // Until the page has hydrated (its lazy route's code loaded), a click is the
                // browser's: the router must not navigate in the middle of hydration (tachys
                // panics and the page stops working). Links then load their page in full.
                <script nonce=leptos::nonce::use_nonce()>
                    "document.addEventListener('click',function(e){if(document.documentElement.dataset.hydrated!=='true')e.stopPropagation();},true);"
                </script>
                <MetaTags />
            </head>
            <body class="bg-white text-slate-900 dark:bg-slate-950 dark:text-slate-100 antialiased">
                <App />
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn set_security_headers() {
    use http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
    let policy = use_context::<SecurityPolicy>().unwrap_or_default();
    let nonce = leptos::nonce::use_nonce()
        .map(|n| n.to_string())
        .unwrap_or_default();
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&policy.content_security_policy(&nonce)),
    ) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <I18nContextProvider>
            <Document />
        </I18nContextProvider>
    }
}

/// Sets document-level attributes from preferences and lays out the shell around the routes.
#[component]
fn Document() -> impl IntoView {
    let i18n = use_i18n();
    let (theme, _) = use_theme();
    // Set once hydration has run; end-to-end tests and progressive-enhancement fallbacks key on it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    provide_context(Hydrated(hydrated.read_only()));

    view! {
        <Html
            attr:data-theme=move || theme.get().to_string()
            attr:data-hydrated=move || hydrated.get().to_string()
        />
        <Title formatter=move |page: String| {
            if page.is_empty() { "Next-Gen Console".to_string() } else { format!("{page} · Next-Gen Console") }
        } />
        <Router>
            // rel=external: the browser, not the router, follows the fragment and moves focus.
            <a
                href="#main"
                rel="external"
                class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-sky-600 focus:px-3 focus:py-2 focus:text-white"
            >
                {t!(i18n, skip_to_content)}
            </a>
            <div class="flex min-h-screen flex-col">
                <Chrome>
                    <topbar::TopBar />
                </Chrome>
                <div class="flex flex-1">
                    <Chrome>
                        <nav::SideNav />
                    </Chrome>
                    <main id="main" tabindex="-1" class="flex-1 px-6 py-4 focus:outline-none">
                        <Chrome>
                            <nav::Breadcrumbs />
                        </Chrome>
                        <ErrorBoundary fallback=|errors| {
                            view! {
                                <div class="mt-4 flex flex-col gap-2">
                                    {move || {
                                        errors
                                            .get()
                                            .into_iter()
                                            .map(|(_, error)| view! { <ErrorPanel error /> })
                                            .collect_view()
                                    }}
                                </div>
                            }
                        }>
                            <Routes fallback=not_found::NotFound>
                                <ConsoleRoutes />
                            </Routes>
                        </ErrorBoundary>
                    </main>
                </div>
            </div>
        </Router>
    }
}

/// Every route: the shell's own entries and redirects, then each feature's (`features.rs`).
/// Paths and SSR modes are what browser tests and bookmarks rely on: change them deliberately.
#[component(transparent)]
fn ConsoleRoutes() -> impl leptos_router::MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/") view=preview::LastView ssr=SsrMode::Async />
        <Route path=path!("/preview") view=preview::LastView ssr=SsrMode::Async />
        <Route path=path!("/platform") view=|| view! { <Redirect path=routes::PROJECTS /> } />
        <Route path=path!("/admin") view=|| view! { <Redirect path=routes::ADMIN_OVERVIEW /> } />
        <FeatureRoutes />
    }
    .into_inner()
    .into_any_nested_route()
}

/// The top bar, navigation and breadcrumbs: everywhere but the sign-in page, which a user who
/// is not signed in sees and which must not ask the server for anything that needs a session.
#[component]
fn Chrome(children: ChildrenFn) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let show = move || !location.pathname.get().starts_with(routes::SIGNIN);
    view! { <Show when=show>{children()}</Show> }
}

pub use crate::ui::Hydrated;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_allows_wasm_and_the_nonce_but_no_inline_or_foreign_script() {
        let csp = SecurityPolicy::default().content_security_policy("abc123");
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("object-src 'none'"));
    }

    #[test]
    fn csp_frame_ancestors_is_configurable() {
        let policy = SecurityPolicy {
            frame_ancestors: "https://console.example.com".into(),
        };
        assert!(
            policy
                .content_security_policy("n")
                .ends_with("frame-ancestors https://console.example.com")
        );
    }
}

/// The typed routes (`crate::routes`) against the router itself: every path the router serves,
/// with its SSR mode, and every href landing on the route it names with its values intact.
#[cfg(test)]
mod route_tests {
    use console_api::watch::Kind;
    use leptos_router::{MatchNestedRoutes, MatchParams, PathSegment, RouteDefs, SsrMode};

    use super::ConsoleRoutes;
    use super::view::percent_decode;
    use crate::routes;

    /// Every path pattern and its SSR mode, in the order the router tries them.
    fn served() -> Vec<(String, SsrMode)> {
        ConsoleRoutes()
            .generate_routes()
            .into_iter()
            .map(|route| {
                let path = route
                    .segments
                    .iter()
                    .filter_map(|segment| match segment {
                        PathSegment::Unit => None,
                        PathSegment::Param(name) => Some(format!("/:{name}")),
                        other => Some(format!("/{}", other.as_raw_str())),
                    })
                    .collect::<String>();
                (
                    if path.is_empty() { "/".into() } else { path },
                    route.ssr_mode,
                )
            })
            .collect()
    }

    /// The decoded parameters the router hands the page for `href`, or None if no route matches.
    fn params(href: &str) -> Option<Vec<(String, String)>> {
        let path = href.split('?').next().unwrap_or_default();
        let matched = RouteDefs::new(ConsoleRoutes()).match_route(path)?;
        Some(
            matched
                .to_params()
                .into_iter()
                .map(|(key, value)| (key.to_string(), percent_decode(&value)))
                .collect(),
        )
    }

    fn pairs(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_router_serves_exactly_these_paths_in_these_modes() {
        use SsrMode::{Async, InOrder, OutOfOrder};
        let expected = [
            ("/", Async),
            ("/preview", Async),
            ("/platform", OutOfOrder),
            ("/admin", OutOfOrder),
            ("/signin", InOrder),
            ("/platform/projects", InOrder),
            ("/platform/projects/:name", InOrder),
            ("/platform/applications", InOrder),
            ("/platform/applications/new", InOrder),
            ("/platform/applications/:project/:name", InOrder),
            ("/admin/overview", InOrder),
            ("/admin/clusters", InOrder),
            ("/admin/clusters/import", InOrder),
            ("/admin/clusters/:name", InOrder),
            ("/admin/clusters/:name/resources", InOrder),
            (
                "/admin/clusters/:name/resources/:kind/:namespace/:object",
                InOrder,
            ),
            ("/admin/clusters/:name/namespaces", OutOfOrder),
            ("/admin/clusters/:name/namespaces/:namespace", InOrder),
            ("/admin/plugins", InOrder),
            ("/admin/plugins/:name", InOrder),
            ("/admin/upgrades", InOrder),
            ("/admin/upgrades/:cluster", InOrder),
            ("/admin/images", InOrder),
            ("/platform/images", InOrder),
            ("/admin/monitoring", InOrder),
            ("/admin/workloads", InOrder),
        ]
        .map(|(path, mode)| (path.to_string(), mode));
        assert_eq!(served(), expected);
    }

    #[test]
    fn every_constant_route_is_served_without_parameters() {
        for path in [
            routes::HOME,
            routes::PREVIEW,
            routes::SIGNIN,
            routes::PLATFORM,
            routes::ADMIN,
            routes::PROJECTS,
            routes::APPLICATIONS,
            routes::CLUSTERS,
            routes::IMPORT_CLUSTER,
            routes::PLUGINS,
            routes::UPGRADES,
            routes::IMAGES,
            routes::PROJECT_IMAGES,
            routes::MONITORING,
        ] {
            assert_eq!(params(path), Some(vec![]), "{path}");
        }
        assert_eq!(params(&routes::applications("team-a")), Some(vec![]));
        assert_eq!(params(&routes::new_application("team a")), Some(vec![]));
        assert_eq!(params(&routes::signin_error("expired")), Some(vec![]));
    }

    #[test]
    fn every_typed_route_lands_on_its_route_with_its_values() {
        for name in [
            "east", "team-a", "a b", "x/y", "..", ".", "%41", "东", "q?x=1#f", "import2",
        ] {
            assert_eq!(
                params(&routes::project(name)),
                pairs(&[("name", name)]),
                "{name}"
            );
            assert_eq!(
                params(&routes::app(name, "web")),
                pairs(&[("project", name), ("name", "web")]),
                "{name}"
            );
            assert_eq!(
                params(&routes::cluster(name)),
                pairs(&[("name", name)]),
                "{name}"
            );
            assert_eq!(
                params(&routes::resources(name)),
                pairs(&[("name", name)]),
                "{name}"
            );
            assert_eq!(
                params(&routes::namespaces(name)),
                pairs(&[("name", name)]),
                "{name}"
            );
            assert_eq!(
                params(&routes::namespace("east", name)),
                pairs(&[("name", "east"), ("namespace", name)]),
                "{name}"
            );
            assert_eq!(
                params(&routes::plugin(name)),
                pairs(&[("name", name)]),
                "{name}"
            );
            assert_eq!(
                params(&routes::upgrade(name)),
                pairs(&[("cluster", name)]),
                "{name}"
            );
            for kind in Kind::ALL {
                assert_eq!(
                    params(&routes::resource("east", kind, name, name)),
                    pairs(&[
                        ("name", "east"),
                        ("kind", kind.as_str()),
                        ("namespace", name),
                        ("object", name),
                    ]),
                    "{name} {kind:?}"
                );
            }
        }
    }

    #[test]
    fn import_is_a_page_not_a_cluster_name() {
        assert_eq!(params(routes::IMPORT_CLUSTER), Some(vec![]));
        assert_eq!(params("/admin/clusters/nowhere/else/at/all"), None);
    }
}
