//! Sign-in hardening (`next`, prefixes, reserved names), the bounded memory session store under
//! a flood, kubectl tokens tied to their session, and single-flight token refresh, against the
//! sandbox's real Dex and API servers. The consoles run in process with the memory session
//! store; requests go straight to their routers (no listener), while the sign-ins go through
//! Dex with redirect URIs it accepts.

mod support;

use std::{path::Path, sync::OnceLock};

use app::{
    auth::{CurrentUser, Identity, KubectlToken, ListKubectlTokens},
    platform::registry::ClusterRegistry,
};
use axum::{
    Router,
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use server::{
    AppState,
    auth::{
        Auth, AuthMode, SessionUser, USER_KEY, now,
        oidc::SignedIn,
        store::{MemoryLimits, Store},
        tokens,
    },
    router,
};
use support::{
    Sandbox,
    console::{oidc_config, plant_session, run, runtime, signed_in_at_provider, stored_user},
    sandbox,
};
use tower::ServiceExt;
use tower_sessions::{SessionStore, session::Id};

/// A console under test: its router, called in process, and its auth state.
struct Console {
    app: Router,
    auth: Auth,
    origin: String,
}

/// The consoles of this binary, all built before any request is served (leptos-rs/leptos#4773).
struct Consoles {
    /// Default flags.
    main: Console,
    /// Its own store, for the flood (so other tests' pending sign-ins are not evicted by it).
    flood: Console,
    /// `--oidc-username-prefix system:`: every user name is reserved.
    system_prefix: Console,
    /// `--oidc-username-prefix oidc: --oidc-groups-prefix system:`: every group is reserved.
    prefixed: Console,
}

fn consoles() -> &'static Consoles {
    static CONSOLES: OnceLock<Consoles> = OnceLock::new();
    CONSOLES.get_or_init(|| {
        let sandbox = sandbox();
        let rt = runtime();
        let _enter = rt.enter();
        let clusters = rt
            .block_on(ClusterRegistry::from_kubeconfig(
                &sandbox.console_kubeconfig,
            ))
            .unwrap_or_else(|e| panic!("registry: {e}"));
        // Redirect URIs the sandbox's Dex accepts (console port + 1 .. + 19); nothing listens
        // on them: the tests hand the callback to the router themselves.
        Consoles {
            main: build_console(sandbox, 13, &clusters, &[]),
            flood: build_console(sandbox, 14, &clusters, &[]),
            system_prefix: build_console(
                sandbox,
                15,
                &clusters,
                &["--oidc-username-prefix", "system:"],
            ),
            prefixed: build_console(
                sandbox,
                16,
                &clusters,
                &[
                    "--oidc-username-prefix",
                    "oidc:",
                    "--oidc-groups-prefix",
                    "system:",
                ],
            ),
        }
    })
}

