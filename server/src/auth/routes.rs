//! `/auth/login`, `/auth/callback`, `/auth/logout`, `POST /auth/kubeconfig` (mints a kubectl
//! token) and `POST /auth/tokens/revoke`.

use axum::{
    Extension, Form, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::{Expiry, Session};

use app::{
    auth::{Identity, KubectlToken},
    platform::registry::ClusterRegistry,
};

use super::{
    Auth, AuthMode, PENDING_KEY, PENDING_LIFETIME, SessionUser, TOKENS_KEY, USER_KEY, now,
    oidc::{OidcError, PendingLogin, Refusal},
    tokens,
};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Auth: axum::extract::FromRef<S>,
    ClusterRegistry: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/kubeconfig", post(kubeconfig))
        .route("/auth/tokens/revoke", post(revoke_token))
        .merge(super::cli::routes())
}

/// Where the browser lands after sign-in when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/";

/// The longest `next` kept; longer ones fall back to [`DEFAULT_NEXT`].
const MAX_NEXT: usize = 2048;

/// Only a path on the console's own origin may follow sign-in. `next` is parsed as a relative
/// URL against the console and kept only when it stays path-absolute (one `/`, no scheme, no
/// authority, also after normalisation), and holds no control character or backslash, raw or
/// percent-encoded: browsers drop tabs and newlines from a `Location`, so `/%09/evil.example`
/// would become `//evil.example`. Anything else falls back to [`DEFAULT_NEXT`].
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path)
        .unwrap_or_else(|| DEFAULT_NEXT.to_string())
}

fn local_path(next: &str) -> Option<String> {
    if next.len() > MAX_NEXT {
        return None;
    }
    // Each percent-decoding of `next` (up to three, for double encoding) must be clean too.
    let mut layer = next.to_string();
    for _ in 0..3 {
        if !is_clean_local(&layer) {
            return None;
        }
        // Encoded C0/C1 controls decode to themselves and fail; invalid UTF-8 becomes U+FFFD.
        let decoded = percent_encoding::percent_decode_str(&layer)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == layer {
            break;
        }
        layer = decoded;
    }
    if !is_clean_local(&layer) {
        return None;
    }
    let base = url::Url::parse("https://console.invalid/").ok()?;
    let joined = base.join(next).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    // Path, query and fragment as the URL parser normalised them (dot segments removed).
    let local = joined[url::Position::BeforePath..].to_string();
    is_clean_local(&local).then_some(local)
}

