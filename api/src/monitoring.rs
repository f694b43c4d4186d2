//! Monitoring: where a cluster's metrics are read from (a backend speaking the Prometheus HTTP
//! query API: Prometheus, VictoriaMetrics single-node, or vmselect's `/select/<tenant>/prometheus`),
//! the charts and alerts the Monitoring page shows, and the decoding of the query API's answers.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

/// What answers at a backend's base URL; all speak the Prometheus query API below it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendFlavor {
    /// Prometheus, or VictoriaMetrics single-node (same paths at the root).
    Prometheus,
    /// VictoriaMetrics cluster: vmselect's `/select/<tenant>/prometheus`.
    VictoriaMetricsCluster { tenant: String },
}

/// One `--metrics-backend` value: `[CLUSTER=]URL`. Without a cluster it is the default for
/// every cluster that has none of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendSpec {
    pub cluster: Option<String>,
    /// The base URL, without a trailing slash; `/api/v1/query` is appended.
    pub base_url: String,
    pub flavor: BackendFlavor,
}

impl fmt::Display for BackendSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cluster {
            Some(cluster) => write!(f, "{cluster}={}", self.base_url),
            None => f.write_str(&self.base_url),
        }
    }
}

/// Why a `--metrics-backend` value was refused; each says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendSpecError {
    #[error(
        "{0:?} is not a cluster name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)"
    )]
    Cluster(String),
    #[error(
        "{0:?} is not an http:// or https:// URL; give the backend's base URL, e.g. http://prometheus:9090 or http://vmselect:8481/select/0/prometheus"
    )]
    Scheme(String),
    #[error("{0:?} has no host; give the backend's base URL, e.g. http://prometheus:9090")]
    Host(String),
    #[error(
        "{0:?} carries a user, query or fragment; give only scheme, host, port and path (credentials do not belong in a flag)"
    )]
    Extra(String),
    #[error(
        "{0:?}: a VictoriaMetrics cluster path is /select/<tenant>/prometheus with a tenant of digits, as 0 or 1:2"
    )]
    Tenant(String),
}

fn is_cluster_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn is_tenant(tenant: &str) -> bool {
    let mut parts = tenant.split(':');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let first = ok(parts.next());
    match (parts.next(), parts.next()) {
        (None, _) => first,
        (Some(project), None) => first && ok(Some(project)),
        _ => false,
    }
}

impl BackendSpec {
    /// Parses `[CLUSTER=]URL`.
    pub fn parse(text: &str) -> Result<Self, BackendSpecError> {
        let text = text.trim();
        let (cluster, url) = match text.split_once('=') {
            Some((cluster, url)) if !cluster.contains('/') && !cluster.contains(':') => {
                if !is_cluster_name(cluster) {
                    return Err(BackendSpecError::Cluster(cluster.to_string()));
                }
                (Some(cluster.to_string()), url)
            }
            _ => (None, text),
        };
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| BackendSpecError::Scheme(url.to_string()))?;
        if url.contains(['?', '#', '@']) || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(BackendSpecError::Extra(url.to_string()));
        }
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if host.is_empty() || host.starts_with(':') {
            return Err(BackendSpecError::Host(url.to_string()));
        }
        let path = path.trim_end_matches('/');
        let flavor = match path.strip_prefix("/select/") {
            Some(tail) => {
                let tenant = tail
                    .strip_suffix("/prometheus")
                    .filter(|t| is_tenant(t))
                    .ok_or_else(|| BackendSpecError::Tenant(url.to_string()))?;
                BackendFlavor::VictoriaMetricsCluster {
                    tenant: tenant.to_string(),
                }
            }
            None => BackendFlavor::Prometheus,
        };
        let scheme_len = url.len() - rest.len();
        Ok(BackendSpec {
            cluster,
            base_url: format!("{}{host}{path}", &url[..scheme_len]),
            flavor,
        })
    }

    /// The instant-query URL.
    pub fn query_url(&self) -> String {
        format!("{}/api/v1/query", self.base_url)
    }

    /// The range-query URL.
    pub fn query_range_url(&self) -> String {
        format!("{}/api/v1/query_range", self.base_url)
    }
}

/// Which backend serves which cluster: a cluster's own, else the default, else none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backends {
    pub default: Option<BackendSpec>,
    pub per_cluster: BTreeMap<String, BackendSpec>,
}

