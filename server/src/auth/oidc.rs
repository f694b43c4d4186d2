//! The OpenID Connect relying party: discovery (lazy, retried while the provider is down),
//! the authorization-code flow with PKCE, state and nonce, ID token verification (signature,
//! issuer, audience, expiry), refresh, and the provider's end-session endpoint if it has one.

use app::error::innermost;
use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthenticationFlow, AuthorizationCode, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, RefreshToken, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
        CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
        CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
    },
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use app::auth::Identity;

/// Every claim of the ID token beyond the standard ones, so the groups and username claims can
/// be configured.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// The provider's RP-initiated logout endpoint, when its discovery document names one.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct LogoutMetadata {
    pub end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;
type TokenFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;
type Client = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long discovery results are reused before the provider is asked again (key rotation).
const DISCOVERY_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret_file: Option<PathBuf>,
    pub redirect_url: String,
    pub scopes: Vec<String>,
    pub groups_claim: String,
    pub username_claim: String,
    /// Put before every user name (`--oidc-username-prefix`); empty for none.
    pub username_prefix: String,
    /// Put before every group (`--oidc-groups-prefix`); empty for none.
    pub groups_prefix: String,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider {issuer} cannot be reached: {reason}")]
    Unreachable { issuer: String, reason: String },
    #[error("the identity provider's answer did not verify: {0}")]
    Invalid(String),
    #[error("OIDC configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// A verified identity the console will not act as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the user name is the e-mail address {0}, which the identity provider has not verified (email_verified is not true)"
    )]
    UnverifiedEmail(String),
    #[error(
        "the user name {0:?} starts with \"system:\", which Kubernetes reserves for its own components"
    )]
    SystemName(String),
}

/// Kubernetes reserves names and groups with this prefix for itself (system:masters, ...).
pub const RESERVED_PREFIX: &str = "system:";

/// The state of a sign-in between the redirect to the provider and the callback; kept in the
/// (pre-sign-in) session, never in the browser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

/// What a successful sign-in or refresh yields.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub identity: Identity,
    pub id_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds at which the ID token expires.
    pub expires_at: i64,
}

struct Discovered {
    client: Client,
    end_session: Option<String>,
    at: Instant,
}

pub struct Oidc {
    settings: OidcSettings,
    client_secret: Option<String>,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
    /// Refresh-token grants sent to the provider so far (tests count single-flight by it).
    refreshes: AtomicU64,
}

