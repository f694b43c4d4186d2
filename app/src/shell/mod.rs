//! The shell both views live in: the HTML document, the router, the top bar, the left
//! navigation, breadcrumbs and the error boundary around every page.

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
    components::{Redirect, Route, Router, Routes},
    path,
};

use crate::i18n::{I18nContextProvider, t, use_i18n};
use crate::ui::ErrorPanel;
use crate::{access, apps, auth, clusters, images, monitoring, plugins, projects, upgrades};
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
                                <Route path=path!("/") view=preview::LastView ssr=SsrMode::Async />
                                <Route path=path!("/preview") view=preview::LastView ssr=SsrMode::Async />
                                <Route path=path!("/signin") view=auth::SignInPage ssr=SsrMode::InOrder />
                                <Route
                                    path=path!("/platform")
                                    view=|| view! { <Redirect path="/platform/projects" /> }
                                />
                                <Route
                                    path=path!("/platform/projects")
                                    view=projects::ProjectsPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/platform/projects/:name")
                                    view=projects::ProjectPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/platform/applications")
                                    view=apps::ApplicationsPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/platform/applications/new")
                                    view=apps::NewApplicationPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/platform/applications/:project/:name")
                                    view=apps::ApplicationPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin")
                                    view=|| view! { <Redirect path="/admin/clusters" /> }
                                />
                                <Route
                                    path=path!("/admin/clusters")
                                    view=clusters::ClustersPage
                                    ssr=SsrMode::InOrder
                                />
                                // Before /admin/clusters/:name, which would otherwise take "import" as a name.
                                <Route
                                    path=path!("/admin/clusters/import")
                                    view=clusters::ImportPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/clusters/:name")
                                    view=clusters::ClusterPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/clusters/:name/resources")
                                    view=clusters::ResourcesPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/clusters/:name/resources/:kind/:namespace/:object")
                                    view=clusters::ResourcePage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/clusters/:name/namespaces")
                                    view=clusters::NamespacesRedirect
                                />
                                <Route
                                    path=path!("/admin/clusters/:name/namespaces/:namespace")
                                    view=access::NamespacePage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/plugins")
                                    view=plugins::PluginsPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/plugins/:name")
                                    view=plugins::PluginPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/upgrades")
                                    view=upgrades::UpgradesPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/upgrades/:cluster")
                                    view=upgrades::ShadowPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/images")
                                    view=images::ImagesPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("/admin/monitoring")
                                    view=monitoring::MonitoringPage
                                    ssr=SsrMode::InOrder
                                />
                            </Routes>
                        </ErrorBoundary>
                    </main>
                </div>
            </div>
        </Router>
    }
}

/// The top bar, navigation and breadcrumbs: everywhere but the sign-in page, which a user who
/// is not signed in sees and which must not ask the server for anything that needs a session.
#[component]
fn Chrome(children: ChildrenFn) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let show = move || !location.pathname.get().starts_with("/signin");
    view! { <Show when=show>{children()}</Show> }
}

/// Whether the page has hydrated; false during server rendering and before the WASM runs.
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

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
