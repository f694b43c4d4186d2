//! The server side of monitoring: a client of the Prometheus HTTP query API (instant and range
//! queries, against Prometheus, VictoriaMetrics single-node or vmselect's tenant paths alike),
//! the backend chosen per cluster, and the charts and alerts built from its answers.

use std::{sync::Arc, time::Duration};

use console_api::monitoring::{
    AnswerError, BackendSpec, Backends, Chart, ChartKind, ClusterAlerts, ClusterCharts, Sample,
    TimeRange, alerts_from, alerts_query, decode_answer, series_from,
};
use futures::future::join_all;

/// Time a backend has to answer one query.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a query got no usable answer; every message names the backend.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the metrics backend {url} did not answer: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the metrics backend {url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the metrics backend {url}: {source}")]
    Answer {
        url: String,
        #[source]
        source: AnswerError,
    },
}

/// The metrics backends of the console (`--metrics-backend`) and the HTTP client that reads
/// them; cheap to clone, provided to server functions as context.
#[derive(Clone)]
pub struct Monitoring {
    backends: Arc<Backends>,
    http: reqwest::Client,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self::new(Backends::default())
    }
}

impl Monitoring {
    pub fn new(backends: Backends) -> Self {
        let http = reqwest::Client::builder()
            .timeout(QUERY_TIMEOUT)
            .build()
            .unwrap_or_default();
        Monitoring {
            backends: Arc::new(backends),
            http,
        }
    }

    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    async fn get(&self, url: String, params: &[(&str, String)]) -> Result<Vec<Sample>, QueryError> {
        let response = self
            .http
            .get(&url)
            .query(params)
            .send()
            .await
            .map_err(|e| QueryError::Unreachable {
                url: url.clone(),
                reason: crate::error::innermost(&e),
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| QueryError::Unreachable {
                url: url.clone(),
                reason: crate::error::innermost(&e),
            })?;
        // The query API answers errors with its JSON too (400/422/503): decode it for the
        // reason when it is there.
        match decode_answer(&body) {
            Ok(samples) if status.is_success() => Ok(samples),
            Err(source @ AnswerError::Refused { .. }) => Err(QueryError::Answer { url, source }),
            Err(source) if status.is_success() => Err(QueryError::Answer { url, source }),
            _ => Err(QueryError::Status {
                url,
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            }),
        }
    }

    /// An instant query at `time` (unix seconds; now when `None`).
    pub async fn instant(
        &self,
        backend: &BackendSpec,
        promql: &str,
        time: Option<f64>,
    ) -> Result<Vec<Sample>, QueryError> {
        let mut params = vec![("query", promql.to_string())];
        if let Some(time) = time {
            params.push(("time", format!("{time:.3}")));
        }
        self.get(backend.query_url(), &params).await
    }

    /// A range query from `start` to `end` (unix seconds) every `step` seconds.
    pub async fn range(
        &self,
        backend: &BackendSpec,
        promql: &str,
        start: f64,
        end: f64,
        step: i64,
    ) -> Result<Vec<Sample>, QueryError> {
        let params = [
            ("query", promql.to_string()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{step}s")),
        ];
        self.get(backend.query_range_url(), &params).await
    }

    /// One chart over `range` ending at `end`: its queries run together; the first failure
    /// becomes the chart's error.
    async fn chart(
        &self,
        backend: &BackendSpec,
        kind: ChartKind,
        cluster: &str,
        range: TimeRange,
        end: f64,
    ) -> Chart {
        let queries = kind.queries(cluster);
        let start = end - range.seconds() as f64;
        let answers = join_all(
            queries
                .iter()
                .map(|q| self.range(backend, &q.promql, start, end, range.step_seconds())),
        )
        .await;
        let mut chart = Chart {
            kind,
            series: Vec::new(),
            error: None,
        };
        for (query, answer) in queries.iter().zip(answers) {
            match answer {
                Ok(samples) => chart.series.extend(series_from(query, samples)),
                Err(error) => {
                    tracing::debug!(%error, chart = kind.id(), "chart query failed");
                    chart.error.get_or_insert(error.to_string());
                }
            }
        }
        chart
    }

    /// Every chart of `cluster` and the console's own, over `range` ending now.
    pub async fn cluster_charts(&self, cluster: &str, range: TimeRange) -> ClusterCharts {
        let end = now();
        let Some(backend) = self.backends.for_cluster(cluster) else {
            return ClusterCharts {
                cluster: cluster.to_string(),
                backend: None,
                range,
                end,
                charts: Vec::new(),
                console: Vec::new(),
            };
        };
        // The console's own figures come from the backend that serves the global cluster.
        let console_backend = self
            .backends
            .for_cluster(crate::platform::GLOBAL_CLUSTER)
            .unwrap_or(backend);
        let (charts, console) = futures::join!(
            join_all(
                ChartKind::CLUSTER
                    .iter()
                    .map(|kind| self.chart(backend, *kind, cluster, range, end))
            ),
            join_all(ChartKind::CONSOLE.iter().map(|kind| self.chart(
                console_backend,
                *kind,
                cluster,
                range,
                end
            ))),
        );
        ClusterCharts {
            cluster: cluster.to_string(),
            backend: Some(backend.base_url.clone()),
            range,
            end,
            charts,
            console,
        }
    }

    /// The firing and pending alerts of `cluster`, from its backend's `ALERTS` series.
    pub async fn cluster_alerts(&self, cluster: &str) -> ClusterAlerts {
        let Some(backend) = self.backends.for_cluster(cluster) else {
            return ClusterAlerts {
                cluster: cluster.to_string(),
                backend: None,
                alerts: Vec::new(),
                error: None,
            };
        };
        let (alerts, error) = match self.instant(backend, &alerts_query(cluster), None).await {
            Ok(samples) => (alerts_from(&samples), None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        ClusterAlerts {
            cluster: cluster.to_string(),
            backend: Some(backend.base_url.clone()),
            alerts,
            error,
        }
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}
