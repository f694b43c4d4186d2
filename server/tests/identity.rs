//! Sign-in, sessions, impersonation, the cluster proxy and kubectl, against the sandbox's real
//! Dex and API servers. The console runs in process, served on a loopback port Dex accepts as
//! a redirect target, as two replicas sharing one Redis session store.

mod support;

use std::{path::Path, sync::OnceLock};

use app::{clusters::namespaces::ListNamespaces, platform::registry::ClusterRegistry};
use kube::{Api, api::PostParams};
use leptos::server_fn::ServerFn;
use server::auth::store::{Store, StoreChoice};
use support::{
    Sandbox,
    console::{
        TlsConsole, next_sse, open_socket, plant_session, post_form, registry_following_global,
        run, runtime, serve_tls, sign_in, signed_in_at_provider, stored_user, team_namespace,
    },
    sandbox,
};

/// One console per test binary (see tests/http.rs on leptos-rs/leptos#4773), on its own runtime.
type Console = TlsConsole;

/// The console under test and a second replica of it, both built before any request is served
/// (leptos-rs/leptos#4773) and sharing the sandbox's Redis as their session store.
fn consoles() -> &'static (Console, Console, Console) {
    static CONSOLES: OnceLock<(Console, Console, Console)> = OnceLock::new();
    CONSOLES.get_or_init(|| {
        let sandbox = sandbox();
        let rt = runtime();
        let _enter = rt.enter();
        let store = rt
            .block_on(Store::open(&StoreChoice::Redis(sandbox.redis.clone())))
            .unwrap_or_else(|e| panic!("session store: {e}"));
        // Clusters registered by Cluster resources on global join the registry, as in `run`.
        let clusters = registry_following_global(sandbox);
        // Redirect URIs the sandbox's Dex accepts (console port + 1 .. + 19).
        let first = start_console(sandbox, 1, &store, &clusters, None);
        let second = start_console(sandbox, 3, &store, &clusters, None);
        // A console whose identity provider is down (nothing listens on port 9).
        let orphan = start_console(
            sandbox,
            5,
            &store,
            &clusters,
            Some("https://127.0.0.1:9/dex"),
        );
        (first, second, orphan)
    })
}

fn console() -> &'static Console {
    &consoles().0
}

/// A console on `sandbox.console_port + port_offset` that names the sandbox's CA in the
/// kubeconfigs it hands out.
fn start_console(
    sandbox: &Sandbox,
    port_offset: u16,
    store: &Store,
    clusters: &ClusterRegistry,
    issuer: Option<&str>,
) -> Console {
    let ca = sandbox.ca_file.to_string_lossy();
    serve_tls(
        sandbox,
        port_offset,
        "identity-site",
        clusters,
        store,
        issuer,
        &["--tls-ca-file", &ca],
    )
}

/// Signs `username` in through the console and Dex; returns the browser holding the session.
async fn signed_in(sandbox: &Sandbox, console: &Console, username: &str) -> reqwest::Client {
    let browser = sandbox.browser();
    let done = sign_in(
        sandbox,
        &browser,
        &console.origin,
        "/admin/clusters",
        username,
    )
    .await;
    assert_eq!(
        done.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/admin/clusters"),
        "the callback lands on the page sign-in started from"
    );
    browser
}

async fn namespaces_seen(
    console: &Console,
    browser: &reqwest::Client,
) -> (reqwest::StatusCode, String) {
    post_form(
        browser,
        &console.origin,
        ListNamespaces::PATH,
        &[("cluster", "east")],
    )
    .await
}

