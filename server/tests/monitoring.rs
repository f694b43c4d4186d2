//! Monitoring against the sandbox: the console's own `/metrics` (route patterns, statuses, open
//! streams) scraped by the sandbox's Prometheus and VictoriaMetrics; both backends answering
//! the same instant and range queries with the `cluster` label; an alert induced on east only
//! (API requests failing through a webhook that cannot be reached) seen for east and not for
//! west, by both backends and on the Monitoring page; the page's charts as server-rendered SVG.

mod support;

use std::{collections::BTreeMap, path::Path, sync::OnceLock, time::Duration};

use app::monitoring::{
    AlertState, AlertsByCluster, BackendSpec, Backends, ClusterAlerts, ssr::Monitoring,
};
use k8s_openapi::api::{
    admissionregistration::v1::ValidatingWebhookConfiguration,
    core::v1::{ConfigMap, Namespace},
};
use kube::{
    Api,
    api::{DeleteParams, ObjectMeta, PostParams},
};
use leptos::server_fn::ServerFn;
use serde::Deserialize;
use server::{AppState, auth::Auth, auth::store::Store, limits::Limits, router};
use support::{
    Sandbox, block_on_own_runtime, client_from,
    console::{
        oidc_config, post_form, registry_following_global, run, runtime, signed_in,
        streaming_signed_in,
    },
    eventually, run_id, sandbox,
};

/// A redirect URI port the sandbox's Dex accepts (console port + 1 .. + 19) that no other
/// test binary uses.
const PORT_OFFSET: u16 = 19;

/// What `sandbox/monitoring.sh` records in `monitoring.json`.
#[derive(Debug, Deserialize)]
struct Backs {
    prometheus: String,
    victoria_metrics: String,
    console_targets_dir: std::path::PathBuf,
}

