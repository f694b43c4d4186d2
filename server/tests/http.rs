//! The real router, driven in-process: probes, pages, security headers, compression, caching,
//! the selector fallback, server functions and the 404 page.

mod support;

use std::{path::Path, sync::OnceLock};

use app::{
    clusters::{ListClusters, ProbeCluster},
    platform::registry::ClusterRegistry,
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use server::{AppState, health::Readiness, router};
use support::console::{run, runtime};
use tower::ServiceExt;

/// One runtime and one router for the whole binary, as in production. Building a router runs
/// Leptos' route-list generation, which pauses resource loading process-wide while it runs
/// (leptos-rs/leptos#4773); a router per test would stall the pages other tests are rendering.
struct Site {
    router: Router,
    readiness: Readiness,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("http-site");
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap_or_else(|e| panic!("pkg dir: {e}"));
        std::fs::write(
            pkg.join("nextgen-console.0123abcd.js"),
            "export function hydrate() {}\n".repeat(100),
        )
        .unwrap_or_else(|e| panic!("asset: {e}"));
        let state = AppState::for_site(&root, ClusterRegistry::empty());
        let readiness = state.readiness.clone();
        let _context = runtime().enter();
        Site {
            router: router(state),
            readiness,
        }
    })
}

async fn get(
    router: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("request: {e}"));
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    // Leptos marks hydration boundaries with `<!>` between text nodes; a reader does not see them.
    let html = String::from_utf8_lossy(&bytes).replace("<!>", "");
    (status, headers, html)
}

#[test]
fn healthz_answers_and_readyz_follows_readiness() {
    run(async {
        let site = site();
        assert_eq!(get(&site.router, "/healthz", &[]).await.0, StatusCode::OK);
        assert_eq!(get(&site.router, "/readyz", &[]).await.0, StatusCode::OK);
        site.readiness.set(false);
        let during_shutdown = get(&site.router, "/readyz", &[]).await.0;
        site.readiness.set(true);
        assert_eq!(during_shutdown, StatusCode::SERVICE_UNAVAILABLE);
    })
}

#[test]
fn every_response_carries_a_request_id_and_security_headers() {
    run(async {
        let site = site();
        let (_, headers, _) = get(&site.router, "/healthz", &[]).await;
        assert!(headers.get("x-request-id").is_some_and(|v| !v.is_empty()));
        assert_eq!(
            headers
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    })
}

#[test]
fn a_request_id_sent_by_the_client_is_echoed() {
    run(async {
        let site = site();
        let (_, headers, _) = get(&site.router, "/healthz", &[("x-request-id", "abc-123")]).await;
        assert_eq!(
            headers.get("x-request-id").map(|v| v.as_bytes()),
            Some(&b"abc-123"[..])
        );
    })
}

#[test]
fn pages_are_server_rendered_with_a_nonce_csp_that_matches_their_scripts() {
    run(async {
        let site = site();
        let (status, headers, html) = get(&site.router, "/admin/clusters", &[]).await;
        assert_eq!(status, StatusCode::OK);
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no nonce in CSP {csp}"));
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "scripts must carry the CSP nonce"
        );
        // Readable before any WASM runs: the shell, navigation and the empty state are in the HTML.
        assert!(html.contains("No clusters registered"), "{html}");
        assert!(html.contains("Cluster plugins"));
        assert!(html.contains("data-theme=\"system\""));
    })
}

#[test]
fn pages_render_in_the_language_the_browser_asks_for_or_the_cookie_names() {
    run(async {
        let site = site();
        let (_, _, html) = get(
            &site.router,
            "/platform/projects",
            &[("accept-language", "zh-CN,zh;q=0.9")],
        )
        .await;
        assert!(html.contains("还没有项目"), "{html}");
        let (_, _, html) = get(
            &site.router,
            "/platform/projects",
            &[
                ("accept-language", "zh-CN"),
                ("cookie", "i18n_pref_locale=en"),
            ],
        )
        .await;
        assert!(html.contains("No projects yet"));
    })
}