#[test]
fn alice_sees_team_a_and_not_team_b_through_pages_server_functions_and_the_proxy() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let team_a = team_namespace(sandbox, "team-a").await;
        let team_b = team_namespace(sandbox, "team-b").await;
        let alice = signed_in(sandbox, console, "alice").await;

        let (status, body) = namespaces_seen(console, &alice).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(
            body.contains(&team_a.name),
            "alice sees {}: {body}",
            team_a.name
        );
        assert!(
            !body.contains(&team_b.name),
            "alice must not see {}: {body}",
            team_b.name
        );

        let page = alice
            .get(format!("{}/admin/clusters/east", console.origin))
            .send()
            .await
            .unwrap_or_else(|e| panic!("page: {e}"))
            .text()
            .await
            .unwrap_or_default();
        assert!(
            page.contains(&format!("data-namespace=\"{}\"", team_a.name)),
            "page lists team-a's namespace"
        );
        assert!(
            !page.contains(&team_b.name),
            "page must not name team-b's namespace"
        );

        let proxied = |ns: String| {
            let alice = alice.clone();
            async move {
                alice
                    .get(configmaps_url(console, &ns))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("proxy: {e}"))
            }
        };
        let allowed = proxied(team_a.name.clone()).await;
        assert_eq!(
            allowed.status(),
            reqwest::StatusCode::OK,
            "alice lists team-a's ConfigMaps"
        );
        let denied = proxied(team_b.name.clone()).await;
        assert_eq!(denied.status(), reqwest::StatusCode::FORBIDDEN);
        let status: serde_json::Value = denied.json().await.unwrap_or_default();
        assert!(
            status["message"]
                .as_str()
                .unwrap_or_default()
                .contains("alice@example.com"),
            "the apiserver names the impersonated user: {status}"
        );

        // A cookie-authenticated write from another site is refused before it reaches a cluster.
        let forged = alice
            .post(configmaps_url(console, &team_a.name))
            .header("origin", "http://evil.example")
            .header("content-type", "application/json")
            .body(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"csrf"}}"#)
            .send()
            .await
            .unwrap_or_else(|e| panic!("forged: {e}"));
        assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    })
}

fn kubectl(sandbox: &Sandbox, kubeconfig: &Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(&sandbox.kubectl)
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("kubectl: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn kubectl_through_the_proxy_works_for_alice_and_is_denied_where_rbac_denies() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let team_a = team_namespace(sandbox, "team-a").await;
        let team_b = team_namespace(sandbox, "team-b").await;
        let alice = signed_in(sandbox, console, "alice").await;
        let file = kubeconfig_file(console, &alice).await;
        let path = file.path().to_path_buf();

        let kc = |args: Vec<String>| {
            let path = path.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    kubectl(sandbox, &path, &args)
                })
                .await
                .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        let a = team_a.name.clone();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

        let (ok, out) = kc(s(&[
            "--context",
            "east",
            "create",
            "configmap",
            "settings",
            "-n",
            &a,
            "--from-literal=k=v",
        ]))
        .await;
        assert!(ok, "create: {out}");
        let (ok, out) = kc(s(&[
            "--context",
            "east",
            "get",
            "configmaps",
            "-n",
            &a,
            "-o",
            "name",
        ]))
        .await;
        assert!(ok && out.contains("configmap/settings"), "list: {out}");
        let apply = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"applied","namespace":"{a}"}},"data":{{"x":"1"}}}}"#
        );
        let manifest = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(manifest.path(), apply).unwrap_or_else(|e| panic!("{e}"));
        let (ok, out) = kc(s(&[
            "--context",
            "east",
            "apply",
            "--server-side",
            "-f",
            &manifest.path().to_string_lossy(),
        ]))
        .await;
        assert!(ok, "apply: {out}");
        let (ok, out) = kc(s(&[
            "--context",
            "east",
            "get",
            "--raw",
            &format!("/api/v1/namespaces/{a}/configmaps?watch=1&timeoutSeconds=1"),
        ]))
        .await;
        assert!(
            ok && out.contains("\"type\":\"ADDED\""),
            "watch streams events: {out}"
        );
        let (ok, out) = kc(s(&[
            "--context",
            "east",
            "delete",
            "configmap",
            "settings",
            "-n",
            &a,
        ]))
        .await;
        assert!(ok, "delete: {out}");

        let (ok, out) = kc(s(&[
            "--context",
            "east",
            "get",
            "configmaps",
            "-n",
            &team_b.name,
        ]))
        .await;
        assert!(
            !ok && out.contains("forbidden"),
            "team-b is forbidden to alice: {out}"
        );
        let (ok, out) = kc(s(&["--context", "east", "get", "nodes"])).await;
        assert!(
            !ok && out.contains("forbidden"),
            "nodes are forbidden to alice: {out}"
        );

        // Signing out revokes the token the kubeconfig carries.
        let out = alice
            .post(format!("{}/auth/logout", console.origin))
            .header("origin", &console.origin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("logout: {e}"));
        assert_eq!(out.status(), reqwest::StatusCode::SEE_OTHER);
        let (ok, out) = kc(s(&["--context", "east", "get", "configmaps", "-n", &a])).await;
        assert!(
            !ok && out.contains("must be logged in") && out.contains("revoked"),
            "revoked token: {out}"
        );
    })
}

