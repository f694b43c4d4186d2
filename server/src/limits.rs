//! Limits that keep one user or one request from exhausting the console: open live streams and
//! concurrent proxied requests per user, the size of request bodies, and the time a request may
//! take until its response starts (a stream, once started, is never cut).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use app::ConsoleError;

/// Open live streams (`/api/live/...`) one user may hold: a few tabs of live pages.
pub const STREAMS_PER_USER: usize = 16;
/// Proxied requests (watches and `logs --follow` included) one user may have in flight.
pub const PROXIED_PER_USER: usize = 32;
/// The Kubernetes API server's own limit on request bodies (3 MiB): the console refuses nothing
/// a cluster would accept, and buffers no more than that per request.
pub const BODY_BYTES: usize = 3 * 1024 * 1024;
/// The Kubernetes API server's own default for non-streaming requests (`--request-timeout`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The limits in force, from the configuration.
#[derive(Clone)]
pub struct Limits {
    pub streams: PerUser,
    pub proxied: PerUser,
    pub body_bytes: usize,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            streams: PerUser::new(STREAMS_PER_USER),
            proxied: PerUser::new(PROXIED_PER_USER),
            body_bytes: BODY_BYTES,
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

impl Limits {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            streams: PerUser::new(config.max_streams_per_user),
            proxied: PerUser::new(config.max_proxied_requests_per_user),
            body_bytes: config.max_request_body_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_seconds),
        }
    }
}

/// Counts what each user holds open, up to `max`. Users holding nothing have no entry, so the
/// map is as large as the number of users with something open.
#[derive(Clone)]
pub struct PerUser {
    max: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl PerUser {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A permit for one more, or `None` when `user` already holds `max`. The permit gives its
    /// place back when dropped (the stream or the response body ends).
    pub fn try_acquire(&self, user: &str) -> Option<Permit> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user.to_string()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Permit {
            open: self.open.clone(),
            user: user.to_string(),
        })
    }

    /// How many `user` holds now.
    pub fn held(&self, user: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(user).copied().unwrap_or(0)
    }

    /// How many users hold anything.
    pub fn users(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One place held in a [`PerUser`]; dropping it frees the place.
pub struct Permit {
    open: Arc<Mutex<HashMap<String, usize>>>,
    user: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// A refusal in the form the caller reads: a Kubernetes Status on the cluster proxy (kubectl
/// prints its message), the typed console error for server functions, plain text otherwise
/// (live streams, pages).
pub fn refusal(path: &str, status: StatusCode, reason: &str, message: String) -> Response {
    let (content_type, body) = if path.starts_with("/clusters/") {
        let status = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": reason, "code": status.as_u16(),
        });
        ("application/json", status.to_string())
    } else if path.starts_with("/api/") && !path.starts_with("/api/live/") {
        let error = ConsoleError::Request { message };
        (
            "application/json",
            serde_json::to_string(&error).unwrap_or_default(),
        )
    } else {
        ("text/plain; charset=utf-8", message)
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Refuses bodies larger than the limit: at once when Content-Length says so, otherwise when
/// reading goes past it (the reader then gets an error, which the proxy turns into a 413).
/// Hand-written rather than tower-http's RequestBodyLimitLayer so the refusal says what to do.
pub async fn limit_body(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let max = limits.body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return body_too_large(request.uri().path(), max);
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, max)));
    next.run(request).await
}

