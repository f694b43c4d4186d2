//! Where `ac` finds the console and its credential: kubeconfig files in the shape the console
//! issues (one context per cluster, each server `https://<console>/clusters/<cluster>`, a bearer
//! token), so one sign-in serves kubectl and `ac`. `ac login` writes the same shape to
//! `~/.config/ac/config`, which kubectl can use too (`KUBECONFIG=~/.config/ac/config`).
//!
//! Precedence, as kubectl has it: `--kubeconfig`, then `KUBECONFIG` (a `:`-separated list,
//! first definition wins), then `~/.config/ac/config` (`AC_CONFIG` overrides the path). What
//! `ac` does not model (client certificates, exec plugins, `insecure-skip-tls-verify`,
//! preferences, extensions, ...) is kept as it was read, so writing a file back loses nothing;
//! a relative `certificate-authority` is read from the kubeconfig file's own directory, as
//! kubectl reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The fields of an entry `ac` does not model, kept as they were read.
pub type Extra = BTreeMap<String, serde_json::Value>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion", default = "api_version")]
    pub api_version: String,
    #[serde(default = "kind")]
    pub kind: String,
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    #[serde(default)]
    pub users: Vec<NamedUser>,
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    #[serde(
        rename = "current-context",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub current_context: String,
    /// `preferences`, `extensions` and whatever else the file holds.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for Kubeconfig {
    /// An empty kubeconfig, `apiVersion: v1` and `kind: Config` as kubectl writes them.
    fn default() -> Self {
        Self {
            api_version: api_version(),
            kind: kind(),
            clusters: Vec::new(),
            users: Vec::new(),
            contexts: Vec::new(),
            current_context: String::new(),
            extra: Extra::new(),
        }
    }
}

fn api_version() -> String {
    "v1".into()
}

fn kind() -> String {
    "Config".into()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCluster {
    pub name: String,
    pub cluster: ClusterEntry,
    /// The directory of the file this entry was read from: a relative `certificate-authority`
    /// is relative to it.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEntry {
    pub server: String,
    #[serde(
        rename = "certificate-authority-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ca_data: Option<String>,
    #[serde(
        rename = "certificate-authority",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ca_file: Option<String>,
    /// `insecure-skip-tls-verify`, `tls-server-name`, `proxy-url`, `extensions`, ...
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: UserEntry,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `client-certificate-data`, `client-key-data`, `exec`, `auth-provider`, ...
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedContext {
    pub name: String,
    pub context: ContextEntry,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextEntry {
    pub cluster: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The console to talk to and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `https://host:port`, the console's origin.
    pub origin: String,
    pub token: Option<String>,
    /// PEM of the CA that signed the console's certificate, when not a public one.
    pub ca_pem: Option<Vec<u8>>,
    /// The console cluster the context names (`--cluster` defaults to it).
    pub cluster: Option<String>,
    /// The context's namespace (`-n` defaults to it).
    pub namespace: Option<String>,
    /// Where this came from, for messages.
    pub source: String,
}

/// The global flags that choose the console.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub server: Option<String>,
    pub token: Option<String>,
    pub certificate_authority: Option<PathBuf>,
}

/// `~/.config/ac/config`, or `AC_CONFIG`.
pub fn own_config_path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("AC_CONFIG") {
        return Ok(path.into());
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").ok_or_else(|| {
            Error::Config("HOME is not set; set AC_CONFIG to the file ac should use".into())
        })?)
        .join(".config"),
    };
    Ok(base.join("ac").join("config"))
}

/// The files to read, in precedence order.
pub fn files(selection: &Selection) -> Result<Vec<PathBuf>> {
    if let Some(path) = &selection.kubeconfig {
        return Ok(vec![path.clone()]);
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return Ok(std::env::split_paths(&list).collect());
    }
    Ok(vec![own_config_path()?])
}

pub fn parse(text: &str, path: &Path) -> Result<Kubeconfig> {
    serde_saphyr::from_str(text).map_err(|e| {
        Error::Config(format!(
            "{} is not a kubeconfig ac can read: {e}",
            path.display()
        ))
    })
}

