//! The cluster proxy: `/clusters/{name}/...` forwards a Kubernetes API request to the named
//! cluster as the signed-in user (impersonation over the console's own connection), streaming
//! the answer back, watches and `logs --follow` included. Authenticated by the session cookie
//! (browser) or a console-issued bearer token (kubectl); the gate has already decided who.
//!
//! The proxy serves Kubernetes API answers only: the `proxy` subresources of pods, services and
//! nodes (a workload's own pages and scripts) are refused, and every answer is sandboxed
//! (`Content-Security-Policy: sandbox`, `nosniff`, no `Set-Cookie`) so nothing it carries can
//! run on the console's origin. One user has at most `--max-proxied-requests-per-user` in flight.

use axum::{
    Extension, Router,
    body::Body,
    extract::{Path, Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use http_body_util::BodyExt;

use app::{ConsoleError, auth::Identity, platform::registry::ClusterRegistry};

use crate::limits::Limits;

/// Request headers passed upstream; everything else (cookies, Authorization, Impersonate-*,
/// hop-by-hop headers, Accept-Encoding) stays behind.
const FORWARDED_REQUEST: [HeaderName; 4] = [
    header::ACCEPT,
    header::CONTENT_TYPE,
    header::USER_AGENT,
    HeaderName::from_static("kubectl-command"),
];

/// Hop-by-hop response headers (RFC 9110 7.6.1) are not passed back.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ClusterRegistry: axum::extract::FromRef<S>,
    Limits: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/clusters/{name}", any(proxy))
        .route("/clusters/{name}/", any(proxy))
        .route("/clusters/{name}/{*rest}", any(proxy))
}

/// Sandboxes every answer under `/clusters/`: the cluster's, the proxy's own refusals and the
/// gate's. Applied outside the session layer, so not even the console's own session cookie is
/// set on a proxied answer (pages and server functions keep it fresh).
pub async fn sandbox_proxied(request: Request, next: axum::middleware::Next) -> Response {
    let proxied = request.uri().path().starts_with("/clusters/");
    let response = next.run(request).await;
    if proxied {
        sandboxed(response).await
    } else {
        response
    }
}

/// Whatever a cluster answers is data, never a page of the console: no script in it runs
/// with the console's origin (CSP sandbox gives it an opaque origin), no type is guessed, and
/// it sets no cookie.
pub async fn sandboxed(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.remove(header::SET_COOKIE);
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Why a proxied path is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathRefusal {
    /// The path could mean something other than a plain API path on the named cluster.
    Malformed(String),
    /// The path reaches a `proxy` subresource: a workload's own content.
    ProxySubresource,
}

impl PathRefusal {
    pub fn status(&self) -> StatusCode {
        match self {
            PathRefusal::Malformed(_) => StatusCode::BAD_REQUEST,
            PathRefusal::ProxySubresource => StatusCode::FORBIDDEN,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            PathRefusal::Malformed(_) => "BadRequest",
            PathRefusal::ProxySubresource => "Forbidden",
        }
    }

    pub fn message(&self) -> String {
        match self {
            PathRefusal::Malformed(message) => message.clone(),
            PathRefusal::ProxySubresource => "the proxy subresources (pods/NAME/proxy, \
                services/NAME[:PORT]/proxy, nodes/NAME/proxy) are refused through the console: \
                they would serve a workload's own content (pages, scripts) on the console's \
                origin, where it could act as the signed-in user. Use `kubectl port-forward`, or \
                reach the cluster's API server directly."
                .into(),
        }
    }
}

fn malformed(message: &str) -> PathRefusal {
    PathRefusal::Malformed(message.to_string())
}

/// The part of the raw (still percent-encoded) path after `/clusters/{name}`, refused when it
/// could mean anything but a plain API path on that cluster, or reaches a `proxy` subresource.
pub fn upstream_path(raw: &str, name: &str) -> Result<String, PathRefusal> {
    let prefix = format!("/clusters/{name}");
    let rest = raw
        .strip_prefix(&prefix)
        .ok_or_else(|| malformed("the path does not name the cluster"))?;
    let rest = if rest.is_empty() { "/" } else { rest };
    if !rest.starts_with('/') {
        return Err(malformed("the path does not name the cluster"));
    }
    let lower = rest.to_ascii_lowercase();
    if lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || rest.contains('\\')
    {
        return Err(malformed(
            "encoded dots, slashes and backslashes are not allowed in proxied paths",
        ));
    }
    // What the API server sees: each segment percent-decoded once.
    let segments: Vec<String> = rest[1..]
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    if segments.iter().any(|s| s == "." || s == "..") {
        return Err(malformed(
            "'.' and '..' segments are not allowed in proxied paths",
        ));
    }
    // A trailing slash is harmless; an empty segment inside is not a path kubectl sends.
    if segments.len() > 1 && segments[..segments.len() - 1].iter().any(String::is_empty) {
        return Err(malformed(
            "empty segments ('//') are not allowed in proxied paths",
        ));
    }
    if reaches_proxy_subresource(&segments) {
        return Err(PathRefusal::ProxySubresource);
    }
    Ok(rest.to_string())
}

/// Whether decoded path `segments` name a `proxy` subresource (or the old `/api/v1/proxy/...`
/// form), read as the API server reads a request (k8s.io/apiserver's RequestInfoFactory):
/// `api/VERSION` or `apis/GROUP/VERSION`, an optional `watch` or `proxy` verb, an optional
/// `namespaces/NS`, then `RESOURCE/NAME/SUBRESOURCE`. Names are compared without regard to
/// case, which can only refuse more.
pub fn reaches_proxy_subresource(segments: &[String]) -> bool {
    let is = |segment: &String, word: &str| segment.eq_ignore_ascii_case(word);
    let rest = match segments {
        [api, _version, rest @ ..] if is(api, "api") => rest,
        [apis, _group, _version, rest @ ..] if is(apis, "apis") => rest,
        _ => return false,
    };
    let rest = match rest {
        [verb, ..] if is(verb, "proxy") => return true,
        [verb, rest @ ..] if is(verb, "watch") => rest,
        _ => rest,
    };
    let rest = match rest {
        [namespaces, _namespace, next, ..]
            if is(namespaces, "namespaces") && !is(next, "status") && !is(next, "finalize") =>
        {
            &rest[2..]
        }
        _ => rest,
    };
    matches!(rest, [_resource, _name, subresource, ..] if is(subresource, "proxy"))
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn proxy(
    State(clusters): State<ClusterRegistry>,
    State(limits): State<Limits>,
    Extension(identity): Extension<Identity>,
    Path(params): Path<Vec<(String, String)>>,
    request: Request,
) -> Response {
    let name = params
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let path = match upstream_path(request.uri().path(), &name) {
        Ok(path) => path,
        Err(refused) => {
            if refused == PathRefusal::ProxySubresource {
                tracing::warn!(cluster = %name, user = %identity.username, path = %request.uri().path(), "proxy subresource refused");
            }
            return status(refused.status(), refused.reason(), refused.message());
        }
    };
    if request.headers().contains_key(header::UPGRADE) {
        return status(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "exec, attach and port-forward (connection upgrades) are not proxied by the console"
                .into(),
        );
    }
    // Held until the answer's body ends: a watch or `logs --follow` holds its place while open.
    let Some(permit) = limits.proxied.try_acquire(&identity.username) else {
        tracing::warn!(user = %identity.username, max = limits.proxied.max(), "proxied request refused: too many in flight");
        return status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!(
                "{} already has {} requests in flight through the console's proxy (watches and \
                 log follows included), the most one user may have; stop some (kubectl get -w, \
                 logs -f) and try again",
                identity.username,
                limits.proxied.max()
            ),
        );
    };
    let client = match clusters.client_for(&name, &identity) {
        Ok(client) => client,
        Err(ConsoleError::ClusterNotFound { name }) => {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("cluster {name:?} is not registered in the console"),
            );
        }
        Err(other) => {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                other.to_string(),
            );
        }
    };

    let (parts, body) = request.into_parts();
    let target = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut upstream = http::Request::builder()
        .method(parts.method.clone())
        .uri(&target);
    for name in FORWARDED_REQUEST.iter() {
        for value in parts.headers.get_all(name) {
            upstream = upstream.header(name, value);
        }
    }
    let body = match axum::body::to_bytes(body, limits.body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => return crate::limits::body_too_large(parts.uri.path(), limits.body_bytes),
    };
    let upstream = match upstream.body(kube::client::Body::from(body)) {
        Ok(request) => request,
        Err(error) => return status(StatusCode::BAD_REQUEST, "BadRequest", error.to_string()),
    };
    tracing::debug!(cluster = %name, user = %identity.username, method = %parts.method, %target, "proxy");
    match client.send(upstream).await {
        Ok(response) => {
            let (mut head, body) = response.into_parts();
            for name in HOP_BY_HOP {
                head.headers.remove(name);
            }
            let body = body.map_frame(move |frame| {
                let _held = &permit;
                frame
            });
            Response::from_parts(head, Body::new(body))
        }
        Err(error) => status(
            StatusCode::BAD_GATEWAY,
            "ServiceUnavailable",
            format!(
                "cluster {name:?} cannot be reached: {}",
                app::error::innermost(&error)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_api_paths_pass() {
        assert_eq!(
            upstream_path("/clusters/east/api/v1/namespaces", "east").as_deref(),
            Ok("/api/v1/namespaces")
        );
        assert_eq!(upstream_path("/clusters/east", "east").as_deref(), Ok("/"));
        assert_eq!(
            upstream_path("/clusters/east/version", "east").as_deref(),
            Ok("/version")
        );
    }

    #[test]
    fn escapes_are_refused() {
        for path in [
            "/clusters/east/../west/api",
            "/clusters/east/api/./v1",
            "/clusters/east/%2e%2e/west",
            "/clusters/east/api%2Fv1",
            "/clusters/east/api\\v1",
            "/clusters/eastwest/api",
        ] {
            assert!(upstream_path(path, "east").is_err(), "{path}");
        }
    }

    #[test]
    fn proxy_subresources_are_refused_in_every_form() {
        for path in [
            "/clusters/east/api/v1/namespaces/team-a/pods/web/proxy",
            "/clusters/east/api/v1/namespaces/team-a/pods/web/proxy/",
            "/clusters/east/api/v1/namespaces/team-a/pods/web:8080/proxy/index.html",
            "/clusters/east/api/v1/namespaces/team-a/pods/https:web:8443/proxy/x",
            "/clusters/east/api/v1/namespaces/team-a/services/web/proxy/",
            "/clusters/east/api/v1/namespaces/team-a/services/web:http/proxy/a/b?c=d",
            "/clusters/east/api/v1/namespaces/team-a/services/https:web:443/proxy",
            "/clusters/east/api/v1/nodes/kwok-node-0/proxy/metrics",
            "/clusters/east/api/v1/nodes/kwok-node-0:10250/proxy/",
            "/clusters/east/api/v1/proxy/namespaces/team-a/pods/web/",
            "/clusters/east/api/v1/watch/namespaces/team-a/pods/web/proxy",
            "/clusters/east/api/v1/namespaces/team-a/pods/web/%70roxy/",
            "/clusters/east/api/v1/namespaces/team-a/pods/web/PROXY",
            "/clusters/east/api/v1/namespaces/team-a/pods/web/Pr%4Fxy",
            "/clusters/east/api/%76%31/namespaces/team-a/services/web/proxy",
            "/clusters/east/apis/example.io/v1/namespaces/team-a/widgets/w/proxy",
            "/clusters/east/apis/example.io/v1/widgets/w/proxy/",
            "/clusters/east/apis/example.io/v1/proxy/widgets",
        ] {
            assert_eq!(
                upstream_path(path, "east"),
                Err(PathRefusal::ProxySubresource),
                "{path}"
            );
        }
        let message = PathRefusal::ProxySubresource.message();
        assert!(message.contains("console's origin") && message.contains("kubectl port-forward"));
        assert_eq!(
            PathRefusal::ProxySubresource.status(),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn names_and_namespaces_called_proxy_are_plain_api_paths() {
        for path in [
            "/api/v1/namespaces/proxy",
            "/api/v1/namespaces/proxy/pods",
            "/api/v1/namespaces/proxy/pods/proxy",
            "/api/v1/namespaces/proxy/pods/proxy/log",
            "/api/v1/namespaces/team-a/configmaps/proxy",
            "/api/v1/namespaces/team-a/services/proxy/status",
            "/api/v1/namespaces/proxy/status",
            "/api/v1/nodes/proxy",
            "/apis/apps/v1/namespaces/proxy/deployments/proxy/scale",
            "/api/v1/namespaces/team-a/pods/web/log",
            "/openapi/v3/api/v1",
            "/version",
        ] {
            assert_eq!(
                upstream_path(&format!("/clusters/east{path}"), "east").as_deref(),
                Ok(path),
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn every_answer_is_sandboxed_and_sets_no_cookie() {
        let upstream = Response::builder()
            .header(header::SET_COOKIE, "a=b")
            .header(header::SET_COOKIE, "c=d")
            .header(header::CONTENT_SECURITY_POLICY, "default-src *")
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from("<script>alert(1)</script>"))
            .unwrap_or_default();
        let answer = sandboxed(upstream).await;
        let headers = answer.headers();
        assert!(headers.get(header::SET_COOKIE).is_none());
        assert_eq!(
            headers
                .get_all(header::CONTENT_SECURITY_POLICY)
                .iter()
                .collect::<Vec<_>>(),
            [HeaderValue::from_static("sandbox")]
        );
        assert_eq!(
            headers.get(header::X_CONTENT_TYPE_OPTIONS),
            Some(&HeaderValue::from_static("nosniff"))
        );
    }

    /// Each segment as the API server reads it (percent-decoded once).
    fn decoded(path: &str) -> Vec<String> {
        path.trim_start_matches('/')
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect()
    }

    mod properties {
        use super::{PathRefusal, decoded, reaches_proxy_subresource, upstream_path};
        use proptest::prelude::*;

        /// A path segment made of the pieces that matter to an escape or a subresource.
        fn tricky_segment() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(".".to_string()),
                Just("..".to_string()),
                Just("%2e".to_string()),
                Just(".%2E".to_string()),
                Just("%2f".to_string()),
                Just("%5C".to_string()),
                Just("\\".to_string()),
                Just(String::new()),
                Just("proxy".to_string()),
                Just("%70roxy".to_string()),
                Just("watch".to_string()),
                Just("namespaces".to_string()),
                Just("pods".to_string()),
                Just("services".to_string()),
                Just("nodes".to_string()),
                Just("api".to_string()),
                Just("apis".to_string()),
                Just("v1".to_string()),
                Just("east".to_string()),
                Just("west".to_string()),
                "[a-zA-Z0-9%:.\\-]{0,8}",
            ]
        }

        /// Percent-encodes some of `word`'s letters, at random (`mask` bit i: letter i).
        fn spell(word: &str, mask: u32, upper: u32) -> String {
            word.chars()
                .enumerate()
                .map(|(i, c)| {
                    let c = if upper & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    };
                    if mask & (1 << i) != 0 {
                        format!("%{:02X}", c as u32)
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }

        proptest! {
            /// Whatever the input, an accepted path stays below the cluster's prefix (even as
            /// a browser or URL library resolves it), holds no '.' or '..' segment and no
            /// slash or backslash once decoded, and reaches no proxy subresource.
            #[test]
            fn accepted_paths_never_leave_the_cluster_nor_reach_a_proxy(
                segments in proptest::collection::vec(tricky_segment(), 0..10),
                prefixed in any::<bool>(),
            ) {
                let tail = segments.iter().map(|s| format!("/{s}")).collect::<String>();
                let raw = if prefixed { format!("/clusters/east{tail}") } else { tail.clone() };
                if let Ok(path) = upstream_path(&raw, "east") {
                    prop_assert!(path.starts_with('/'));
                    let rebuilt = format!("/clusters/east{path}");
                    prop_assert_eq!(rebuilt.trim_end_matches('/'), raw.trim_end_matches('/'));
                    let parts = decoded(&path);
                    prop_assert!(parts.iter().all(|s| s != "." && s != ".."), "{path}");
                    prop_assert!(parts.iter().all(|s| !s.contains('/') && !s.contains('\\')), "{path}");
                    prop_assert!(!reaches_proxy_subresource(&parts), "{path}");
                    let resolved = url::Url::parse(&format!("https://console.example{raw}"))
                        .map(|u| u.path().to_string())
                        .unwrap_or_default();
                    prop_assert!(
                        resolved == "/clusters/east" || resolved.starts_with("/clusters/east/"),
                        "{raw} resolves to {resolved}"
                    );
                }
            }

            /// Every spelling of a proxy subresource (any group and version, namespaced or
            /// not, `watch` prefix, `NAME:PORT`, letters in any case or percent-encoded, any
            /// tail) is refused; the same path with another subresource passes untouched.
            #[test]
            fn proxy_subresources_are_refused_however_spelled(
                group in prop_oneof![Just(None), Just(Some("apps")), Just(Some("example.io"))],
                watch in any::<bool>(),
                namespace in proptest::option::of("[a-z][a-z0-9-]{0,10}|proxy"),
                resource in prop_oneof![
                    Just("pods"), Just("services"), Just("nodes"), Just("widgets"),
                ],
                name in "[a-z][a-z0-9-]{0,10}|proxy",
                port in proptest::option::of("[0-9]{1,5}|http|https"),
                mask in any::<u32>(),
                upper in any::<u32>(),
                other in prop_oneof![Just("status"), Just("log"), Just("scale"), Just("exec")],
                tail in proptest::collection::vec("[a-z0-9.-]{1,8}", 0..3),
            ) {
                let version = match group {
                    None => "api/v1".to_string(),
                    Some(group) => format!("apis/{group}/v1"),
                };
                let mut path = format!("/{version}");
                if watch {
                    path.push_str("/watch");
                }
                if let Some(ns) = &namespace {
                    path.push_str(&format!("/namespaces/{ns}"));
                }
                let name = match &port {
                    Some(port) => format!("{name}:{port}"),
                    None => name,
                };
                path.push_str(&format!("/{resource}/{name}"));
                let tail = tail
                    .iter()
                    .filter(|s| *s != "." && *s != "..")
                    .map(|s| format!("/{s}"))
                    .collect::<String>();

                let proxied = format!("/clusters/east{path}/{}{tail}", spell("proxy", mask, upper));
                prop_assert_eq!(upstream_path(&proxied, "east"), Err(PathRefusal::ProxySubresource));

                let plain = format!("{path}/{other}{tail}");
                let passed = upstream_path(&format!("/clusters/east{plain}"), "east");
                prop_assert_eq!(passed.as_deref(), Ok(plain.as_str()));
            }
        }
    }
}
