//! Bearer tokens the console issues for kubectl (in the kubeconfig from `POST /auth/kubeconfig`).
//! A token is 256 random bits; the store keeps its record under the value's SHA-256 in a
//! namespace of its own, never under a session id, so a token is no session cookie and a session
//! id is no token. Each token belongs to the session that minted it and works only while that
//! session lives: sign-out, the idle and the absolute timeout all end it. The session lists its
//! tokens (the user menu shows them, each with a revoke button).

use std::str::FromStr;

use app::auth::{Identity, KubectlToken};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_sessions::{SessionStore, session::Id};

use super::{Auth, SessionUser, USER_KEY, now};

pub const TOKEN_PREFIX: &str = "ngc_";
/// Random bytes in a token; base64url without padding makes them 43 characters.
const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

/// What the store keeps for a token (under the token's hash).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The id of the session that minted the token; it lives only as long as that session.
    /// Kept on the server only, so the store can tell whether the session still exists.
    pub session: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

impl TokenRecord {
    pub fn expiry(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(self.expires_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "this request has no console session to tie a kubectl token to; sign in again and download the kubeconfig from the user menu"
    )]
    NoSession,
    #[error("the session store did not keep the kubectl token ({0}); try again")]
    Store(String),
}

/// The store key of a token: hex SHA-256 of the whole value. Also the id the user menu shows
/// and revokes by (it cannot be turned back into the token).
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tokens a session lists (what the user menu shows), without the expired ones.
pub fn listed(value: Option<serde_json::Value>) -> Vec<KubectlToken> {
    let now = now();
    value
        .and_then(|v| serde_json::from_value::<Vec<KubectlToken>>(v).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.expires_at > now)
        .collect()
}

/// Mints a token for the session `session` of `user`; returns the token and what the session
/// lists about it. It ends with the session at the latest (absolute timeout).
pub async fn issue(
    auth: &Auth,
    session: Option<Id>,
    user: &SessionUser,
) -> Result<(String, KubectlToken), TokenError> {
    let session = session.ok_or(TokenError::NoSession)?;
    let created_at = now();
    let expires_at = (created_at + auth.token_lifetime.whole_seconds())
        .min(user.signed_in_at + auth.absolute.whole_seconds());
    let token = format!(
        "{TOKEN_PREFIX}{}",
        openidconnect::CsrfToken::new_random_len(TOKEN_BYTES as u32).secret()
    );
    let id = hash(&token);
    auth.store
        .put_token(
            &id,
            &TokenRecord {
                session: session.to_string(),
                created_at,
                expires_at,
            },
        )
        .await
        .map_err(|e| TokenError::Store(e.to_string()))?;
    Ok((
        token,
        KubectlToken {
            id,
            created_at,
            expires_at,
        },
    ))
}

/// The identity a token stands for: one the console issued, not expired, not revoked, whose
/// session still exists and is within its idle and absolute timeouts. The identity is the
/// session's (so it follows the session's refreshed groups).
pub async fn resolve(auth: &Auth, token: &str) -> Option<Identity> {
    let random = token.strip_prefix(TOKEN_PREFIX)?;
    if random.len() != TOKEN_CHARS
        || !random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let record = auth.store.get_token(&hash(token)).await.ok()??;
    let session = Id::from_str(&record.session).ok()?;
    let session = auth.store.load(&session).await.ok()??;
    if session.expiry_date <= time::OffsetDateTime::now_utc() {
        return None;
    }
    let user: SessionUser = serde_json::from_value(session.data.get(USER_KEY)?.clone()).ok()?;
    if user.past_absolute(auth.absolute) {
        return None;
    }
    Some(user.signed_in.identity)
}

