//! Tower layers shared by every response (request id, tracing, compression, security headers),
//! the static-asset service for hashed files, and local mode's check of the `Host` header.

use std::path::Path;

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderName, HeaderValue, Request, StatusCode, header},
    middleware::Next,
    response::Response,
};
use tower::{Layer, ServiceBuilder};
use tower_http::{
    compression::{
        CompressionLayer,
        predicate::{DefaultPredicate, NotForContentType, Predicate},
    },
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
            // Streamed answers (server functions with a streaming output, such as the list
            // across clusters) are sent as they come: a compressor would hold them back until
            // its buffer fills.
            .layer(CompressionLayer::new().compress_when(
                DefaultPredicate::new().and(NotForContentType::const_new("application/octet-stream")),
            ))
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

/// The header server functions set on a failed call's answer (`server_fn::error`).
const SERVER_FN_ERROR: &str = "serverfnerror";

/// The most of a failed server function's answer read to find its status (a `ConsoleError` is
/// a few hundred bytes).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Server functions answer every failure with 500; this gives each its own status from the
/// `ConsoleError` it carries (404 not found, 403 forbidden, 409 conflict, 422 invalid, 502 cluster
/// unreachable, ...), in one place instead of in every function, so scripts and the `ac` CLI can
/// tell them apart. A page rendering on the server calls the same functions directly and keeps
/// its 200, showing the error in place.
pub async fn server_fn_status(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_BODY_LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<app::ConsoleError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.http_status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The `Host` values local mode answers: the served port on the loopback names (and the bound
/// address itself), lower-case.
#[derive(Clone, Debug)]
pub struct LocalHosts {
    allowed: Vec<String>,
    /// What the refusal suggests opening instead.
    origin: String,
}

impl LocalHosts {
    /// The hosts for a console served at `origin` (`scheme://address:port`, as local mode's
    /// public origin is), or `None` when the origin does not parse.
    pub fn for_origin(origin: &str) -> Option<Self> {
        let url = url::Url::parse(origin).ok()?;
        let port = url.port_or_known_default()?;
        let default = match url.scheme() {
            "https" => 443,
            _ => 80,
        };
        let bound = url.host_str()?.to_ascii_lowercase();
        let mut allowed = Vec::new();
        for name in [bound.as_str(), "127.0.0.1", "localhost", "[::1]"] {
            allowed.push(format!("{name}:{port}"));
            if port == default {
                allowed.push(name.to_string());
            }
        }
        allowed.dedup();
        Some(Self {
            allowed,
            origin: url.origin().ascii_serialization(),
        })
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.allowed.contains(&host)
    }
}

/// In local mode, the hosts requests must be addressed to; `None` in OIDC mode, where the
/// session cookie (bound to the console's own origin) is what authenticates.
pub fn local_hosts(auth: &crate::auth::Auth) -> Option<LocalHosts> {
    match auth.mode {
        crate::auth::AuthMode::Local(_) => LocalHosts::for_origin(&auth.public_origin),
        crate::auth::AuthMode::Oidc(_) => None,
    }
}

/// Refuses a request whose `Host` (or HTTP/2 `:authority`) names anything but the console's
/// own loopback address: a page on another site whose name an attacker re-points at 127.0.0.1
/// (DNS rebinding) would otherwise act with the operator's kubeconfig. Browsers always send
/// the name they resolved, so a request without any is not from a page and passes.
pub async fn check_host(
    State(hosts): State<LocalHosts>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let named = [
        request
            .headers()
            .get(header::HOST)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        request.uri().authority().map(|a| a.as_str().to_string()),
    ];
    if let Some(host) = named.into_iter().flatten().find(|h| !hosts.allows(h)) {
        tracing::warn!(%host, "refused a request addressed to another host (local mode)");
        return crate::limits::refusal(
            request.uri().path(),
            StatusCode::MISDIRECTED_REQUEST,
            "MisdirectedRequest",
            format!(
                "this console runs in local mode with the operator's own credentials and answers \
                 only requests addressed to {}; this one was addressed to {host:?}, which a page \
                 on another site could be using to reach it. Open {} instead.",
                hosts.allowed.join(", "),
                hosts.origin
            ),
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::LocalHosts;

    #[test]
    fn local_mode_answers_its_loopback_names_on_its_port_only() {
        let hosts = LocalHosts::for_origin("http://127.0.0.1:17000")
            .unwrap_or_else(|| panic!("origin parses"));
        for ok in [
            "127.0.0.1:17000",
            "localhost:17000",
            "LOCALHOST:17000",
            "[::1]:17000",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:17000",
            "127.0.0.1:17001",
            "127.0.0.1",
            "localhost",
            "127.0.0.1.nip.io:17000",
            "localhost.evil.example:17000",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn the_default_port_may_be_left_out_and_ipv6_binds_are_named() {
        let hosts = LocalHosts::for_origin("http://[::1]:80").unwrap_or_else(|| panic!("parses"));
        assert!(hosts.allows("[::1]"));
        assert!(hosts.allows("localhost"));
        assert!(hosts.allows("[::1]:80"));
        assert!(!hosts.allows("evil.example"));
        let tls =
            LocalHosts::for_origin("https://127.0.0.2:8443").unwrap_or_else(|| panic!("parses"));
        assert!(tls.allows("127.0.0.2:8443"));
        assert!(!tls.allows("127.0.0.2"));
    }
}