#[test]
fn forged_expired_and_signed_out_sessions_are_refused() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        // Not signed in, or a forged cookie: pages send the browser to sign in, APIs answer 401.
        let stranger = sandbox.browser();
        for cookie in ["", "ngc_session=AAAAAAAAAAAAAAAAAAAAAA"] {
            let page = stranger
                .get(format!("{}/admin/clusters", console.origin))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                page.status(),
                reqwest::StatusCode::SEE_OTHER,
                "cookie {cookie:?}"
            );
            let location = page
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default();
            assert!(
                location.starts_with("/signin?next=%2Fadmin%2Fclusters"),
                "{location}"
            );
        }
        let (status, body) = namespaces_seen(console, &stranger).await;
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
        assert_eq!(
            serde_json::from_str::<app::ConsoleError>(&body).ok(),
            Some(app::ConsoleError::Unauthenticated)
        );

        // Signed out: the same browser's session no longer works.
        let bob = signed_in(sandbox, console, "bob").await;
        let (status, _) = namespaces_seen(console, &bob).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        let out = bob
            .post(format!("{}/auth/logout", console.origin))
            .header("origin", &console.origin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out.headers().get("location").and_then(|l| l.to_str().ok()),
            Some("/signin?error=signed_out")
        );
        let (status, _) = namespaces_seen(console, &bob).await;
        assert_eq!(
            status,
            reqwest::StatusCode::UNAUTHORIZED,
            "signed-out session"
        );

        // Past the absolute timeout: refused and sent to sign in with "expired".
        let carol = sandbox.user("carol");
        let identity = app::auth::Identity {
            username: carol.email.clone(),
            groups: carol.groups.clone(),
            display_name: carol.username.clone(),
            local: false,
        };
        let user = server::auth::SessionUser {
            signed_in: server::auth::oidc::SignedIn {
                identity,
                id_token: "unused".into(),
                refresh_token: None,
                expires_at: server::auth::now() + 3600,
            },
            signed_in_at: server::auth::now() - 13 * 3600,
        };
        let id = plant_session(&console.auth, &user).await;
        let page = sandbox
            .browser()
            .get(format!("{}/admin/clusters", console.origin))
            .header("cookie", format!("ngc_session={id}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let location = page
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default();
        assert!(location.contains("error=expired"), "{location}");
    })
}

#[test]
fn replicas_sharing_the_redis_store_share_sessions_tokens_and_sign_out() {
    let (sandbox, (first, second, _)) = (sandbox(), consoles());
    run(async {
        let team_a = team_namespace(sandbox, "team-a").await;
        // Signed in through the first replica; cookies are per host, so the same browser sends
        // the session cookie to the second replica too, as it would behind a load balancer.
        let alice = signed_in(sandbox, first, "alice").await;
        let configmaps = |console: &'static Console| {
            let (alice, ns) = (alice.clone(), team_a.name.clone());
            async move {
                alice
                    .get(configmaps_url(console, &ns))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("proxy: {e}"))
                    .status()
            }
        };
        assert_eq!(configmaps(first).await, reqwest::StatusCode::OK);
        assert_eq!(
            configmaps(second).await,
            reqwest::StatusCode::OK,
            "the second replica knows alice's session from Redis"
        );

        // A kubeconfig token issued by one replica works on the other.
        let kubeconfig = alice
            .post(format!("{}/auth/kubeconfig", first.origin))
            .header("origin", &first.origin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"))
            .text()
            .await
            .unwrap_or_default();
        let document: serde_json::Value = serde_json::from_str(&kubeconfig)
            .unwrap_or_else(|e| panic!("the kubeconfig is JSON: {e}: {kubeconfig}"));
        let token = document["users"][0]["user"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in the kubeconfig: {kubeconfig}"))
            .to_string();
        let with_token = sandbox
            .browser()
            .get(configmaps_url(second, &team_a.name))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("token: {e}"));
        assert_eq!(with_token.status(), reqwest::StatusCode::OK);

        // Signing out on the second replica ends the session and the token on the first.
        let out = alice
            .post(format!("{}/auth/logout", second.origin))
            .header("origin", &second.origin)
            .send()
            .await
            .unwrap_or_else(|e| panic!("logout: {e}"));
        assert_eq!(out.status(), reqwest::StatusCode::SEE_OTHER);
        assert_eq!(configmaps(first).await, reqwest::StatusCode::UNAUTHORIZED);
        let revoked = sandbox
            .browser()
            .get(configmaps_url(first, &team_a.name))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("token: {e}"));
        assert_eq!(revoked.status(), reqwest::StatusCode::UNAUTHORIZED);
    })
}