impl Oidc {
    /// Reads the client secret and CA files; does not contact the provider (sign-in does, so
    /// the console starts even while the provider is down).
    pub fn new(settings: OidcSettings) -> Result<Self, OidcError> {
        IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| OidcError::Config(format!("--oidc-issuer {:?}: {e}", settings.issuer)))?;
        RedirectUrl::new(settings.redirect_url.clone()).map_err(|e| {
            OidcError::Config(format!(
                "--oidc-redirect-url {:?}: {e}",
                settings.redirect_url
            ))
        })?;
        let client_secret = match &settings.client_secret_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        OidcError::Config(format!(
                            "--oidc-client-secret-file {}: {e}",
                            path.display()
                        ))
                    })?
                    .trim()
                    .to_string(),
            ),
            None => None,
        };
        let mut http = reqwest::Client::builder()
            // The provider's redirects must not be followed (openidconnect's advice, against SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                OidcError::Config(format!("--oidc-ca-file {}: {e}", path.display()))
            })?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| OidcError::Config(format!("--oidc-ca-file {}: {e}", path.display())))?
            {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            settings,
            client_secret,
            http,
            discovered: RwLock::new(None),
            refreshes: AtomicU64::new(0),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// How many refresh-token grants this process has sent to the provider.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        if let Some(d) = self.discovered.read().await.as_ref()
            && d.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(d.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| OidcError::Config(e.to_string()))?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unreachable {
                issuer: self.settings.issuer.clone(),
                reason: innermost(&e),
            })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| OidcError::Config(e.to_string()))?;
        let client = Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        let discovered = Arc::new(Discovered {
            client,
            end_session,
            at: Instant::now(),
        });
        *self.discovered.write().await = Some(discovered.clone());
        Ok(discovered)
    }

    /// Where to send the browser, and what to remember until it comes back.
    pub async fn begin(&self, next: String) -> Result<(String, PendingLogin), OidcError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered.client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                next,
            },
        ))
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID token against the nonce.
    pub async fn complete(
        &self,
        pending: &PendingLogin,
        code: String,
    ) -> Result<SignedIn, OidcError> {
        let discovered = self.discovered().await?;
        let tokens = discovered
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Invalid(format!("code exchange: {}", innermost(&e))))?;
        let nonce = Nonce::new(pending.nonce.clone());
        self.signed_in(&discovered, &tokens, Some(&nonce), None)
    }

    /// A fresh ID token from the refresh token; the provider may rotate the refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SignedIn, OidcError> {
        let discovered = self.discovered().await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let tokens = discovered
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_string()))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Invalid(format!("refresh: {}", innermost(&e))))?;
        self.signed_in(&discovered, &tokens, None, Some(refresh_token))
    }

    fn signed_in(
        &self,
        discovered: &Discovered,
        tokens: &Tokens,
        nonce: Option<&Nonce>,
        old_refresh: Option<&str>,
    ) -> Result<SignedIn, OidcError> {
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Invalid("the provider returned no ID token".into()))?;
        let verifier = discovered.client.id_token_verifier();
        let claims = match nonce {
            Some(nonce) => id_token.claims(&verifier, nonce),
            // Refreshed ID tokens carry no nonce (OIDC Core 12.2); everything else is checked.
            None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
        }
        .map_err(|e| OidcError::Invalid(format!("ID token: {e}")))?;
        let identity = identity_from(claims, &self.settings)?;
        Ok(SignedIn {
            identity,
            id_token: id_token.to_string(),
            refresh_token: tokens
                .refresh_token()
                .map(|t| t.secret().clone())
                .or_else(|| old_refresh.map(str::to_string)),
            expires_at: claims.expiration().timestamp(),
        })
    }

    /// The provider's end-session URL for RP-initiated logout, if it offers one.
    pub async fn end_session_url(&self, id_token: &str, after: &str) -> Option<String> {
        let discovered = self.discovered().await.ok()?;
        let endpoint = discovered.end_session.as_ref()?;
        let mut url = url::Url::parse(endpoint).ok()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", after)
            .append_pair("client_id", &self.settings.client_id);
        Some(url.to_string())
    }
}

/// The Kubernetes identity from verified claims: the configured username claim (the
/// subject when it is `sub`) and the groups claim (a list or a single string), each with its
/// configured prefix. An e-mail user name must be verified by the provider; a `system:` user
/// name is refused, and `system:` groups are dropped (each logged), as the apiserver's own
/// OIDC authenticator never hands those out either.
pub fn identity_from(
    claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim>,
    settings: &OidcSettings,
) -> Result<Identity, OidcError> {
    let extra = &claims.additional_claims().claims;
    let name = match settings.username_claim.as_str() {
        "sub" => Some(claims.subject().to_string()),
        "email" => claims.email().map(|e| e.to_string()),
        "preferred_username" => claims.preferred_username().map(|u| u.to_string()),
        other => extra
            .get(other)
            .and_then(|v| v.as_str())
            .map(str::to_string),
    }
    .filter(|u| !u.is_empty())
    .ok_or_else(|| {
        OidcError::Invalid(format!(
            "the ID token has no {:?} claim to use as the user name (--oidc-username-claim)",
            settings.username_claim
        ))
    })?;
    if settings.username_claim == "email" && claims.email_verified() != Some(true) {
        return Err(Refusal::UnverifiedEmail(name).into());
    }
    let groups = match extra.get(&settings.groups_claim) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let (username, groups) = kubernetes_names(&name, groups, settings)?;
    let display_name = claims
        .preferred_username()
        .map(|u| u.to_string())
        .or_else(|| {
            claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string())
        })
        .unwrap_or_else(|| username.clone());
    Ok(Identity {
        username,
        groups,
        display_name,
        local: false,
    })
}

