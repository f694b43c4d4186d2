//! The gate every request passes: public paths go through; others need an identity (session,
//! console-issued bearer token on the cluster proxy and server functions, or the local user).
//! State-changing requests authenticated by cookie must come from the console's own origin
//! (CSRF). Tokens near expiry are refreshed once per session however many requests arrive
//! together.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::{Session, SessionStore};

use app::{
    ConsoleError,
    auth::{Identity, KubectlTokens},
};

use super::{Auth, AuthMode, SEEN_KEY, SessionUser, TOKENS_KEY, USER_KEY, now, tokens};

/// Seconds before the ID token expires at which a request refreshes it first.
const REFRESH_BEFORE: i64 = 60;
/// Seconds between writes that push a session's idle expiry forward.
const KEEP_ALIVE_EVERY: i64 = 60;

/// Paths anyone may fetch: probes, the sign-in page and flow, `ac login`'s code exchange (the
/// one-time code and its verifier are the credential there), static files.
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz"
            | "/readyz"
            | "/metrics"
            | "/signin"
            | "/favicon.svg"
            | "/robots.txt"
            | "/auth/login"
            | "/auth/callback"
            | "/auth/logout"
            | super::cli::TOKEN_PATH
    ) || path.starts_with("/pkg/")
}

/// Same-origin check for state-changing requests: Sec-Fetch-Site when the browser sends it,
/// otherwise Origin against the console's own origin; neither means refused.
pub fn same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin.eq_ignore_ascii_case(public_origin),
        None => false,
    }
}

/// Paths a console-issued bearer token authenticates: the cluster proxy (kubectl) and the
/// server functions (`ac`). Everything else (pages, `/auth/*`) needs the session cookie.
pub fn takes_bearer(path: &str) -> bool {
    path.starts_with("/clusters/") || path.starts_with("/api/")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why there is no identity; decides the sign-in page's message.
#[derive(Clone, Copy)]
enum Missing {
    NotSignedIn,
    Expired,
}

pub async fn gate(
    State(auth): State<Auth>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if is_public(&path) && path != "/auth/logout" {
        return next.run(request).await;
    }

    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);

    // Cookies ride along on cross-site requests; bearer tokens do not (a page cannot set
    // Authorization on a cross-site request without a CORS preflight the console never grants,
    // nor know the token). The cluster proxy and the server functions take bearer tokens (kubectl,
    // `ac`), so there one stands in for the same-origin check; the cookie is then not used.
    let token_auth = bearer.is_some() && takes_bearer(&path);
    if !token_auth
        && !is_safe(request.method())
        && !same_origin(request.headers(), &auth.public_origin)
    {
        tracing::warn!(%path, "refused a cross-site state-changing request");
        return refuse(&path, StatusCode::FORBIDDEN, ConsoleError::CrossSite);
    }
    if path == "/auth/logout" {
        return next.run(request).await;
    }

    let identity = match (&auth.mode, bearer) {
        (AuthMode::Local(identity), _) => Ok(identity.clone()),
        (AuthMode::Oidc(_), Some(token)) if token_auth => {
            tokens::resolve(&auth, &token).await.ok_or(Missing::Expired)
        }
        (AuthMode::Oidc(oidc), _) => {
            let identity = session_identity(&auth, oidc, &session).await;
            if identity.is_ok() {
                let listed = tokens::listed(session.get_value(TOKENS_KEY).await.ok().flatten());
                request.extensions_mut().insert(KubectlTokens(listed));
            }
            identity
        }
    };
    match identity {
        Ok(identity) => {
            request.extensions_mut().insert::<Identity>(identity);
            next.run(request).await
        }
        Err(missing) => unauthenticated(&request, missing),
    }
}

/// The session's identity after the timeouts and, near expiry, a token refresh; activity
/// pushes the idle expiry forward.
async fn session_identity(
    auth: &Auth,
    oidc: &super::oidc::Oidc,
    session: &Session,
) -> Result<Identity, Missing> {
    let Ok(Some(user)) = session.get::<SessionUser>(USER_KEY).await else {
        return Err(Missing::NotSignedIn);
    };
    if user.past_absolute(auth.absolute) {
        let _ = session.flush().await;
        return Err(Missing::Expired);
    }
    let left = user.signed_in.expires_at - now();
    if left < REFRESH_BEFORE {
        // Saved at once, which pushes the idle expiry forward too.
        return refreshed(auth, oidc, session)
            .await
            .map(|user| user.signed_in.identity);
    }
    // Not written while a refresh may be under way: this request's copy of the session would
    // overwrite the refreshed tokens.
    if left >= 2 * REFRESH_BEFORE {
        keep_alive(session).await;
    }
    Ok(user.signed_in.identity)
}