/// A kubeconfig from the console for the signed-in `browser`, written to a temporary file.
async fn kubeconfig_file(console: &Console, browser: &reqwest::Client) -> tempfile::NamedTempFile {
    let kubeconfig = browser
        .post(format!("{}/auth/kubeconfig", console.origin))
        .header("origin", &console.origin)
        .send()
        .await
        .unwrap_or_else(|e| panic!("kubeconfig: {e}"))
        .text()
        .await
        .unwrap_or_default();
    let file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(file.path(), &kubeconfig).unwrap_or_else(|e| panic!("{e}"));
    file
}

#[test]
fn kubectl_logs_and_logs_follow_stream_through_the_proxy() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::runtime::wait::{await_condition, conditions::is_pod_running};
    use std::io::BufRead;

    let (sandbox, console) = (sandbox(), console());
    run(async {
        let team_a = team_namespace(sandbox, "team-a").await;
        let east = sandbox.cluster("east");
        let pods = Api::<Pod>::namespaced(east.admin_client().await, &team_a.name);
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "writer"},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        pods.create(&PostParams::default(), &pod)
            .await
            .unwrap_or_else(|e| panic!("pod: {e}"));
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            await_condition(pods, "writer", is_pod_running()),
        )
        .await
        .unwrap_or_else(|_| panic!("the pod did not run within 60 s"))
        .unwrap_or_else(|e| panic!("{e}"));

        let alice = signed_in(sandbox, console, "alice").await;
        let file = kubeconfig_file(console, &alice).await;
        let suffix = format!("{:?}", std::time::Instant::now());
        let first = format!("first line {suffix}");
        support::write_container_log(sandbox, &first);
        let (ok, out) = kubectl(
            sandbox,
            file.path(),
            &["--context", "east", "logs", "writer", "-n", &team_a.name],
        );
        assert!(ok && out.contains(&first), "logs: {out}");

        // --follow: a line written after kubectl started arrives through the open stream.
        let mut child = std::process::Command::new(&sandbox.kubectl)
            .env("KUBECONFIG", file.path())
            .args([
                "--context",
                "east",
                "logs",
                "--follow",
                "--tail=1",
                "writer",
                "-n",
            ])
            .arg(&team_a.name)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("kubectl: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        // The stream is open once the current last line arrives.
        let opened = received.recv_timeout(std::time::Duration::from_secs(20));
        let later = format!("later line {suffix}");
        support::write_container_log(sandbox, &later);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut seen = opened.into_iter().collect::<Vec<_>>();
        while !seen.iter().any(|l| l.contains(&later)) && std::time::Instant::now() < deadline {
            if let Ok(line) = received.recv_timeout(std::time::Duration::from_millis(500)) {
                seen.push(line);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            seen.iter().any(|l| l.contains(&later)),
            "logs --follow streamed {seen:?}"
        );
    })
}

#[test]
fn only_users_who_may_create_clusters_may_check_an_import() {
    use app::clusters::import::CheckImport;
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let kubeconfig = sandbox.flattened(&sandbox.cluster("west").console_kubeconfig);
        let ask = |browser: reqwest::Client| {
            let kubeconfig = kubeconfig.clone();
            async move {
                let response = browser
                    .post(format!("{}{}", console.origin, CheckImport::PATH))
                    .header("origin", &console.origin)
                    .form(&[("kubeconfig", kubeconfig.as_str()), ("context", "")])
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("check_import: {e}"));
                (response.status(), response.text().await.unwrap_or_default())
            }
        };
        let (status, body) = ask(signed_in(sandbox, console, "alice").await).await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("may not create clusters"), "{body}");
        let (status, body) = ask(signed_in(sandbox, console, "admin").await).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.contains(&sandbox.version), "{body}");
    })
}

