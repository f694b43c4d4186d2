//! Bearer tokens the console issues for kubectl (in the kubeconfig from `/auth/kubeconfig`).
//! A token names a record in the session store holding the identity, so it works on every
//! replica that shares the store, expires on its own, and is revoked at sign-out.

use std::{collections::HashMap, str::FromStr};

use app::auth::Identity;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

use super::Auth;

pub const TOKEN_PREFIX: &str = "ngc_";
const KIND: &str = "kind";
const IDENTITY: &str = "identity";

/// Issues a token for `identity`; returns the token and the id to revoke it by.
pub async fn issue(auth: &Auth, identity: &Identity) -> Result<(String, String), String> {
    let data = HashMap::from([
        (KIND.to_string(), serde_json::Value::from("token")),
        (
            IDENTITY.to_string(),
            serde_json::to_value(identity).map_err(|e| e.to_string())?,
        ),
    ]);
    let mut record = Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + auth.token_lifetime,
    };
    auth.store
        .create(&mut record)
        .await
        .map_err(|e| e.to_string())?;
    let id = record.id.to_string();
    Ok((format!("{TOKEN_PREFIX}{id}"), id))
}

/// The identity a token stands for, if it is one the console issued and it has not expired.
/// Session cookies are not tokens: a session record has no `kind: token`.
pub async fn resolve(auth: &Auth, token: &str) -> Option<Identity> {
    let id = Id::from_str(token.strip_prefix(TOKEN_PREFIX)?).ok()?;
    let record = auth.store.load(&id).await.ok()??;
    if record.expiry_date <= time::OffsetDateTime::now_utc()
        || record.data.get(KIND).and_then(|k| k.as_str()) != Some("token")
    {
        return None;
    }
    serde_json::from_value(record.data.get(IDENTITY)?.clone()).ok()
}

pub async fn revoke(auth: &Auth, ids: &[String]) {
    for id in ids {
        if let Ok(id) = Id::from_str(id) {
            let _ = auth.store.delete(&id).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity {
            username: "alice@example.com".into(),
            groups: vec!["team-a".into()],
            display_name: "alice".into(),
            local: false,
        }
    }

    #[tokio::test]
    async fn an_issued_token_resolves_until_revoked() {
        let auth = Auth::local("http://127.0.0.1:3000");
        let (token, id) = issue(&auth, &alice()).await.unwrap_or_default();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(resolve(&auth, &token).await, Some(alice()));
        revoke(&auth, &[id]).await;
        assert_eq!(resolve(&auth, &token).await, None);
    }

    #[tokio::test]
    async fn forged_and_foreign_tokens_are_refused() {
        let auth = Auth::local("http://127.0.0.1:3000");
        assert_eq!(resolve(&auth, "ngc_AAAAAAAAAAAAAAAAAAAAAA").await, None);
        assert_eq!(resolve(&auth, "not-ours").await, None);
        // A session record (what a cookie names) is not a token.
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([("ngc.user".to_string(), serde_json::json!({}))]),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        auth.store.create(&mut record).await.unwrap_or_default();
        assert_eq!(
            resolve(&auth, &format!("{TOKEN_PREFIX}{}", record.id)).await,
            None
        );
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let mut auth = Auth::local("http://127.0.0.1:3000");
        auth.token_lifetime = time::Duration::seconds(-1);
        let (token, _) = issue(&auth, &alice()).await.unwrap_or_default();
        assert_eq!(resolve(&auth, &token).await, None);
    }
}
