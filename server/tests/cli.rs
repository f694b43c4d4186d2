//! `ac`, the real binary, against a console served over TLS on the sandbox (signed in through
//! Dex as alice and admin): console-issued bearer tokens authenticate the server functions (and
//! cookies keep their same-origin check), the browser sign-in hands `ac` a token on loopback,
//! reads are scoped by each user's RBAC, a revoked token says how to sign in again, and an
//! upgrade requested with `ac` is refused with its reason, then forced and followed to
//! completion with `--watch` while the console's controllers carry it out.

mod support;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
    time::Duration,
};

use app::{
    platform::registry::ClusterRegistry,
    plugins::resource::{ClusterPlugin, ClusterPluginSpec, PluginPhase, plugin_resource_name},
    upgrades::shadow::{ClusterVersionShadow, ClusterVersionShadowSpec, PROGRESSING},
};
use kube::{
    Api,
    api::{DeleteParams, Patch, PatchParams, PostParams},
    runtime::watcher,
};
use server::auth::store::Store;
use support::{
    RUN_LABEL,
    console::{oidc_config, registry_following_global, run, runtime, signed_in},
    eventually, sandbox,
};

/// The redirect URI port of this binary's console (console port + 9; see support::console).
const PORT_OFFSET: u16 = 9;

struct Console {
    origin: String,
    clusters: ClusterRegistry,
}

fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(|| {
        let sandbox = sandbox();
        let _enter = runtime().enter();
        let clusters = registry_following_global(sandbox);
        // As support::console::serve_tls, plus the sandbox's registry for the image commands
        // and the CA for the issued kubeconfig.
        let port = sandbox.console_port + PORT_OFFSET;
        let origin = format!("https://127.0.0.1:{port}");
        let cert = sandbox.serving_cert.to_string_lossy();
        let key = sandbox.serving_key.to_string_lossy();
        let ca = sandbox.ca_file.to_string_lossy();
        let config = oidc_config(
            sandbox,
            &origin,
            None,
            &[
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-ca-file",
                &ca,
            ],
        );
        let addr = format!("127.0.0.1:{port}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let auth = server::auth::Auth::from_config(&config, addr, Store::default())
            .unwrap_or_else(|e| panic!("auth: {e}"));
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-site");
        std::fs::create_dir_all(root.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
        let mut state = server::AppState::for_site(&root, clusters.clone());
        state.auth = auth;
        state.limits = server::limits::Limits::from_config(&config);
        state.images =
            app::images::registry::PlatformRegistry::new(&app::images::registry::Settings {
                url: sandbox.registry.clone(),
                credentials_file: None,
                ca_file: None,
                aliases: Vec::new(),
                gc_command: Some(sandbox.registry_gc.clone()),
            })
            .unwrap_or_else(|e| panic!("registry: {e}"));
        let listener =
            std::net::TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let tls = server::tls::load(&sandbox.serving_cert, &sandbox.serving_key)
            .unwrap_or_else(|e| panic!("{e}"));
        runtime().spawn(server::tls::serve(
            listener,
            server::router(state),
            tls,
            axum_server::Handle::new(),
        ));
        Console { origin, clusters }
    })
}

/// Where this test binary's cargo build put things: the target directory, the profile (as
/// `cargo --profile` names it) and the target triple when one was given. The test binary is
/// `<target-dir>[/<triple>]/<profile-dir>/deps/cli-<hash>`; the target directory is the parent of
/// `CARGO_TARGET_TMPDIR` (cargo's `<target-dir>/tmp`, set for integration tests). Cargo's
/// `CACHEDIR.TAG` is no guide: it is written only when cargo creates the directory itself, and
/// `scripts/test` creates `target/` first for its logs.
fn build_layout() -> (PathBuf, String, Option<String>, PathBuf) {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in a cargo target directory", exe.display()))
        .to_path_buf();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(name) => name.to_string(),
        None => panic!("{} has no profile directory", exe.display()),
    };
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or_else(|| panic!("CARGO_TARGET_TMPDIR has no parent"))
        .to_path_buf();
    let above = profile_dir
        .parent()
        .unwrap_or_else(|| panic!("{} has no target directory", exe.display()));
    let triple = if above == target_dir {
        None
    } else {
        above
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
    };
    (target_dir, profile, triple, profile_dir)
}

/// The `ac` binary of this workspace: `AC_BINARY` when set (a prebuilt one, for CI), else
/// built once per test binary with `cargo build -p ac` into this test binary's own target
/// directory, profile and target (quick when it is up to date), where it is then found.
fn ac_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(binary) = std::env::var_os("AC_BINARY").filter(|b| !b.is_empty()) {
            let binary = PathBuf::from(binary);
            assert!(
                binary.exists(),
                "AC_BINARY={} does not exist",
                binary.display()
            );
            return binary;
        }
        let (target_dir, profile, triple, profile_dir) = build_layout();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "ac", "--profile", &profile])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if let Some(triple) = &triple {
            build.args(["--target", triple]);
        }
        let status = build
            .status()
            .unwrap_or_else(|e| panic!("cargo build -p ac: {e}"));
        assert!(
            status.success(),
            "cargo build -p ac --profile {profile} failed"
        );
        let binary = profile_dir.join(format!("ac{}", std::env::consts::EXE_SUFFIX));
        assert!(binary.exists(), "{} was not built", binary.display());
        binary
    })
}

/// A directory of this test's own for config files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(format!("{name}-{}", support::run_id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// `ac` with `args`, reading only `config` (no KUBECONFIG, AC_TOKEN, AC_SERVER or
/// AC_CERTIFICATE_AUTHORITY from the environment), without colour; run off the runtime the
/// console serves on.
async fn ac(config: &Path, args: &[&str]) -> Output {
    ac_with(config, args, &[]).await
}

/// `ac` as [`ac`] does, plus `env`.
async fn ac_with(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(ac_binary());
    command
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("AC_TOKEN")
        .env_remove("AC_SERVER")
        .env_remove("AC_CERTIFICATE_AUTHORITY")
        .env("AC_CONFIG", config)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let shown = args.join(" ");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("ac {shown}: {e}"))
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Asserts `ac` ended with `code`; returns stdout and stderr.
fn expect(output: &Output, code: i32, what: &str) -> (String, String) {
    let (stdout, stderr) = text(output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}: stdout {stdout}\nstderr {stderr}"
    );
    (stdout, stderr)
}

