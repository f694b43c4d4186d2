//! The cluster proxy: `/clusters/{name}/...` forwards a Kubernetes API request to the named
//! cluster as the signed-in user (impersonation over the console's own connection), streaming
//! the answer back, watches and `logs --follow` included. Authenticated by the session cookie
//! (browser) or a console-issued bearer token (kubectl); the gate has already decided who.

use axum::{
    Extension, Router,
    body::Body,
    extract::{Path, Request, State},
    http::{HeaderName, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};

use app::{ConsoleError, auth::Identity, clusters::registry::ClusterRegistry};

/// Request bodies (apply, patch) are buffered up to this size.
const MAX_BODY: usize = 16 * 1024 * 1024;

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
{
    Router::new()
        .route("/clusters/{name}", any(proxy))
        .route("/clusters/{name}/", any(proxy))
        .route("/clusters/{name}/{*rest}", any(proxy))
}

/// The part of the raw (still percent-encoded) path after `/clusters/{name}`, refused when it
/// could mean anything but a plain API path on that cluster.
pub fn upstream_path(raw: &str, name: &str) -> Result<String, String> {
    let prefix = format!("/clusters/{name}");
    let rest = raw
        .strip_prefix(&prefix)
        .ok_or_else(|| "the path does not name the cluster".to_string())?;
    let rest = if rest.is_empty() { "/" } else { rest };
    if !rest.starts_with('/') {
        return Err("the path does not name the cluster".into());
    }
    let lower = rest.to_ascii_lowercase();
    if lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || rest.contains('\\')
    {
        return Err(
            "encoded dots, slashes and backslashes are not allowed in proxied paths".into(),
        );
    }
    if rest
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err("'.' and '..' segments are not allowed in proxied paths".into());
    }
    Ok(rest.to_string())
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
        Err(message) => return status(StatusCode::BAD_REQUEST, "BadRequest", message),
    };
    if request.headers().contains_key(header::UPGRADE) {
        return status(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "exec, attach and port-forward (connection upgrades) are not proxied by the console"
                .into(),
        );
    }
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
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!(
                    "request bodies through the console are limited to {} MiB",
                    MAX_BODY / 1024 / 1024
                ),
            );
        }
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
    use super::upstream_path;

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
}
