//! `/auth/cli`: signs the `ac` command line in through the browser, with a one-time code and a
//! PKCE-style proof (RFC 7636, S256). `ac login` makes a random verifier, listens on a loopback
//! port and opens `GET /auth/cli?redirect=http://127.0.0.1:<port>/callback&state=<s>&code_challenge=<c>`
//! (`c` = base64url SHA-256 of the verifier); the gate sends a signed-out browser through sign-in
//! first. The page asks the signed-in user to allow it; the same-origin `POST /auth/cli` mints a
//! kubectl token for the session (listed in the user menu, revocable, ending with the session
//! like every kubectl token), keeps it in the session store under a one-time code that lives
//! [`CODE_LIFETIME`] seconds, and redirects to the loopback address with only the code and the
//! state. `ac` then trades the code and its verifier for the token at `POST /auth/cli/token`.
//! So the token never travels in a URL (nor lands in the browser's history), a code seen by
//! someone else is useless without the verifier that never left `ac`, and a code works once.
//! Only loopback addresses are accepted as the redirect.

use axum::{
    Extension, Form, Json, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tower_sessions::Session;

use app::{
    ConsoleError,
    auth::{Identity, KubectlToken},
};

use super::{Auth, AuthMode, SessionUser, TOKENS_KEY, USER_KEY, now, tokens};

pub const PATH: &str = "/auth/cli";
/// Where `ac` trades a one-time code and its verifier for the token (public: the code and the
/// verifier are the credential).
pub const TOKEN_PATH: &str = "/auth/cli/token";
/// Seconds a one-time code lives: the browser's redirect and `ac`'s exchange follow at once.
pub const CODE_LIFETIME: i64 = 60;

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Auth: axum::extract::FromRef<S>,
{
    Router::new()
        .route(PATH, get(ask).post(allow))
        .route(TOKEN_PATH, post(trade))
}

/// What the store keeps for a one-time code (under the code's hash) until `ac` takes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeRecord {
    /// The token minted for `ac`; handed over once, to the holder of the verifier.
    pub token: String,
    /// The token's id (its hash), to revoke it when the exchange fails.
    pub token_id: String,
    /// base64url SHA-256 of `ac`'s verifier.
    pub challenge: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl CodeRecord {
    pub fn expiry(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(self.expires_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct CliLogin {
    /// `http://127.0.0.1:<port>/<path>` or `http://[::1]:<port>/<path>`, where `ac` listens.
    redirect: String,
    /// `ac`'s random value, handed back so it knows the answer is for its own request.
    state: String,
    /// base64url SHA-256 of the verifier `ac` keeps (S256); missing from an `ac` too old.
    #[serde(default)]
    code_challenge: String,
}

/// Why a `/auth/cli` request is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliLoginError {
    #[error(
        "the redirect must be http://127.0.0.1:<port>/… or http://[::1]:<port>/… (where `ac login` listens), not {0:?}"
    )]
    NotLoopback(String),
    #[error("the state must be 16 to 128 letters, digits, '-' or '_'; run `ac login` again")]
    BadState,
    #[error(
        "the code_challenge must be the base64url SHA-256 of ac's verifier (43 characters); update ac and run `ac login` again"
    )]
    BadChallenge,
}

/// The loopback URL to send the token to, or why `redirect` is not one: plain http, an IP
/// loopback literal (not a name a resolver could answer otherwise), an explicit port, no user
/// info, query or fragment.
pub fn loopback_redirect(redirect: &str) -> Result<url::Url, CliLoginError> {
    let refused = || CliLoginError::NotLoopback(redirect.chars().take(200).collect());
    let url = url::Url::parse(redirect).map_err(|_| refused())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        _ => false,
    };
    if url.scheme() != "http"
        || !loopback
        || url.port().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(refused());
    }
    Ok(url)
}

fn check_state(state: &str) -> Result<(), CliLoginError> {
    let ok = (16..=128).contains(&state.len())
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or(CliLoginError::BadState)
}