fn backs(sandbox: &Sandbox) -> Backs {
    let path = sandbox.state_dir.join("monitoring.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; sandbox/up --detach starts VictoriaMetrics and writes it",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn spec(text: &str) -> BackendSpec {
    BackendSpec::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

struct Console {
    origin: String,
    /// `host:port`, the scrape target's `instance`.
    instance: String,
}

/// One console for the binary (leptos-rs/leptos#4773) over TLS, reading east's metrics from
/// VictoriaMetrics and the others' from Prometheus, listed for both to scrape.
fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(|| {
        let sandbox = sandbox();
        let backs = backs(sandbox);
        let _enter = runtime().enter();
        let clusters = registry_following_global(sandbox);
        let port = sandbox.console_port + PORT_OFFSET;
        let origin = format!("https://127.0.0.1:{port}");
        let config = oidc_config(sandbox, &origin, None, &[]);
        let addr = format!("127.0.0.1:{port}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let auth =
            Auth::from_config(&config, addr, Store::default()).unwrap_or_else(|e| panic!("{e}"));
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("monitoring-site");
        std::fs::create_dir_all(root.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
        let mut state = AppState::for_site(&root, clusters);
        state.auth = auth;
        state.limits = Limits::from_config(&config);
        state.monitoring = Monitoring::new(Backends::new([
            spec(&backs.prometheus),
            spec(&format!("east={}", backs.victoria_metrics)),
        ]));
        let app = router(state);
        let listener =
            std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
            .unwrap_or_else(|e| panic!("{e}"));
        runtime().spawn(server::tls::serve(
            listener,
            app,
            tls,
            axum_server::Handle::new(),
        ));
        // The sandbox scrapes the consoles listed in its file_sd directory; this port is this
        // binary's alone, so the file stays between runs.
        let instance = format!("127.0.0.1:{port}");
        std::fs::write(
            backs
                .console_targets_dir
                .join("console-monitoring-test.json"),
            format!(
                r#"[{{"targets": ["{instance}"], "labels": {{"console": "monitoring-test"}}}}]"#
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Console { origin, instance }
    })
}

/// The value of the sample `name{labels}` in a /metrics text, labels in any order.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            (metric == name).then_some((rest.trim_end_matches('}'), value))
        })
        .find(|(set, _)| {
            let set: BTreeMap<&str, &str> = set
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k, v.trim_matches('"')))
                .collect();
            labels.iter().all(|(k, v)| set.get(k) == Some(v))
        })
        .and_then(|(_, v)| v.parse().ok())
}

async fn metrics_text(origin: &str) -> String {
    // No session: /metrics is public, as Prometheus scrapes it.
    let response = sandbox()
        .browser()
        .get(format!("{origin}/metrics"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    response.text().await.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn metrics_count_requests_by_route_pattern_and_status_without_sign_in() {
    let console = console();
    run(async {
        let browser = sandbox().browser();
        for path in [
            "/healthz",
            "/healthz",
            "/admin/clusters/east",
            "/no/such/page-42",
        ] {
            browser
                .get(format!("{}{path}", console.origin))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let text = metrics_text(&console.origin).await;
        let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
        assert!(
            sample(&text, "console_http_requests_total", &healthz).unwrap_or(0.0) >= 2.0,
            "{text}"
        );
        assert!(
            sample(
                &text,
                "console_http_request_duration_seconds_count",
                &healthz
            )
            .unwrap_or(0.0)
                >= 2.0,
            "{text}"
        );
        // A page of a cluster is counted under its route pattern; without a session the gate
        // answers with a redirect to sign in.
        let cluster_page = text
            .lines()
            .find(|l| {
                l.starts_with("console_http_requests_total{")
                    && l.contains("route=\"/admin/clusters/{")
            })
            .unwrap_or_else(|| panic!("no request counted under /admin/clusters/{{..}}: {text}"));
        assert!(cluster_page.contains("status=\"30"), "{cluster_page}");
        assert!(
            sample(
                &text,
                "console_http_requests_total",
                &[("route", "unmatched")]
            )
            .is_some(),
            "{text}"
        );
        // Raw paths never become labels.
        for raw in ["/admin/clusters/east", "page-42"] {
            assert!(!text.contains(raw), "{raw} appears in the metrics: {text}");
        }
        assert!(
            text.contains("# TYPE console_live_streams_open gauge"),
            "{text}"
        );
        // This console runs no controllers: report as one would, and see it served.
        server::metrics::reconciled::<(), ()>("monitoring-test", &Err(()));
        let _ = server::metrics::timed_probe::<(), ()>("monitoring-test", async { Ok(()) }).await;
        let text = metrics_text(&console.origin).await;
        let controller = [("controller", "monitoring-test")];
        assert_eq!(
            sample(&text, "console_controller_reconciles_total", &controller),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "console_controller_reconcile_errors_total",
                &controller
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "console_cluster_probe_duration_seconds_count",
                &[("cluster", "monitoring-test"), ("outcome", "ok")]
            ),
            Some(1.0),
            "{text}"
        );
    });
}

#[test]
fn open_live_streams_are_counted_while_they_are_open() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let admin = streaming_signed_in(sandbox, &console.origin, "admin").await;
        let open = |text: &str| sample(text, "console_live_streams_open", &[]).unwrap_or(-1.0);
        let before = open(&metrics_text(&console.origin).await);
        let mut stream = admin
            .get(format!(
                "{}/api/live/watch?cluster=east&kind=namespaces",
                console.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut buffer = String::new();
        let (event, data) = support::console::next_sse(&mut stream, &mut buffer, "ready", 20).await;
        assert_eq!(event, "ready", "{data}");
        let during = open(&metrics_text(&console.origin).await);
        assert!(during >= before + 1.0, "before {before}, during {during}");
        drop(stream);
        eventually("the closed stream uncounted", 10, || async {
            let after = open(&metrics_text(&console.origin).await);
            if after <= during - 1.0 {
                Ok(())
            } else {
                Err(format!("{after} open"))
            }
        })
        .await;
    });
}

/// `sum by (cluster) (x)` as a map, from an instant query.
async fn by_cluster(
    monitoring: &Monitoring,
    backend: &BackendSpec,
    promql: &str,
) -> BTreeMap<String, f64> {
    monitoring
        .instant(backend, promql, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|s| Some((s.labels.get("cluster")?.clone(), s.points.first()?.1)))
        .collect()
}

#[test]
fn both_backends_answer_the_same_instant_query_with_the_cluster_label() {
    let sandbox = sandbox();
    let backs = backs(sandbox);
    run(async {
        let monitoring = Monitoring::default();
        let (prometheus, vm) = (spec(&backs.prometheus), spec(&backs.victoria_metrics));
        let want: BTreeMap<String, f64> = sandbox
            .clusters
            .iter()
            .map(|c| (c.name.clone(), c.nodes as f64))
            .collect();
        let query = r#"sum by (cluster) (node_collector_zone_size{job="controller-manager"})"#;
        for backend in [&prometheus, &vm] {
            let found = eventually(
                &format!("{} counting every cluster's nodes", backend.base_url),
                60,
                || async {
                    let found = by_cluster(&monitoring, backend, query).await;
                    if found == want {
                        Ok(found)
                    } else {
                        Err(format!("{found:?}"))
                    }
                },
            )
            .await;
            assert_eq!(found, want);
        }
        // Both see every apiserver under its own cluster label.
        let up = r#"sum by (cluster) (up{job="apiserver"})"#;
        let from_prometheus = by_cluster(&monitoring, &prometheus, up).await;
        let from_vm = by_cluster(&monitoring, &vm, up).await;
        assert_eq!(
            from_prometheus.keys().collect::<Vec<_>>(),
            from_vm.keys().collect::<Vec<_>>()
        );
        assert_eq!(
            from_prometheus.len(),
            sandbox.clusters.len(),
            "{from_prometheus:?}"
        );
    });
}

#[test]
fn range_queries_of_both_backends_cover_the_range_per_cluster() {
    let sandbox = sandbox();
    let backs = backs(sandbox);
    run(async {
        let monitoring = Monitoring::default();
        let query = r#"sum by (cluster) (rate(apiserver_request_total{job="apiserver"}[1m]))"#;
        let end = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        for backend in [spec(&backs.prometheus), spec(&backs.victoria_metrics)] {
            let answer = eventually(
                &format!("{} answering a range query", backend.base_url),
                90,
                || {
                    let (monitoring, backend) = (&monitoring, &backend);
                    async move {
                        let samples = monitoring
                            .range(backend, query, end - 60.0, end, 15)
                            .await
                            .map_err(|e| e.to_string())?;
                        let points: BTreeMap<String, usize> = samples
                            .iter()
                            .filter_map(|s| {
                                Some((s.labels.get("cluster")?.clone(), s.points.len()))
                            })
                            .collect();
                        if points.len() == 3 && points.values().all(|n| *n >= 3) {
                            Ok(samples)
                        } else {
                            Err(format!("{points:?}"))
                        }
                    }
                },
            )
            .await;
            for series in answer {
                let times: Vec<f64> = series.points.iter().map(|p| p.0).collect();
                assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");
                assert!(
                    times
                        .iter()
                        .all(|t| *t >= end - 60.0 - 1.0 && *t <= end + 1.0),
                    "{times:?}"
                );
            }
        }
    });
}

#[test]
fn the_sandbox_scrapes_the_console() {
    let (sandbox, console) = (sandbox(), console());
    let backs = backs(sandbox);
    run(async {
        let monitoring = Monitoring::default();
        let query = format!(r#"up{{job="console",instance="{}"}}"#, console.instance);
        for backend in [spec(&backs.prometheus), spec(&backs.victoria_metrics)] {
            eventually(
                &format!("{} scraping the console", backend.base_url),
                90,
                || {
                    let (monitoring, backend, query) = (&monitoring, &backend, &query);
                    async move {
                        let samples = monitoring
                            .instant(backend, query, None)
                            .await
                            .map_err(|e| e.to_string())?;
                        match samples.first().and_then(|s| s.points.first()) {
                            Some((_, v)) if *v == 1.0 => Ok(()),
                            other => Err(format!("{other:?}")),
                        }
                    }
                },
            )
            .await;
        }
    });
}

/// A webhook on east that cannot be reached, for ConfigMaps in one namespace of its own: every
/// ConfigMap created there fails with 500. Removed on drop, whatever the test's outcome.
struct FailingWebhook {
    name: String,
    kubeconfig: std::path::PathBuf,
}

impl FailingWebhook {
    async fn install(sandbox: &Sandbox) -> (Self, Api<ConfigMap>) {
        let east = sandbox.cluster("east");
        let client = client_from(&east.admin_kubeconfig).await;
        let name = format!("monitoring-errors-{}", run_id());
        let guard = FailingWebhook {
            name: name.clone(),
            kubeconfig: east.admin_kubeconfig.clone(),
        };
        let webhook: ValidatingWebhookConfiguration = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "webhooks": [{
                "name": "refuse.monitoring.nextgen-console.io",
                "clientConfig": {"url": "https://127.0.0.1:1/validate"},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}},
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 2
            }]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .create(&PostParams::default(), &webhook)
            .await
            .unwrap_or_else(|e| panic!("webhook: {e}"));
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("namespace: {e}"));
        (guard, Api::namespaced(client, &name))
    }
}

impl Drop for FailingWebhook {
    fn drop(&mut self) {
        let (name, kubeconfig) = (self.name.clone(), self.kubeconfig.clone());
        block_on_own_runtime(async move {
            let client = client_from(&kubeconfig).await;
            let _ = Api::<ValidatingWebhookConfiguration>::all(client.clone())
                .delete(&name, &DeleteParams::default())
                .await;
            let _ = Api::<Namespace>::all(client)
                .delete(&name, &DeleteParams::default())
                .await;
        });
    }
}

fn firing(alerts: &ClusterAlerts, name: &str) -> bool {
    alerts
        .alerts
        .iter()
        .any(|a| a.name == name && a.state == AlertState::Firing)
}

#[test]
fn apiserver_errors_on_east_alert_for_east_and_not_for_west() {
    let (sandbox, console) = (sandbox(), console());
    let backs = backs(sandbox);
    run(async {
        let (_webhook, configmaps) = FailingWebhook::install(sandbox).await;
        // Failing requests on east, about 20 a second, for as long as the test waits.
        let failing = tokio::spawn(async move {
            for i in 0.. {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(format!("refused-{i}")),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let _ = configmaps.create(&PostParams::default(), &cm).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let monitoring = Monitoring::default();
        let prometheus = Monitoring::new(Backends::new([spec(&backs.prometheus)]));
        let vm = Monitoring::new(Backends::new([spec(&backs.victoria_metrics)]));
        for (what, backend) in [
            ("Prometheus", &prometheus),
            ("vmalert on VictoriaMetrics", &vm),
        ] {
            eventually(
                &format!("{what}: ApiserverErrors firing on east"),
                150,
                || async {
                    let east = backend.cluster_alerts("east").await;
                    if firing(&east, "ApiserverErrors") {
                        Ok(())
                    } else {
                        Err(format!("{east:?}"))
                    }
                },
            )
            .await;
            let west = backend.cluster_alerts("west").await;
            assert!(west.error.is_none(), "{west:?}");
            assert!(
                !west.alerts.iter().any(|a| a.name == "ApiserverErrors"),
                "{what}: west has {west:?}"
            );
        }
        drop(monitoring);

        // The page's server function, as the administrator: grouped by cluster, east (read from
        // VictoriaMetrics) with the alert, west (Prometheus) without.
        let admin = signed_in(sandbox, &console.origin, "admin").await;
        let (status, body) = post_form(&admin, &console.origin, AlertsByCluster::PATH, &[]).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        let groups: Vec<ClusterAlerts> =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let group = |name: &str| {
            groups
                .iter()
                .find(|g| g.cluster == name)
                .unwrap_or_else(|| panic!("no group for {name}: {body}"))
        };
        assert!(firing(group("east"), "ApiserverErrors"), "{body}");
        assert!(
            group("east").backend.as_deref() == Some(backs.victoria_metrics.as_str()),
            "{body}"
        );
        assert!(
            !group("west")
                .alerts
                .iter()
                .any(|a| a.name == "ApiserverErrors"),
            "{body}"
        );
        failing.abort();
    });
}

#[test]
fn the_monitoring_page_draws_charts_as_svg_for_those_who_may_list_nodes() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let admin = signed_in(sandbox, &console.origin, "admin").await;
        let page = admin
            .get(format!(
                "{}/admin/monitoring?cluster=east&range=15m",
                console.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.status(), reqwest::StatusCode::OK);
        let html = page.text().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            html.contains(r#"data-testid="cluster-charts""#)
                && html.contains(r#"data-cluster="east""#),
            "{html}"
        );
        let chart = html
            .split(r#"data-chart="request-rate""#)
            .nth(1)
            .unwrap_or_else(|| panic!("no request-rate chart: {html}"));
        let chart = &chart[..chart.find("</figure>").unwrap_or(chart.len())];
        assert!(
            chart.contains("<svg") && chart.contains(r#"<path d="M"#),
            "{chart}"
        );
        assert!(chart.contains(r#"data-series="GET""#), "{chart}");
        assert!(html.contains(r#"data-chart="nodes""#), "{html}");
        assert!(html.contains(r#"data-testid="alerts""#), "{html}");

        // alice may not list east's nodes: no metrics of east for her.
        let alice = signed_in(sandbox, &console.origin, "alice").await;
        let page = alice
            .get(format!("{}/admin/monitoring?cluster=east", console.origin))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let html = page.text().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(!html.contains(r#"data-testid="cluster-charts""#), "{html}");
        assert!(html.contains("may list its nodes"), "{html}");
    });
}