/// Starts with exactly one `/` (not `//` or `/\`), no control characters, no backslash.
fn is_clean_local(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

fn to_signin(reason: &str) -> Response {
    Redirect::to(&format!("/signin?error={reason}")).into_response()
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login(
    State(auth): State<Auth>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let AuthMode::Oidc(oidc) = &auth.mode else {
        return Redirect::to(&next).into_response();
    };
    match oidc.begin(next).await {
        Ok((url, pending)) => {
            // A pending sign-in is kept only as long as a sign-in may take; a signed-in
            // session that starts another sign-in keeps its own expiry.
            if !matches!(session.get_value(USER_KEY).await, Ok(Some(_))) {
                session.set_expiry(Some(Expiry::AtDateTime(
                    time::OffsetDateTime::now_utc() + PENDING_LIFETIME,
                )));
            }
            if session.insert(PENDING_KEY, &pending).await.is_err() {
                return to_signin("invalid");
            }
            Redirect::to(&url).into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "sign-in could not start");
            to_signin("provider_unreachable")
        }
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(auth): State<Auth>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let response = finish_sign_in(&auth, &session, q).await;
    // A sign-in that did not complete leaves nothing behind: the anonymous session that held
    // the pending login is deleted, not kept for the idle timeout.
    if !matches!(session.get_value(USER_KEY).await, Ok(Some(_))) {
        let _ = session.flush().await;
    }
    response
}

async fn finish_sign_in(auth: &Auth, session: &Session, q: CallbackQuery) -> Response {
    let AuthMode::Oidc(oidc) = &auth.mode else {
        return Redirect::to("/").into_response();
    };
    let pending: Option<PendingLogin> = session.remove(PENDING_KEY).await.ok().flatten();
    if let Some(error) = q.error {
        tracing::info!(%error, description = ?q.error_description, "the provider ended sign-in");
        return to_signin(if error == "access_denied" {
            "cancelled"
        } else {
            "invalid"
        });
    }
    let (Some(pending), Some(code), Some(state)) = (pending, q.code, q.state) else {
        tracing::warn!("callback without a pending sign-in, code or state");
        return to_signin("invalid");
    };
    if state != pending.state {
        tracing::warn!("callback state does not match the pending sign-in");
        return to_signin("invalid");
    }
    match oidc.complete(&pending, code).await {
        Ok(signed_in) => {
            tracing::info!(user = %signed_in.identity.username, groups = ?signed_in.identity.groups, "signed in");
            // A new session id at sign-in, so an id planted before it is worth nothing after.
            if session.cycle_id().await.is_err()
                || session
                    .insert(
                        USER_KEY,
                        SessionUser {
                            signed_in,
                            signed_in_at: now(),
                        },
                    )
                    .await
                    .is_err()
            {
                return to_signin("invalid");
            }
            Redirect::to(&pending.next).into_response()
        }
        Err(OidcError::Unreachable { reason, .. }) => {
            tracing::warn!(%reason, "provider unreachable during sign-in");
            to_signin("provider_unreachable")
        }
        Err(OidcError::Refused(refusal)) => {
            tracing::warn!(%refusal, "sign-in refused");
            match refusal {
                Refusal::UnverifiedEmail(_) => to_signin("unverified_email"),
                Refusal::SystemName(name) => {
                    let mut query = url::form_urlencoded::Serializer::new(String::new());
                    query
                        .append_pair("error", "system_name")
                        .append_pair("name", &name);
                    Redirect::to(&format!("/signin?{}", query.finish())).into_response()
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "sign-in refused");
            to_signin("invalid")
        }
    }
}

async fn logout(State(auth): State<Auth>, session: Session) -> Response {
    let user: Option<SessionUser> = session.get(USER_KEY).await.ok().flatten();
    let issued: Vec<String> = session_tokens(&session)
        .await
        .into_iter()
        .map(|t| t.id)
        .collect();
    tokens::revoke(&auth, &issued).await;
    let _ = session.flush().await;
    let after = format!("{}/signin?error=signed_out", auth.public_origin);
    if let (AuthMode::Oidc(oidc), Some(user)) = (&auth.mode, user) {
        tracing::info!(user = %user.signed_in.identity.username, "signed out");
        if let Some(url) = oidc.end_session_url(&user.signed_in.id_token, &after).await {
            return Redirect::to(&url).into_response();
        }
    }
    to_signin("signed_out")
}

/// The kubectl tokens the session lists (expired ones left out).
async fn session_tokens(session: &Session) -> Vec<KubectlToken> {
    tokens::listed(session.get_value(TOKENS_KEY).await.ok().flatten())
}

fn token_error(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        format!("{message}\n"),
    )
        .into_response()
}

/// A kubeconfig for kubectl: one context per cluster, each pointing at the console's cluster
/// proxy, with a bearer token minted for this session (POST only, so a link or an image
/// cannot mint one, and same-origin like every cookie write). The token ends with the session
/// and is listed in the user menu. Local mode needs no token: the console trusts loopback.
async fn kubeconfig(
    State(auth): State<Auth>,
    State(clusters): State<ClusterRegistry>,
    session: Session,
    Extension(identity): Extension<Identity>,
) -> Response {
    let token = match &auth.mode {
        AuthMode::Local(_) => None,
        AuthMode::Oidc(_) => {
            let Ok(Some(user)) = session.get::<SessionUser>(USER_KEY).await else {
                return token_error(
                    StatusCode::UNAUTHORIZED,
                    tokens::TokenError::NoSession.to_string(),
                );
            };
            let (token, listed) = match tokens::issue(&auth, session.id(), &user).await {
                Ok(issued) => issued,
                Err(error) => {
                    tracing::error!(%error, "could not issue a kubectl token");
                    return token_error(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
                }
            };
            let mut issued = session_tokens(&session).await;
            issued.push(listed);
            if let Err(error) = session.insert(TOKENS_KEY, &issued).await {
                tracing::error!(%error, "could not list the kubectl token in the session");
                return token_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the console could not record the kubectl token in your session; try again"
                        .into(),
                );
            }
            tracing::info!(user = %identity.username, "kubectl token issued");
            Some(token)
        }
    };
    let document = kubeconfig_document(
        &auth.public_origin,
        &clusters.list(),
        &identity,
        token.as_deref(),
        auth.kubeconfig_ca.as_deref(),
    );
    (
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"nextgen-console.kubeconfig\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        document,
    )
        .into_response()
}

#[derive(Deserialize)]
struct RevokeForm {
    /// The token's id (hash) as the user menu lists it.
    id: String,
    /// Where to go back to (a local path).
    next: Option<String>,
}

/// Revokes one of this session's kubectl tokens (a plain form POST from the user menu, so it
/// works before hydration; same-origin as every cookie write). Ids the session does not list
/// are refused, so no one revokes another session's token by guessing.
async fn revoke_token(
    State(auth): State<Auth>,
    session: Session,
    Form(form): Form<RevokeForm>,
) -> Response {
    let mut issued = session_tokens(&session).await;
    let before = issued.len();
    issued.retain(|t| t.id != form.id);
    if issued.len() == before {
        return token_error(
            StatusCode::NOT_FOUND,
            "this session has no such kubectl token; it may have expired or been revoked already"
                .into(),
        );
    }
    tokens::revoke(&auth, std::slice::from_ref(&form.id)).await;
    if session.insert(TOKENS_KEY, &issued).await.is_err() {
        return token_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the token is revoked, but the session's list could not be updated; reload the page"
                .into(),
        );
    }
    Redirect::to(&safe_next(form.next.as_deref())).into_response()
}

/// JSON is YAML, and kubectl reads either.
pub fn kubeconfig_document(
    origin: &str,
    clusters: &[app::platform::ClusterRef],
    identity: &Identity,
    token: Option<&str>,
    ca_data: Option<&str>,
) -> String {
    let user = format!("{}@nextgen-console", identity.username);
    let cluster = |name: &str| {
        let mut cluster = serde_json::json!({"server": format!("{origin}/clusters/{name}")});
        if let Some(ca) = ca_data {
            cluster["certificate-authority-data"] = ca.into();
        }
        cluster
    };
    let document = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters.iter().map(|c| serde_json::json!({
            "name": c.name, "cluster": cluster(&c.name)
        })).collect::<Vec<_>>(),
        "users": [{"name": user, "user": match token {
            Some(token) => serde_json::json!({"token": token}),
            None => serde_json::json!({}),
        }}],
        "contexts": clusters.iter().map(|c| serde_json::json!({
            "name": c.name, "context": {"cluster": c.name, "user": user}
        })).collect::<Vec<_>>(),
        "current-context": clusters.first().map(|c| c.name.clone()).unwrap_or_default(),
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    #[test]
    fn only_local_paths_follow_sign_in() {
        assert_eq!(
            safe_next(Some("/admin/clusters?x=1")),
            "/admin/clusters?x=1"
        );
        assert_eq!(safe_next(Some("/a/./b/../c#top")), "/a/c#top");
        assert_eq!(safe_next(Some("/集群")), "/%E9%9B%86%E7%BE%A4");
        assert_eq!(safe_next(None), DEFAULT_NEXT);
    }

    #[test]
    fn known_open_redirects_fall_back_to_the_default() {
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "admin",
            "",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/\r/evil.example",
            "/%09/evil.example/phish",
            "/%0a/evil.example",
            "/%0D/evil.example",
            "/%00/evil.example",
            "/%5c/evil.example",
            "/%2F/evil.example",
            "/%252F/evil.example",
            "/%2509/evil.example",
            "/.//evil.example",
            "/..//evil.example",
            "/a/../..//evil.example",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "javascript:alert(1)",
            "/ok\u{0}",
            " //evil.example",
        ] {
            assert_eq!(safe_next(Some(bad)), DEFAULT_NEXT, "{bad:?}");
        }
        assert_eq!(
            safe_next(Some(&format!("/{}", "a".repeat(3000)))),
            DEFAULT_NEXT
        );
    }

    fn is_default_or_one_local_path(next: &str) -> bool {
        let mut chars = next.chars();
        next == DEFAULT_NEXT
            || (chars.next() == Some('/')
                && chars.next().is_some_and(|c| c != '/' && c != '\\')
                && !next.chars().any(char::is_control))
    }

    proptest! {
        #[test]
        fn any_next_yields_the_default_or_a_single_slash_local_path(next in any::<String>()) {
            let safe = safe_next(Some(&next));
            prop_assert!(is_default_or_one_local_path(&safe), "{next:?} -> {safe:?}");
        }

        #[test]
        fn path_like_next_yields_the_default_or_a_single_slash_local_path(
            next in "[/\\\\.%a-z0-9\t\n:?#@]{0,24}"
        ) {
            let safe = safe_next(Some(&next));
            prop_assert!(is_default_or_one_local_path(&safe), "{next:?} -> {safe:?}");
            prop_assert!(!safe.contains('\\'), "{next:?} -> {safe:?}");
        }

        #[test]
        fn plain_local_paths_are_kept(path in "/[a-z0-9_-]{1,12}(/[a-z0-9_-]{1,12}){0,4}") {
            prop_assert_eq!(safe_next(Some(&path)), path);
        }
    }
}