impl Backends {
    /// Later values win over earlier ones for the same cluster (or the default).
    pub fn new(specs: impl IntoIterator<Item = BackendSpec>) -> Self {
        let mut backends = Backends::default();
        for spec in specs {
            match spec.cluster.clone() {
                Some(cluster) => {
                    backends.per_cluster.insert(cluster, spec);
                }
                None => backends.default = Some(spec),
            }
        }
        backends
    }

    pub fn for_cluster(&self, cluster: &str) -> Option<&BackendSpec> {
        self.per_cluster.get(cluster).or(self.default.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.per_cluster.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

/// The time range a page shows, ending now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeRange {
    #[default]
    Minutes15,
    Hour1,
    Hours6,
    Hours24,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [
        TimeRange::Minutes15,
        TimeRange::Hour1,
        TimeRange::Hours6,
        TimeRange::Hours24,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::Minutes15 => "15m",
            TimeRange::Hour1 => "1h",
            TimeRange::Hours6 => "6h",
            TimeRange::Hours24 => "24h",
        }
    }

    /// The range named in a URL; anything else is the default (15 minutes).
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .unwrap_or_default()
    }

    pub fn seconds(self) -> i64 {
        match self {
            TimeRange::Minutes15 => 15 * 60,
            TimeRange::Hour1 => 3600,
            TimeRange::Hours6 => 6 * 3600,
            TimeRange::Hours24 => 24 * 3600,
        }
    }

    /// About 120 points per series, never finer than the sandbox's 5 s scrapes... 15 s.
    pub fn step_seconds(self) -> i64 {
        (self.seconds() / 120).max(15)
    }
}

/// The charts of a cluster, and the console's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChartKind {
    /// API requests per second by verb.
    RequestRate,
    /// 99th percentile of API request latency (seconds), watches and connects excluded.
    LatencyP99,
    /// Share of API requests answered with a 5xx.
    ErrorRate,
    /// Objects stored in etcd, as the apiserver counts them.
    EtcdObjects,
    /// Nodes, and those whose Ready condition is not True (the node lifecycle controller's view).
    Nodes,
    /// Pods stored (no readiness source without kube-state-metrics).
    Pods,
    /// The console's probe of this cluster, 99th percentile (seconds).
    ConsoleProbe,
    /// Console: requests per second by route.
    ConsoleRequests,
    /// Console: live streams open.
    ConsoleStreams,
    /// Console: reconcile errors per second by controller.
    ConsoleReconcileErrors,
}

/// How a chart's values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    PerSecond,
    Seconds,
    Ratio,
    Count,
}

/// A query of a chart: the legend of its series is the value of `legend_label`, or `name` when
/// the query has one series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartQuery {
    pub promql: String,
    pub name: &'static str,
    pub legend_label: Option<&'static str>,
}

