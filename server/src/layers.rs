//! Tower layers shared by every response (request id, tracing, compression, security headers)
//! and the static-asset service for hashed files.

use std::path::Path;

use axum::{
    Router,
    body::Body,
    http::{HeaderName, HeaderValue, Request, header},
};
use tower::{Layer, ServiceBuilder};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    set_header::{SetResponseHeader, SetResponseHeaderLayer},
    trace::TraceLayer,
};

use app::SecurityPolicy;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Files under the package directory carry a content hash in their names, so they never change.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// Serves the hashed WASM/JS/CSS bundle, preferring precompressed `.br`/`.gz` siblings.
pub fn hashed_assets(dir: &Path) -> SetResponseHeader<ServeDir, HeaderValue> {
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, IMMUTABLE).layer(files)
}

/// Request ids (set if absent, echoed back), a trace span per request naming that id,
/// brotli/gzip compression, and the security headers every response carries. Pages add their
/// own nonce-bearing CSP; the default here covers everything else.
pub fn apply(router: Router, security: &SecurityPolicy) -> Router {
    let default_csp = HeaderValue::from_str(&format!(
        "default-src 'self'; object-src 'none'; frame-ancestors {}",
        security.frame_ancestors
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CompressionLayer::new())
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                default_csp,
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            )),
    )
}