/// `user`'s browser session and the kubeconfig the console issues for it (`POST
/// /auth/kubeconfig`, the user menu's button), written to a file; returns the browser, the
/// file and the token in it.
async fn issued_kubeconfig(user: &str) -> (reqwest::Client, PathBuf, String) {
    let console = console();
    let browser = signed_in(sandbox(), &console.origin, user).await;
    let answer = browser
        .post(format!("{}/auth/kubeconfig", console.origin))
        .header("origin", &console.origin)
        .send()
        .await
        .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    let document = answer.text().await.unwrap_or_default();
    let parsed: serde_json::Value =
        serde_json::from_str(&document).unwrap_or_else(|e| panic!("{e}: {document}"));
    let token = parsed["users"][0]["user"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {document}"))
        .to_string();
    let path = scratch(user).join("kubeconfig");
    std::fs::write(&path, document).unwrap_or_else(|e| panic!("{e}"));
    (browser, path, token)
}

#[test]
fn bearer_tokens_authenticate_server_functions_and_cookies_keep_their_same_origin_check() {
    let console = console();
    run(async {
        let (browser, _, token) = issued_kubeconfig("alice").await;
        let me = |client: &reqwest::Client, origin: &str| {
            client
                .post(format!("{}/api/auth/me", console.origin))
                .header("origin", origin.to_string())
        };
        // A bearer request carries no cookie, so a foreign Origin does not matter.
        let plain = sandbox().browser();
        let answer = me(&plain, "https://evil.example")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status(), reqwest::StatusCode::OK);
        let body = answer.text().await.unwrap_or_default();
        assert!(body.contains("alice"), "{body}");
        // The session cookie from another origin is still refused before any server function.
        let answer = me(&browser, "https://evil.example")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status(), reqwest::StatusCode::FORBIDDEN);
        assert!(
            answer
                .text()
                .await
                .unwrap_or_default()
                .contains("CrossSite")
        );
        // An unknown bearer token is refused even beside a valid cookie: no fallback.
        let answer = browser
            .post(format!("{}/api/auth/me", console.origin))
            .header("origin", &console.origin)
            .bearer_auth(format!("ngc_{}", "A".repeat(43)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);
        // Pages still need the cookie: a bearer token does not open them.
        let answer = plain
            .get(format!("{}/admin/clusters", console.origin))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(answer.status().is_redirection(), "{}", answer.status());
    });
}

#[test]
fn reads_are_scoped_by_each_users_rbac_and_parse_as_json() {
    let console = console();
    run(async {
        let (_, alice, _) = issued_kubeconfig("alice").await;
        let (_, admin, _) = issued_kubeconfig("admin").await;
        let none = scratch("none").join("config");
        let kc = |path: &Path| path.to_string_lossy().into_owned();

        let projects = |out: &Output| -> Vec<String> {
            let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", text(out).0));
            list.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        };
        let out = ac(
            &none,
            &["--kubeconfig", &kc(&alice), "get", "projects", "-o", "json"],
        )
        .await;
        expect(&out, 0, "alice's projects");
        let alices = projects(&out);
        assert!(alices.contains(&"team-a".to_string()), "{alices:?}");
        assert!(!alices.contains(&"team-b".to_string()), "{alices:?}");
        let out = ac(
            &none,
            &["--kubeconfig", &kc(&admin), "get", "projects", "-o", "json"],
        )
        .await;
        expect(&out, 0, "admin's projects");
        let admins = projects(&out);
        assert!(
            admins.contains(&"team-a".to_string()) && admins.contains(&"team-b".to_string()),
            "{admins:?}"
        );

        // Wide reads each project's resource where the user may (alice may not: empty cells).
        let out = ac(
            &none,
            &["--kubeconfig", &kc(&alice), "get", "projects", "-o", "wide"],
        )
        .await;
        let (wide, _) = expect(&out, 0, "alice's projects, wide");
        assert!(
            wide.starts_with("NAME ") && wide.contains("NAMESPACES-READY"),
            "{wide}"
        );
        // Clusters: JSON of the console's own view, and a table with stable columns.
        let out = ac(
            &none,
            &["--kubeconfig", &kc(&admin), "get", "clusters", "-o", "json"],
        )
        .await;
        expect(&out, 0, "clusters as JSON");
        let clusters: Vec<app::platform::ClusterStatus> =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        for name in ["global", "east", "west"] {
            assert!(
                clusters.iter().any(|c| c.cluster.name == name),
                "{name} in {clusters:?}"
            );
        }
        let out = ac(&none, &["--kubeconfig", &kc(&alice), "get", "clusters"]).await;
        let (table, _) = expect(&out, 0, "clusters as a table");
        assert!(table.starts_with("NAME "), "{table}");
        assert!(
            table
                .lines()
                .next()
                .is_some_and(|h| h.contains("STATUS") && h.contains("VERSION"))
        );
        assert!(table.contains("east"), "{table}");

        // Applications: alice may not read team-b's; admin may (an empty list is fine).
        let out = ac(
            &none,
            &["--kubeconfig", &kc(&alice), "get", "apps", "-n", "team-b"],
        )
        .await;
        let (_, stderr) = expect(&out, 1, "alice reading team-b's apps");
        assert!(stderr.contains("forbidden"), "{stderr}");
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &kc(&admin),
                "get",
                "apps",
                "-n",
                "team-b",
                "-o",
                "json",
            ],
        )
        .await;
        expect(&out, 0, "admin reading team-b's apps");
        let apps: Result<Vec<serde_json::Value>, _> = serde_json::from_slice(&out.stdout);
        assert!(apps.is_ok(), "{}", text(&out).0);
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &kc(&admin),
                "get",
                "apps",
                "-n",
                "team-b",
                "-o",
                "yaml",
            ],
        )
        .await;
        expect(&out, 0, "YAML");

        // The same through --server and --token, without any kubeconfig.
        let token = std::fs::read_to_string(&alice).unwrap_or_default();
        let token = serde_json::from_str::<serde_json::Value>(&token)
            .ok()
            .and_then(|v| v["users"][0]["user"]["token"].as_str().map(str::to_string))
            .unwrap_or_default();
        let ca = sandbox().ca_file.to_string_lossy().into_owned();
        let out = ac(
            &none,
            &[
                "--server",
                &console.origin,
                "--token",
                &token,
                "--certificate-authority",
                &ca,
                "whoami",
                "-o",
                "json",
            ],
        )
        .await;
        let (stdout, _) = expect(&out, 0, "whoami with --server and --token");
        assert!(stdout.contains("alice"), "{stdout}");
    });
}

