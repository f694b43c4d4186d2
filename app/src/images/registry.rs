//! Server side: a thin client of the platform registry's OCI distribution API on oci-spec types
//! (catalog and tags with `n`/`last` and `Link` paging, manifests with all four Accept types,
//! config blobs, DELETE by digest; basic and bearer-token auth). oci-client has no DELETE and
//! hides the paging, so the console keeps this one. Listing reuses each repository's tags with
//! their digests for a few seconds and what a digest is (it never changes) until evicted; the
//! console's own deletes drop what they change, and deletes and prunes read afresh.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use console_api::image::{MANIFEST_ACCEPT, Manifest, is_index};
use futures::{StreamExt, stream};
use oci_spec::image::{ImageIndex, ImageManifest};
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;

use crate::ConsoleError;

/// Entries per catalog or tags page asked of the registry.
const PAGE: usize = 1000;
/// Reads started at once while reading everything (per level: repositories, then tags).
const CONCURRENCY: usize = 32;
/// Requests to the registry in flight at once, across every caller of this console.
const IN_FLIGHT: usize = 64;
const TIMEOUT: Duration = Duration::from_secs(20);

/// How the registry failed, each with what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error("no platform registry is configured; start the console with --registry-url")]
    NotConfigured,
    #[error(
        "the platform registry at {url} does not answer ({reason}); check --registry-url and that the registry runs"
    )]
    Down { url: String, reason: String },
    #[error(
        "the platform registry at {url} refused the console's credentials ({status}); check --registry-credentials-file"
    )]
    Unauthorized { url: String, status: u16 },
    #[error(
        "the platform registry at {url} has deletion disabled (405 Method Not Allowed); enable storage.delete.enabled in its configuration"
    )]
    DeleteDisabled { url: String },
    #[error(
        "the platform registry at {url} is read-only for maintenance (405, it allows only GET and HEAD), as while its garbage collection runs; try again when that ends"
    )]
    ReadOnly { url: String },
    #[error("{what} is not in the platform registry")]
    NotFound { what: String },
    #[error("the platform registry at {url} answered {status} for {what}: {body}")]
    Unexpected {
        url: String,
        status: u16,
        what: String,
        body: String,
    },
    #[error("the platform registry sent {what} that does not parse: {reason}")]
    Malformed { what: String, reason: String },
}

impl From<RegistryError> for ConsoleError {
    fn from(error: RegistryError) -> Self {
        let message = error.to_string();
        match error {
            RegistryError::DeleteDisabled { .. } => ConsoleError::Forbidden { message },
            RegistryError::ReadOnly { .. } => ConsoleError::Conflict { message },
            RegistryError::NotFound { what } => ConsoleError::NotFound { message: what },
            _ => ConsoleError::Internal { message },
        }
    }
}

/// How the console authenticates to the registry (`--registry-credentials-file`: JSON with
/// `username` and `password`, or `token` for a bearer token used as is).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

/// The flags that configure the platform registry.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `http(s)://host[:port]`.
    pub url: String,
    pub credentials_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    /// Other names Pods use for the registry (`registry.platform.svc:5000`).
    pub aliases: Vec<String>,
    /// A program that runs the registry's garbage collection (its output is kept).
    pub gc_command: Option<PathBuf>,
}

struct Inner {
    base: reqwest::Url,
    http: reqwest::Client,
    credentials: Credentials,
    hosts: Vec<String>,
    gc_command: Option<PathBuf>,
    /// Bearer tokens by scope, from the registry's token service.
    tokens: Mutex<HashMap<String, String>>,
    /// Permits for [`IN_FLIGHT`] requests.
    in_flight: tokio::sync::Semaphore,
    /// Each repository's tags with the digest each points at, for [`LISTING_TTL`].
    tagged: moka::future::Cache<String, Tagged>,
    /// What a digest is (immutable), by (repository, digest).
    described: moka::future::Cache<(String, String), Arc<Described>>,
}

