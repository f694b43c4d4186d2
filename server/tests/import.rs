//! Importing a cluster: the checks before the console accepts one, against the sandbox's real
//! apiservers and, for versions the sandbox does not run, a small TLS server that answers
//! `/version` as a 1.35.0 or 1.18.9 apiserver would; small web servers answering HTML (and the
//! sandbox's Prometheus) stand for addresses that are not API servers.

mod support;

use std::net::SocketAddr;

use app::clusters::import::{ImportError, ssr::check};
use axum::{Json, Router, routing::get};
use support::{Sandbox, sandbox, with_server};

/// Serves `/version` over TLS with the sandbox's serving certificate, claiming `git_version`.
async fn fake_version_server(sandbox: &Sandbox, git_version: &'static str) -> SocketAddr {
    let (minor, _) = git_version
        .trim_start_matches("v1.")
        .split_once('.')
        .unwrap_or(("0", ""));
    let info = serde_json::json!({
        "major": "1", "minor": minor, "gitVersion": git_version, "gitCommit": "0",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.26",
        "compiler": "gc", "platform": "linux/amd64"
    });
    let app = Router::new().route("/version", get(move || async move { Json(info.clone()) }));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(server::tls::serve(
        listener,
        app,
        tls,
        axum_server::Handle::new(),
    ));
    addr
}

#[tokio::test]
async fn a_cluster_in_range_with_the_needed_rbac_is_accepted() {
    let sandbox = sandbox();
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    let preview = check(&east, None)
        .await
        .unwrap_or_else(|e| panic!("east should be importable: {e}"));
    assert_eq!(preview.context, "east");
    assert_eq!(preview.version, sandbox.version);
    assert_eq!(preview.nodes, sandbox.cluster("east").nodes);
}