/// A challenge is the base64url (no padding) of a SHA-256: 43 characters of that alphabet.
fn check_challenge(challenge: &str) -> Result<(), CliLoginError> {
    let ok = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or(CliLoginError::BadChallenge)
}

/// The whole request, checked: the loopback URL to answer to.
fn check(login: &CliLogin) -> Result<url::Url, CliLoginError> {
    let url = loopback_redirect(&login.redirect)?;
    check_state(&login.state)?;
    check_challenge(&login.code_challenge)?;
    Ok(url)
}

/// The S256 challenge of `verifier`: base64url (no padding) of its SHA-256.
pub fn challenge_of(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn refuse(error: CliLoginError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        format!("{error}\n"),
    )
        .into_response()
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// The confirmation page: a GET never mints a token, so a link or a cross-site navigation
/// cannot sign a command line in; the button posts the form back (same-origin, checked by the
/// gate). Both languages, no script; the form may redirect only to loopback.
async fn ask(Extension(identity): Extension<Identity>, Query(q): Query<CliLogin>) -> Response {
    let target = match check(&q) {
        Ok(url) => url,
        Err(error) => return refuse(error),
    };
    let port = target.port().unwrap_or_default();
    let user = escape(&identity.username);
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in ac / 登录 ac</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}
button{{font:inherit;padding:.5rem 1.25rem;border-radius:.375rem;border:1px solid #0369a1;background:#0369a1;color:#fff;cursor:pointer}}
button:focus-visible{{outline:3px solid #f59e0b;outline-offset:2px}}
@media (prefers-color-scheme:dark){{body{{background:#0f172a;color:#e2e8f0}}}}</style></head>
<body><main>
<h1>Sign in the <code>ac</code> command line? / 登录 <code>ac</code> 命令行？</h1>
<p>The <code>ac</code> command waiting on this computer (port {port}) will act as <strong>{user}</strong> until you sign out. Its token is listed in the user menu, where you can revoke it.</p>
<p>本机（端口 {port}）上等待的 <code>ac</code> 命令将以 <strong>{user}</strong> 的身份操作，直到您退出登录。其令牌列在用户菜单中，可随时撤销。</p>
<form method="post" action="{PATH}">
<input type="hidden" name="redirect" value="{redirect}">
<input type="hidden" name="state" value="{state}">
<input type="hidden" name="code_challenge" value="{challenge}">
<button type="submit" autofocus>Allow / 允许</button>
</form>
<p>If you did not run <code>ac login</code>, close this page. / 如果您没有运行 <code>ac login</code>，请关闭此页面。</p>
</main></body></html>
"#,
        redirect = escape(target.as_str()),
        state = escape(&q.state),
        challenge = escape(&q.code_challenge),
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; \
                 form-action 'self' http://127.0.0.1:* http://[::1]:*; frame-ancestors 'none'",
            ),
        ],
        page,
    )
        .into_response()
}

/// Mints the token, keeps it under a one-time code bound to `ac`'s challenge, and sends the
/// browser back to `ac` on loopback with the code (never the token).
async fn allow(
    State(auth): State<Auth>,
    session: Session,
    Extension(identity): Extension<Identity>,
    Form(form): Form<CliLogin>,
) -> Response {
    let mut target = match check(&form) {
        Ok(url) => url,
        Err(error) => return refuse(error),
    };
    match &auth.mode {
        // Local mode needs no token: the console trusts its loopback callers.
        AuthMode::Local(_) => {
            target
                .query_pairs_mut()
                .append_pair("local", "true")
                .append_pair("state", &form.state);
        }
        AuthMode::Oidc(_) => {
            let Ok(Some(user)) = session.get::<SessionUser>(USER_KEY).await else {
                return (
                    StatusCode::UNAUTHORIZED,
                    tokens::TokenError::NoSession.to_string(),
                )
                    .into_response();
            };
            let (token, listed) = match tokens::issue(&auth, session.id(), &user).await {
                Ok(issued) => issued,
                Err(error) => {
                    tracing::error!(%error, "could not issue a token for ac");
                    return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
                }
            };
            let token_id = listed.id.clone();
            let mut issued: Vec<KubectlToken> =
                tokens::listed(session.get_value(TOKENS_KEY).await.ok().flatten());
            issued.push(listed);
            if session.insert(TOKENS_KEY, &issued).await.is_err() {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the console could not record the token in your session; try again",
                )
                    .into_response();
            }
            let code = openidconnect::CsrfToken::new_random_len(32)
                .secret()
                .clone();
            let record = CodeRecord {
                token,
                token_id,
                challenge: form.code_challenge.clone(),
                expires_at: now() + CODE_LIFETIME,
            };
            if let Err(error) = auth.store.put_code(&tokens::hash(&code), &record).await {
                tracing::error!(%error, "could not keep the sign-in code for ac");
                tokens::revoke(&auth, &[record.token_id]).await;
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the console could not keep the sign-in code; try again",
                )
                    .into_response();
            }
            tracing::info!(user = %identity.username, "token issued to ac, waiting for its code");
            target
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &form.state);
        }
    }
    Redirect::to(target.as_str()).into_response()
}

/// What `ac` posts to [`TOKEN_PATH`].
#[derive(Clone, Debug, Deserialize)]
pub struct CodeExchange {
    pub code: String,
    pub code_verifier: String,
}

/// What [`TOKEN_PATH`] answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
}

/// Why a code was not traded for a token.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error(
        "this sign-in code is unknown, already used or expired (codes live {CODE_LIFETIME} s and work once); run `ac login` again"
    )]
    UnknownCode,
    #[error(
        "the code verifier does not match this sign-in; the code is void now, run `ac login` again"
    )]
    WrongVerifier,
    #[error("the session store did not answer ({0}); try again")]
    Store(String),
}