#[test]
fn a_revoked_or_unknown_token_says_so_and_how_to_sign_in_again() {
    let console = console();
    run(async {
        let (browser, kubeconfig, token) = issued_kubeconfig("alice").await;
        let none = scratch("revoked").join("config");
        let kc = kubeconfig.to_string_lossy().into_owned();
        let out = ac(&none, &["--kubeconfig", &kc, "whoami"]).await;
        expect(&out, 0, "before revoking");
        let revoked = browser
            .post(format!("{}/auth/tokens/revoke", console.origin))
            .header("origin", &console.origin)
            .form(&[
                ("id", server::auth::tokens::hash(&token).as_str()),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(revoked.status().is_redirection(), "{}", revoked.status());
        let out = ac(&none, &["--kubeconfig", &kc, "get", "clusters"]).await;
        let (_, stderr) = expect(&out, 1, "a revoked token");
        assert!(stderr.contains("expired or revoked"), "{stderr}");
        assert!(
            stderr.contains(&format!("ac login --server {}", console.origin)),
            "{stderr}"
        );
        // No configuration at all says how to start.
        let out = ac(&none, &["get", "clusters"]).await;
        let (_, stderr) = expect(&out, 1, "no configuration");
        assert!(stderr.contains("ac login --server"), "{stderr}");
    });
}

#[test]
fn usage_errors_exit_2_and_completion_scripts_print() {
    run(async {
        let none = scratch("usage").join("config");
        // A missing subcommand shows the help and is a usage error, not success.
        for args in [&[][..], &["get"][..], &["adm"][..], &["config"][..]] {
            let out = ac(&none, args).await;
            let (_, stderr) = expect(&out, 2, &format!("ac {}", args.join(" ")));
            assert!(stderr.contains("Usage:"), "{stderr}");
        }
        let out = ac(&none, &["--help"]).await;
        expect(&out, 0, "--help asked for");
        let out = ac(&none, &["adm", "upgrade", "--force"]).await;
        expect(&out, 2, "--force without a release");
        let out = ac(&none, &["get", "apps", "-o", "xml"]).await;
        expect(&out, 2, "an unknown output format");
        let out = ac(
            &none,
            &["adm", "prune", "images", "--keep-younger-than", "7x"],
        )
        .await;
        let (_, stderr) = expect(&out, 2, "a bad duration");
        assert!(stderr.contains("unit"), "{stderr}");
        for shell in ["bash", "zsh", "fish"] {
            let out = ac(&none, &["completion", shell]).await;
            let (script, _) = expect(&out, 0, shell);
            assert!(script.contains("upgrade"), "{shell}: {script}");
        }
        let out = ac(&none, &["adm", "upgrade", "--help"]).await;
        let (help, _) = expect(&out, 0, "help");
        assert!(help.contains("Examples:") && help.contains("--allow-explicit-upgrade"));
    });
}

#[test]
fn a_browser_sign_in_hands_ac_a_one_time_code_on_loopback_only_which_it_trades_for_a_token() {
    let console = console();
    run(async {
        let sandbox = sandbox();
        let browser = signed_in(sandbox, &console.origin, "alice").await;
        let config = scratch("login").join("config");
        let ca = sandbox.ca_file.to_string_lossy().into_owned();
        let mut login = Command::new(ac_binary());
        login
            .args([
                "login",
                "--server",
                &console.origin,
                "--no-browser",
                "--timeout",
                "60",
                "--certificate-authority",
                &ca,
            ])
            .env_remove("KUBECONFIG")
            .env_remove("AC_TOKEN")
            .env("AC_CONFIG", &config)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = login.spawn().unwrap_or_else(|e| panic!("ac login: {e}"));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
        // The URL ac prints for the browser.
        let url = tokio::task::spawn_blocking(move || {
            use std::io::BufRead as _;
            std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .find(|l| l.contains("/auth/cli?"))
                .map(|l| l.trim().to_string())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("ac login printed no sign-in URL"));
        let parsed = url::Url::parse(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let query: std::collections::HashMap<String, String> =
            parsed.query_pairs().into_owned().collect();
        assert!(query["redirect"].starts_with("http://127.0.0.1:"), "{url}");
        assert_eq!(query["code_challenge"].len(), 43, "{url}");

        // An ac too old to send a challenge is told to update.
        let old = browser
            .get(format!(
                "{}/auth/cli?redirect={}&state={}",
                console.origin,
                urlencode(&query["redirect"]),
                query["state"]
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.status(), reqwest::StatusCode::BAD_REQUEST);
        assert!(old.text().await.unwrap_or_default().contains("update ac"));

        // The page asks first; a GET mints nothing.
        let page = browser
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.status(), reqwest::StatusCode::OK);
        let html = page.text().await.unwrap_or_default();
        assert!(html.contains("alice") && html.contains("允许"), "{html}");
        let form = [
            ("redirect", query["redirect"].as_str()),
            ("state", query["state"].as_str()),
            ("code_challenge", query["code_challenge"].as_str()),
        ];
        // A cross-site post is refused (the cookie's same-origin check holds here too).
        let refused = browser
            .post(format!("{}/auth/cli", console.origin))
            .header("origin", "https://evil.example")
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
        // Only loopback is a redirect target.
        let elsewhere = browser
            .post(format!("{}/auth/cli", console.origin))
            .header("origin", &console.origin)
            .form(&[
                ("redirect", "http://evil.example:80/callback"),
                ("state", query["state"].as_str()),
                ("code_challenge", query["code_challenge"].as_str()),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(elsewhere.status(), reqwest::StatusCode::BAD_REQUEST);
        let allowed = browser
            .post(format!("{}/auth/cli", console.origin))
            .header("origin", &console.origin)
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(allowed.status().is_redirection(), "{}", allowed.status());
        let back = allowed
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // The redirect carries the code and the state, never the token.
        let back_url = url::Url::parse(&back).unwrap_or_else(|e| panic!("{back}: {e}"));
        let back_query: std::collections::HashMap<String, String> =
            back_url.query_pairs().into_owned().collect();
        assert!(back.starts_with(&query["redirect"]), "{back}");
        assert!(
            !back.contains("ngc_") && !back_query.contains_key("token"),
            "{back}"
        );
        assert_eq!(back_query["state"], query["state"], "{back}");
        let code = back_query["code"].clone();
        // The browser follows the redirect to ac's loopback listener.
        let done = reqwest::Client::new()
            .get(&back)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(done.status(), reqwest::StatusCode::OK);
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let (stdout, _) = expect(&output, 0, "ac login");
        assert!(
            stdout.contains("Signed in") && stdout.contains("alice"),
            "{stdout}"
        );
        // ac traded the code; it works once only, whatever the verifier.
        let again = exchange(&code, &"v".repeat(43)).await;
        assert_eq!(again.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let body = again.text().await.unwrap_or_default();
        assert!(body.contains("already used"), "{body}");

        // The saved contexts work, one per cluster, and kubectl reads the same file.
        let out = ac(&config, &["whoami", "-o", "json"]).await;
        let (stdout, _) = expect(&out, 0, "whoami after login");
        assert!(stdout.contains("alice"), "{stdout}");
        let out = ac(&config, &["config", "get-contexts"]).await;
        let (contexts, _) = expect(&out, 0, "contexts");
        for name in ["global", "east", "west"] {
            assert!(contexts.contains(name), "{contexts}");
        }
        let kubectl = Command::new(&sandbox.kubectl)
            .env("KUBECONFIG", &config)
            .args([
                "--context",
                "east",
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ])
            .output()
            .unwrap_or_else(|e| panic!("kubectl: {e}"));
        assert!(
            String::from_utf8_lossy(&kubectl.stdout).contains("alice"),
            "kubectl with ac's config: {}",
            String::from_utf8_lossy(&kubectl.stderr)
        );
        // The contexts as JSON, for scripts; -o where it does not apply is a usage error.
        let out = ac(&config, &["config", "get-contexts", "-o", "json"]).await;
        let (stdout, _) = expect(&out, 0, "contexts as JSON");
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert!(
            rows.iter()
                .any(|r| r["name"] == "east" && r["console"] == console.origin.as_str()),
            "{stdout}"
        );
        assert_eq!(rows.iter().filter(|r| r["current"] == true).count(), 1);
        let out = ac(
            &config,
            &["login", "--server", &console.origin, "-o", "json"],
        )
        .await;
        let (_, stderr) = expect(&out, 2, "-o on login");
        assert!(stderr.contains("-o does not apply"), "{stderr}");

        // A code presented with the wrong verifier is void, and its token revoked.
        let verifier = "w".repeat(43);
        let code = allowed_code(&browser, &query["redirect"], &challenge_of(&verifier)).await;
        let wrong = exchange(&code, &"x".repeat(43)).await;
        assert_eq!(wrong.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let body = wrong.text().await.unwrap_or_default();
        assert!(body.contains("does not match"), "{body}");
        let late = exchange(&code, &verifier).await;
        assert_eq!(late.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        // With the right verifier, a fresh code gives a token that works on the server functions.
        let code = allowed_code(&browser, &query["redirect"], &challenge_of(&verifier)).await;
        let traded = exchange(&code, &verifier).await;
        assert_eq!(traded.status(), reqwest::StatusCode::OK);
        let token = traded.json::<serde_json::Value>().await.unwrap_or_default()["token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(token.starts_with("ngc_"), "{token}");
        let me = sandbox
            .browser()
            .post(format!("{}/api/auth/me", console.origin))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(me.text().await.unwrap_or_default().contains("alice"));
    });
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The S256 challenge of `verifier`.
fn challenge_of(verifier: &str) -> String {
    server::auth::cli::challenge_of(verifier)
}

/// What the allow button gives for `challenge`: the one-time code in the loopback redirect.
async fn allowed_code(browser: &reqwest::Client, redirect: &str, challenge: &str) -> String {
    let console = console();
    let allowed = browser
        .post(format!("{}/auth/cli", console.origin))
        .header("origin", &console.origin)
        .form(&[
            ("redirect", redirect),
            ("state", "s".repeat(43).as_str()),
            ("code_challenge", challenge),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(allowed.status().is_redirection(), "{}", allowed.status());
    let back = allowed
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    url::Url::parse(&back)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| panic!("no code in {back}"))
}

/// `POST /auth/cli/token` as `ac` sends it: no cookie, no Origin.
async fn exchange(code: &str, verifier: &str) -> reqwest::Response {
    sandbox()
        .browser()
        .post(format!("{}/auth/cli/token", console().origin))
        .form(&[("code", code), ("code_verifier", verifier)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A Cluster of this run pointing at east, its ClusterPlugins (the Core ones at platform release
/// 4.1, and cert-manager 1.14.0, which does not run on 4.3) and its ClusterVersionShadow, with
/// the plugin and cvsh controllers running for them as the console; removed at the end.
struct Upgradable {
    run: String,
    name: String,
    secret: String,
    namespace: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Upgradable {
    async fn start(clusters: &ClusterRegistry) -> Self {
        use base64::Engine as _;
        let sandbox = sandbox();
        let run = support::run_id();
        let name = format!("cli-{run}-east");
        let admin = sandbox.cluster("global").admin_client().await;
        let console_client =
            support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
        let secret = support::console_credential_secret(sandbox, &format!("cli-{run}")).await;
        let ca = base64::engine::general_purpose::STANDARD.encode(sandbox.ca_pem());
        support::create_cluster(
            &admin,
            &support::cluster_resource(
                &name,
                &run,
                sandbox.cluster("east").server.clone(),
                &ca,
                &secret,
            ),
        )
        .await;
        eventually("the console knows the cluster", 30, || async {
            clusters
                .console_client(&name)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await;
        let namespace = format!("plugins-{run}");
        let labels = format!("{RUN_LABEL}={run}");
        let tasks = vec![
            tokio::spawn(server::controllers::plugins::run(
                server::controllers::plugins::Context::new(
                    console_client.clone(),
                    clusters.clone(),
                    namespace.clone(),
                ),
                watcher::Config::default().labels(&labels),
            )),
            tokio::spawn(server::controllers::shadows::run(
                server::controllers::shadows::Context {
                    global: console_client,
                    clusters: clusters.clone(),
                },
                watcher::Config::default().labels(&labels),
            )),
        ];
        let this = Self {
            run,
            name,
            secret,
            namespace,
            tasks,
        };
        let label = Some([(RUN_LABEL.to_string(), this.run.clone())].into());
        let plugins = Api::<ClusterPlugin>::all(admin.clone());
        for (plugin, version) in [
            ("platform-agent", "4.1.3"),
            ("log-collector", "2.9.1"),
            ("cert-manager", "1.14.0"),
        ] {
            let mut resource = ClusterPlugin::new(
                &plugin_resource_name(&this.name, plugin),
                ClusterPluginSpec {
                    cluster: this.name.clone(),
                    plugin: plugin.into(),
                    version: version.into(),
                    monitoring: None,
                },
            );
            resource.metadata.labels = label.clone();
            plugins
                .create(&PostParams::default(), &resource)
                .await
                .unwrap_or_else(|e| panic!("plugin {plugin}: {e}"));
        }
        let mut shadow = ClusterVersionShadow::new(
            &this.name,
            ClusterVersionShadowSpec {
                desired_update: None,
            },
        );
        shadow.metadata.labels = label;
        Api::<ClusterVersionShadow>::all(admin.clone())
            .create(&PostParams::default(), &shadow)
            .await
            .unwrap_or_else(|e| panic!("cvsh: {e}"));
        for plugin in ["platform-agent", "log-collector", "cert-manager"] {
            let name = plugin_resource_name(&this.name, plugin);
            eventually(&format!("{name} ready"), 90, || async {
                let found = plugins.get(&name).await.map_err(|e| e.to_string())?;
                let state = found.status.unwrap_or_default();
                (state.phase == PluginPhase::Ready)
                    .then_some(())
                    .ok_or(format!("{state:?}"))
            })
            .await;
        }
        let shadows = Api::<ClusterVersionShadow>::all(admin);
        eventually("the cluster at 4.1", 60, || async {
            let state = shadows
                .get_status(&this.name)
                .await
                .map_err(|e| e.to_string())?
                .status
                .unwrap_or_default();
            (state.current_release.as_deref() == Some("4.1"))
                .then_some(())
                .ok_or(format!("{state:?}"))
        })
        .await;
        this
    }
}

impl Drop for Upgradable {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let (name, secret, namespace) = (
            self.name.clone(),
            self.secret.clone(),
            self.namespace.clone(),
        );
        support::block_on_own_runtime(async move {
            let sandbox = sandbox();
            let admin = sandbox.cluster("global").admin_client().await;
            let dp = DeleteParams::default();
            let _ = Api::<app::clusters::resource::Cluster>::all(admin.clone())
                .delete(&name, &dp)
                .await;
            for plugin in app::plugins::catalog::CATALOG {
                let _ = Api::<ClusterPlugin>::all(admin.clone())
                    .delete(&plugin_resource_name(&name, plugin.name), &dp)
                    .await;
            }
            let _ = Api::<ClusterVersionShadow>::all(admin.clone())
                .delete(&name, &dp)
                .await;
            let _ = Api::<k8s_openapi::api::core::v1::Secret>::namespaced(
                admin,
                support::SYSTEM_NAMESPACE,
            )
            .delete(&secret, &dp)
            .await;
            let east = sandbox.cluster("east").admin_client().await;
            let _ = Api::<k8s_openapi::api::core::v1::Namespace>::all(east)
                .delete(&namespace, &dp)
                .await;
        });
    }
}

/// This build's CRDs, applied again (as the console does when it starts).
async fn reinstall_crds() {
    let console = support::client_from(&sandbox().cluster("global").console_kubeconfig).await;
    server::controllers::install_crds(&console)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// `admin`'s issued kubeconfig plus a context `fixture` for the run's cluster (made current), as
/// a user who registered it later would have after signing in again.
fn with_fixture_context(issued: &Path, cluster: &str) -> PathBuf {
    let text = std::fs::read_to_string(issued).unwrap_or_else(|e| panic!("{e}"));
    let mut config: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut entry = config["clusters"][0].clone();
    entry["name"] = "fixture".into();
    entry["cluster"]["server"] = format!("{}/clusters/{cluster}", console().origin).into();
    let user = config["users"][0]["name"].clone();
    if let Some(clusters) = config["clusters"].as_array_mut() {
        clusters.push(entry);
    }
    if let Some(contexts) = config["contexts"].as_array_mut() {
        contexts.push(serde_json::json!({
            "name": "fixture", "context": {"cluster": "fixture", "user": user}
        }));
    }
    config["current-context"] = "fixture".into();
    let path = issued.with_file_name("with-fixture");
    std::fs::write(&path, config.to_string()).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn an_upgrade_requested_with_ac_follows_the_consoles_rules_and_is_followed_to_completion() {
    let console = console();
    run(async {
        let fixture = Upgradable::start(&console.clusters).await;
        let cluster = fixture.name.as_str();
        let (_, admin, _) = issued_kubeconfig("admin").await;
        let (_, alice, _) = issued_kubeconfig("alice").await;
        let none = scratch("upgrade").join("config");
        // The fixture's context is current: no --cluster below, the context's cluster is used.
        let admin = with_fixture_context(&admin, cluster)
            .to_string_lossy()
            .into_owned();
        let alice = alice.to_string_lossy().into_owned();
        let shadows =
            Api::<ClusterVersionShadow>::all(sandbox().cluster("global").admin_client().await);
        let up = |kubeconfig: &str, args: &[&str]| {
            let mut all = vec!["--kubeconfig", kubeconfig, "adm", "upgrade"];
            all.extend_from_slice(args);
            all.into_iter().map(str::to_string).collect::<Vec<_>>()
        };
        let call = |args: Vec<String>| {
            let none = none.clone();
            async move {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                ac(&none, &args).await
            }
        };
        let desired = || async {
            shadows
                .get(cluster)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .spec
                .desired_update
        };

        // What the console offers from 4.1: 4.2 recommended, 4.3 skipping it.
        let out = call(up(&admin, &["-o", "json"])).await;
        let (stdout, _) = expect(&out, 0, "the upgrade summary");
        let summary: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(
            summary["cluster"], cluster,
            "the context's cluster: {summary}"
        );
        assert_eq!(summary["currentRelease"], "4.1", "{summary}");
        assert_eq!(summary["updates"][0]["release"], "4.3", "{summary}");
        assert_eq!(summary["updates"][0]["recommended"], false, "{summary}");
        assert_eq!(summary["updates"][1]["release"], "4.2", "{summary}");
        assert_eq!(summary["updates"][1]["recommended"], true, "{summary}");
        let out = call(up(&admin, &[])).await;
        let (table, _) = expect(&out, 0, "the upgrade summary as text");
        assert!(
            table.contains("Current release: 4.1") && table.contains("RECOMMENDED"),
            "{table}"
        );

        // `status` without --watch takes the context's cluster too, with --server as well;
        // --all-clusters lists them all.
        for extra in [&[][..], &["--server", console.origin.as_str()][..]] {
            let mut args = up(&admin, &["status", "-o", "json"]);
            args.extend(extra.iter().map(|a| a.to_string()));
            let out = call(args).await;
            let (stdout, _) = expect(&out, 0, "status of the context's cluster");
            let shadow: serde_json::Value =
                serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
            assert_eq!(shadow["cluster"], cluster, "{extra:?}: {shadow}");
        }
        let out = call(up(&admin, &["status", "--all-clusters", "-o", "json"])).await;
        let (stdout, _) = expect(&out, 0, "status of every cluster");
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert!(list.iter().any(|s| s["cluster"] == cluster), "{stdout}");

        // Refusals, each with its reason and exit code 1.
        let out = call(up(&alice, &["--cluster", cluster, "--to", "4.2"])).await;
        let (_, stderr) = expect(&out, 1, "alice may not upgrade clusters");
        assert!(stderr.contains("forbidden"), "{stderr}");
        let out = call(up(&admin, &["--to", "4.0"])).await;
        let (_, stderr) = expect(&out, 1, "a downgrade");
        assert!(stderr.contains("downgrades are not supported"), "{stderr}");
        let out = call(up(&admin, &["--to", "9.9"])).await;
        let (_, stderr) = expect(&out, 1, "an unknown release");
        assert!(stderr.contains("not a platform release"), "{stderr}");
        // A release that skips the recommended one: the console refuses it, and writes nothing.
        let out = call(up(&admin, &["--to", "4.3"])).await;
        let (_, stderr) = expect(&out, 1, "skipping 4.2 without --allow-explicit-upgrade");
        assert!(
            stderr.contains("not a recommended next step from 4.1 (recommended: 4.2)")
                && stderr.contains("--allow-explicit-upgrade"),
            "{stderr}"
        );
        assert_eq!(desired().await, None, "nothing was requested");
        // The controller applies the same rule to a spec written around the console.
        shadows
            .patch(
                cluster,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"desiredUpdate": {"release": "4.3"}}})),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        eventually("the controller refusing the skip", 30, || async {
            let state = shadows
                .get_status(cluster)
                .await
                .map_err(|e| e.to_string())?
                .status
                .unwrap_or_default();
            state
                .condition(PROGRESSING)
                .filter(|c| {
                    c.reason == "Refused" && c.message.contains("not a recommended next step")
                })
                .map(|_| ())
                .ok_or(format!("{state:?}"))
        })
        .await;
        // The shared sandbox may hold the CRD as a run of another branch installed it, which
        // would prune spec.desiredUpdate.allowExplicitUpgrade: install this build's again.
        reinstall_crds().await;
        // Allowed explicitly: accepted with a warning, then judged afresh by preflight (the
        // refusal of the same release just now is not taken for the verdict on this request):
        // cert-manager 1.14.0 does not run on 4.3.
        let out = call(up(&admin, &["--to", "4.3", "--allow-explicit-upgrade"])).await;
        let (_, stderr) = expect(&out, 1, "an explicit upgrade blocked by preflight");
        assert!(
            stderr.contains("warning:") && stderr.contains("not a recommended next step"),
            "{stderr}"
        );
        assert!(
            stderr.contains("blocked by preflight") && stderr.contains("Plugin cert-manager"),
            "{stderr}"
        );
        assert!(!stderr.contains("refused:"), "a stale refusal: {stderr}");
        assert!(
            desired()
                .await
                .is_some_and(|d| d.release == "4.3" && d.allow_explicit_upgrade),
            "requested as an explicit upgrade"
        );

        // --to-latest: the newest release the console recommends, 4.2 (not 4.3, the newest
        // ac knows), which preflight blocks on east's Kubernetes 1.34 (outside 4.2's 1.30 –
        // 1.33): a refused upgrade ends with exit code 1 and the reason.
        let out = call(up(&admin, &["--to-latest"])).await;
        let (_, stderr) = expect(&out, 1, "--to-latest, blocked");
        assert!(
            stderr.contains("update of") && stderr.contains("to 4.2."),
            "{stderr}"
        );
        assert!(
            stderr.contains("blocked by preflight") && stderr.contains("KubernetesVersion"),
            "{stderr}"
        );
        assert!(desired().await.is_some_and(|d| d.release == "4.2"));

        // --force asks first; without a terminal it needs --yes (a usage error otherwise).
        let out = call(up(
            &admin,
            &["--to", "4.3", "--allow-explicit-upgrade", "--force"],
        ))
        .await;
        expect(&out, 2, "--force without --yes and no terminal");
        // alice may not follow cluster updates.
        let out = call(up(&alice, &["--cluster", cluster, "status", "--watch"])).await;
        let (_, stderr) = expect(&out, 1, "alice watching");
        assert!(stderr.contains("forbidden"), "{stderr}");

        // Forced (and explicit: 4.1 to 4.3), it starts; --watch follows it through the live
        // stream to the end.
        reinstall_crds().await;
        let out = call(up(
            &admin,
            &[
                "--to",
                "4.3",
                "--allow-explicit-upgrade",
                "--force",
                "--yes",
            ],
        ))
        .await;
        let (stdout, stderr) = expect(&out, 0, "a forced explicit update");
        assert!(
            stdout.contains("running") || stdout.contains("is on 4.3"),
            "{stdout}\n{stderr}"
        );
        let out = call(up(&admin, &["status", "--watch", "--timeout", "180"])).await;
        let (stdout, stderr) = expect(&out, 0, "watching the update to 4.3");
        assert!(stderr.contains("is on 4.3"), "{stderr}");
        assert!(
            stdout.contains("History:") && stdout.contains("Completed"),
            "{stdout}"
        );
        for stage in [
            "Upgrade platform-agent to 4.3.0",
            "Upgrade log-collector to 3.1.0",
        ] {
            assert!(stdout.contains(stage), "{stage}: {stdout}");
        }
        let out = call(up(&admin, &["status", "-o", "json"])).await;
        let (stdout, _) = expect(&out, 0, "status as JSON");
        let shadow: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(shadow["status"]["currentRelease"], "4.3", "{shadow}");
        let history = &shadow["status"]["history"];
        assert_eq!(history[0]["state"], "Completed", "{shadow}");
        assert_eq!(history[0]["forced"], true, "{shadow}");
        assert_eq!(history[0]["fromRelease"], "4.1", "{shadow}");
        // On the latest release, nothing more to move to; asking again changes nothing.
        let out = call(up(&admin, &["--to", "4.3"])).await;
        let (stdout, _) = expect(&out, 0, "already there");
        assert!(stdout.contains("already on 4.3"), "{stdout}");
        let out = call(up(&admin, &["--to-latest"])).await;
        let (_, stderr) = expect(&out, 0, "--to-latest on the newest release");
        assert!(stderr.contains("newest platform release"), "{stderr}");
        drop(fixture);
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
}

#[test]
fn image_commands_preview_unless_confirmed_and_follow_each_users_rights() {
    console();
    run(async {
        let (_, admin, _) = issued_kubeconfig("admin").await;
        let (_, bob, _) = issued_kubeconfig("bob").await;
        let none = scratch("images").join("config");
        let admin = admin.to_string_lossy().into_owned();
        let bob = bob.to_string_lossy().into_owned();
        let tags = |out: &Output| -> Vec<String> {
            let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", text(out).0));
            list.iter()
                .map(|t| {
                    format!(
                        "{}:{}",
                        t["repository"].as_str().unwrap_or(""),
                        t["tag"].as_str().unwrap_or("")
                    )
                })
                .collect()
        };
        // The sandbox's seeded team-a/worker:0.1 is used nowhere.
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "get",
                "images",
                "-n",
                "team-a",
                "-o",
                "json",
            ],
        )
        .await;
        expect(&out, 0, "admin lists team-a's images");
        let before = tags(&out);
        assert!(
            before.contains(&"team-a/worker:0.1".to_string()),
            "{before:?}"
        );
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "get",
                "images",
                "-n",
                "team-a",
                "-o",
                "wide",
            ],
        )
        .await;
        let (table, _) = expect(&out, 0, "wide");
        assert!(
            table.starts_with("REPOSITORY ") && table.contains("USED-BY"),
            "{table}"
        );

        // A dry run finds something to do (exit 3) and changes nothing.
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "delete",
                "images",
                "team-a/worker:0.1",
            ],
        )
        .await;
        let (stdout, stderr) = expect(&out, 3, "a dry-run delete");
        assert!(
            stdout.contains("would delete") && stderr.contains("--confirm"),
            "{stdout}{stderr}"
        );
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "adm",
                "prune",
                "images",
                "-n",
                "team-a",
                "--all",
                "-o",
                "json",
            ],
        )
        .await;
        let code = out.status.code();
        assert!(
            code == Some(3) || code == Some(0),
            "prune dry run: {:?}",
            text(&out)
        );
        let plan: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out).0));
        assert_eq!(plan["dry_run"], true, "{plan}");
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "get",
                "images",
                "-n",
                "team-a",
                "-o",
                "json",
            ],
        )
        .await;
        expect(&out, 0, "listing again");
        assert_eq!(tags(&out), before, "dry runs deleted nothing");

        // bob (team-b) may not delete team-a's images.
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &bob,
                "delete",
                "images",
                "team-a/worker:0.1",
                "--confirm",
            ],
        )
        .await;
        let (stdout, stderr) = expect(&out, 1, "bob deleting team-a's image");
        assert!(
            (stdout + &stderr).to_lowercase().contains("forbidden"),
            "{}",
            text(&out).1
        );
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "get",
                "images",
                "-n",
                "team-a",
                "-o",
                "json",
            ],
        )
        .await;
        assert_eq!(tags(&out), before, "bob's refused delete deleted nothing");

        // The policy as a CronJob: it calls this console with the token and CA of its Secret.
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "adm",
                "prune",
                "images",
                "--keep-newest",
                "3",
                "--print-cronjob",
                "--schedule",
                "0 4 * * *",
                "--image",
                "registry.example/ac:1",
            ],
        )
        .await;
        let (yaml, _) = expect(&out, 0, "--print-cronjob");
        for expected in [
            "kind: CronJob",
            "0 4 * * *",
            "registry.example/ac:1",
            "AC_SERVER",
            console().origin.as_str(),
            "AC_TOKEN",
            "AC_CERTIFICATE_AUTHORITY",
            "prune-images-ac",
        ] {
            assert!(yaml.contains(expected), "{expected} in {yaml}");
        }
        assert!(
            !yaml.contains("--gc"),
            "no garbage collection unless asked: {yaml}"
        );
    });
}