/// A label value inside a PromQL string literal.
pub fn promql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl ChartKind {
    /// The per-cluster charts, in page order.
    pub const CLUSTER: [ChartKind; 7] = [
        ChartKind::RequestRate,
        ChartKind::LatencyP99,
        ChartKind::ErrorRate,
        ChartKind::EtcdObjects,
        ChartKind::Nodes,
        ChartKind::Pods,
        ChartKind::ConsoleProbe,
    ];
    /// The console's own charts.
    pub const CONSOLE: [ChartKind; 3] = [
        ChartKind::ConsoleRequests,
        ChartKind::ConsoleStreams,
        ChartKind::ConsoleReconcileErrors,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ChartKind::RequestRate => "request-rate",
            ChartKind::LatencyP99 => "latency-p99",
            ChartKind::ErrorRate => "error-rate",
            ChartKind::EtcdObjects => "etcd-objects",
            ChartKind::Nodes => "nodes",
            ChartKind::Pods => "pods",
            ChartKind::ConsoleProbe => "console-probe",
            ChartKind::ConsoleRequests => "console-requests",
            ChartKind::ConsoleStreams => "console-streams",
            ChartKind::ConsoleReconcileErrors => "console-reconcile-errors",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            ChartKind::RequestRate
            | ChartKind::ConsoleRequests
            | ChartKind::ConsoleReconcileErrors => Unit::PerSecond,
            ChartKind::LatencyP99 | ChartKind::ConsoleProbe => Unit::Seconds,
            ChartKind::ErrorRate => Unit::Ratio,
            ChartKind::EtcdObjects
            | ChartKind::Nodes
            | ChartKind::Pods
            | ChartKind::ConsoleStreams => Unit::Count,
        }
    }

    /// The PromQL of this chart for `cluster` (the console's charts ignore it). Every selector
    /// names the cluster, so one backend may hold several clusters.
    pub fn queries(self, cluster: &str) -> Vec<ChartQuery> {
        let c = promql_string(cluster);
        let one = |promql: String, name| ChartQuery {
            promql,
            name,
            legend_label: None,
        };
        match self {
            ChartKind::RequestRate => vec![ChartQuery {
                promql: format!(
                    r#"sum by (verb) (rate(apiserver_request_total{{job="apiserver",cluster={c}}}[1m]))"#
                ),
                name: "requests",
                legend_label: Some("verb"),
            }],
            ChartKind::LatencyP99 => vec![one(
                format!(
                    r#"histogram_quantile(0.99, sum by (le) (rate(apiserver_request_duration_seconds_bucket{{job="apiserver",cluster={c},verb!~"WATCH|CONNECT"}}[5m])))"#
                ),
                "p99",
            )],
            ChartKind::ErrorRate => vec![one(
                format!(
                    r#"(sum(rate(apiserver_request_total{{job="apiserver",cluster={c},code=~"5.."}}[1m])) or vector(0)) / sum(rate(apiserver_request_total{{job="apiserver",cluster={c}}}[1m]))"#
                ),
                "5xx",
            )],
            ChartKind::EtcdObjects => vec![one(
                format!(r#"sum(apiserver_storage_objects{{job="apiserver",cluster={c}}})"#),
                "objects",
            )],
            ChartKind::Nodes => vec![
                one(
                    format!(
                        r#"sum(node_collector_zone_size{{job="controller-manager",cluster={c}}})"#
                    ),
                    "nodes",
                ),
                one(
                    format!(
                        r#"sum(node_collector_unhealthy_nodes_in_zone{{job="controller-manager",cluster={c}}})"#
                    ),
                    "not-ready",
                ),
            ],
            ChartKind::Pods => vec![one(
                format!(
                    r#"sum(apiserver_storage_objects{{job="apiserver",cluster={c},resource="pods"}})"#
                ),
                "pods",
            )],
            ChartKind::ConsoleProbe => vec![one(
                format!(
                    r#"histogram_quantile(0.99, sum by (le) (rate(console_cluster_probe_duration_seconds_bucket{{cluster={c}}}[5m])))"#
                ),
                "p99",
            )],
            ChartKind::ConsoleRequests => vec![ChartQuery {
                promql: r#"topk(5, sum by (route) (rate(console_http_requests_total{job="console"}[1m])))"#
                    .into(),
                name: "requests",
                legend_label: Some("route"),
            }],
            ChartKind::ConsoleStreams => vec![one(
                r#"sum(console_live_streams_open{job="console"})"#.into(),
                "streams",
            )],
            ChartKind::ConsoleReconcileErrors => vec![ChartQuery {
                promql: r#"sum by (controller) (rate(console_controller_reconcile_errors_total{job="console"}[5m]))"#
                    .into(),
                name: "errors",
                legend_label: Some("controller"),
            }],
        }
    }
}

/// One line of a chart: `(unix seconds, value)` points in time order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A chart's data, or why the backend gave none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub kind: ChartKind,
    pub series: Vec<Series>,
    pub error: Option<String>,
}

/// What the Monitoring page shows for one cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterCharts {
    pub cluster: String,
    /// The backend's base URL, or `None` when no backend serves the cluster.
    pub backend: Option<String>,
    pub range: TimeRange,
    /// Unix seconds of the range's end.
    pub end: f64,
    pub charts: Vec<Chart>,
    pub console: Vec<Chart>,
}

// ---------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AlertState {
    Firing,
    Pending,
}

/// One alert of a cluster, from the backend's `ALERTS` series.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Alert {
    pub state: AlertState,
    pub name: String,
    pub severity: String,
}

/// A cluster's alerts, or why they could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterAlerts {
    pub cluster: String,
    pub backend: Option<String>,
    pub alerts: Vec<Alert>,
    pub error: Option<String>,
}

/// The query for a cluster's firing and pending alerts.
pub fn alerts_query(cluster: &str) -> String {
    format!(
        r#"ALERTS{{cluster={},alertstate=~"firing|pending"}}"#,
        promql_string(cluster)
    )
}