/// Deletes the tokens with these ids (hashes) from the store.
pub async fn revoke(auth: &Auth, ids: &[String]) {
    for id in ids {
        if let Err(error) = auth.store.delete_token(id).await {
            tracing::warn!(%error, "could not delete a revoked kubectl token; it still ends with its session");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::auth::oidc::SignedIn;
    use tower_sessions::session::Record;

    fn alice() -> Identity {
        Identity {
            username: "alice@example.com".into(),
            groups: vec!["team-a".into()],
            display_name: "alice".into(),
            local: false,
        }
    }

    fn user(signed_in_at: i64) -> SessionUser {
        SessionUser {
            signed_in: SignedIn {
                identity: alice(),
                id_token: "unused".into(),
                refresh_token: None,
                expires_at: now() + 3600,
            },
            signed_in_at,
        }
    }

    /// A signed-in session in the store, expiring after `lifetime`.
    async fn session(auth: &Auth, user: &SessionUser, lifetime: time::Duration) -> Id {
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([(
                USER_KEY.to_string(),
                serde_json::to_value(user).unwrap_or_default(),
            )]),
            expiry_date: time::OffsetDateTime::now_utc() + lifetime,
        };
        auth.store.create(&mut record).await.unwrap_or_default();
        record.id
    }

    async fn minted(auth: &Auth, id: Id, user: &SessionUser) -> (String, KubectlToken) {
        issue(auth, Some(id), user)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn an_issued_token_resolves_until_revoked() {
        let auth = Auth::local("http://127.0.0.1:3000");
        let user = user(now());
        let id = session(&auth, &user, time::Duration::hours(1)).await;
        let (token, listed) = minted(&auth, id, &user).await;
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(listed.id, hash(&token));
        assert_eq!(resolve(&auth, &token).await, Some(alice()));
        revoke(&auth, &[listed.id]).await;
        assert_eq!(resolve(&auth, &token).await, None);
    }

    #[tokio::test]
    async fn a_token_dies_with_its_session_whatever_ends_it() {
        let auth = Auth::local("http://127.0.0.1:3000");
        // Signed out (the session deleted).
        let user = user(now());
        let id = session(&auth, &user, time::Duration::hours(1)).await;
        let (token, _) = minted(&auth, id, &user).await;
        auth.store.delete(&id).await.unwrap_or_default();
        assert_eq!(resolve(&auth, &token).await, None, "signed out");
        // Idle timeout: the session's record expired.
        let id = session(&auth, &user, time::Duration::seconds(1)).await;
        let (token, _) = minted(&auth, id, &user).await;
        assert_eq!(resolve(&auth, &token).await, Some(alice()));
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(resolve(&auth, &token).await, None, "idle timeout");
        // Absolute timeout: signed in longer ago than it allows.
        let old = SessionUser {
            signed_in_at: now() - auth.absolute.whole_seconds() + 1,
            ..user.clone()
        };
        let id = session(&auth, &old, time::Duration::hours(1)).await;
        let (token, listed) = minted(&auth, id, &old).await;
        assert!(listed.expires_at <= now() + 1, "never outlives the session");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(resolve(&auth, &token).await, None, "absolute timeout");
    }

    #[tokio::test]
    async fn forged_foreign_and_session_ids_are_not_tokens() {
        let auth = Auth::local("http://127.0.0.1:3000");
        assert_eq!(resolve(&auth, "ngc_AAAAAAAAAAAAAAAAAAAAAA").await, None);
        assert_eq!(resolve(&auth, "not-ours").await, None);
        assert_eq!(
            resolve(&auth, &format!("ngc_{}", "A".repeat(43))).await,
            None
        );
        // A live session's id, bare or with the prefix, is not a token.
        let user = user(now());
        let id = session(&auth, &user, time::Duration::hours(1)).await;
        assert_eq!(resolve(&auth, &id.to_string()).await, None);
        assert_eq!(resolve(&auth, &format!("{TOKEN_PREFIX}{id}")).await, None);
        // And a token is not a session id: it does not parse as one.
        let (token, listed) = minted(&auth, id, &user).await;
        assert!(Id::from_str(&token).is_err());
        assert!(Id::from_str(token.trim_start_matches(TOKEN_PREFIX)).is_err());
        assert!(Id::from_str(&listed.id).is_err());
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let mut auth = Auth::local("http://127.0.0.1:3000");
        auth.token_lifetime = time::Duration::seconds(-1);
        let user = user(now());
        let id = session(&auth, &user, time::Duration::hours(1)).await;
        let (token, _) = minted(&auth, id, &user).await;
        assert_eq!(resolve(&auth, &token).await, None);
    }

    #[tokio::test]
    async fn no_session_no_token() {
        let auth = Auth::local("http://127.0.0.1:3000");
        let error = issue(&auth, None, &user(now())).await.err();
        assert!(
            error.is_some_and(|e| e.to_string().contains("sign in again")),
            "a token needs a session"
        );
    }
}