/// Pushes a one-layer image under `repo:tag` to the sandbox registry (`build` decides its
/// bytes, so two tags of one build share a digest); returns the manifest digest.
async fn push_image(repo: &str, tag: &str, build: &str) -> String {
    use sha2::Digest as _;
    let registry = &sandbox().registry;
    let http = reqwest::Client::new();
    let digest_of = |bytes: &[u8]| format!("sha256:{:x}", sha2::Sha256::digest(bytes));
    let blob = |bytes: Vec<u8>| {
        let http = http.clone();
        async move {
            let digest = digest_of(&bytes);
            let started = http
                .post(format!("{registry}/v2/{repo}/blobs/uploads/"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("upload: {e}"));
            let location = started
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_else(|| panic!("no upload location: {}", started.status()))
                .to_string();
            let location = if location.starts_with("http") {
                location
            } else {
                format!("{registry}{location}")
            };
            let separator = if location.contains('?') { '&' } else { '?' };
            let put = http
                .put(format!("{location}{separator}digest={digest}"))
                .header("content-type", "application/octet-stream")
                .body(bytes.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("put blob: {e}"));
            assert!(put.status().is_success(), "blob: {}", put.status());
            (digest, bytes.len())
        }
    };
    let (layer, layer_size) =
        blob(format!("{repo} {build}\n{}", "x".repeat(2048)).into_bytes()).await;
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": [layer]}
    })
    .to_string()
    .into_bytes();
    let (config, config_size) = blob(config).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layer_size}]
    })
    .to_string()
    .into_bytes();
    let put = http
        .put(format!("{registry}/v2/{repo}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put manifest: {e}"));
    assert!(
        put.status().is_success(),
        "manifest {repo}:{tag}: {}",
        put.status()
    );
    digest_of(&manifest)
}