/// How long a list reuses the tags it read and their digests: a tag pushed by someone else to
/// a repository listed before shows within this time; a new repository and the console's own
/// deletes show at once.
pub const LISTING_TTL: Duration = Duration::from_secs(30);
/// At most this many tags are kept (a registry of 10,000 tags fits fifty times over).
const TAGS_KEPT: u64 = 500_000;
/// At most this many digest descriptions are kept.
const DESCRIPTIONS_KEPT: u64 = 200_000;

/// Whether a read may answer from what was read a few seconds ago (lists) or must ask the
/// registry now (deletes and prunes, which act on what they read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    Recent,
    Fresh,
}

/// A repository's tags, each with the digest it points at.
pub type Tagged = Arc<Vec<(String, String)>>;

/// The parts of an image config the console shows.
#[derive(Debug, Default, Deserialize)]
struct Config {
    created: Option<String>,
    os: Option<String>,
    architecture: Option<String>,
    variant: Option<String>,
}

impl Config {
    fn platform(&self) -> Option<String> {
        let (os, architecture) = (self.os.as_deref()?, self.architecture.as_deref()?);
        Some(match &self.variant {
            Some(v) => format!("{os}/{architecture}/{v}"),
            None => format!("{os}/{architecture}"),
        })
    }
}

/// The parts of a manifest that do not depend on its tags.
#[derive(Clone, Debug)]
struct Described {
    media_type: String,
    platforms: Vec<String>,
    children: Vec<String>,
    blobs: Vec<(String, u64)>,
    created: Option<String>,
}

/// The platform registry; cheap to clone. Unconfigured by default (every call then says so).
#[derive(Clone)]
pub struct PlatformRegistry {
    inner: Option<Arc<Inner>>,
    /// Held while the garbage collection runs: one at a time per console.
    gc: Arc<tokio::sync::Mutex<()>>,
    /// Where its images run, kept a few seconds for list pages.
    usage: moka::future::Cache<(), Arc<super::usage::Indexed>>,
}

/// How long list pages reuse the usage index (deletes and prunes always read afresh).
const USAGE_TTL: Duration = Duration::from_secs(10);

impl Default for PlatformRegistry {
    fn default() -> Self {
        Self {
            inner: None,
            gc: Arc::default(),
            usage: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(USAGE_TTL)
                .build(),
        }
    }
}

/// Why the registry settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("--registry-url {0:?} is not an http(s) URL: {1}")]
    Url(String, String),
    #[error("{flag} {path}: {reason}")]
    File {
        flag: &'static str,
        path: String,
        reason: String,
    },
}