/// The alerts in an instant vector of `ALERTS`, firing first, one per name and state.
pub fn alerts_from(samples: &[Sample]) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = samples
        .iter()
        .filter_map(|s| {
            let state = match s.labels.get("alertstate").map(String::as_str) {
                Some("firing") => AlertState::Firing,
                Some("pending") => AlertState::Pending,
                _ => return None,
            };
            Some(Alert {
                state,
                name: s.labels.get("alertname").cloned().unwrap_or_default(),
                severity: s.labels.get("severity").cloned().unwrap_or_default(),
            })
        })
        .collect();
    alerts.sort();
    alerts.dedup();
    alerts
}

// ---------------------------------------------------------------------------------------------
// The Prometheus query API's answers
// ---------------------------------------------------------------------------------------------

/// One series of an answer: its labels and its points (one for an instant query).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

/// Why an answer could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the backend refused the query ({kind}): {message}")]
    Refused { kind: String, message: String },
    #[error("the backend's answer is not the Prometheus query API's JSON: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<(serde_json::Value, serde_json::Value)>,
    #[serde(default)]
    values: Vec<(serde_json::Value, serde_json::Value)>,
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "+Inf" | "Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            s => s.parse().ok(),
        },
        _ => None,
    }
}

/// Decodes an answer of `/api/v1/query` or `/api/v1/query_range` (vector, matrix or scalar;
/// Prometheus sends float timestamps, VictoriaMetrics integers).
pub fn decode_answer(body: &[u8]) -> Result<Vec<Sample>, AnswerError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| AnswerError::Malformed(e.to_string()))?;
    if envelope.status != "success" {
        return Err(AnswerError::Refused {
            kind: envelope.error_type.unwrap_or_else(|| "error".into()),
            message: envelope.error.unwrap_or_default(),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| AnswerError::Malformed("no data".into()))?;
    let point =
        |(t, v): &(serde_json::Value, serde_json::Value)| -> Result<(f64, f64), AnswerError> {
            match (number(t), number(v)) {
                (Some(t), Some(v)) => Ok((t, v)),
                _ => Err(AnswerError::Malformed(format!(
                    "a point is not [time, \"value\"]: [{t}, {v}]"
                ))),
            }
        };
    match data.result_type.as_str() {
        "vector" | "matrix" => {
            let raw: Vec<RawSeries> = serde_json::from_value(data.result)
                .map_err(|e| AnswerError::Malformed(e.to_string()))?;
            raw.iter()
                .map(|s| {
                    let mut points = s.values.iter().map(point).collect::<Result<Vec<_>, _>>()?;
                    if let Some(v) = &s.value {
                        points.push(point(v)?);
                    }
                    Ok(Sample {
                        labels: s.metric.clone(),
                        points,
                    })
                })
                .collect()
        }
        "scalar" => {
            let v: (serde_json::Value, serde_json::Value) = serde_json::from_value(data.result)
                .map_err(|e| AnswerError::Malformed(e.to_string()))?;
            Ok(vec![Sample {
                labels: BTreeMap::new(),
                points: vec![point(&v)?],
            }])
        }
        other => Err(AnswerError::Malformed(format!(
            "result type {other:?} is not a vector, matrix or scalar"
        ))),
    }
}

/// A chart's series from one query's answer: named by `legend_label` or by the query's name;
/// NaN and infinite points (a quantile of no requests) are left out.
pub fn series_from(query: &ChartQuery, samples: Vec<Sample>) -> Vec<Series> {
    let mut series: Vec<Series> = samples
        .into_iter()
        .map(|s| Series {
            name: query
                .legend_label
                .and_then(|l| s.labels.get(l).cloned())
                .unwrap_or_else(|| query.name.to_string()),
            points: s
                .points
                .into_iter()
                .filter(|(_, v)| v.is_finite())
                .collect(),
        })
        .collect();
    series.sort_by(|a, b| a.name.cmp(&b.name));
    series
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backend_specs_name_a_cluster_or_the_default_and_detect_vmselect_paths() {
        let spec =
            BackendSpec::parse("east=http://127.0.0.1:8428/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.cluster.as_deref(), Some("east"));
        assert_eq!(spec.query_url(), "http://127.0.0.1:8428/api/v1/query");
        assert_eq!(spec.flavor, BackendFlavor::Prometheus);

        let spec = BackendSpec::parse("https://vmselect:8481/select/1:2/prometheus")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.cluster, None);
        assert_eq!(
            spec.flavor,
            BackendFlavor::VictoriaMetricsCluster {
                tenant: "1:2".into()
            }
        );
        assert_eq!(
            spec.query_range_url(),
            "https://vmselect:8481/select/1:2/prometheus/api/v1/query_range"
        );
    }

    #[test]
    fn backend_specs_refuse_what_cannot_be_a_base_url_each_with_its_reason() {
        let err = |s: &str| BackendSpec::parse(s).err();
        assert!(matches!(
            err("East=http://x"),
            Some(BackendSpecError::Cluster(_))
        ));
        assert!(matches!(err("ftp://x"), Some(BackendSpecError::Scheme(_))));
        assert!(matches!(err("http://"), Some(BackendSpecError::Host(_))));
        assert!(matches!(
            err("http://u:p@x"),
            Some(BackendSpecError::Extra(_))
        ));
        assert!(matches!(
            err("http://x/api?q=1"),
            Some(BackendSpecError::Extra(_))
        ));
        assert!(matches!(
            err("http://x/select/abc/prometheus"),
            Some(BackendSpecError::Tenant(_))
        ));
        assert!(matches!(
            err("http://x/select/0"),
            Some(BackendSpecError::Tenant(_))
        ));
    }

    #[test]
    fn a_cluster_of_its_own_wins_over_the_default() {
        let backends = Backends::new(
            ["http://prom:9090", "east=http://vm:8428"]
                .iter()
                .map(|s| BackendSpec::parse(s).unwrap_or_else(|e| panic!("{e}"))),
        );
        assert_eq!(
            backends.for_cluster("east").map(|b| b.base_url.as_str()),
            Some("http://vm:8428")
        );
        assert_eq!(
            backends.for_cluster("west").map(|b| b.base_url.as_str()),
            Some("http://prom:9090")
        );
        assert!(Backends::default().for_cluster("west").is_none());
    }

    #[test]
    fn promql_strings_escape_quotes_and_backslashes() {
        assert_eq!(promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert!(
            ChartKind::RequestRate.queries("east")[0]
                .promql
                .contains(r#"cluster="east""#)
        );
    }

    #[test]
    fn answers_of_both_backends_decode() {
        let prometheus = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cluster":"east"},"value":[1796017866.628,"3"]}]}}"#;
        let vm = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cluster":"east"},"value":[1796017866,"3"]}]}}"#;
        for body in [&prometheus[..], &vm[..]] {
            let samples = decode_answer(body).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(samples.len(), 1);
            assert_eq!(
                samples[0].labels.get("cluster").map(String::as_str),
                Some("east")
            );
            assert_eq!(samples[0].points[0].1, 3.0);
        }
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"verb":"GET"},"values":[[1,"1"],[2,"NaN"],[3,"2.5"]]}]}}"#;
        let samples = decode_answer(matrix).unwrap_or_else(|e| panic!("{e}"));
        let query = &ChartKind::RequestRate.queries("east")[0];
        let series = series_from(query, samples);
        assert_eq!(series[0].name, "GET");
        assert_eq!(series[0].points, vec![(1.0, 1.0), (3.0, 2.5)]);
        let refused = br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(matches!(
            decode_answer(refused),
            Err(AnswerError::Refused { .. })
        ));
    }

    #[test]
    fn alerts_are_read_from_alerts_series_firing_first() {
        let sample = |name: &str, state: &str| Sample {
            labels: [
                ("alertname", name),
                ("alertstate", state),
                ("severity", "critical"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            points: vec![(1.0, 1.0)],
        };
        let alerts = alerts_from(&[
            sample("B", "pending"),
            sample("A", "firing"),
            sample("A", "firing"),
        ]);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].state, AlertState::Firing);
        assert_eq!(alerts[1].name, "B");
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics_and_accepted_specs_round_trip(text in ".{0,80}") {
            if let Ok(spec) = BackendSpec::parse(&text) {
                let again = BackendSpec::parse(&spec.to_string());
                prop_assert_eq!(again, Ok(spec));
            }
        }

        #[test]
        fn cluster_names_and_ports_are_kept(cluster in "[a-z]([a-z0-9-]{0,20}[a-z0-9])?", port in 1u16..) {
            let spec = BackendSpec::parse(&format!("{cluster}=http://127.0.0.1:{port}")).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(spec.cluster, Some(cluster));
            prop_assert_eq!(spec.base_url, format!("http://127.0.0.1:{port}"));
        }
    }
}