/// The tags the registry itself lists for `repo` (none once every tag is gone).
async fn registry_tags(repo: &str) -> Vec<String> {
    let answer = reqwest::Client::new()
        .get(format!("{}/v2/{repo}/tags/list", sandbox().registry))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tags: Vec<String> = answer
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| serde_json::from_value(v["tags"].clone()).ok())
        .unwrap_or_default();
    tags.sort();
    tags
}

#[test]
fn confirmed_deletes_and_prunes_change_the_registry_and_dry_runs_do_not() {
    console();
    run(async {
        let (_, admin, _) = issued_kubeconfig("admin").await;
        let none = scratch("confirm").join("config");
        let admin = admin.to_string_lossy().into_owned();
        // Repositories of this run's own, used nowhere: `<prefix>/app` with a and b on one
        // digest and c on another, `<prefix>/old` with 1 and 2.
        let prefix = format!("t-cli-{}", support::run_id());
        let (app, old) = (format!("{prefix}/app"), format!("{prefix}/old"));
        push_image(&app, "a", "one").await;
        push_image(&app, "b", "one").await;
        push_image(&app, "c", "two").await;
        push_image(&old, "1", "one").await;
        push_image(&old, "2", "two").await;
        let kc = |args: &[&str]| {
            let mut all = vec!["--kubeconfig".to_string(), admin.clone()];
            all.extend(args.iter().map(|a| a.to_string()));
            all
        };
        let call = |args: Vec<String>| {
            let none = none.clone();
            async move {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                ac(&none, &args).await
            }
        };

        // Delete: a dry run finds work (exit 3) and changes nothing; wide names the size and
        // the tag that goes along.
        let target = format!("{app}:a");
        let out = call(kc(&["delete", "images", &target, "-o", "wide"])).await;
        let (table, stderr) = expect(&out, 3, "a dry-run delete");
        assert!(
            table.starts_with("IMAGE ") && table.contains("SIZE") && table.contains("would delete"),
            "{table}"
        );
        assert!(stderr.contains("Pass --confirm"), "{stderr}");
        assert_eq!(
            registry_tags(&app).await,
            ["a", "b", "c"],
            "the dry run deleted nothing"
        );
        // Confirmed: exit 0, and the registry lost a and b (one digest), kept c.
        let out = call(kc(&[
            "delete",
            "images",
            &target,
            "--confirm",
            "-o",
            "json",
        ]))
        .await;
        let (stdout, _) = expect(&out, 0, "a confirmed delete");
        let result: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(result["dry_run"], false, "{result}");
        assert_eq!(
            result["items"][0]["outcome"]["outcome"], "deleted",
            "{result}"
        );
        assert_eq!(registry_tags(&app).await, ["c"]);
        // A missing image is an error, not "nothing to do".
        let out = call(kc(&["delete", "images", &format!("{app}:nope")])).await;
        expect(&out, 1, "deleting what does not exist");

        // Prune: every unused image of the run's namespace, leaving out clusters other tests
        // registered meanwhile (one that cannot be read would stop the prune).
        let out = call(kc(&["get", "clusters", "-o", "json"])).await;
        let (stdout, _) = expect(&out, 0, "clusters");
        let clusters: Vec<serde_json::Value> =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let mut prune = vec!["adm", "prune", "images", "-n", prefix.as_str(), "--all"];
        let others: Vec<String> = clusters
            .iter()
            .filter_map(|c| c["cluster"]["name"].as_str())
            .filter(|c| !["global", "east", "west"].contains(c))
            .map(str::to_string)
            .collect();
        for other in &others {
            prune.extend(["--exclude-cluster", other.as_str()]);
        }
        let out = call(kc(&[&prune[..], &["-o", "wide"]].concat())).await;
        let (table, stderr) = expect(&out, 3, "a dry-run prune");
        assert!(
            table.starts_with("REPOSITORY ") && table.contains("WHY") && table.contains(&old),
            "{table}"
        );
        assert!(stderr.contains("Would delete 3 image(s)"), "{stderr}");
        assert_eq!(
            registry_tags(&old).await,
            ["1", "2"],
            "the dry run deleted nothing"
        );
        assert_eq!(registry_tags(&app).await, ["c"]);
        // Confirmed (without the registry-wide garbage collection, which other tests' pushes
        // must not race): exit 0, and the namespace is empty.
        let out = call(kc(&[&prune[..], &["--confirm"]].concat())).await;
        let (table, stderr) = expect(&out, 0, "a confirmed prune");
        assert!(
            table.contains("deleted") && !table.contains("failed"),
            "{table}"
        );
        assert!(stderr.contains("Deleted 3 image(s)"), "{stderr}");
        assert_eq!(registry_tags(&old).await, Vec::<String>::new());
        assert_eq!(registry_tags(&app).await, Vec::<String>::new());
        // Nothing left to do: the dry run says so with exit 0.
        let out = call(kc(&prune)).await;
        expect(&out, 0, "a dry run with nothing to prune");
    });
}