#[test]
fn tokens_near_expiry_are_refreshed_at_the_provider_and_a_dead_refresh_ends_the_session() {
    use server::auth::{AuthMode, SessionUser, now, oidc::SignedIn};
    use tower_sessions::{SessionStore, session::Id};
    let (sandbox, console) = (sandbox(), console());
    run(async {
        // carol: no other test of this binary signs her in at Dex, and Dex keeps one refresh
        // token per user and client, so a parallel sign-in of the same user would revoke this one.
        let team_a = team_namespace(sandbox, "auditors").await;
        let AuthMode::Oidc(oidc) = &console.auth.mode else {
            panic!("the test console signs in through Dex")
        };
        // A real sign-in at Dex, driven below the HTTP routes, to hold real tokens.
        let signed_in = signed_in_at_provider(sandbox, oidc, &console.origin, "carol").await;

        // A session whose ID token expires in 30 s: the next request refreshes it first.
        let session = |signed_in: SignedIn| async move {
            let user = SessionUser {
                signed_in,
                signed_in_at: now(),
            };
            plant_session(&console.auth, &user).await
        };
        let configmaps = |id: Id| {
            let ns = team_a.name.clone();
            async move {
                sandbox
                    .browser()
                    .get(configmaps_url(console, &ns))
                    .header("cookie", format!("ngc_session={id}"))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
                    .status()
            }
        };
        let old_token = signed_in.id_token.clone();
        let id = session(SignedIn {
            expires_at: now() + 30,
            ..signed_in.clone()
        })
        .await;
        assert_eq!(configmaps(id).await, reqwest::StatusCode::OK);
        let user = stored_user(&console.auth, &id).await;
        assert!(
            user.signed_in.expires_at > now() + 600,
            "a fresh ID token from the provider"
        );
        assert_ne!(user.signed_in.id_token, old_token);

        // A refresh token the provider refuses: the session ends and the user must sign in.
        let id = session(SignedIn {
            expires_at: now() + 30,
            refresh_token: Some("not-a-refresh-token".into()),
            ..signed_in
        })
        .await;
        assert_eq!(configmaps(id).await, reqwest::StatusCode::UNAUTHORIZED);
        assert!(
            console
                .auth
                .store
                .load(&id)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none(),
            "the session is gone"
        );
    })
}