/// The user name and groups Kubernetes sees: the configured prefixes applied, a `system:` user
/// name refused, `system:` groups dropped and logged.
pub fn kubernetes_names(
    name: &str,
    groups: Vec<String>,
    settings: &OidcSettings,
) -> Result<(String, Vec<String>), Refusal> {
    let username = format!("{}{name}", settings.username_prefix);
    if username.starts_with(RESERVED_PREFIX) {
        return Err(Refusal::SystemName(username));
    }
    let groups = groups
        .into_iter()
        .map(|g| format!("{}{g}", settings.groups_prefix))
        .filter(|group| {
            let reserved = group.starts_with(RESERVED_PREFIX);
            if reserved {
                tracing::warn!(
                    user = %username,
                    %group,
                    "dropped a group from the identity provider: system: groups are reserved for Kubernetes; set --oidc-groups-prefix to keep the provider's groups apart"
                );
            }
            !reserved
        })
        .collect();
    Ok((username, groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(username_prefix: &str, groups_prefix: &str) -> OidcSettings {
        OidcSettings {
            issuer: "https://dex.example/dex".into(),
            client_id: "nextgen-console".into(),
            client_secret_file: None,
            redirect_url: "https://console.example/auth/callback".into(),
            scopes: Vec::new(),
            groups_claim: "groups".into(),
            username_claim: "email".into(),
            username_prefix: username_prefix.into(),
            groups_prefix: groups_prefix.into(),
            ca_file: None,
        }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|g| g.to_string()).collect()
    }

    fn claims(extra: serde_json::Value) -> IdTokenClaims<ExtraClaims, CoreGenderClaim> {
        let mut claims = serde_json::json!({
            "iss": "https://dex.example/dex",
            "aud": "nextgen-console",
            "exp": 4_102_444_800_i64,
            "iat": 1_700_000_000_i64,
            "sub": "CiQwZDdi",
            "groups": ["team-a"],
        });
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        serde_json::from_value(claims).unwrap_or_else(|e| panic!("claims: {e}"))
    }

    #[test]
    fn an_email_user_name_needs_a_verified_address() {
        let settings = settings("", "");
        let verified = claims(serde_json::json!({
            "email": "alice@example.com", "email_verified": true
        }));
        assert_eq!(
            identity_from(&verified, &settings)
                .map(|i| (i.username, i.groups))
                .ok(),
            Some(("alice@example.com".into(), groups(&["team-a"])))
        );
        for unverified in [
            serde_json::json!({"email": "mallory@example.com", "email_verified": false}),
            serde_json::json!({"email": "mallory@example.com"}),
        ] {
            let refused = identity_from(&claims(unverified), &settings);
            assert!(
                matches!(
                    &refused,
                    Err(OidcError::Refused(Refusal::UnverifiedEmail(name))) if name == "mallory@example.com"
                ),
                "{refused:?}"
            );
        }
        // Another username claim does not depend on the e-mail's verification.
        let by_subject = OidcSettings {
            username_claim: "sub".into(),
            ..settings
        };
        let unverified =
            claims(serde_json::json!({"email": "mallory@example.com", "email_verified": false}));
        assert_eq!(
            identity_from(&unverified, &by_subject)
                .map(|i| i.username)
                .ok(),
            Some("CiQwZDdi".into())
        );
    }

    #[test]
    fn without_prefixes_names_and_groups_are_the_providers() {
        let named = kubernetes_names(
            "alice@example.com",
            groups(&["team-a", "platform-admins"]),
            &settings("", ""),
        );
        assert_eq!(
            named,
            Ok((
                "alice@example.com".into(),
                groups(&["team-a", "platform-admins"])
            ))
        );
    }

    #[test]
    fn prefixes_apply_to_every_name_and_group() {
        let named = kubernetes_names(
            "alice@example.com",
            groups(&["team-a", "system:masters"]),
            &settings("oidc:", "oidc:"),
        );
        assert_eq!(
            named,
            Ok((
                "oidc:alice@example.com".into(),
                groups(&["oidc:team-a", "oidc:system:masters"])
            ))
        );
    }

    #[test]
    fn system_user_names_are_refused_with_the_name() {
        for (name, prefix) in [
            ("system:admin", ""),
            ("system:serviceaccount:kube-system:default", ""),
            ("admin", "system:"),
        ] {
            let refused = kubernetes_names(name, Vec::new(), &settings(prefix, ""));
            let Err(refusal) = refused else {
                panic!("{prefix}{name} was accepted")
            };
            assert!(refusal.to_string().contains("system:"), "{refusal}");
            assert_eq!(refusal, Refusal::SystemName(format!("{prefix}{name}")));
        }
    }

    #[test]
    fn system_groups_are_dropped_and_the_rest_kept() {
        let named = kubernetes_names(
            "bob@example.com",
            groups(&["system:masters", "team-b", "system:nodes"]),
            &settings("", ""),
        );
        assert_eq!(named, Ok(("bob@example.com".into(), groups(&["team-b"]))));
        let named = kubernetes_names("bob", groups(&["masters"]), &settings("", "system:"));
        assert_eq!(named, Ok(("bob".into(), Vec::new())));
    }
}