#[test]
fn the_theme_cookie_is_rendered_on_the_server() {
    run(async {
        let site = site();
        let (_, _, html) = get(
            &site.router,
            "/admin/clusters",
            &[("cookie", "ngc_theme=dark")],
        )
        .await;
        assert!(html.contains("data-theme=\"dark\""), "{html}");
    })
}

#[test]
fn unknown_paths_get_the_404_page() {
    run(async {
        let site = site();
        let (status, _, html) = get(&site.router, "/no/such/page", &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Page not found"), "{html}");
    })
}

#[test]
fn an_unknown_cluster_shows_a_readable_error() {
    run(async {
        let site = site();
        let (_, _, html) = get(&site.router, "/admin/clusters/north", &[]).await;
        assert!(html.contains("Cluster “north” is not registered"), "{html}");
    })
}

#[test]
fn preview_lands_in_the_view_used_last() {
    run(async {
        let site = site();
        let (status, headers, _) = get(
            &site.router,
            "/preview",
            &[("accept", "text/html"), ("cookie", "ngc_view=admin")],
        )
        .await;
        assert!(status.is_redirection(), "{status}");
        assert_eq!(
            headers.get(header::LOCATION).map(|v| v.as_bytes()),
            Some(&b"/admin/overview"[..])
        );
        let (_, headers, _) = get(&site.router, "/preview", &[("accept", "text/html")]).await;
        assert_eq!(
            headers.get(header::LOCATION).map(|v| v.as_bytes()),
            Some(&b"/platform/projects"[..])
        );
    })
}

#[test]
fn the_cluster_selector_works_without_javascript() {
    run(async {
        let site = site();
        let (status, headers, _) = get(&site.router, "/select/cluster?cluster=east", &[]).await;
        assert!(status.is_redirection());
        assert_eq!(
            headers.get(header::LOCATION).map(|v| v.as_bytes()),
            Some(&b"/admin/clusters/east"[..])
        );
    })
}

#[test]
fn hashed_assets_are_cached_for_a_year_and_compressed() {
    run(async {
        let site = site();
        let (status, headers, _) = get(
            &site.router,
            "/pkg/nextgen-console.0123abcd.js",
            &[("accept-encoding", "br")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let cache = headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{cache}"
        );
        assert_eq!(
            headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes()),
            Some(&b"br"[..])
        );
    })
}

#[test]
fn server_functions_answer_with_typed_json() {
    run(async {
        let site = site();
        let request = Request::builder()
            .method("POST")
            .uri(ListClusters::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("request: {e}"));
        let response = site
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        assert_eq!(&bytes[..], b"[]");
    })
}

/// A failed server function answers with the status its `ConsoleError` names (one middleware,
/// not each function): an unknown cluster is 404, not 500, so scripts and `ac` can tell.
#[test]
fn failed_server_functions_answer_with_their_own_status() {
    run(async {
        let site = site();
        let request = Request::builder()
            .method("POST")
            .uri(ProbeCluster::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from("name=nowhere"))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let response = site
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let error: app::ConsoleError = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("body is not a ConsoleError: {e}"));
        assert_eq!(
            error,
            app::ConsoleError::ClusterNotFound {
                name: "nowhere".into()
            }
        );
    })
}

#[test]
fn cross_site_state_changing_requests_are_refused() {
    run(async {
        let site = site();
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
            ("x-nothing", "neither header"),
        ] {
            let request = Request::builder()
                .method("POST")
                .uri(ListClusters::PATH)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(name, value)
                .body(Body::empty())
                .unwrap_or_else(|e| panic!("request: {e}"));
            let response = site
                .router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|e| match e {});
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
            let bytes = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let error: app::ConsoleError = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{name}: body is not a ConsoleError: {e}"));
            assert_eq!(error, app::ConsoleError::CrossSite);
        }
    })
}