fn build_console(
    sandbox: &Sandbox,
    port_offset: u16,
    clusters: &ClusterRegistry,
    flags: &[&str],
) -> Console {
    let port = sandbox.console_port + port_offset;
    let origin = format!("https://127.0.0.1:{port}");
    let config = oidc_config(sandbox, &origin, None, flags);
    let addr = format!("127.0.0.1:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let auth =
        Auth::from_config(&config, addr, Store::default()).unwrap_or_else(|e| panic!("auth: {e}"));
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("auth-security-site");
    std::fs::create_dir_all(root.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
    let mut state = AppState::for_site(&root, clusters.clone());
    state.auth = auth.clone();
    Console {
        app: router(state),
        auth,
        origin,
    }
}

impl Console {
    async fn send(&self, request: Request<Body>) -> Response<Body> {
        match self.app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut request = Request::get(path);
        if let Some(id) = cookie {
            request = request.header(header::COOKIE, format!("ngc_session={id}"));
        }
        self.send(request.body(Body::empty()).unwrap_or_default())
            .await
    }

    /// A form POST with the session cookie, from the console's own page unless `site` says
    /// otherwise (`Sec-Fetch-Site`), or with no fetch metadata and no Origin when `site` is "".
    async fn post(&self, path: &str, cookie: &str, site: &str, form: &str) -> Response<Body> {
        let mut request = Request::post(path)
            .header(header::COOKIE, format!("ngc_session={cookie}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        match site {
            "" => {}
            "same-origin" => request = request.header(header::ORIGIN, &self.origin),
            other => request = request.header("sec-fetch-site", other),
        }
        self.send(
            request
                .body(Body::from(form.to_string()))
                .unwrap_or_default(),
        )
        .await
    }

    /// A cluster proxy request with a bearer token.
    async fn with_token(&self, token: &str) -> StatusCode {
        let request = Request::get("/clusters/east/version")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap_or_default();
        self.send(request).await.status()
    }

    /// A cluster proxy request with the session cookie.
    async fn with_cookie(&self, id: &str) -> StatusCode {
        self.get("/clusters/east/version", Some(id)).await.status()
    }

    fn oidc(&self) -> &server::auth::oidc::Oidc {
        match &self.auth.mode {
            AuthMode::Oidc(oidc) => oidc,
            AuthMode::Local(_) => panic!("the test consoles sign in through Dex"),
        }
    }
}

fn location(response: &Response<Body>) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The session id the response sets, if it sets one.
fn session_cookie(response: &Response<Body>) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("ngc_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
        .filter(|c| !c.is_empty())
}

async fn text(response: Response<Body>) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Starts sign-in at `login` (a path with its query), signs `username` in at Dex, and returns
/// the console's answer to the callback.
async fn sign_in_from(console: &Console, login: &str, username: &str) -> Response<Body> {
    let sandbox = sandbox();
    let user = sandbox.user(username);
    let start = console.get(login, None).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER, "{login}");
    let pending = session_cookie(&start).unwrap_or_else(|| panic!("no pending session"));
    let callback = support::sign_in_at_dex(
        &sandbox.browser(),
        &location(&start),
        &format!("{}/auth/callback", console.origin),
        &user.email,
        &user.password,
    )
    .await
    .unwrap_or_else(|e| panic!("sign-in at Dex as {username}: {e}"));
    console
        .get(&callback[url::Position::BeforePath..], Some(&pending))
        .await
}

/// Signs `username` in; returns the session id (the cookie's value).
async fn signed_in(console: &Console, username: &str) -> String {
    let done = sign_in_from(console, "/auth/login?next=/admin/clusters", username).await;
    assert_eq!(location(&done), "/admin/clusters");
    session_cookie(&done).unwrap_or_else(|| panic!("no session cookie after sign-in"))
}

/// Mints a kubectl token through `POST /auth/kubeconfig`; returns the token.
async fn mint(console: &Console, session: &str) -> String {
    let response = console
        .post("/auth/kubeconfig", session, "same-origin", "")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = text(response).await;
    let document: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("kubeconfig: {e}: {body}"));
    document["users"][0]["user"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_string()
}

async fn listed_tokens(console: &Console, session: &str) -> Vec<KubectlToken> {
    let response = console
        .post(ListKubectlTokens::PATH, session, "same-origin", "")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = text(response).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Rewrites session `id`'s record in the store with `change`.
async fn rewrite_session(
    console: &Console,
    id: &str,
    change: impl FnOnce(&mut tower_sessions::session::Record),
) {
    let id: Id = id.parse().unwrap_or_else(|e| panic!("{e}"));
    let mut record = console
        .auth
        .store
        .load(&id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no session {id}"));
    change(&mut record);
    console
        .auth
        .store
        .save(&record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_next_that_a_browser_would_turn_into_another_origin_lands_on_the_console() {
    let console = &consoles().main;
    run(async {
        // Seen: signing in from here ended on https://evil.example/phish.
        let done = sign_in_from(console, "/auth/login?next=/%09/evil.example/phish", "alice").await;
        assert_eq!(location(&done), "/");
        for next in [
            "%2F%5Cevil.example",
            "/%2509/evil.example",
            "//evil.example",
        ] {
            let start = console.get(&format!("/auth/login?next={next}"), None).await;
            assert_eq!(start.status(), StatusCode::SEE_OTHER, "{next}");
        }
    })
}

#[test]
fn a_reserved_user_name_is_refused_with_its_name_and_reserved_groups_are_dropped() {
    let Consoles {
        system_prefix,
        prefixed,
        main,
        ..
    } = consoles();
    run(async {
        // The prefix makes every user name a system: name: sign-in is refused and says which.
        let done = sign_in_from(system_prefix, "/auth/login?next=/", "alice").await;
        let to = location(&done);
        assert_eq!(
            to,
            "/signin?error=system_name&name=system%3Aalice%40example.com"
        );
        let cookies: Vec<_> = done.headers().get_all(header::SET_COOKIE).iter().collect();
        assert!(
            session_cookie(&done).is_none(),
            "no session for a refused name: {cookies:?}"
        );
        let page = text(system_prefix.get(&to, None).await).await;
        assert!(page.contains("system:alice@example.com"), "{page}");
        assert!(page.contains("reserved for Kubernetes"), "{page}");

        // The groups prefix makes every group a system: group: dropped, the user signed in.
        let session = signed_in(prefixed, "alice").await;
        let me = text(
            prefixed
                .post(CurrentUser::PATH, &session, "same-origin", "")
                .await,
        )
        .await;
        let me: Option<Identity> =
            serde_json::from_str(&me).unwrap_or_else(|e| panic!("{e}: {me}"));
        let me = me.unwrap_or_else(|| panic!("signed in"));
        assert_eq!(me.username, "oidc:alice@example.com");
        assert_eq!(me.groups, Vec::<String>::new(), "system:team-a dropped");

        // Without prefixes (the default, which the sandbox's RBAC expects) nothing changes.
        let session = signed_in(main, "alice").await;
        let me = text(
            main.post(CurrentUser::PATH, &session, "same-origin", "")
                .await,
        )
        .await;
        assert!(me.contains("\"alice@example.com\""), "{me}");
        assert!(me.contains("\"team-a\""), "{me}");

        // The unverified e-mail refusal has its own message.
        let page = text(main.get("/signin?error=unverified_email", None).await).await;
        assert!(
            page.contains("e-mail address that the identity provider has not verified"),
            "{page}"
        );
    })
}

#[test]
fn a_flood_of_cookieless_logins_keeps_the_session_store_bounded() {
    use futures::StreamExt;
    const ROUNDS: usize = 6;
    const PER_ROUND: usize = 10_000;
    let console = &consoles().flood;
    run(async {
        let cap = MemoryLimits::default().anonymous;
        let before = rss_kib();
        let mut entries = Default::default();
        // 60,000 cookieless logins in rounds; after each the store holds at most the cap.
        for round in 1..=ROUNDS {
            let refused = std::sync::atomic::AtomicUsize::new(0);
            futures::stream::iter(0..PER_ROUND)
                .for_each_concurrent(16, |_| async {
                    let login = console.get("/auth/login?next=/", None).await;
                    if login.status() != StatusCode::SEE_OTHER {
                        refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                })
                .await;
            assert_eq!(refused.into_inner(), 0, "every login redirected to Dex");
            entries = console
                .auth
                .store
                .memory_entries()
                .await
                .unwrap_or_else(|| panic!("the memory store"));
            println!(
                "after {} cookieless logins: {} pending sign-ins kept (cap {cap}); RSS {} MiB (before the flood {} MiB)",
                round * PER_ROUND,
                entries.anonymous,
                rss_kib() / 1024,
                before / 1024
            );
            assert!(entries.anonymous <= cap, "{entries:?}");
        }
        assert!(entries.anonymous > 0, "{entries:?}");

        // A pending sign-in lives ten minutes, not the session's idle hour.
        let last = console.get("/auth/login?next=/", None).await;
        let id: Id = session_cookie(&last)
            .unwrap_or_default()
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let record = console
            .auth
            .store
            .load(&id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("the newest pending sign-in is kept"));
        let left = record.expiry_date - time::OffsetDateTime::now_utc();
        assert!(
            left <= time::Duration::minutes(10) && left > time::Duration::minutes(9),
            "{left}"
        );

        // Signing in still works right after the flood.
        let session = signed_in(console, "bob").await;
        assert_eq!(console.with_cookie(&session).await, StatusCode::OK);
    })
}

#[test]
fn kubectl_tokens_are_minted_by_a_same_origin_post_only() {
    let console = &consoles().main;
    run(async {
        let session = signed_in(console, "alice").await;
        let get = console.get("/auth/kubeconfig", Some(&session)).await;
        assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
        for site in ["", "cross-site", "same-site"] {
            let refused = console.post("/auth/kubeconfig", &session, site, "").await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{site:?}");
        }
        // A bearer header does not stand in for the same-origin check outside the proxy.
        let with_bearer = Request::post("/auth/kubeconfig")
            .header(header::COOKIE, format!("ngc_session={session}"))
            .header(header::AUTHORIZATION, "Bearer whatever")
            .body(Body::empty())
            .unwrap_or_default();
        assert_eq!(
            console.send(with_bearer).await.status(),
            StatusCode::FORBIDDEN
        );
        assert!(listed_tokens(console, &session).await.is_empty());
        let token = mint(console, &session).await;
        assert_eq!(console.with_token(&token).await, StatusCode::OK);
    })
}

#[test]
fn kubectl_tokens_are_listed_for_their_session_and_revoked_one_by_one() {
    let console = &consoles().main;
    run(async {
        let session = signed_in(console, "alice").await;
        let first = mint(console, &session).await;
        let second = mint(console, &session).await;
        let listed = listed_tokens(console, &session).await;
        let ids: Vec<&str> = listed.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, [tokens::hash(&first), tokens::hash(&second)]);
        assert!(listed.iter().all(|t| t.expires_at > now()));

        // The user menu lists them.
        let page = text(console.get("/admin/clusters", Some(&session)).await).await;
        assert!(page.contains("data-testid=\"kubectl-tokens\""), "{page}");

        // Another session neither sees nor revokes them.
        let other = signed_in(console, "alice").await;
        assert!(listed_tokens(console, &other).await.is_empty());
        let form = format!("id={}&next=/admin/clusters", tokens::hash(&first));
        let foreign = console
            .post("/auth/tokens/revoke", &other, "same-origin", &form)
            .await;
        assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
        let cross = console
            .post("/auth/tokens/revoke", &session, "cross-site", &form)
            .await;
        assert_eq!(cross.status(), StatusCode::FORBIDDEN);
        assert_eq!(console.with_token(&first).await, StatusCode::OK);

        let revoked = console
            .post("/auth/tokens/revoke", &session, "same-origin", &form)
            .await;
        assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&revoked), "/admin/clusters");
        assert_eq!(console.with_token(&first).await, StatusCode::UNAUTHORIZED);
        assert_eq!(console.with_token(&second).await, StatusCode::OK);
        let ids: Vec<String> = listed_tokens(console, &session)
            .await
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, [tokens::hash(&second)]);

        // Signing out revokes the rest.
        let out = console
            .post("/auth/logout", &session, "same-origin", "")
            .await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert_eq!(console.with_token(&second).await, StatusCode::UNAUTHORIZED);
    })
}

#[test]
fn a_kubectl_token_ends_when_its_session_times_out() {
    let console = &consoles().main;
    run(async {
        // Absolute timeout: signed in longer ago than the session may last.
        let session = signed_in(console, "alice").await;
        let token = mint(console, &session).await;
        assert_eq!(console.with_token(&token).await, StatusCode::OK);
        rewrite_session(console, &session, |record| {
            if let Some(user) = record.data.get_mut(USER_KEY) {
                user["signed_in_at"] = (now() - 13 * 3600).into();
            }
        })
        .await;
        assert_eq!(console.with_token(&token).await, StatusCode::UNAUTHORIZED);

        // Idle timeout: the session's record expires.
        let session = signed_in(console, "alice").await;
        let token = mint(console, &session).await;
        assert_eq!(console.with_token(&token).await, StatusCode::OK);
        rewrite_session(console, &session, |record| {
            record.expiry_date = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(
            console.with_cookie(&session).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(console.with_token(&token).await, StatusCode::UNAUTHORIZED);
    })
}

#[test]
fn a_session_id_is_no_bearer_token_and_a_token_no_session_cookie() {
    let console = &consoles().main;
    run(async {
        let session = signed_in(console, "alice").await;
        assert_eq!(console.with_cookie(&session).await, StatusCode::OK);
        let token = mint(console, &session).await;
        for bearer in [
            session.clone(),
            format!("{}{session}", tokens::TOKEN_PREFIX),
        ] {
            assert_eq!(
                console.with_token(&bearer).await,
                StatusCode::UNAUTHORIZED,
                "{bearer}"
            );
        }
        let random = token.trim_start_matches(tokens::TOKEN_PREFIX).to_string();
        for cookie in [token.clone(), random, tokens::hash(&token)] {
            assert_eq!(
                console.with_cookie(&cookie).await,
                StatusCode::UNAUTHORIZED,
                "{cookie}"
            );
            let page = console.get("/admin/clusters", Some(&cookie)).await;
            assert!(location(&page).starts_with("/signin"), "{cookie}");
        }
    })
}

#[test]
fn concurrent_requests_near_expiry_share_one_refresh_and_none_is_signed_out() {
    const REQUESTS: usize = 8;
    let (sandbox, console) = (sandbox(), &consoles().main);
    run(async {
        let oidc = console.oidc();
        // A real sign-in at Dex, below the HTTP routes, to hold real (rotating) tokens.
        let signed_in = signed_in_at_provider(sandbox, oidc, &console.origin, "alice").await;

        // A session whose ID token expires in 30 s, hit by several requests at once.
        let user = SessionUser {
            signed_in: SignedIn {
                expires_at: now() + 30,
                ..signed_in
            },
            signed_in_at: now(),
        };
        let planted = plant_session(&console.auth, &user).await;
        let id = planted.to_string();
        let before = oidc.refresh_count();
        let statuses =
            futures::future::join_all((0..REQUESTS).map(|_| console.with_cookie(&id))).await;
        assert_eq!(statuses, vec![StatusCode::OK; REQUESTS], "none signed out");
        assert_eq!(oidc.refresh_count() - before, 1, "exactly one refresh");

        let user = stored_user(&console.auth, &planted).await;
        assert!(
            user.signed_in.expires_at > now() + 600,
            "fresh tokens stored"
        );
        // Later requests use the stored tokens: no further refresh.
        assert_eq!(console.with_cookie(&id).await, StatusCode::OK);
        assert_eq!(oidc.refresh_count() - before, 1);
    })
}

#[test]
fn activity_pushes_the_idle_expiry_forward() {
    let console = &consoles().main;
    run(async {
        let session = signed_in(console, "carol").await;
        // A session about to reach its idle timeout, last marked as used two minutes ago.
        rewrite_session(console, &session, |record| {
            record.expiry_date = time::OffsetDateTime::now_utc() + time::Duration::seconds(90);
            record
                .data
                .insert(server::auth::SEEN_KEY.into(), (now() - 120).into());
        })
        .await;
        assert_eq!(console.with_cookie(&session).await, StatusCode::OK);
        let id: Id = session.parse().unwrap_or_else(|e| panic!("{e}"));
        let record = console
            .auth
            .store
            .load(&id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("the session is kept"));
        let left = record.expiry_date - time::OffsetDateTime::now_utc();
        assert!(
            left > console.auth.idle - time::Duration::minutes(1),
            "{left}"
        );
    })
}
