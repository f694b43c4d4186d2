//! The console's own metrics at `/metrics` (OpenMetrics text, which Prometheus and
//! VictoriaMetrics scrape): HTTP requests by route pattern and status with their latency, open
//! live streams, controller reconciles and errors, and cluster probe latency.

use std::{
    future::Future,
    sync::LazyLock,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// The route label of a request no route matched (static files, 404s): one value, so a scan of
/// random paths cannot grow the series without bound.
pub const UNMATCHED: &str = "unmatched";

/// The OpenMetrics content type, which Prometheus 2.x and VictoriaMetrics negotiate.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route pattern (`/admin/clusters/{cluster}`), never the raw path.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProbeLabels {
    cluster: String,
    /// `ok` or `error`.
    outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RequestLabels>,
    streams: Gauge,
    reconciles: Family<ControllerLabels, Counter>,
    reconcile_errors: Family<ControllerLabels, Counter>,
    probe_seconds: Histograms<ProbeLabels>,
}

/// 5 ms .. ~20 s: page renders and server functions at the low end, slow clusters at the top.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("console");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let request_seconds: Histograms<RequestLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to the start of its answer (a stream's life is not counted)",
            request_seconds.clone(),
        );
        let streams = Gauge::default();
        registry.register(
            "live_streams_open",
            "Live-update and log streams open now",
            streams.clone(),
        );
        let reconciles = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "controller_reconciles",
            "Reconciles finished, by controller",
            reconciles.clone(),
        );
        let reconcile_errors = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "controller_reconcile_errors",
            "Reconciles that ended in an error, by controller",
            reconcile_errors.clone(),
        );
        let probe_seconds: Histograms<ProbeLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "cluster_probe_duration_seconds",
            "Time the Cluster status controller took to probe a cluster (version and nodes), by outcome",
            probe_seconds.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            streams,
            reconciles,
            reconcile_errors,
            probe_seconds,
        }
    }
}

// Process-wide on purpose: every router, controller and stream of the process reports into the
// one registry `/metrics` serves, as a scrape of one process expects.
static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// `GET /metrics`. Public (see `auth::gate::is_public`): it carries route patterns, counts and
/// cluster names, never users, paths or objects.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/metrics", get(serve))
}

async fn serve() -> Response {
    let mut body = String::new();
    match encode(&mut body, &METRICS.registry) {
        Ok(()) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "metrics could not be encoded");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the metrics could not be encoded; see the console's log",
            )
                .into_response()
        }
    }
}

/// Middleware (a `Router::layer`, so axum's [`MatchedPath`] is known): counts and times every
/// request by method, route pattern and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |p| p.as_str().to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    observe_request(method, route, response.status(), started.elapsed());
    response
}

/// Known methods by name, anything else as `other` (a client choosing methods must not grow
/// the series).
fn method_label(method: &Method) -> String {
    match *method {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::OPTIONS => method.as_str().to_string(),
        _ => "other".to_string(),
    }
}

fn observe_request(method: String, route: String, status: StatusCode, took: Duration) {
    let labels = RequestLabels {
        method,
        route,
        status: status.as_u16(),
    };
    METRICS.requests.get_or_create(&labels).inc();
    METRICS
        .request_seconds
        .get_or_create(&labels)
        .observe(took.as_secs_f64());
}

/// Counts an open live stream until dropped: hold it for as long as the stream is open.
#[must_use = "the stream counts as open only while the guard is held"]
pub struct StreamOpen(());

impl Drop for StreamOpen {
    fn drop(&mut self) {
        METRICS.streams.dec();
    }
}

/// A live stream opened; it counts as open until the returned guard is dropped.
pub fn stream_opened() -> StreamOpen {
    METRICS.streams.inc();
    StreamOpen(())
}

/// One finished reconcile of `controller`, an error when `result` is one. Called once per
/// item of a kube-rs controller's output stream.
pub fn reconciled<T, E>(controller: &str, result: &Result<T, E>) {
    let labels = ControllerLabels {
        controller: controller.to_string(),
    };
    METRICS.reconciles.get_or_create(&labels).inc();
    if result.is_err() {
        METRICS.reconcile_errors.get_or_create(&labels).inc();
    }
}

/// Times a probe of `cluster`, recording its outcome.
pub async fn timed_probe<T, E>(
    cluster: &str,
    probe: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = probe.await;
    let labels = ProbeLabels {
        cluster: cluster.to_string(),
        outcome: if result.is_ok() { "ok" } else { "error" },
    };
    METRICS
        .probe_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    result
}

/// The text `/metrics` serves now (tests and benchmarks read it without HTTP).
pub fn render() -> Result<String, std::fmt::Error> {
    let mut body = String::new();
    encode(&mut body, &METRICS.registry)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_counts_as_open_while_its_guard_lives() {
        let before = METRICS.streams.get();
        let guard = stream_opened();
        assert_eq!(METRICS.streams.get(), before + 1);
        drop(guard);
        assert_eq!(METRICS.streams.get(), before);
    }

    #[test]
    fn reconciles_and_errors_are_counted_per_controller() {
        reconciled::<(), ()>("unit-test", &Ok(()));
        reconciled::<(), ()>("unit-test", &Err(()));
        let text = render().unwrap_or_default();
        assert!(text.contains("console_controller_reconciles_total{controller=\"unit-test\"} 2"));
        assert!(
            text.contains("console_controller_reconcile_errors_total{controller=\"unit-test\"} 1")
        );
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let custom = Method::from_bytes(b"PROPFIND").unwrap_or(Method::CONNECT);
        assert_eq!(method_label(&custom), "other");
        assert_eq!(method_label(&Method::GET), "GET");
    }

    #[tokio::test]
    async fn probes_are_timed_by_cluster_and_outcome() {
        let _ = timed_probe::<(), ()>("unit-east", async { Ok(()) }).await;
        let _ = timed_probe::<(), ()>("unit-east", async { Err(()) }).await;
        let text = render().unwrap_or_default();
        assert!(text.contains(
            "console_cluster_probe_duration_seconds_count{cluster=\"unit-east\",outcome=\"ok\"} 1"
        ));
        assert!(text.contains(
            "console_cluster_probe_duration_seconds_count{cluster=\"unit-east\",outcome=\"error\"} 1"
        ));
    }
}