/// Reads and merges `paths` (the first definition of a name wins; missing files are skipped,
/// as kubectl does with `KUBECONFIG` lists).
pub fn load(paths: &[PathBuf]) -> Result<Kubeconfig> {
    let mut merged = Kubeconfig::default();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::Config(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let file = parse(&text, path)?;
        if merged.current_context.is_empty() {
            merged.current_context = file.current_context;
        }
        for extra in file.extra {
            merged.extra.entry(extra.0).or_insert(extra.1);
        }
        let dir = path
            .parent()
            .map(|d| {
                if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                }
            })
            .map(Path::to_path_buf);
        for mut c in file.clusters {
            if !merged.clusters.iter().any(|m| m.name == c.name) {
                c.dir = dir.clone();
                merged.clusters.push(c);
            }
        }
        for u in file.users {
            if !merged.users.iter().any(|m| m.name == u.name) {
                merged.users.push(u);
            }
        }
        for c in file.contexts {
            if !merged.contexts.iter().any(|m| m.name == c.name) {
                merged.contexts.push(c);
            }
        }
    }
    Ok(merged)
}

/// Splits a console cluster-proxy URL (`https://console:443/clusters/east`) into the console's
/// origin and the cluster's name.
pub fn split_server(server: &str) -> Option<(String, String)> {
    let url = url::Url::parse(server).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    let (Some("clusters"), Some(cluster), None) =
        (segments.next(), segments.next(), segments.next())
    else {
        return None;
    };
    Some((url.origin().ascii_serialization(), cluster.to_string()))
}