#[test]
fn a_provider_that_is_down_and_a_cancelled_sign_in_each_get_their_own_page() {
    let (sandbox, (console, _, orphan)) = (sandbox(), consoles());
    run(async {
        let browser = sandbox.browser();
        let location = |response: reqwest::Response| {
            response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let down = browser
            .get(format!("{}/auth/login?next=/admin/clusters", orphan.origin))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(location(down), "/signin?error=provider_unreachable");
        let page = browser
            .get(format!(
                "{}/signin?error=provider_unreachable",
                orphan.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_default();
        assert!(
            page.contains("The identity provider cannot be reached right now"),
            "{page}"
        );

        // Dex sends the user back with error=access_denied when they cancel.
        let cancelled = browser
            .get(format!(
                "{}/auth/callback?error=access_denied&state=whatever",
                console.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(location(cancelled), "/signin?error=cancelled");
        let page = browser
            .get(format!("{}/signin?error=cancelled", console.origin))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_default();
        assert!(page.contains("Sign-in was cancelled"), "{page}");
    })
}

#[test]
fn an_admin_registers_a_cluster_and_removes_it_without_touching_it() {
    use app::clusters::{
        ListClusters,
        import::{RegisterCluster, RemoveCluster},
    };
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let kubeconfig = sandbox.flattened(&sandbox.cluster("west").console_kubeconfig);
        let name = format!(
            "t-west-{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let admin = signed_in(sandbox, console, "admin").await;
        let post = |browser: reqwest::Client,
                    path: &'static str,
                    form: Vec<(&'static str, String)>| async move {
            let response = browser
                .post(format!("{}{}", console.origin, path))
                .header("origin", &console.origin)
                .form(&form)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (response.status(), response.text().await.unwrap_or_default())
        };
        let registered = |browser: reqwest::Client| {
            let name = name.clone();
            async move {
                let (_, body) = post(browser, ListClusters::PATH, vec![]).await;
                body.contains(&format!("\"name\":\"{name}\""))
            }
        };

        // A name already taken is refused before anything is created.
        let (status, body) = post(
            admin.clone(),
            RegisterCluster::PATH,
            vec![
                ("kubeconfig", kubeconfig.clone()),
                ("context", String::new()),
                ("name", "east".into()),
            ],
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        let (status, body) = post(
            admin.clone(),
            RegisterCluster::PATH,
            vec![
                ("kubeconfig", kubeconfig.clone()),
                ("context", String::new()),
                ("name", name.clone()),
            ],
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.contains(&sandbox.version), "{body}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !registered(admin.clone()).await {
            assert!(
                std::time::Instant::now() < deadline,
                "{name} never joined the cluster list"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // The registered cluster works through the proxy with the user's identity.
        let proxied = admin
            .get(format!(
                "{}/clusters/{name}/api/v1/namespaces/team-a",
                console.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(proxied.status(), reqwest::StatusCode::OK);

        // alice may not remove it; the admin may.
        let alice = signed_in(sandbox, console, "alice").await;
        let (status, body) = post(alice, RemoveCluster::PATH, vec![("name", name.clone())]).await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{body}");
        let (status, body) = post(
            admin.clone(),
            RemoveCluster::PATH,
            vec![("name", name.clone())],
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while registered(admin.clone()).await {
            assert!(
                std::time::Instant::now() < deadline,
                "{name} is still listed after removal"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // Nothing on west was touched.
        let west = support::client_from(&sandbox.cluster("west").admin_kubeconfig).await;
        kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(west)
            .get("team-a")
            .await
            .unwrap_or_else(|e| panic!("west's team-a namespace: {e}"));
    })
}

/// The cluster proxy's URL for the ConfigMaps of `ns` on east, on `console`.
fn configmaps_url(console: &Console, ns: &str) -> String {
    format!(
        "{}/clusters/east/api/v1/namespaces/{ns}/configmaps",
        console.origin
    )
}

#[test]
fn live_streams_carry_only_what_the_user_may_watch() {
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let team_a = team_namespace(sandbox, "team-a").await;
        let team_b = team_namespace(sandbox, "team-b").await;
        let alice = signed_in(sandbox, console, "alice").await;
        let open = |query: String| {
            let alice = alice.clone();
            let url = format!("{}/api/live/watch?{query}", console.origin);
            async move {
                alice
                    .get(url)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("live: {e}"))
            }
        };

        // Her team's namespace: ready, then a change made on the cluster arrives.
        let mut own = open(format!(
            "cluster=east&kind=configmaps&namespace={}",
            team_a.name
        ))
        .await;
        assert_eq!(own.status(), reqwest::StatusCode::OK);
        let mut buffer = String::new();
        assert_eq!(
            next_sse(&mut own, &mut buffer, "ready", 20).await.0,
            "ready"
        );
        let east = sandbox.cluster("east").admin_client().await;
        let map: k8s_openapi::api::core::v1::ConfigMap =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "seen-live"}}))
                .unwrap_or_else(|e| panic!("{e}"));
        Api::namespaced(east.clone(), &team_a.name)
            .create(&PostParams::default(), &map)
            .await
            .unwrap_or_else(|e| panic!("configmap: {e}"));
        let (name, data) = next_sse(&mut own, &mut buffer, "change", 20).await;
        assert_eq!(name, "change");
        let change: app::live::Change =
            serde_json::from_str(&data).unwrap_or_else(|e| panic!("{data}: {e}"));
        assert_eq!(
            (change.action.as_str(), change.name.as_str()),
            ("applied", "seen-live")
        );

        // Another team's namespace, Secrets cluster-wide, an unknown cluster: refused, with why.
        for query in [
            format!("cluster=east&kind=configmaps&namespace={}", team_b.name),
            "cluster=east&kind=secrets".to_string(),
            "cluster=north&kind=pods".to_string(),
        ] {
            let mut other = open(query.clone()).await;
            let mut buffer = String::new();
            let (name, reason) = next_sse(&mut other, &mut buffer, "ready", 20).await;
            assert_eq!(name, "refused", "{query}: {reason}");
            assert!(
                reason.contains("forbidden") || reason.contains("not registered"),
                "{query}: {reason}"
            );
        }
    })
}

#[test]
fn one_live_socket_carries_several_streams_with_rows_and_never_a_secrets_values() {
    use app::live::{ClientMessage, Kind, ServerMessage, WatchQuery};
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let team_a = team_namespace(sandbox, "team-a").await;
        let alice = signed_in(sandbox, console, "alice").await;

        // Another site's page holding alice's cookie cannot open a socket (cross-site WebSocket
        // hijacking); nor can a request without an Origin.
        for origin in ["https://evil.example", "null"] {
            let refused = open_socket(&alice, &console.origin, origin).await;
            assert_eq!(
                refused.err(),
                Some(reqwest::StatusCode::FORBIDDEN),
                "socket from {origin}"
            );
        }
        // Nor can someone not signed in.
        let stranger = open_socket(&sandbox.browser(), &console.origin, &console.origin).await;
        assert!(stranger.is_err(), "a socket without a session");

        let mut socket = open_socket(&alice, &console.origin, &console.origin)
            .await
            .unwrap_or_else(|status| panic!("alice's socket: {status}"));
        let watch = |id, kind| ClientMessage::Watch {
            id,
            query: WatchQuery::new("east", kind).in_namespace(&team_a.name),
            rows: true,
        };
        socket.send(&watch(1, Kind::ConfigMaps)).await;
        // Rows asked for Secrets too: the server must send none.
        socket.send(&watch(2, Kind::Secrets)).await;
        let mut ready = Vec::new();
        while ready.len() < 2 {
            match socket.next(20).await.0 {
                ServerMessage::Ready { id } => ready.push(id),
                other => panic!("before ready: {other:?}"),
            }
        }
        ready.sort_unstable();
        assert_eq!(ready, [1, 2], "both streams ready on one socket");

        // A ConfigMap made on east arrives on its stream with the row the list shows.
        let east = sandbox.cluster("east").admin_client().await;
        let configmaps: Api<ConfigMap> = Api::namespaced(east.clone(), &team_a.name);
        let map: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "pushed"}, "data": {"a": "1", "b": "2"},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        configmaps
            .create(&PostParams::default(), &map)
            .await
            .unwrap_or_else(|e| panic!("configmap: {e}"));
        let (message, _) = socket
            .until(20, |m| matches!(m, ServerMessage::Change { .. }))
            .await;
        let ServerMessage::Change { id, change } = message else {
            unreachable!()
        };
        assert_eq!((id, change.name.as_str()), (1, "pushed"));
        let row: app::clusters::ResourceRow = serde_json::from_value(
            change
                .row
                .clone()
                .unwrap_or_else(|| panic!("no row with {change:?}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                row.namespace.as_str(),
                row.name.as_str(),
                row.status.as_str()
            ),
            (team_a.name.as_str(), "pushed", "2 keys")
        );

        // A Secret's change arrives with its name and nothing of its data.
        let secrets: Api<Secret> = Api::namespaced(east.clone(), &team_a.name);
        let value = "s3cret-live-value";
        let secret = |name: &str| -> Secret {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name}, "stringData": {"password": value},
            }))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        secrets
            .create(&PostParams::default(), &secret("hidden"))
            .await
            .unwrap_or_else(|e| panic!("secret: {e}"));
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        let (message, text) = loop {
            let (message, text) = socket.next(20).await;
            if matches!(&message, ServerMessage::Change { id: 2, .. }) {
                break (message, text);
            }
        };
        let ServerMessage::Change { change, .. } = message else {
            unreachable!()
        };
        assert_eq!(change.name, "hidden");
        assert_eq!(change.row, None, "a Secret's change carries no row");
        assert!(
            !text.contains(value) && !text.contains(&encoded) && !text.contains("password"),
            "{text}"
        );

        // Unsubscribed, the ConfigMaps stream says nothing more; the Secrets one goes on.
        socket.send(&ClientMessage::Close { id: 1 }).await;
        // The close is read before the changes below happen.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let mut later = map.clone();
        later.metadata.name = Some("after-close".into());
        configmaps
            .create(&PostParams::default(), &later)
            .await
            .unwrap_or_else(|e| panic!("configmap: {e}"));
        secrets
            .create(&PostParams::default(), &secret("marker"))
            .await
            .unwrap_or_else(|e| panic!("secret: {e}"));
        let (_, before) = socket
            .until(
                20,
                |m| matches!(m, ServerMessage::Change { id: 2, change } if change.name == "marker"),
            )
            .await;
        assert!(
            before.iter().all(|(m, _)| m.id() != 1),
            "stream 1 is closed: {before:?}"
        );

        // Each subscription counts against alice's stream limit: asking for more than she may
        // hold refuses the extra ones by id, with why, and leaves the others running.
        let max = console_limit();
        let extra: Vec<u32> = (100..100 + max as u32 + 2).collect();
        for id in &extra {
            socket.send(&watch(*id, Kind::ConfigMaps)).await;
        }
        let (mut accepted, mut refused) = (Vec::new(), Vec::new());
        while accepted.len() + refused.len() < extra.len() {
            match socket.next(20).await.0 {
                ServerMessage::Ready { id } if id >= 100 => accepted.push(id),
                ServerMessage::Refused { id, reason } if id >= 100 => {
                    assert!(reason.contains("the most one user may hold"), "{reason}");
                    refused.push(id);
                }
                _ => {}
            }
        }
        // Stream 2 holds a place, so at most max - 1 of these fit.
        assert!(
            refused.len() >= 3,
            "accepted {accepted:?}, refused {refused:?}"
        );
        assert!(accepted.len() < max, "accepted {accepted:?}");
        // The refusals ended only their own ids: stream 2 still reports changes.
        secrets
            .create(&PostParams::default(), &secret("still-live"))
            .await
            .unwrap_or_else(|e| panic!("secret: {e}"));
        socket
            .until(20, |m| {
                matches!(m, ServerMessage::Change { id: 2, change } if change.name == "still-live")
            })
            .await;
        // Closing one gives its place back to the next subscription.
        socket.send(&ClientMessage::Close { id: accepted[0] }).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        socket.send(&watch(999, Kind::ConfigMaps)).await;
        let (message, _) = socket.until(20, |m| m.id() == 999).await;
        assert_eq!(message, ServerMessage::Ready { id: 999 });
    })
}