#[test]
fn describe_app_shows_a_real_application_and_its_state_on_each_cluster() {
    use app::{
        apps::resource::{Application, ApplicationSpec, Health, WorkloadTemplate},
        projects::resource::{Project, ProjectCluster, ProjectSpec},
    };
    console();
    run(async {
        let sandbox = sandbox();
        let run = support::run_id();
        let name = format!("t-cli-app-{run}");
        let _namespaces = [
            support::TestNamespace::named(sandbox.cluster("global"), &name).await,
            support::TestNamespace::named(sandbox.cluster("east"), &name).await,
        ];
        let console_client =
            support::client_from(&sandbox.cluster("global").console_kubeconfig).await;
        let registry = ClusterRegistry::from_kubeconfig(&sandbox.console_kubeconfig)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let labels = format!("{RUN_LABEL}={run}");
        let controller = tokio::spawn(server::controllers::apps::run(
            server::controllers::apps::Context::new(console_client, registry),
            watcher::Config::default().labels(&labels),
        ));
        let global = sandbox.cluster("global").admin_client().await;
        let label = Some([(RUN_LABEL.to_string(), run.clone())].into());
        let mut project = Project::new(
            &name,
            ProjectSpec {
                clusters: vec![ProjectCluster {
                    name: "east".into(),
                    namespace: None,
                }],
                ..ProjectSpec::default()
            },
        );
        project.metadata.labels = label.clone();
        Api::<Project>::all(global.clone())
            .create(&PostParams::default(), &project)
            .await
            .unwrap_or_else(|e| panic!("project: {e}"));
        let (user, groups) = support::PLATFORM_ADMIN;
        let apps = Api::<Application>::namespaced(
            sandbox.cluster("global").client_as(user, groups).await,
            &name,
        );
        let mut web = Application::new(
            "web",
            ApplicationSpec {
                template: WorkloadTemplate {
                    deployment: serde_json::json!({
                        "replicas": 2,
                        "template": {"spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]}}
                    }),
                    ..WorkloadTemplate::default()
                },
                placement: vec!["east".into()],
                ..ApplicationSpec::default()
            },
        );
        web.metadata.labels = label;
        web.metadata.annotations = Some(support::authored_by(user, groups));
        apps.create(&PostParams::default(), &web)
            .await
            .unwrap_or_else(|e| panic!("application: {e}"));
        support::application_state(&apps, "web", "healthy on east", 90, |s| {
            s.health == Health::Healthy
        })
        .await;

        let (_, admin, _) = issued_kubeconfig("admin").await;
        let (_, alice, _) = issued_kubeconfig("alice").await;
        let none = scratch("describe").join("config");
        let admin = admin.to_string_lossy().into_owned();
        let alice = alice.to_string_lossy().into_owned();
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "describe",
                "app",
                "web",
                "-n",
                &name,
            ],
        )
        .await;
        let (text, _) = expect(&out, 0, "describe app");
        for (field, value) in [
            ("Name", "web"),
            ("Project", name.as_str()),
            ("Health", "Healthy"),
            ("Placement", "east"),
            ("Author", "admin@example.com"),
        ] {
            let line = format!("{:<14}{value}\n", format!("{field}:"));
            assert!(text.contains(&line), "{line:?} in\n{text}");
        }
        let clusters = text
            .split("\nClusters:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("no Clusters section in\n{text}"));
        assert!(
            clusters
                .lines()
                .any(|l| l.trim_start().starts_with("east") && l.contains("Healthy")),
            "{clusters}"
        );
        assert!(
            text.contains("\nSpec:\n") && text.contains("registry.example/web:1"),
            "{text}"
        );
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &admin,
                "describe",
                "app",
                "web",
                "-n",
                &name,
                "-o",
                "json",
            ],
        )
        .await;
        let (stdout, _) = expect(&out, 0, "describe app as JSON");
        let view: app::apps::AppView =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(view.name, "web");
        assert_eq!(view.status.clusters[0].cluster, "east");
        assert_eq!(
            (
                view.status.clusters[0].ready,
                view.status.clusters[0].desired
            ),
            (2, 2)
        );
        let out = ac(&none, &["--kubeconfig", &admin, "get", "apps", "-n", &name]).await;
        let (table, _) = expect(&out, 0, "get apps");
        assert!(table.contains("east=Healthy(2/2)"), "{table}");
        // alice is no member of this project.
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &alice,
                "describe",
                "app",
                "web",
                "-n",
                &name,
            ],
        )
        .await;
        let (_, stderr) = expect(&out, 1, "alice describing another project's app");
        assert!(stderr.contains("forbidden"), "{stderr}");

        controller.abort();
        let _ = Api::<Project>::all(global.clone())
            .delete(&name, &DeleteParams::background())
            .await;
        support::release_applications(&global, &name).await;
    });
}