fn read_file(flag: &'static str, path: &Path) -> Result<Vec<u8>, SettingsError> {
    std::fs::read(path).map_err(|e| SettingsError::File {
        flag,
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

impl PlatformRegistry {
    pub fn unconfigured() -> Self {
        Self::default()
    }

    pub fn new(settings: &Settings) -> Result<Self, SettingsError> {
        let base = reqwest::Url::parse(settings.url.trim_end_matches('/'))
            .map_err(|e| SettingsError::Url(settings.url.clone(), e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(SettingsError::Url(
                settings.url.clone(),
                "use http:// or https:// and a host".into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(5));
        if let Some(ca) = &settings.ca_file {
            let pem = read_file("--registry-ca-file", ca)?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| SettingsError::File {
                flag: "--registry-ca-file",
                path: ca.display().to_string(),
                reason: e.to_string(),
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| SettingsError::File {
            flag: "--registry-ca-file",
            path: String::new(),
            reason: e.to_string(),
        })?;
        let credentials = match &settings.credentials_file {
            Some(path) => serde_json::from_slice(&read_file("--registry-credentials-file", path)?)
                .map_err(|e| SettingsError::File {
                    flag: "--registry-credentials-file",
                    path: path.display().to_string(),
                    reason: format!(
                        "{e}; write JSON with \"username\" and \"password\", or \"token\""
                    ),
                })?,
            None => Credentials::default(),
        };
        let mut hosts = vec![host_port(&base)];
        hosts.extend(settings.aliases.iter().map(|a| a.trim().to_lowercase()));
        hosts.retain(|h| !h.is_empty());
        Ok(Self {
            usage: Self::default().usage,
            gc: Arc::default(),
            inner: Some(Arc::new(Inner {
                base,
                http,
                credentials,
                hosts,
                gc_command: settings.gc_command.clone(),
                tokens: Mutex::new(HashMap::new()),
                in_flight: tokio::sync::Semaphore::new(IN_FLIGHT),
                tagged: moka::future::Cache::builder()
                    .weigher(|_, tags: &Tagged| {
                        u32::try_from(tags.len()).unwrap_or(u32::MAX).max(1)
                    })
                    .max_capacity(TAGS_KEPT)
                    .time_to_live(LISTING_TTL)
                    .build(),
                described: moka::future::Cache::new(DESCRIPTIONS_KEPT),
            })),
        })
    }

    fn inner(&self) -> Result<&Inner, RegistryError> {
        self.inner.as_deref().ok_or(RegistryError::NotConfigured)
    }

    /// The usage index of the last few seconds (see [`super::service`]).
    pub fn usage_cache(&self) -> &moka::future::Cache<(), Arc<super::usage::Indexed>> {
        &self.usage
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// The names Pods reach the registry by: its own `host:port`, then the aliases.
    pub fn hosts(&self) -> Vec<String> {
        self.inner
            .as_deref()
            .map(|i| i.hosts.clone())
            .unwrap_or_default()
    }

    pub fn url(&self) -> String {
        self.inner
            .as_deref()
            .map(|i| i.base.to_string().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }

    pub fn gc_command(&self) -> Option<PathBuf> {
        self.inner.as_deref().and_then(|i| i.gc_command.clone())
    }

    /// Waits for any garbage collection this console runs to end, and holds off others.
    pub async fn gc_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.gc.lock().await
    }

    /// Sends `method path` with `accept`, answering the registry's auth challenge (basic, or a
    /// bearer token from its token service) once.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        accept: &[&str],
    ) -> Result<reqwest::Response, RegistryError> {
        let inner = self.inner()?;
        // Held until the answer's headers are in (the body is read after): enough to keep a
        // burst of reads from opening hundreds of connections at once.
        let _permit = inner
            .in_flight
            .acquire()
            .await
            .map_err(|e| RegistryError::Down {
                url: self.url(),
                reason: e.to_string(),
            })?;
        let url = inner
            .base
            .join(path_and_query)
            .map_err(|e| RegistryError::Malformed {
                what: path_and_query.into(),
                reason: e.to_string(),
            })?;
        let request = |authorization: Option<String>| {
            let mut r = inner.http.request(method.clone(), url.clone());
            if !accept.is_empty() {
                r = r.header(header::ACCEPT, accept.join(", "));
            }
            if let Some(a) = authorization {
                r = r.header(header::AUTHORIZATION, a);
            }
            r
        };
        let scope_key = scope_for(path_and_query, &method);
        let cached = inner
            .tokens
            .lock()
            .ok()
            .and_then(|t| t.get(&scope_key).cloned())
            .map(|t| format!("Bearer {t}"))
            .or_else(|| {
                inner
                    .credentials
                    .token
                    .clone()
                    .map(|t| format!("Bearer {t}"))
            });
        let response = request(cached).send().await.map_err(|e| self.down(&e))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let authorization = if challenge.to_ascii_lowercase().starts_with("bearer") {
            let token = self.fetch_token(&challenge).await?;
            if let Ok(mut tokens) = inner.tokens.lock() {
                tokens.insert(scope_key, token.clone());
            }
            format!("Bearer {token}")
        } else {
            basic(&inner.credentials).ok_or_else(|| RegistryError::Unauthorized {
                url: self.url(),
                status: 401,
            })?
        };
        let response = request(Some(authorization))
            .send()
            .await
            .map_err(|e| self.down(&e))?;
        if matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(RegistryError::Unauthorized {
                url: self.url(),
                status: response.status().as_u16(),
            });
        }
        Ok(response)
    }

    /// A token from the realm a `Bearer realm=…,service=…,scope=…` challenge names.
    async fn fetch_token(&self, challenge: &str) -> Result<String, RegistryError> {
        let inner = self.inner()?;
        let params = challenge_params(challenge);
        let realm = params
            .get("realm")
            .ok_or_else(|| RegistryError::Malformed {
                what: "an auth challenge".into(),
                reason: format!("no realm in {challenge:?}"),
            })?;
        let mut url = reqwest::Url::parse(realm).map_err(|e| RegistryError::Malformed {
            what: "the token realm".into(),
            reason: e.to_string(),
        })?;
        for key in ["service", "scope"] {
            if let Some(value) = params.get(key) {
                url.query_pairs_mut().append_pair(key, value);
            }
        }
        let mut request = inner.http.get(url);
        if let (Some(user), Some(password)) =
            (&inner.credentials.username, &inner.credentials.password)
        {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await.map_err(|e| self.down(&e))?;
        if !response.status().is_success() {
            return Err(RegistryError::Unauthorized {
                url: self.url(),
                status: response.status().as_u16(),
            });
        }
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = response
            .json()
            .await
            .map_err(|e| RegistryError::Malformed {
                what: "a token".into(),
                reason: e.to_string(),
            })?;
        token
            .token
            .or(token.access_token)
            .ok_or_else(|| RegistryError::Malformed {
                what: "a token".into(),
                reason: "neither token nor access_token".into(),
            })
    }

    fn down(&self, error: &reqwest::Error) -> RegistryError {
        RegistryError::Down {
            url: self.url(),
            reason: console_api::innermost(error),
        }
    }

    async fn unexpected(&self, what: &str, response: reqwest::Response) -> RegistryError {
        let status = response.status().as_u16();
        let body: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        RegistryError::Unexpected {
            url: self.url(),
            status,
            what: what.into(),
            body,
        }
    }

    /// Follows `Link: <…>; rel="next"` from `first` and collects `field` of every page.
    async fn paged(&self, first: String, field: &str) -> Result<Vec<String>, RegistryError> {
        let mut all = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > 100_000 {
                break;
            }
            let response = self.send(Method::GET, &path, &[]).await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Err(RegistryError::NotFound { what: path });
            }
            if !response.status().is_success() {
                return Err(self.unexpected(&path, response).await);
            }
            next = response
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let body: serde_json::Value =
                response
                    .json()
                    .await
                    .map_err(|e| RegistryError::Malformed {
                        what: path.clone(),
                        reason: e.to_string(),
                    })?;
            let items: Vec<String> = body
                .get(field)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            // Registries that page without Link: ask again after the last one seen.
            if next.is_none()
                && items.len() >= PAGE
                && let Some(last) = items.last()
            {
                let base = path.split('?').next().unwrap_or_default();
                next = Some(format!("{base}?n={PAGE}&last={last}"));
            }
            all.extend(items);
        }
        Ok(all)
    }

    /// Every repository, through the catalog's pages. Always read: one request per thousand
    /// repositories, so a new repository shows at once.
    pub async fn catalog(&self) -> Result<Vec<String>, RegistryError> {
        self.paged(format!("/v2/_catalog?n={PAGE}"), "repositories")
            .await
    }

    /// The tags of `repository` (none when it has no tags left).
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        match self
            .paged(format!("/v2/{repository}/tags/list?n={PAGE}"), "tags")
            .await
        {
            Err(RegistryError::NotFound { .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    /// The digest `reference` (tag or digest) of `repository` points at.
    pub async fn resolve(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<String, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.send(Method::HEAD, &path, &MANIFEST_ACCEPT).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                what: format!("{repository}:{reference}"),
            });
        }
        if !response.status().is_success() {
            return Err(self.unexpected(&path, response).await);
        }
        match response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            Some(digest) => Ok(digest.to_string()),
            None => Ok(self.get_manifest(repository, reference).await?.0),
        }
    }

    /// The manifest `reference` of `repository`: digest, media type and bytes.
    async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(String, String, Vec<u8>), RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.send(Method::GET, &path, &MANIFEST_ACCEPT).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                what: format!("{repository}@{reference}"),
            });
        }
        if !response.status().is_success() {
            return Err(self.unexpected(&path, response).await);
        }
        let digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let media_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.bytes().await.map_err(|e| self.down(&e))?.to_vec();
        let digest = digest.unwrap_or_else(|| reference.to_string());
        Ok((digest, media_type, body))
    }

    /// The image config blob `digest` of `repository` (one request for created time and
    /// platform). A config that is missing or does not parse says nothing; the registry's other
    /// failures are errors.
    async fn config(&self, repository: &str, digest: &str) -> Result<Config, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let response = self.send(Method::GET, &path, &[]).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Config::default());
        }
        if !response.status().is_success() {
            return Err(self.unexpected(&path, response).await);
        }
        let body = response.bytes().await.map_err(|e| self.down(&e))?;
        Ok(serde_json::from_slice(&body).unwrap_or_default())
    }

    /// What `digest` of `repository` is: media type, platforms, children, blobs, created.
    async fn describe(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Arc<Described>, RegistryError> {
        let inner = self.inner()?;
        let key = (repository.to_string(), digest.to_string());
        if let Some(found) = inner.described.get(&key).await {
            return Ok(found);
        }
        let (_, header_type, body) = self.get_manifest(repository, digest).await?;
        let malformed = |e: oci_spec::OciSpecError| RegistryError::Malformed {
            what: format!("manifest {repository}@{digest}"),
            reason: e.to_string(),
        };
        let declared: Option<String> = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            });
        let media_type = declared.unwrap_or(header_type);
        let described = if is_index(&media_type) {
            let index = ImageIndex::from_reader(&body[..]).map_err(malformed)?;
            let mut platforms = Vec::new();
            let mut children = Vec::new();
            let mut blobs = Vec::new();
            let mut created = None;
            for child in index.manifests() {
                let child_digest = child.digest().to_string();
                if let Some(p) = child.platform() {
                    let mut name = format!("{}/{}", p.os(), p.architecture());
                    if let Some(v) = p.variant() {
                        name.push('/');
                        name.push_str(v);
                    }
                    // Attestations ride along as unknown/unknown; they are no platform.
                    if !name.starts_with("unknown") {
                        platforms.push(name);
                    }
                }
                children.push(child_digest.clone());
                if let Ok(d) = Box::pin(self.describe(repository, &child_digest)).await {
                    blobs.extend(d.blobs.iter().cloned());
                    if created.is_none() || d.created > created {
                        created = d.created.clone();
                    }
                }
            }
            Described {
                media_type,
                platforms,
                children,
                blobs,
                created,
            }
        } else {
            let manifest = ImageManifest::from_reader(&body[..]).map_err(malformed)?;
            let config = manifest.config();
            let config_digest = config.digest().to_string();
            let mut blobs = vec![(config_digest.clone(), config.size())];
            blobs.extend(
                manifest
                    .layers()
                    .iter()
                    .map(|l| (l.digest().to_string(), l.size())),
            );
            let config = self.config(repository, &config_digest).await?;
            Described {
                media_type,
                platforms: config.platform().into_iter().collect(),
                children: Vec::new(),
                blobs,
                created: config.created,
            }
        };
        let described = Arc::new(described);
        inner.described.insert(key, described.clone()).await;
        Ok(described)
    }

    /// The tags of `repository` with the digest each points at (`Read::Recent`: as read
    /// within the last [`LISTING_TTL`]).
    pub async fn tagged(&self, repository: &str, read: Read) -> Result<Tagged, RegistryError> {
        let inner = self.inner()?;
        let load = async {
            let tags = self.tags(repository).await?;
            let resolved: Vec<Option<(String, String)>> = stream::iter(tags)
                .map(|tag| async move {
                    match self.resolve(repository, &tag).await {
                        Ok(digest) => Ok(Some((tag, digest))),
                        // Untagged meanwhile.
                        Err(RegistryError::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()?;
            let mut pairs: Vec<(String, String)> = resolved.into_iter().flatten().collect();
            pairs.sort();
            Ok::<_, RegistryError>(Arc::new(pairs))
        };
        match read {
            Read::Fresh => {
                let found = load.await?;
                inner
                    .tagged
                    .insert(repository.to_string(), found.clone())
                    .await;
                Ok(found)
            }
            Read::Recent => inner
                .tagged
                .try_get_with(repository.to_string(), load)
                .await
                .map_err(|e| (*e).clone()),
        }
    }

    /// Every tagged manifest of `repositories`, tags grouped by digest, as read recently.
    pub async fn manifests_of(
        &self,
        repositories: &[String],
    ) -> Result<Vec<Manifest>, RegistryError> {
        self.manifests_read(repositories, Read::Recent).await
    }

    /// Every tagged manifest of `repositories`, tags grouped by digest.
    pub async fn manifests_read(
        &self,
        repositories: &[String],
        read: Read,
    ) -> Result<Vec<Manifest>, RegistryError> {
        // Repositories concurrently, and within each its tags; `send` bounds what is in flight.
        let tagged: Vec<(String, Tagged)> = stream::iter(repositories.iter().cloned())
            .map(|repo| async move {
                let tags = self.tagged(&repo, read).await?;
                Ok::<_, RegistryError>((repo, tags))
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let mut grouped: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (repo, tags) in &tagged {
            for (tag, digest) in tags.iter() {
                grouped
                    .entry((repo.clone(), digest.clone()))
                    .or_default()
                    .push(tag.clone());
            }
        }
        let described = stream::iter(grouped)
            .map(|((repo, digest), mut tags)| async move {
                tags.sort();
                let d = self.describe(&repo, &digest).await?;
                Ok::<_, RegistryError>(manifest_view(repo, digest, tags, &d))
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut manifests = described.into_iter().collect::<Result<Vec<_>, _>>()?;
        manifests.sort_by(|a, b| (&a.repository, &a.digest).cmp(&(&b.repository, &b.digest)));
        Ok(manifests)
    }

    /// Every tagged manifest of the registry.
    pub async fn manifests(&self) -> Result<Vec<Manifest>, RegistryError> {
        let repositories = self.catalog().await?;
        self.manifests_of(&repositories).await
    }

    /// Deletes manifest `digest` of `repository` (and so every tag on it), and forgets what
    /// the lists read of that repository.
    pub async fn delete(&self, repository: &str, digest: &str) -> Result<(), RegistryError> {
        let path = format!("/v2/{repository}/manifests/{digest}");
        let response = self.send(Method::DELETE, &path, &[]).await?;
        let inner = self.inner()?;
        inner.tagged.invalidate(repository).await;
        inner
            .described
            .invalidate(&(repository.to_string(), digest.to_string()))
            .await;
        match response.status() {
            s if s.is_success() => Ok(()),
            // Read-only mode answers with the methods it allows; disabled deletion with an
            // UNSUPPORTED error.
            StatusCode::METHOD_NOT_ALLOWED if response.headers().contains_key(header::ALLOW) => {
                Err(RegistryError::ReadOnly { url: self.url() })
            }
            StatusCode::METHOD_NOT_ALLOWED => {
                Err(RegistryError::DeleteDisabled { url: self.url() })
            }
            StatusCode::NOT_FOUND => Err(RegistryError::NotFound {
                what: format!("{repository}@{digest}"),
            }),
            _ => Err(self.unexpected(&path, response).await),
        }
    }

    /// Describes one digest as a [`Manifest`] with `tags`.
    pub async fn manifest(
        &self,
        repository: &str,
        digest: &str,
        tags: Vec<String>,
    ) -> Result<Manifest, RegistryError> {
        let d = self.describe(repository, digest).await?;
        Ok(manifest_view(repository.into(), digest.into(), tags, &d))
    }
}

fn manifest_view(repository: String, digest: String, tags: Vec<String>, d: &Described) -> Manifest {
    let created_unix = d.created.as_deref().and_then(unix_seconds);
    let mut blobs = d.blobs.clone();
    blobs.sort();
    blobs.dedup();
    Manifest {
        repository,
        digest,
        media_type: d.media_type.clone(),
        tags,
        platforms: d.platforms.clone(),
        children: d.children.clone(),
        size: blobs.iter().map(|(_, s)| s).sum(),
        blobs,
        created: d.created.clone(),
        created_unix,
    }
}

/// RFC 3339 to seconds since the epoch.
pub fn unix_seconds(text: &str) -> Option<i64> {
    text.parse::<k8s_openapi::jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

fn host_port(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}").to_lowercase(),
        (Some(h), None) => h.to_lowercase(),
        _ => String::new(),
    }
}

fn basic(credentials: &Credentials) -> Option<String> {
    use base64::Engine as _;
    let (user, password) = (
        credentials.username.as_ref()?,
        credentials.password.as_ref()?,
    );
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    ))
}

/// The token scope a request needs, for caching tokens per repository and action.
fn scope_for(path: &str, method: &Method) -> String {
    let repo = path
        .strip_prefix("/v2/")
        .and_then(|p| {
            ["/manifests/", "/tags/", "/blobs/"]
                .iter()
                .find_map(|m| p.find(m).map(|i| &p[..i]))
        })
        .unwrap_or("catalog");
    let action = if *method == Method::DELETE {
        "delete"
    } else {
        "pull"
    };
    format!("{repo}:{action}")
}

/// The parameters of a `Bearer realm="…",service="…",scope="…"` challenge.
fn challenge_params(challenge: &str) -> HashMap<String, String> {
    let rest = challenge
        .split_once(' ')
        .map(|(_, r)| r)
        .unwrap_or_default();
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        let key: String = chars
            .by_ref()
            .skip_while(|c| *c == ',' || c.is_whitespace())
            .take_while(|c| *c != '=')
            .collect();
        if key.is_empty() {
            break;
        }
        let value: String = if chars.peek() == Some(&'"') {
            chars.next();
            chars.by_ref().take_while(|c| *c != '"').collect()
        } else {
            chars.by_ref().take_while(|c| *c != ',').collect()
        };
        params.insert(key.trim().to_lowercase(), value);
    }
    params
}

/// The target of `<…>; rel="next"` in a Link header, as a path and query.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.replace(' ', "").contains("rel=\"next\"") {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        match reqwest::Url::parse(target) {
            Ok(url) => Some(match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            }),
            Err(_) => Some(target.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_next_page() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=1000>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=1000")
        );
        assert_eq!(
            next_link(r#"<https://r.example/v2/x/tags/list?n=2&last=v2>; rel="next""#).as_deref(),
            Some("/v2/x/tags/list?n=2&last=v2")
        );
        assert_eq!(next_link(r#"</v2/_catalog?last=b>; rel="prev""#), None);
    }

    #[test]
    fn bearer_challenges_are_read() {
        let p = challenge_params(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team-a/web:pull""#,
        );
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:team-a/web:pull");
    }

    #[test]
    fn scopes_follow_repository_and_action() {
        assert_eq!(
            scope_for("/v2/team-a/web/manifests/v1", &Method::DELETE),
            "team-a/web:delete"
        );
        assert_eq!(
            scope_for("/v2/_catalog?n=1000", &Method::GET),
            "catalog:pull"
        );
    }

    #[test]
    fn unconfigured_and_down_registries_say_what_to_do() {
        let e: ConsoleError = RegistryError::NotConfigured.into();
        assert!(e.to_string().contains("--registry-url"));
        let e: ConsoleError = RegistryError::DeleteDisabled {
            url: "http://r".into(),
        }
        .into();
        assert_eq!(e.http_status(), 403);
        assert!(e.to_string().contains("deletion disabled"));
        let e: ConsoleError = RegistryError::ReadOnly {
            url: "http://r".into(),
        }
        .into();
        assert_eq!(e.http_status(), 409);
        assert!(e.to_string().contains("read-only"));
    }
}