/// Refreshes the session's tokens, one refresh per session at a time: a request that waited
/// for another's refresh reads the session again and uses the tokens that refresh got (the
/// provider may rotate the refresh token, so the old one must not be sent twice). A refresh
/// the provider refuses ends the session.
async fn refreshed(
    auth: &Auth,
    oidc: &super::oidc::Oidc,
    session: &Session,
) -> Result<SessionUser, Missing> {
    let Some(id) = session.id() else {
        return Err(Missing::Expired);
    };
    let flight = auth.refreshes.lock(id).await;
    let _in_flight = flight.lock().await;
    let stored = match auth.store.load(&id).await {
        Ok(record) => record
            .and_then(|r| r.data.get(USER_KEY).cloned())
            .and_then(|user| serde_json::from_value::<SessionUser>(user).ok()),
        Err(error) => {
            tracing::warn!(%error, "the session store did not answer during a token refresh");
            return Err(Missing::Expired);
        }
    };
    // Ended meanwhile (signed out, or the refresh before this one was refused).
    let Some(mut user) = stored else {
        let _ = session.flush().await;
        return Err(Missing::Expired);
    };
    if user.signed_in.expires_at - now() >= REFRESH_BEFORE {
        // Another request of this session refreshed while this one waited.
        return match session.insert(USER_KEY, &user).await {
            Ok(()) => Ok(user),
            Err(_) => Err(Missing::Expired),
        };
    }
    let refreshed = match &user.signed_in.refresh_token {
        Some(refresh) => oidc
            .refresh(refresh)
            .await
            .map_err(|error| {
                tracing::info!(user = %user.signed_in.identity.username, %error, "token refresh refused; the session ends");
            })
            .ok(),
        None => None,
    };
    let Some(signed_in) = refreshed else {
        let _ = session.flush().await;
        return Err(Missing::Expired);
    };
    tracing::debug!(user = %signed_in.identity.username, "tokens refreshed");
    user.signed_in = signed_in;
    // Stored before the lock is released, so the next request of this session reads it.
    if session.insert(USER_KEY, &user).await.is_err() || session.save().await.is_err() {
        return Err(Missing::Expired);
    }
    Ok(user)
}

/// Marks the session as used, so the session layer writes it with a new idle expiry; at most
/// once a minute, not on every request.
async fn keep_alive(session: &Session) {
    let now = now();
    let seen = session
        .get::<i64>(SEEN_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    if now - seen >= KEEP_ALIVE_EVERY {
        let _ = session.insert(SEEN_KEY, now).await;
    }
}

fn unauthenticated(request: &Request, missing: Missing) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path.starts_with("/clusters/") || !is_safe(request.method()) {
        return refuse(
            path,
            StatusCode::UNAUTHORIZED,
            ConsoleError::Unauthenticated,
        );
    }
    let next = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    target.append_pair("next", &next);
    if let Missing::Expired = missing {
        target.append_pair("error", "expired");
    }
    Redirect::to(&format!("/signin?{}", target.finish())).into_response()
}

/// A refusal in the form the caller reads: a Kubernetes Status for the cluster proxy (kubectl
/// prints its message), the typed console error for server functions and everything else.
fn refuse(path: &str, status: StatusCode, error: ConsoleError) -> Response {
    let body = if path.starts_with("/clusters/") {
        serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": match &error {
                ConsoleError::Unauthenticated => "the console session or token is missing, expired or revoked; download a new kubeconfig from the console".to_string(),
                other => other.to_string(),
            },
            "reason": if status == StatusCode::UNAUTHORIZED { "Unauthorized" } else { "Forbidden" },
            "code": status.as_u16(),
        })
        .to_string()
    } else {
        serde_json::to_string(&error).unwrap_or_default()
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| status.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const ORIGIN: &str = "http://127.0.0.1:17000";

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ORIGIN
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            ORIGIN
        ));
        assert!(!same_origin(
            &headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "http://127.0.0.1:17000")
            ]),
            ORIGIN
        ));
    }

    #[test]
    fn origin_decides_otherwise_and_absence_refuses() {
        assert!(same_origin(
            &headers(&[("origin", "http://127.0.0.1:17000")]),
            ORIGIN
        ));
        assert!(!same_origin(
            &headers(&[("origin", "http://evil.example")]),
            ORIGIN
        ));
        assert!(!same_origin(&headers(&[]), ORIGIN));
    }

    #[test]
    fn bearer_tokens_authenticate_the_proxy_and_server_functions_only() {
        for path in [
            "/clusters/east/api/v1/pods",
            "/api/clusters/list",
            "/api/live/watch",
        ] {
            assert!(takes_bearer(path), "{path}");
        }
        for path in [
            "/",
            "/admin/clusters",
            "/auth/kubeconfig",
            "/auth/cli",
            "/apiary",
        ] {
            assert!(!takes_bearer(path), "{path}");
        }
    }

    #[test]
    fn public_paths_are_only_those_that_need_no_identity() {
        for path in [
            "/healthz",
            "/readyz",
            "/signin",
            "/auth/login",
            "/auth/callback",
            "/auth/cli/token",
            "/pkg/x.wasm",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/admin/clusters",
            "/api/list_clusters",
            "/clusters/east/api",
            "/auth/kubeconfig",
            "/auth/tokens/revoke",
            "/auth/cli",
            "/auth/anything-new",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }
}