#[tokio::test]
async fn import_refuses_clusters_outside_the_management_range_naming_version_and_range() {
    let sandbox = sandbox();
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    for version in ["v1.35.0", "v1.18.9"] {
        let addr = fake_version_server(sandbox, version).await;
        let kubeconfig = with_server(&east, &format!("https://{addr}"));
        let refusal = check(&kubeconfig, None).await.err();
        assert_eq!(
            refusal,
            Some(ImportError::VersionOutOfRange {
                version: version.into(),
                range: ">=1.19.0 <1.35.0".into()
            })
        );
        let message = refusal.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(version) && message.contains(">=1.19.0 <1.35.0"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn each_way_an_import_fails_has_its_own_error() {
    let sandbox = sandbox();
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);

    assert!(matches!(
        check("apiVersion: v1\nclusters: [unclosed", None).await,
        Err(ImportError::InvalidKubeconfig { .. })
    ));
    assert!(matches!(
        check(&east, Some("north")).await,
        Err(ImportError::NoSuchContext { ref context, ref available })
            if context == "north" && available == &["east".to_string()]
    ));
    assert!(matches!(
        check(&with_server(&east, "https://127.0.0.1:9"), None).await,
        Err(ImportError::Unreachable { .. })
    ));

    // A CA that did not sign the apiserver's certificate.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let status = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            "other.key",
            "-out",
            "other.crt",
            "-subj",
            "/CN=some-other-ca",
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    assert!(status.success());
    use base64::Engine as _;
    let other_ca = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(dir.path().join("other.crt")).unwrap_or_else(|e| panic!("{e}")));
    let wrong_ca = east
        .lines()
        .map(|l| match l.find("certificate-authority-data: ") {
            Some(i) => format!("{}certificate-authority-data: {other_ca}", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let refusal = check(&wrong_ca, None).await;
    assert!(
        matches!(refusal, Err(ImportError::UntrustedCertificate { .. })),
        "{refusal:?}"
    );

    // A credential the apiserver does not know.
    let server = sandbox.cluster("east").server.clone();
    let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
    let stranger = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster: {{server: \"{server}\", certificate-authority-data: {ca}}}\nusers:\n- name: stranger\n  user: {{token: not-a-real-token}}\ncontexts:\n- name: east\n  context: {{cluster: east, user: stranger}}\ncurrent-context: east\n"
    );
    let refusal = check(&stranger, None).await;
    assert!(
        matches!(refusal, Err(ImportError::Unauthorized { .. })),
        "{refusal:?}"
    );

    // A real credential (the scheduler's) without the rights to impersonate.
    let pki = sandbox
        .ca_file
        .parent()
        .unwrap_or_else(|| panic!("pki dir"));
    let read_b64 = |file: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(pki.join(file)).unwrap_or_else(|e| panic!("{file}: {e}")))
    };
    let scheduler = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster: {{server: \"{server}\", certificate-authority-data: {ca}}}\nusers:\n- name: scheduler\n  user: {{client-certificate-data: {}, client-key-data: {}}}\ncontexts:\n- name: east\n  context: {{cluster: east, user: scheduler}}\ncurrent-context: east\n",
        read_b64("scheduler.crt"),
        read_b64("scheduler.key")
    );
    match check(&scheduler, None).await {
        Err(ImportError::MissingRbac { missing }) => {
            assert!(
                missing.contains(&"impersonate users".to_string())
                    && missing.contains(&"impersonate groups".to_string()),
                "{missing:?}"
            );
        }
        other => panic!("expected missing RBAC, got {other:?}"),
    }
}

/// A web server that is not a Kubernetes API server: `status` and an HTML page carrying
/// `marker` on every path, over TLS (the sandbox's serving certificate) or plain HTTP.
async fn html_server(
    sandbox: &Sandbox,
    tls: bool,
    status: axum::http::StatusCode,
    marker: &'static str,
) -> String {
    let page = move || async move {
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "text/html")],
            format!(
                "<!doctype html><html><body><h1>Internal dashboard</h1><p>{marker}</p></body></html>"
            ),
        )
    };
    let app = Router::new().fallback(page);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    if tls {
        let config = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
            .unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(server::tls::serve(
            listener,
            app,
            config,
            axum_server::Handle::new(),
        ));
        format!("https://{addr}")
    } else {
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("{e}"));
        let listener =
            tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

#[tokio::test]
async fn an_address_that_does_not_answer_like_an_api_server_is_named_so_without_its_answer() {
    use axum::http::StatusCode;
    let sandbox = sandbox();
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    let marker = "secret-marker-4711";
    let mut servers = vec![
        html_server(sandbox, true, StatusCode::OK, marker).await,
        html_server(sandbox, false, StatusCode::OK, marker).await,
        html_server(sandbox, true, StatusCode::NOT_FOUND, marker).await,
        html_server(sandbox, false, StatusCode::FORBIDDEN, marker).await,
    ];
    // And a real service of the sandbox that is not an API server.
    servers.push(sandbox.prometheus.clone());
    for server in servers {
        let refusal = check(&with_server(&east, &server), None).await;
        match &refusal {
            Err(ImportError::NotKubernetes { server: named, .. }) => {
                assert_eq!(named, server.trim_end_matches('/'))
            }
            other => panic!("{server}: expected NotKubernetes, got {other:?}"),
        }
        let message = refusal.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("does not answer like a Kubernetes API server"),
            "{message}"
        );
        for leaked in [
            marker,
            "<html",
            "Internal dashboard",
            "Prometheus",
            "page not found",
        ] {
            assert!(!message.contains(leaked), "{server}: {message}");
        }
    }
}

#[tokio::test]
async fn link_local_and_metadata_servers_are_refused_before_any_connection() {
    let sandbox = sandbox();
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    for server in [
        "https://169.254.169.254",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]",
        "https://169.254.1.1:6443",
        "https://[fe80::1]:6443",
        "http://metadata.google.internal",
        "https://metadata.goog",
    ] {
        let started = std::time::Instant::now();
        let refusal = check(&with_server(&east, server), None).await;
        assert!(
            matches!(refusal, Err(ImportError::ForbiddenAddress { .. })),
            "{server}: {refusal:?}"
        );
        let message = refusal.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("metadata") || message.contains("link-local"),
            "{message}"
        );
        // Refused at once, not after a connection attempt timed out.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{server}"
        );
    }
}

#[tokio::test]
async fn an_oversized_kubeconfig_is_refused_with_the_limit() {
    let sandbox = sandbox();
    let mut east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    east.push_str("\n# padding\n");
    while east.len() <= 512 * 1024 {
        east.push_str(&format!("# {}\n", "x".repeat(1000)));
    }
    let refusal = check(&east, None).await;
    assert!(
        matches!(refusal, Err(ImportError::TooLarge { limit_kib: 512, .. })),
        "{refusal:?}"
    );
}

#[tokio::test]
async fn a_host_name_is_resolved_checked_and_still_verified_by_name() {
    let sandbox = sandbox();
    let east = sandbox.flattened(&sandbox.cluster("east").console_kubeconfig);
    // The apiserver's certificate names localhost; the console connects to the address it
    // checked and verifies the certificate for the name.
    let server = sandbox
        .cluster("east")
        .server
        .replace("127.0.0.1", "localhost");
    let preview = check(&with_server(&east, &server), None)
        .await
        .unwrap_or_else(|e| panic!("{server}: {e}"));
    assert_eq!(preview.server, server.trim_end_matches('/'));
    assert_eq!(preview.version, sandbox.version);
}