/// The 413 for a body over `max` bytes.
pub fn body_too_large(path: &str, max: usize) -> Response {
    refusal(
        path,
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        format!(
            "the request body is larger than the console accepts ({}); send less at once, or \
             ask the operator to raise --max-request-body-bytes",
            size(max)
        ),
    )
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / 1024 / 1024)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Answers 504 when no response has started within the limit. Only the time until the
/// response's head counts: live streams, watches and `logs --follow` answer at once and then
/// stream for as long as they like. A small middleware rather than tower-http's TimeoutLayer so
/// the answer says what timed out.
pub async fn time_to_headers(
    State(limits): State<Limits>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let limit = limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%path, seconds = limit.as_secs(), "request timed out before its answer started");
            refusal(
                &path,
                StatusCode::GATEWAY_TIMEOUT,
                "Timeout",
                format!(
                    "no answer within {} s; the cluster or the console is overloaded or \
                     unreachable. Try again, or narrow the request (a namespace, a label selector, \
                     a limit).",
                    limit.as_secs()
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Router, routing::get};
    use tower::ServiceExt;

    #[test]
    fn permits_are_counted_per_user_and_given_back_when_dropped() {
        let streams = PerUser::new(2);
        let first = streams.try_acquire("alice");
        let second = streams.try_acquire("alice");
        assert!(first.is_some() && second.is_some());
        assert!(streams.try_acquire("alice").is_none(), "a third is refused");
        assert!(streams.try_acquire("bob").is_some(), "another user is not");
        drop(first);
        assert_eq!(streams.held("alice"), 1);
        assert!(streams.try_acquire("alice").is_some());
    }

    #[test]
    fn users_holding_nothing_take_no_memory() {
        let streams = PerUser::new(1);
        for i in 0..1000 {
            let permit = streams.try_acquire(&format!("user-{i}"));
            drop(permit);
        }
        assert_eq!(streams.users(), 0);
    }

    fn limited(limits: Limits, slow: Duration) -> Router {
        Router::new()
            .route(
                "/slow",
                get(move || async move {
                    tokio::time::sleep(slow).await;
                    "done"
                }),
            )
            .route(
                "/echo",
                axum::routing::post(|body: Body| async move {
                    match axum::body::to_bytes(body, usize::MAX).await {
                        Ok(bytes) => bytes.len().to_string().into_response(),
                        Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
                    }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                limits.clone(),
                time_to_headers,
            ))
            .layer(axum::middleware::from_fn_with_state(limits, limit_body))
    }

    async fn send(router: Router, request: Request) -> (StatusCode, String) {
        let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_answer_times_out_with_a_reason_and_a_quick_one_does_not() {
        let limits = Limits {
            request_timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        let get = |path: &str| {
            Request::builder()
                .uri(path)
                .body(Body::empty())
                .unwrap_or_default()
        };
        let (status, body) = send(
            limited(limits.clone(), Duration::from_secs(6)),
            get("/slow"),
        )
        .await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
        assert!(body.contains("no answer within 5 s"), "{body}");
        let (status, body) = send(limited(limits, Duration::from_secs(4)), get("/slow")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "done"));
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_declared_or_streamed() {
        let limits = Limits {
            body_bytes: 1024,
            ..Limits::default()
        };
        let post = |body: Body, length: Option<usize>| {
            let mut request = Request::builder().method("POST").uri("/echo");
            if let Some(length) = length {
                request = request.header(header::CONTENT_LENGTH, length);
            }
            request.body(body).unwrap_or_default()
        };
        let (status, body) = send(
            limited(limits.clone(), Duration::ZERO),
            post(Body::from(vec![b'x'; 2048]), Some(2048)),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            body.contains("1 KiB") && body.contains("--max-request-body-bytes"),
            "{body}"
        );

        // No Content-Length (chunked): the reader hits the limit.
        let chunks = futures::stream::iter(
            (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 512]))),
        );
        let (status, _) = send(
            limited(limits.clone(), Duration::ZERO),
            post(Body::from_stream(chunks), None),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

        let (status, body) = send(
            limited(limits, Duration::ZERO),
            post(Body::from(vec![b'x'; 1000]), Some(1000)),
        )
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "1000"));
    }

    #[test]
    fn refusals_take_the_form_their_caller_reads() {
        let proxied = refusal(
            "/clusters/east/api",
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "m".into(),
        );
        assert_eq!(
            proxied
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        let stream = refusal(
            "/api/live/watch",
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "m".into(),
        );
        assert!(
            stream
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"))
        );
    }
}