/// The tags `ac get images -o json` printed, as `repository:tag`.
fn listed_tags(out: &Output) -> Vec<String> {
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out).0));
    list.iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["repository"].as_str().unwrap_or(""),
                t["tag"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn alice_and_bob_list_their_images_and_a_confirmed_delete_and_prune_succeed() {
    let console = console();
    run(async {
        let sandbox = sandbox();
        let (_, alice, alice_token) = issued_kubeconfig("alice").await;
        let (_, bob, _) = issued_kubeconfig("bob").await;
        let (_, admin, _) = issued_kubeconfig("admin").await;
        let none = scratch("images-rw").join("config");
        let kc = |path: &Path| path.to_string_lossy().into_owned();

        let out = ac(
            &none,
            &["--kubeconfig", &kc(&alice), "get", "images", "-o", "json"],
        )
        .await;
        expect(&out, 0, "alice lists images");
        let alices = listed_tags(&out);
        assert!(alices.contains(&"team-a/web:2.0".to_string()), "{alices:?}");
        assert!(
            alices.iter().all(|t| t.starts_with("team-a/")),
            "{alices:?}"
        );
        let out = ac(
            &none,
            &["--kubeconfig", &kc(&bob), "get", "images", "-o", "json"],
        )
        .await;
        expect(&out, 0, "bob lists images");
        let bobs = listed_tags(&out);
        assert!(bobs.contains(&"team-b/api:v3".to_string()), "{bobs:?}");
        assert!(bobs.iter().all(|t| t.starts_with("team-b/")), "{bobs:?}");

        // The CronJob's way in: AC_SERVER, AC_TOKEN and AC_CERTIFICATE_AUTHORITY, no config.
        let ca = sandbox.ca_file.to_string_lossy().into_owned();
        let out = ac_with(
            &scratch("env").join("no-such-config"),
            &["get", "images", "-o", "json"],
            &[
                ("AC_SERVER", console.origin.as_str()),
                ("AC_TOKEN", alice_token.as_str()),
                ("AC_CERTIFICATE_AUTHORITY", ca.as_str()),
            ],
        )
        .await;
        expect(&out, 0, "ac from the environment alone");
        assert_eq!(listed_tags(&out), alices, "as alice");

        // Bob may not run the registry-wide garbage collection: refused before anything goes.
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &kc(&bob),
                "adm",
                "prune",
                "images",
                "--keep-newest",
                "100",
                "--confirm",
                "--gc",
            ],
        )
        .await;
        let (_, stderr) = expect(&out, 1, "bob's --gc");
        assert!(stderr.contains("garbage collection"), "{stderr}");

        // Confirmed, as the admin, on images of this test's own: exit 0 and they are gone.
        let prefix = format!("t-cli-img-{}", support::run_id());
        let push = support::registry::Pusher::new(&sandbox.registry);
        for tag in ["one", "two", "three"] {
            push.image(
                &format!("{prefix}/app"),
                Some(tag),
                tag,
                Some("2026-01-01T00:00:00Z"),
                "amd64",
                512,
            )
            .await;
        }
        let mine = |out: &Output| -> Vec<String> {
            listed_tags(out)
                .into_iter()
                .filter(|t| t.starts_with(&prefix))
                .collect()
        };
        let admin_kc = kc(&admin);
        let list_args = [
            "--kubeconfig",
            admin_kc.as_str(),
            "get",
            "images",
            "-n",
            prefix.as_str(),
            "-o",
            "json",
        ];
        let list = || ac(&none, &list_args);
        assert_eq!(mine(&list().await).len(), 3);
        let target = format!("{prefix}/app:one");
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &kc(&admin),
                "delete",
                "images",
                &target,
                "--confirm",
            ],
        )
        .await;
        let (stdout, _) = expect(&out, 0, "a confirmed delete");
        assert!(stdout.contains("deleted"), "{stdout}");
        assert_eq!(
            mine(&list().await),
            [format!("{prefix}/app:three"), format!("{prefix}/app:two")]
        );
        let out = ac(
            &none,
            &[
                "--kubeconfig",
                &kc(&admin),
                "adm",
                "prune",
                "images",
                "-n",
                &prefix,
                "--all",
                "--confirm",
            ],
        )
        .await;
        let (stdout, stderr) = expect(&out, 0, "a confirmed prune");
        assert!(stdout.contains("deleted"), "{stdout}");
        assert!(
            stderr.contains("Deleted 2 image(s)") && stderr.contains("--gc"),
            "says what went and that no garbage collection ran: {stderr}"
        );
        assert!(mine(&list().await).is_empty(), "the prune deleted both");
    });
}