/// Trades a one-time code and its verifier for the token: the code is taken out of the store
/// first, so it works once whatever the outcome, and the token of a code presented with the
/// wrong verifier is revoked (whoever holds that code is not the `ac` that asked for it).
pub async fn exchange(auth: &Auth, code: &str, verifier: &str) -> Result<String, ExchangeError> {
    let record = auth
        .store
        .take_code(&tokens::hash(code))
        .await
        .map_err(|e| ExchangeError::Store(e.to_string()))?
        .ok_or(ExchangeError::UnknownCode)?;
    if challenge_of(verifier) != record.challenge {
        tokens::revoke(auth, &[record.token_id]).await;
        return Err(ExchangeError::WrongVerifier);
    }
    Ok(record.token)
}

async fn trade(State(auth): State<Auth>, Form(form): Form<CodeExchange>) -> Response {
    match exchange(&auth, &form.code, &form.code_verifier).await {
        Ok(token) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(IssuedToken { token }),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "ac's sign-in code refused");
            let refusal = match &error {
                ExchangeError::Store(_) => ConsoleError::Internal {
                    message: error.to_string(),
                },
                _ => ConsoleError::Invalid {
                    message: error.to_string(),
                },
            };
            (
                StatusCode::from_u16(refusal.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [(header::CACHE_CONTROL, "no-store")],
                Json(refusal),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_loopback_literals_with_a_port_are_redirect_targets() {
        for ok in [
            "http://127.0.0.1:41234/callback",
            "http://[::1]:5000/",
            "http://127.0.0.1:1/x/y",
        ] {
            assert!(loopback_redirect(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:41234/callback",
            "http://localhost:41234/callback",
            "http://127.0.0.2:41234/",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:80/",
            "http://evil.example:41234/",
            "http://127.0.0.1.evil.example:41234/",
            "http://user@127.0.0.1:41234/",
            "http://127.0.0.1:41234/?token=x",
            "http://127.0.0.1:41234/#x",
            "//127.0.0.1:41234/",
            "javascript:alert(1)",
            "",
        ] {
            assert!(loopback_redirect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_state_is_a_plain_random_value() {
        assert!(check_state("abcdefghijklmnop").is_ok());
        assert!(check_state("short").is_err());
        assert!(check_state("abcdefghijklmnop\"><script>").is_err());
    }

    #[test]
    fn the_challenge_is_a_base64url_sha256() {
        let challenge = challenge_of("verifier");
        assert_eq!(challenge.len(), 43);
        assert!(check_challenge(&challenge).is_ok());
        assert_eq!(check_challenge(""), Err(CliLoginError::BadChallenge));
        assert!(check_challenge(&"a".repeat(44)).is_err());
        assert!(check_challenge(&format!("{}=", "a".repeat(42))).is_err());
        // RFC 7636's own example (appendix B).
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    async fn pending(auth: &Auth, verifier: &str, lifetime: i64) -> (String, String) {
        let code = openidconnect::CsrfToken::new_random_len(32)
            .secret()
            .clone();
        let token = format!("ngc_{}", "t".repeat(43));
        auth.store
            .put_code(
                &tokens::hash(&code),
                &CodeRecord {
                    token: token.clone(),
                    token_id: tokens::hash(&token),
                    challenge: challenge_of(verifier),
                    expires_at: now() + lifetime,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (code, token)
    }

    #[tokio::test]
    async fn a_code_is_traded_for_its_token_once_with_the_right_verifier() {
        let auth = Auth::local("http://127.0.0.1:3000");
        let verifier = "v".repeat(43);
        let (code, token) = pending(&auth, &verifier, CODE_LIFETIME).await;
        assert_eq!(exchange(&auth, &code, &verifier).await, Ok(token));
        assert_eq!(
            exchange(&auth, &code, &verifier).await,
            Err(ExchangeError::UnknownCode),
            "a code works once"
        );
    }

    #[tokio::test]
    async fn a_wrong_verifier_voids_the_code() {
        let auth = Auth::local("http://127.0.0.1:3000");
        let verifier = "v".repeat(43);
        let (code, _) = pending(&auth, &verifier, CODE_LIFETIME).await;
        assert_eq!(
            exchange(&auth, &code, &"w".repeat(43)).await,
            Err(ExchangeError::WrongVerifier)
        );
        assert_eq!(
            exchange(&auth, &code, &verifier).await,
            Err(ExchangeError::UnknownCode),
            "the right verifier comes too late"
        );
    }

    #[tokio::test]
    async fn an_expired_code_is_refused() {
        let auth = Auth::local("http://127.0.0.1:3000");
        let verifier = "v".repeat(43);
        let (code, _) = pending(&auth, &verifier, -1).await;
        assert_eq!(
            exchange(&auth, &code, &verifier).await,
            Err(ExchangeError::UnknownCode)
        );
        let error = ExchangeError::UnknownCode.to_string();
        assert!(
            error.contains("ac login") && error.contains("expired"),
            "{error}"
        );
    }

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
    }

    proptest! {
        #[test]
        fn any_accepted_redirect_is_plain_http_on_loopback(redirect in any::<String>()) {
            if let Ok(url) = loopback_redirect(&redirect) {
                prop_assert_eq!(url.scheme(), "http");
                prop_assert!(matches!(url.host_str(), Some("127.0.0.1" | "[::1]")), "{}", url);
            }
        }

        #[test]
        fn url_like_redirects_stay_on_loopback(redirect in "https?://[a-z0-9.:@\\[\\]]{0,24}(/[a-z?#=]{0,8})?") {
            if let Ok(url) = loopback_redirect(&redirect) {
                prop_assert!(matches!(url.host_str(), Some("127.0.0.1" | "[::1]")), "{}", url);
            }
        }
    }
}