/// The console's per-user stream limit (the default: the identity consoles set none).
fn console_limit() -> usize {
    server::limits::STREAMS_PER_USER
}

#[test]
fn team_b_can_neither_list_view_change_nor_follow_team_as_applications() {
    use app::apps::{GetApplication, ListApplications, ScaleApplication};
    let (sandbox, console) = (sandbox(), console());
    run(async {
        let global = sandbox.cluster("global").admin_client().await;
        server::controllers::install_crds(&global)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let name = format!("iso-{}", support::run_id());
        let app = app::apps::resource::Application::new(
            &name,
            app::apps::resource::ApplicationSpec {
                template: app::apps::resource::WorkloadTemplate {
                    deployment: serde_json::json!({"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}),
                    ..Default::default()
                },
                placement: vec!["east".into()],
                ..Default::default()
            },
        );
        let apps = Api::<app::apps::resource::Application>::namespaced(global, "team-a");
        apps.create(&PostParams::default(), &app)
            .await
            .unwrap_or_else(|e| panic!("application: {e}"));

        let call = |browser: reqwest::Client,
                    path: &'static str,
                    form: Vec<(&'static str, String)>| async move {
            let response = browser
                .post(format!("{}{path}", console.origin))
                .header("origin", &console.origin)
                .form(&form)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (response.status(), response.text().await.unwrap_or_default())
        };
        let alice = signed_in(sandbox, console, "alice").await;
        let bob = signed_in(sandbox, console, "bob").await;
        let project = || vec![("project", "team-a".to_string())];
        let one = || vec![("project", "team-a".to_string()), ("name", name.clone())];

        let (status, body) = call(alice.clone(), ListApplications::PATH, project()).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(
            body.contains(&name),
            "alice lists her team's application: {body}"
        );

        let (status, body) = call(bob.clone(), ListApplications::PATH, project()).await;
        assert_eq!(
            status,
            reqwest::StatusCode::FORBIDDEN,
            "bob lists team-a: {body}"
        );
        let (status, body) = call(bob.clone(), GetApplication::PATH, one()).await;
        assert_eq!(
            status,
            reqwest::StatusCode::FORBIDDEN,
            "bob views team-a's app: {body}"
        );
        let mut scale = one();
        scale.extend([("cluster", String::new()), ("replicas", "5".to_string())]);
        let (status, body) = call(bob.clone(), ScaleApplication::PATH, scale).await;
        assert_eq!(
            status,
            reqwest::StatusCode::FORBIDDEN,
            "bob scales team-a's app: {body}"
        );

        // The proxy and the live stream answer the same.
        let proxied = bob
            .get(format!(
                "{}/clusters/global/apis/platform.nextgen-console.io/v1alpha1/namespaces/team-a/applications",
                console.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("proxy: {e}"));
        assert_eq!(proxied.status(), reqwest::StatusCode::FORBIDDEN);
        let mut stream = bob
            .get(format!(
                "{}/api/live/watch?cluster=global&kind=applications&namespace=team-a",
                console.origin
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("live: {e}"));
        let mut buffer = String::new();
        let (event, reason) = next_sse(&mut stream, &mut buffer, "ready", 20).await;
        assert_eq!(event, "refused", "{reason}");

        let unchanged = apps.get(&name).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(unchanged.spec.template.deployment["replicas"].is_null());
        let _ = apps.delete(&name, &Default::default()).await;
    })
}
