//! The registry side of the tests and the images benchmark: pushing images through the
//! distribution API (no Docker; every byte deterministic from its inputs), and registries of a
//! test's own (Debian's docker-registry, as the sandbox runs it) started on a free loopback port
//! with a configuration of their own (deletion off, basic or token auth, many repositories) and
//! stopped when the value drops. A token service for the token-auth registry signs ES256 JWTs
//! with a key whose self-signed certificate the registry trusts.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

/// Pushes to the registry at `url` (`http://host:port`), with an `Authorization` header when
/// the registry asks for one.
#[derive(Clone)]
pub struct Pusher {
    pub url: String,
    http: reqwest::Client,
    authorization: Option<String>,
}

/// Why a push was refused: the HTTP status (0 when the registry did not answer at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub u16);

impl Pusher {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            authorization: None,
        }
    }

    /// Sends `Authorization: Basic user:password` with every request.
    pub fn basic(mut self, user: &str, password: &str) -> Self {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.authorization = Some(format!("Basic {pair}"));
        self
    }

    /// Sends `Authorization: Bearer token` with every request.
    pub fn bearer(mut self, token: &str) -> Self {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.authorization {
            Some(a) => request.header("authorization", a),
            None => request,
        }
    }

    /// Uploads `bytes` as a blob of `repo` in one request (POST with the digest, as the
    /// distribution spec's monolithic upload), or says how the registry refused.
    pub async fn try_blob(&self, repo: &str, bytes: &[u8]) -> Result<String, Refused> {
        let digest = digest_of(bytes);
        let response = self
            .request(
                reqwest::Method::POST,
                &format!("{}/v2/{repo}/blobs/uploads/?digest={digest}", self.url),
            )
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(|_| Refused(0))?;
        match response.status().as_u16() {
            201 => Ok(digest),
            // A registry that takes the data only in a second step (POST, then PUT).
            202 => {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let location = if location.starts_with("http") {
                    location
                } else {
                    format!("{}{location}", self.url)
                };
                let separator = if location.contains('?') { '&' } else { '?' };
                let put = self
                    .request(
                        reqwest::Method::PUT,
                        &format!("{location}{separator}digest={digest}"),
                    )
                    .header("content-type", "application/octet-stream")
                    .body(bytes.to_vec())
                    .send()
                    .await
                    .map_err(|_| Refused(0))?;
                if put.status().is_success() {
                    Ok(digest)
                } else {
                    Err(Refused(put.status().as_u16()))
                }
            }
            status => Err(Refused(status)),
        }
    }

    pub async fn blob(&self, repo: &str, bytes: &[u8]) -> String {
        self.try_blob(repo, bytes)
            .await
            .unwrap_or_else(|e| panic!("blob upload to {} {repo}: {e:?}", self.url))
    }

    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let put = self
            .request(
                reqwest::Method::PUT,
                &format!("{}/v2/{repo}/manifests/{reference}", self.url),
            )
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put manifest: {e}"));
        assert!(
            put.status().is_success(),
            "manifest {repo}:{reference}: {}",
            put.status()
        );
        digest_of(body)
    }

    /// Pushes an image of one layer of about `size` bytes (`build` decides its bytes), created at
    /// `created` (no creation time with `None`); under `tag` or, with `None`, untagged. Returns
    /// (manifest digest, layer digest).
    pub async fn image(
        &self,
        repo: &str,
        tag: Option<&str>,
        build: &str,
        created: Option<&str>,
        arch: &str,
        size: usize,
    ) -> (String, String) {
        let layer =
            format!("layer of {repo} build {build} {arch}\n{}", "x".repeat(size)).into_bytes();
        let layer_digest = self.blob(repo, &layer).await;
        let mut config = json!({
            "architecture": arch, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]}
        });
        if let Some(created) = created {
            config["created"] = json!(created);
        }
        let config = serde_json::to_vec(&config).unwrap_or_default();
        let config_digest = self.blob(repo, &config).await;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}]
        }))
        .unwrap_or_default();
        let digest = digest_of(&manifest);
        let reference = tag.map(str::to_string).unwrap_or_else(|| digest.clone());
        self.manifest(repo, &reference, OCI_MANIFEST, &manifest)
            .await;
        (digest, layer_digest)
    }

    /// Pushes an index of `children` (digest, architecture: manifests of `repo` already
    /// pushed) under `tag`; returns its digest.
    pub async fn index(&self, repo: &str, tag: &str, children: &[(String, &str)]) -> String {
        let mut descriptors = Vec::new();
        for (digest, arch) in children {
            let size = self
                .request(
                    reqwest::Method::GET,
                    &format!("{}/v2/{repo}/manifests/{digest}", self.url),
                )
                .header("accept", OCI_MANIFEST)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .bytes()
                .await
                .unwrap_or_default()
                .len();
            descriptors.push(json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": {"os": "linux", "architecture": arch}}));
        }
        let index = serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}),
        )
        .unwrap_or_default();
        self.manifest(repo, tag, OCI_INDEX, &index).await
    }

    /// Whether manifest `digest` of `repo` is there.
    pub async fn has_manifest(&self, repo: &str, digest: &str) -> bool {
        self.request(
            reqwest::Method::HEAD,
            &format!("{}/v2/{repo}/manifests/{digest}", self.url),
        )
        .header("accept", format!("{OCI_MANIFEST}, {OCI_INDEX}"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
    }

    /// The status a GET of blob `digest` of `repo` answers.
    pub async fn blob_status(&self, repo: &str, digest: &str) -> u16 {
        self.request(
            reqwest::Method::GET,
            &format!("{}/v2/{repo}/blobs/{digest}", self.url),
        )
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
    }
}

/// Bytes of every file under `dir` (a registry's storage).
pub fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => disk_usage(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// A free loopback port (bound and released; the registry binds it right after).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port()
}

/// A docker-registry of the test's own, stopped when dropped.
pub struct PrivateRegistry {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its storage.
    pub storage: PathBuf,
    /// Its configuration file, log and (for a temporary one) storage live here.
    _dir: Option<tempfile::TempDir>,
    child: Child,
}

impl PrivateRegistry {
    /// A registry over a temporary directory; `delete` enables deletion; `extra` is more
    /// top-level configuration (YAML: `auth:`, …), `dir` is given to it as `{dir}`.
    pub async fn start(delete: bool, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().to_path_buf();
        let mut registry = Self::start_in(&path, delete, extra).await;
        registry._dir = Some(dir);
        registry
    }

    /// A registry whose storage is `dir/data` (kept after it stops, as the benchmark's).
    pub async fn start_in(dir: &Path, delete: bool, extra: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let storage = dir.join("data");
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: {delete}\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                storage.display(),
                extra.replace("{dir}", &dir.display().to_string())
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let log = std::fs::File::create(dir.join("registry.log")).unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap_or_else(|e| panic!("{e}")))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("docker-registry (Debian's docker-registry package): {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match http.get(format!("{url}/v2/")).send().await {
                // 401 is an answer too: a registry that wants credentials.
                Ok(r) if r.status().is_success() || r.status().as_u16() == 401 => break,
                other => assert!(
                    std::time::Instant::now() < deadline,
                    "the registry at {url} did not answer within 20 s ({other:?}); its log: {}",
                    std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default()
                ),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Self {
            url,
            storage,
            _dir: None,
            child,
        }
    }
}

impl Drop for PrivateRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `htpasswd` line for `user` with `password` (bcrypt, which docker-registry requires).
pub fn htpasswd_line(user: &str, password: &str) -> String {
    let hash = bcrypt::hash(password, 4).unwrap_or_else(|e| panic!("bcrypt: {e}"));
    format!("{user}:{hash}\n")
}

/// A token service for a registry with `auth: token`: checks basic credentials and hands out
/// an ES256 JWT for whatever scope is asked, signed with a key whose self-signed certificate
/// (`certificate`, PEM) the registry is given as its root bundle.
pub struct TokenService {
    /// `http://127.0.0.1:<port>/token`.
    pub realm: String,
    pub certificate: PathBuf,
    /// How many tokens it issued.
    pub issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

pub const TOKEN_ISSUER: &str = "nextgen-console-test-tokens";
pub const TOKEN_SERVICE: &str = "test-registry";

impl TokenService {
    pub async fn start(user: &str, password: &str) -> Self {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap_or_else(|e| panic!("key: {e}"));
        let key_pem = pem("PRIVATE KEY", pkcs8.as_ref());
        let key_file = dir.path().join("token.key");
        std::fs::write(&key_file, key_pem).unwrap_or_else(|e| panic!("{e}"));
        let certificate = dir.path().join("token.crt");
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-new",
                "-days",
                "1",
                "-subj",
                "/CN=test-registry-tokens",
                "-key",
            ])
            .arg(&key_file)
            .arg("-out")
            .arg(&certificate)
            .output()
            .unwrap_or_else(|e| panic!("openssl: {e}"));
        assert!(
            made.status.success(),
            "openssl req: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let cert_pem = std::fs::read_to_string(&certificate).unwrap_or_default();
        let der: String = cert_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let key = std::sync::Arc::new(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .unwrap_or_else(|e| panic!("key: {e}")),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let realm = format!(
            "http://{}/token",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = issued.clone();
        let handler = move |headers: axum::http::HeaderMap,
                            axum::extract::Query(query): axum::extract::Query<
            std::collections::HashMap<String, String>,
        >| {
            let (key, der, expected, counter) =
                (key.clone(), der.clone(), expected.clone(), counter.clone());
            async move {
                let given = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if given != expected {
                    return Err(axum::http::StatusCode::UNAUTHORIZED);
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let token = jwt(&key, &der, query.get("scope").map(String::as_str));
                Ok(axum::Json(
                    json!({"token": token, "access_token": token, "expires_in": 300}),
                ))
            }
        };
        let app = axum::Router::new().route("/token", axum::routing::get(handler));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            realm,
            certificate,
            issued,
            task,
            _dir: dir,
        }
    }

    /// The registry configuration that sends clients here for tokens.
    pub fn registry_config(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
            self.realm,
            self.certificate.display()
        )
    }
}

impl Drop for TokenService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A registry token (JWT, ES256, the certificate in `x5c`) granting `scope`
/// (`repository:<name>:<actions>` or `registry:catalog:*`).
fn jwt(
    key: &ring::signature::EcdsaKeyPair,
    certificate_der_base64: &str,
    scope: Option<&str>,
) -> String {
    let url = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let access: Vec<serde_json::Value> = scope
        .unwrap_or_default()
        .split(' ')
        .filter_map(|s| {
            let (kind, rest) = s.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [certificate_der_base64]});
    let claims = json!({
        "iss": TOKEN_ISSUER, "sub": "tester", "aud": TOKEN_SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", std::process::id()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        url(&serde_json::to_vec(&header).unwrap_or_default()),
        url(&serde_json::to_vec(&claims).unwrap_or_default())
    );
    let rng = ring::rand::SystemRandom::new();
    let signature = key
        .sign(&rng, signing_input.as_bytes())
        .unwrap_or_else(|e| panic!("sign: {e}"));
    format!("{signing_input}.{}", url(signature.as_ref()))
}