/// A console origin typed by a person (`console.example`, `https://console.example/`,
/// `https://127.0.0.1:17000/admin`): scheme (https when missing), host and port.
pub fn normalise_origin(server: &str) -> Result<String> {
    let with_scheme = if server.contains("://") {
        server.to_string()
    } else {
        format!("https://{server}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| Error::Usage(format!("--server {server:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Usage(format!(
            "--server {server:?}: give the console's address, for example https://console.example"
        )));
    }
    Ok(url.origin().ascii_serialization())
}

impl NamedCluster {
    /// Where `certificate-authority` points: as written when absolute, else under the directory
    /// of the file that defined the cluster (kubectl's rule).
    pub fn ca_path(&self, file: &str) -> PathBuf {
        let path = Path::new(file);
        match &self.dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }
}

impl Kubeconfig {
    pub fn context(&self, name: &str) -> Option<&NamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The console behind context `name`.
    pub fn target(&self, name: &str, source: &str) -> Result<Target> {
        let context = self.context(name).ok_or_else(|| {
            Error::Config(format!(
                "{source} has no context {name:?}; contexts: {}",
                self.contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.name == context.context.cluster)
            .ok_or_else(|| {
                Error::Config(format!(
                    "context {name:?} in {source} names cluster {:?}, which is not defined there",
                    context.context.cluster
                ))
            })?;
        let (origin, console_cluster) = split_server(&cluster.cluster.server).ok_or_else(|| {
            Error::Config(format!(
                "context {name:?} in {source} points at {}, which is not a console's cluster proxy (https://<console>/clusters/<cluster>). Use the kubeconfig the console issues (user menu → kubeconfig), or sign in with `ac login --server <console>`.",
                cluster.cluster.server
            ))
        })?;
        let token = self
            .users
            .iter()
            .find(|u| u.name == context.context.user)
            .and_then(|u| u.user.token.clone());
        let ca_pem = match (&cluster.cluster.ca_data, &cluster.cluster.ca_file) {
            (Some(data), _) => {
                use base64::Engine as _;
                Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|e| {
                            Error::Config(format!(
                                "certificate-authority-data of cluster {:?} in {source} is not base64: {e}",
                                cluster.name
                            ))
                        })?,
                )
            }
            (None, Some(file)) => {
                let path = cluster.ca_path(file);
                Some(std::fs::read(&path).map_err(|e| {
                    Error::Config(format!(
                        "certificate-authority {} of cluster {:?} in {source}: {e}",
                        path.display(),
                        cluster.name
                    ))
                })?)
            }
            (None, None) => None,
        };
        Ok(Target {
            origin,
            token,
            ca_pem,
            cluster: Some(console_cluster),
            namespace: context.context.namespace.clone(),
            source: format!("context {name:?} of {source}"),
        })
    }

    /// Replaces everything this file holds for console `origin` with one context per cluster
    /// (named after the cluster, as the console's own kubeconfig names them), all using `token`.
    /// The current context stays when it is still defined, else becomes the first cluster's.
    pub fn set_console(
        &mut self,
        origin: &str,
        user: &str,
        token: Option<&str>,
        ca_data: Option<&str>,
        clusters: &[String],
    ) {
        let of_console = |server: &str| split_server(server).is_some_and(|(o, _)| o == origin);
        let dropped: Vec<String> = self
            .clusters
            .iter()
            .filter(|c| of_console(&c.cluster.server) || clusters.contains(&c.name))
            .map(|c| c.name.clone())
            .collect();
        self.clusters.retain(|c| !dropped.contains(&c.name));
        let replaced =
            |c: &NamedContext| dropped.contains(&c.context.cluster) || clusters.contains(&c.name);
        // The users of the replaced contexts may go once nothing refers to them; other users
        // (referenced or not) are not ac's to remove.
        let orphans: Vec<String> = self
            .contexts
            .iter()
            .filter(|c| replaced(c))
            .map(|c| c.context.user.clone())
            .collect();
        self.contexts.retain(|c| !replaced(c));
        let user_name = format!("{user}@{}", origin_host(origin));
        self.users.retain(|u| u.name != user_name);
        self.users.push(NamedUser {
            name: user_name.clone(),
            user: UserEntry {
                token: token.map(str::to_string),
                ..UserEntry::default()
            },
            ..NamedUser::default()
        });
        for name in clusters {
            self.clusters.push(NamedCluster {
                name: name.clone(),
                cluster: ClusterEntry {
                    server: format!("{origin}/clusters/{name}"),
                    ca_data: ca_data.map(str::to_string),
                    ..ClusterEntry::default()
                },
                ..NamedCluster::default()
            });
            self.contexts.push(NamedContext {
                name: name.clone(),
                context: ContextEntry {
                    cluster: name.clone(),
                    user: user_name.clone(),
                    ..ContextEntry::default()
                },
                ..NamedContext::default()
            });
        }
        let used: Vec<String> = self
            .contexts
            .iter()
            .map(|c| c.context.user.clone())
            .collect();
        self.users
            .retain(|u| used.contains(&u.name) || !orphans.contains(&u.name));
        if self.context(&self.current_context).is_none()
            || !clusters.contains(&self.current_context)
        {
            self.current_context = clusters
                .iter()
                .find(|c| *c == "global")
                .or(clusters.first())
                .cloned()
                .unwrap_or_default();
        }
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_default()
    }
}

fn origin_host(origin: &str) -> String {
    url::Url::parse(origin)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_else(|| origin.to_string())
}

/// Writes `config` to `path` readable by its owner only (it holds tokens).
pub fn save(path: &Path, config: &Kubeconfig) -> Result<()> {
    let fail = |e: std::io::Error| Error::Config(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(fail)?;
        file.write_all(config.to_yaml().as_bytes()).map_err(fail)?;
    }
    std::fs::rename(&tmp, path).map_err(fail)
}

/// The console to use. The context is `--context`, else the current one. With `--server`, the
/// context lends its token, CA, cluster and namespace when it names the same console (any other
/// context of that console lends token and CA only); without, the context decides everything.
/// `--token` (or `AC_TOKEN`) and `--certificate-authority` override what the context says.
pub fn resolve(selection: &Selection) -> Result<Target> {
    // With --server (AC_SERVER), a config file is only a place to borrow a token from: one
    // that cannot be found (no HOME, as in a container) is no error.
    let paths = match files(selection) {
        Ok(paths) => paths,
        Err(_) if selection.server.is_some() => Vec::new(),
        Err(e) => return Err(e),
    };
    let source = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let config = load(&paths)?;
    let ca_flag = match &selection.certificate_authority {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Error::Config(format!("--certificate-authority {}: {e}", path.display()))
        })?),
        None => None,
    };
    let context = selection
        .context
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| Some(config.current_context.clone()).filter(|c| !c.is_empty()));
    let mut target = if let Some(server) = &selection.server {
        let origin = normalise_origin(server)?;
        let chosen = context
            .as_deref()
            .and_then(|name| config.target(name, &source).ok())
            .filter(|t| t.origin == origin);
        match chosen {
            Some(chosen) => Target {
                source: format!("--server with {}", chosen.source),
                ..chosen
            },
            None => {
                // Another context of the same console lends its token and CA, not its cluster.
                let known = config
                    .contexts
                    .iter()
                    .filter_map(|c| config.target(&c.name, &source).ok())
                    .find(|t| t.origin == origin);
                Target {
                    origin,
                    token: known.as_ref().and_then(|t| t.token.clone()),
                    ca_pem: known.as_ref().and_then(|t| t.ca_pem.clone()),
                    cluster: None,
                    namespace: None,
                    source: "--server".into(),
                }
            }
        }
    } else {
        let name = context.ok_or_else(|| {
            Error::Config(format!(
                "no console configured ({source} has no current context). Sign in: ac login --server https://<console>"
            ))
        })?;
        config.target(&name, &source)?
    };
    if let Some(token) = selection.token.clone().filter(|t| !t.is_empty()) {
        target.token = Some(token);
    }
    if ca_flag.is_some() {
        target.ca_pem = ca_flag;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `POST /auth/kubeconfig` answers (JSON, which is YAML).
    const ISSUED: &str = r#"{
  "apiVersion": "v1",
  "kind": "Config",
  "clusters": [
    {"name": "east", "cluster": {"server": "https://127.0.0.1:17000/clusters/east", "certificate-authority-data": "LS0tLS1CRUdJTg=="}},
    {"name": "global", "cluster": {"server": "https://127.0.0.1:17000/clusters/global", "certificate-authority-data": "LS0tLS1CRUdJTg=="}}
  ],
  "users": [{"name": "alice@example.com@nextgen-console", "user": {"token": "ngc_abc"}}],
  "contexts": [
    {"name": "east", "context": {"cluster": "east", "user": "alice@example.com@nextgen-console"}},
    {"name": "global", "context": {"cluster": "global", "user": "alice@example.com@nextgen-console"}}
  ],
  "current-context": "east"
}"#;

    #[test]
    fn the_console_issued_kubeconfig_names_the_console_its_token_and_cluster() {
        let config = parse(ISSUED, Path::new("k")).unwrap_or_else(|e| panic!("{e}"));
        let target = config
            .target("global", "k")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target.origin, "https://127.0.0.1:17000");
        assert_eq!(target.token.as_deref(), Some("ngc_abc"));
        assert_eq!(target.cluster.as_deref(), Some("global"));
        assert_eq!(target.ca_pem.as_deref(), Some(&b"-----BEGIN"[..]));
        assert_eq!(config.current_context, "east");
    }

    #[test]
    fn a_context_that_is_not_a_console_says_what_to_use_instead() {
        let yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: https://10.0.0.1:6443\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: k\n  context:\n    cluster: k\n    user: u\ncurrent-context: k\n";
        let config = parse(yaml, Path::new("k")).unwrap_or_else(|e| panic!("{e}"));
        let error = config.target("k", "k").err().map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("not a console") && e.contains("ac login")),
            "{error:?}"
        );
        assert!(config.target("nope", "k").is_err());
    }

    #[test]
    fn signing_in_again_replaces_the_consoles_contexts_and_keeps_others() {
        let mut config = parse(ISSUED, Path::new("k")).unwrap_or_else(|e| panic!("{e}"));
        config.clusters.push(NamedCluster {
            name: "other".into(),
            cluster: ClusterEntry {
                server: "https://other.example/clusters/x".into(),
                ..ClusterEntry::default()
            },
            ..NamedCluster::default()
        });
        config.contexts.push(NamedContext {
            name: "other".into(),
            context: ContextEntry {
                cluster: "other".into(),
                user: "bob".into(),
                ..ContextEntry::default()
            },
            ..NamedContext::default()
        });
        config.users.push(NamedUser {
            name: "bob".into(),
            ..NamedUser::default()
        });
        config.set_console(
            "https://127.0.0.1:17000",
            "admin@example.com",
            Some("ngc_new"),
            None,
            &["global".into(), "west".into()],
        );
        let names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["other", "global", "west"]);
        assert_eq!(config.current_context, "global");
        let west = config.target("west", "k").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(west.token.as_deref(), Some("ngc_new"));
        assert!(config.users.iter().any(|u| u.name == "bob"));
        assert!(!config.users.iter().any(|u| u.name.starts_with("alice")));
        // What ac writes, it reads back.
        let again = parse(&config.to_yaml(), Path::new("k")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, config);
    }

    /// A scratch directory of this test's own.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ac-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    /// A kubeconfig as kubectl users have them: client certificates, an exec plugin,
    /// insecure-skip-tls-verify, preferences and extensions, beside a console context.
    const FOREIGN: &str = r#"apiVersion: v1
