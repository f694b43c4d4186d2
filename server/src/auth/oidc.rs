//! The OpenID Connect relying party: discovery (lazy, retried while the provider is down),
//! the authorization-code flow with PKCE, state and nonce, ID token verification (signature,
//! issuer, audience, expiry), refresh, and the provider's end-session endpoint if it has one.

use app::error::innermost;
use std::{
    path::PathBuf,
    sync::Arc,
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
}

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
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
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
/// subject when it is `sub`) and the groups claim (a list or a single string).
pub fn identity_from(
    claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim>,
    settings: &OidcSettings,
) -> Result<Identity, OidcError> {
    let extra = &claims.additional_claims().claims;
    let username = match settings.username_claim.as_str() {
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
    let groups = match extra.get(&settings.groups_claim) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
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
