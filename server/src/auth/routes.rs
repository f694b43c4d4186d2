//! `/auth/login`, `/auth/callback`, `/auth/logout` and `/auth/kubeconfig`.

use axum::{
    Extension, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use app::{auth::Identity, clusters::registry::ClusterRegistry};

use super::{
    Auth, AuthMode, PENDING_KEY, SessionUser, TOKENS_KEY, USER_KEY, now,
    oidc::{OidcError, PendingLogin},
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
        .route("/auth/kubeconfig", get(kubeconfig))
}

/// Only a local path may follow sign-in: no scheme, no host, no `//` or `\` tricks.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
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
        Err(error) => {
            tracing::warn!(%error, "sign-in refused");
            to_signin("invalid")
        }
    }
}

async fn logout(State(auth): State<Auth>, session: Session) -> Response {
    let user: Option<SessionUser> = session.get(USER_KEY).await.ok().flatten();
    let issued: Vec<String> = session
        .get(TOKENS_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
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

/// A kubeconfig for kubectl: one context per cluster, each pointing at the console's cluster
/// proxy, with a bearer token the console issued for this user (revoked at sign-out).
async fn kubeconfig(
    State(auth): State<Auth>,
    State(clusters): State<ClusterRegistry>,
    session: Session,
    Extension(identity): Extension<Identity>,
) -> Response {
    let (token, id) = match tokens::issue(&auth, &identity).await {
        Ok(issued) => issued,
        Err(error) => {
            tracing::error!(%error, "could not issue a token");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the console could not issue a token; try again",
            )
                .into_response();
        }
    };
    let mut issued: Vec<String> = session
        .get(TOKENS_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    issued.push(id);
    let _ = session.insert(TOKENS_KEY, &issued).await;
    let document = kubeconfig_document(
        &auth.public_origin,
        &clusters.list(),
        &identity,
        &token,
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

/// JSON is YAML, and kubectl reads either.
pub fn kubeconfig_document(
    origin: &str,
    clusters: &[app::clusters::ClusterRef],
    identity: &Identity,
    token: &str,
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
        "users": [{"name": user, "user": {"token": token}}],
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

    #[test]
    fn only_local_paths_follow_sign_in() {
        assert_eq!(
            safe_next(Some("/admin/clusters?x=1")),
            "/admin/clusters?x=1"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "admin",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