kind: Config
preferences:
  colors: true
extensions:
- name: tooling
  extension:
    owner: "platform team"
    port: "8443"
clusters:
- name: kind
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
    tls-server-name: kind.local
- name: east
  cluster:
    server: https://127.0.0.1:17000/clusters/east
    certificate-authority-data: LS0tLS1CRUdJTg==
    proxy-url: http://proxy.example:3128
users:
- name: kind-admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: ["eks", "get-token", "--cluster-name", "prod"]
      env:
      - name: AWS_PROFILE
        value: prod
      interactiveMode: Never
- name: alice
  user:
    token: ngc_abc
contexts:
- name: kind
  context:
    cluster: kind
    user: kind-admin
    namespace: default
  extensions:
  - name: note
    extension: "keep me"
- name: east
  context:
    cluster: east
    user: alice
current-context: kind
"#;

    #[test]
    fn fields_ac_does_not_model_survive_a_use_context_and_a_login() {
        let dir = scratch("foreign");
        let path = dir.join("config");
        std::fs::write(&path, FOREIGN).unwrap_or_else(|e| panic!("{e}"));
        let original: serde_json::Value =
            serde_saphyr::from_str(FOREIGN).unwrap_or_else(|e| panic!("{e}"));

        // `ac config use-context east`: load the one file, change the current context, save.
        let mut file = load(std::slice::from_ref(&path)).unwrap_or_else(|e| panic!("{e}"));
        file.current_context = "east".into();
        save(&path, &file).unwrap_or_else(|e| panic!("{e}"));
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        let mut after: serde_json::Value =
            serde_saphyr::from_str(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
        assert_eq!(after["current-context"], "east");
        after["current-context"] = "kind".into();
        assert_eq!(after, original, "nothing else changed:\n{written}");

        // `ac login --kubeconfig` into the same file: the console's entries change, the rest
        // stays as it was.
        let mut file = load(std::slice::from_ref(&path)).unwrap_or_else(|e| panic!("{e}"));
        file.set_console(
            "https://127.0.0.1:17000",
            "alice@example.com",
            Some("ngc_new"),
            None,
            &["east".into(), "west".into()],
        );
        save(&path, &file).unwrap_or_else(|e| panic!("{e}"));
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        let after: serde_json::Value =
            serde_saphyr::from_str(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
        for kept in ["preferences", "extensions"] {
            assert_eq!(after[kept], original[kept], "{kept}");
        }
        let named = |list: &serde_json::Value, name: &str| {
            list.as_array()
                .and_then(|l| l.iter().find(|e| e["name"] == name).cloned())
                .unwrap_or_default()
        };
        assert_eq!(
            named(&after["clusters"], "kind"),
            named(&original["clusters"], "kind")
        );
        for user in ["kind-admin", "eks"] {
            assert_eq!(
                named(&after["users"], user),
                named(&original["users"], user),
                "{user}"
            );
        }
        assert_eq!(
            named(&after["contexts"], "kind"),
            named(&original["contexts"], "kind")
        );
        assert_eq!(
            named(&after["contexts"], "west")["context"]["user"],
            "alice@example.com@127.0.0.1:17000"
        );
        // The string that looks like a number stays a string.
        assert_eq!(after["extensions"][0]["extension"]["port"], "8443");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_relative_certificate_authority_is_read_from_the_kubeconfigs_directory() {
        let dir = scratch("relative-ca");
        std::fs::create_dir_all(dir.join("certs")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("certs/ca.pem"), "-----BEGIN CA").unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster:\n    server: https://c.example/clusters/east\n    certificate-authority: certs/ca.pem\nusers:\n- name: u\n  user:\n    token: ngc_x\ncontexts:\n- name: east\n  context:\n    cluster: east\n    user: u\ncurrent-context: east\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let file = load(std::slice::from_ref(&path)).unwrap_or_else(|e| panic!("{e}"));
        let target = file
            .target("east", "config")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target.ca_pem.as_deref(), Some(&b"-----BEGIN CA"[..]));
        // Written back as it was: relative.
        save(&path, &file).unwrap_or_else(|e| panic!("{e}"));
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written.contains("certificate-authority: certs/ca.pem"),
            "{written}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn server_flag_keeps_the_contexts_cluster_when_it_names_the_same_console() {
        let dir = scratch("server-flag");
        let path = dir.join("config");
        std::fs::write(&path, ISSUED).unwrap_or_else(|e| panic!("{e}"));
        let selection = |server: &str, context: Option<&str>| Selection {
            kubeconfig: Some(path.clone()),
            context: context.map(str::to_string),
            server: Some(server.into()),
            ..Selection::default()
        };
        let same =
            resolve(&selection("https://127.0.0.1:17000/", None)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            same.cluster.as_deref(),
            Some("east"),
            "the current context's"
        );
        assert_eq!(same.token.as_deref(), Some("ngc_abc"));
        let chosen = resolve(&selection("https://127.0.0.1:17000", Some("global")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chosen.cluster.as_deref(), Some("global"));
        let other =
            resolve(&selection("https://other.example", None)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((other.cluster, other.token), (None, None));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn server_urls_split_into_console_and_cluster() {
        assert_eq!(
            split_server("https://c.example/clusters/east"),
            Some(("https://c.example".into(), "east".into()))
        );
        assert_eq!(
            split_server("https://c.example:8443/clusters/east/"),
            Some(("https://c.example:8443".into(), "east".into()))
        );
        for bad in [
            "https://c.example",
            "https://c.example/clusters/",
            "https://c.example/clusters/east/api",
            "ftp://c.example/clusters/east",
        ] {
            assert_eq!(split_server(bad), None, "{bad}");
        }
        assert_eq!(
            normalise_origin("c.example:8443/admin").ok(),
            Some("https://c.example:8443".into())
        );
        assert!(normalise_origin("https://").is_err());
    }

    proptest! {
        #[test]
        fn any_server_flag_yields_an_origin_or_a_usage_error(server in any::<String>()) {
            match normalise_origin(&server) {
                Ok(origin) => {
                    prop_assert!(origin.starts_with("http://") || origin.starts_with("https://"));
                    let url = url::Url::parse(&origin);
                    prop_assert!(url.is_ok(), "{}", origin);
                }
                Err(e) => prop_assert!(matches!(e, Error::Usage(_))),
            }
        }
    }
}
