//! Importing a cluster from a kubeconfig: once the user is known to be allowed to register
//! clusters, the console reads the pasted kubeconfig (bounded in size, nothing that runs commands
//! or reads files), refuses link-local and cloud metadata addresses, connects with the pasted
//! credential, reads `/version`, enforces the management range and checks that the credential
//! has the RBAC the console needs. Each way this can fail has its own message.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// What the console found on a cluster it can manage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub context: String,
    pub server: String,
    pub version: String,
    pub nodes: usize,
}

/// Why a cluster cannot be imported, each with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ImportError {
    #[error(
        "the kubeconfig is {size_kib} KiB; the console accepts at most {limit_kib} KiB. Paste only the cluster's context (kubectl config view --minify --flatten --raw)."
    )]
    TooLarge { size_kib: usize, limit_kib: usize },
    #[error("the kubeconfig cannot be read: {reason}. Paste the whole file as kubectl uses it.")]
    InvalidKubeconfig { reason: String },
    #[error(
        "the kubeconfig uses {field}, which would make the console server {what}. Paste a kubeconfig with the CA and credential inline (kubectl config view --flatten --raw) and a token or client certificate."
    )]
    Unsafe { field: String, what: String },
    #[error("the kubeconfig has no context {context:?}; it has {available:?}. Pick one of those.")]
    NoSuchContext {
        context: String,
        available: Vec<String>,
    },
    #[error(
        "{server} is {address}, {what}: the console does not connect there. Use the address of the cluster's API server."
    )]
    ForbiddenAddress {
        server: String,
        address: String,
        what: String,
    },
    #[error(
        "{server} cannot be reached: {reason}. Check the address and that the console's network reaches it."
    )]
    Unreachable { server: String, reason: String },
    #[error(
        "{server} does not answer like a Kubernetes API server ({what}). Check that the kubeconfig's server is the cluster's API server (kubectl cluster-info shows it)."
    )]
    NotKubernetes { server: String, what: String },
    #[error(
        "{server} presents a certificate the kubeconfig's CA does not trust ({reason}). Use the cluster's own CA in certificate-authority-data."
    )]
    UntrustedCertificate { server: String, reason: String },
    #[error(
        "{server} does not accept the kubeconfig's credential ({reason}). Use a current token or client certificate."
    )]
    Unauthorized { server: String, reason: String },
    #[error("cluster reports {version}; the supported range is {range}")]
    VersionOutOfRange { version: String, range: String },
    #[error(
        "the kubeconfig's credential lacks the RBAC the console needs: {missing:?}. Bind the ClusterRole in the README's \"RBAC the console's credential needs\" to it."
    )]
    MissingRbac { missing: Vec<String> },
}

/// Checks whether the console can manage the cluster of `context` in `kubeconfig` (the current
/// context when empty). Only users who may register clusters (create Cluster resources and
/// credential Secrets on the global cluster) may ask, and they are asked first: the check
/// connects to an address the user supplies.
#[server(endpoint = "clusters/check-import")]
pub async fn check_import(
    kubeconfig: String,
    context: String,
) -> Result<Result<ImportPreview, ImportError>, ConsoleError> {
    let identity = crate::platform::identity()?;
    let registry = crate::platform::registry()?;
    ssr::may_register(&registry, &identity).await?;
    Ok(ssr::check(
        &kubeconfig,
        (!context.is_empty()).then_some(context.as_str()),
    )
    .await)
}

/// Checks the cluster as [`check_import`] does and, when it passes, registers it: a Cluster
/// resource named `name` on the global cluster and then, owned by it, a Secret with the
/// credential in `nextgen-console-system`, both created as the signed-in user (so the global
/// cluster's RBAC decides). Nothing is contacted before the user is known to be allowed.
#[server(endpoint = "clusters/register")]
pub async fn register_cluster(
    kubeconfig: String,
    context: String,
    name: String,
) -> Result<Result<ImportPreview, ImportError>, ConsoleError> {
    let identity = crate::platform::identity()?;
    let registry = crate::platform::registry()?;
    ssr::may_register(&registry, &identity).await?;
    let context = (!context.is_empty()).then_some(context.as_str());
    if let Err(message) = ssr::valid_name(&name) {
        return Err(ConsoleError::Invalid { message });
    }
    if registry.list().iter().any(|c| c.name == name) {
        return Err(ConsoleError::Invalid {
            message: format!("a cluster named {name:?} is already registered; choose another name"),
        });
    }
    let preview = match ssr::check(&kubeconfig, context).await {
        Ok(preview) => preview,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let global = registry.client_for(crate::platform::GLOBAL_CLUSTER, &identity)?;
    match ssr::register(&global, &kubeconfig, context, &name).await {
        Ok(()) => Ok(Ok(preview)),
        Err(ssr::RegisterError::NotInline) => Err(ConsoleError::Invalid {
            message: "the kubeconfig's credential is not inline: paste the output of `kubectl config view --flatten --raw` (a token, or client-certificate-data and client-key-data)".into(),
        }),
        Err(ssr::RegisterError::Kube(error)) => Err(crate::platform::kube_error(crate::platform::GLOBAL_CLUSTER, error)),
    }
}

/// Stops managing `name`: deletes its Cluster resource and credential Secret on the global
/// cluster, as the signed-in user. Nothing on the cluster itself is touched.
#[server(endpoint = "clusters/remove")]
pub async fn remove_cluster(name: String) -> Result<(), ConsoleError> {
    let identity = crate::platform::identity()?;
    let global =
        crate::platform::registry()?.client_for(crate::platform::GLOBAL_CLUSTER, &identity)?;
    ssr::remove(&global, &name)
        .await
        .map_err(|e| crate::platform::kube_error(crate::platform::GLOBAL_CLUSTER, e))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::{
        net::{IpAddr, Ipv4Addr, Ipv6Addr},
        time::Duration,
    };

    use k8s_openapi::api::{
        authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        },
        core::v1::Node,
    };
    use kube::{
        Api, Client, Config,
        api::{ListParams, PostParams},
        config::{KubeConfigOptions, Kubeconfig},
    };

    use super::{ImportError, ImportPreview};
    use crate::ConsoleError;
    use crate::error::innermost;
    use crate::platform::registry::ClusterRegistry;
    use console_api::identity::Identity;
    use console_api::matrix::{MANAGED_RANGE, ManagementRangeError, check_management_range};

    /// The API group of the console's own resources (Cluster, ClusterVersionShadow, …).
    pub const CLUSTER_GROUP: &str = crate::clusters::resource::GROUP;
    /// Where the credentials of managed clusters live on the global cluster.
    pub const SYSTEM_NAMESPACE: &str = "nextgen-console-system";
    /// The largest kubeconfig the console reads: real ones are a few KiB; this leaves room for
    /// long certificate chains and many contexts.
    pub const MAX_KUBECONFIG_BYTES: usize = 512 * 1024;

    /// Whether `identity` may register clusters: create Cluster resources and create Secrets in
    /// the system namespace on the global cluster, as that cluster's RBAC answers for the user.
    /// Asked before anything else, so a user who may not never makes the console connect to
    /// an address they chose.
    pub async fn may_register(
        registry: &ClusterRegistry,
        identity: &Identity,
    ) -> Result<(), ConsoleError> {
        use crate::access::{AccessCheck, ssr::cache};
        let checks = [
            AccessCheck::new("create", CLUSTER_GROUP, "clusters"),
            AccessCheck::new("create", "", "secrets").in_namespace(SYSTEM_NAMESPACE),
        ];
        let (allowed, _) = cache()?
            .decide(registry, crate::platform::GLOBAL_CLUSTER, identity, &checks)
            .await?;
        let denied: Vec<String> = checks
            .iter()
            .zip(&allowed)
            .filter(|(_, allowed)| !**allowed)
            .map(|(check, _)| match &check.namespace {
                Some(ns) => format!("create {} in {ns}", check.resource),
                None => format!("create clusters.{CLUSTER_GROUP}"),
            })
            .collect();
        if denied.is_empty() && allowed.len() == checks.len() {
            return Ok(());
        }
        Err(ConsoleError::Forbidden {
            message: format!(
                "{} may not {} on the global cluster, which registering a cluster needs",
                identity.username,
                denied.join(" or ")
            ),
        })
    }

    /// A Cluster name must be a DNS label (it becomes part of URLs and of a Secret's name).
    pub fn valid_name(name: &str) -> Result<(), String> {
        let ok = !name.is_empty()
            && name.len() <= 53
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name != "import";
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{name:?} cannot name a cluster: use 1-53 lowercase letters, digits and '-', starting and ending with a letter or digit (and not \"import\")"
            ))
        }
    }

    fn secret_name(cluster: &str) -> String {
        format!("cluster-{cluster}-credential")
    }

    pub enum RegisterError {
        /// The credential is a file path (or missing), which the console cannot store.
        NotInline,
        Kube(kube::Error),
    }

    impl From<kube::Error> for RegisterError {
        fn from(error: kube::Error) -> Self {
            Self::Kube(error)
        }
    }

    /// Creates the Cluster resource for a checked kubeconfig and then its credential Secret,
    /// owned by that Cluster (the registry uses a credential only from a Secret its Cluster
    /// owns, and deleting the Cluster garbage-collects the Secret). When the Secret cannot be
    /// created, the Cluster is deleted again.
    pub async fn register(
        global: &Client,
        kubeconfig: &str,
        context: Option<&str>,
        name: &str,
    ) -> Result<(), RegisterError> {
        use k8s_openapi::{ByteString, api::core::v1::Secret};
        use kube::api::{DeleteParams, ObjectMeta};

        use crate::clusters::resource::{Cluster, ClusterSpec, SecretRef};
        use crate::platform::credential::credential_owner;

        let parsed = Kubeconfig::from_yaml(kubeconfig).map_err(|_| RegisterError::NotInline)?;
        let context_name = context
            .map(str::to_string)
            .or_else(|| parsed.current_context.clone())
            .or_else(|| parsed.contexts.first().map(|c| c.name.clone()))
            .unwrap_or_default();
        let ctx = parsed
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .and_then(|c| c.context.clone())
            .unwrap_or_default();
        let cluster = parsed
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .and_then(|c| c.cluster.clone())
            .unwrap_or_default();
        let user = parsed
            .auth_infos
            .iter()
            .find(|u| Some(&u.name) == ctx.user.as_ref())
            .and_then(|u| u.auth_info.clone())
            .unwrap_or_default();
        let decode = |b64: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .unwrap_or_default()
        };
        let mut data = std::collections::BTreeMap::new();
        if let Some(token) = &user.token {
            use secrecy::ExposeSecret as _;
            data.insert(
                "token".to_string(),
                ByteString(token.expose_secret().as_bytes().to_vec()),
            );
        }
        if let (Some(cert), Some(key)) = (&user.client_certificate_data, &user.client_key_data) {
            use secrecy::ExposeSecret as _;
            data.insert("tls.crt".to_string(), ByteString(decode(cert)));
            data.insert(
                "tls.key".to_string(),
                ByteString(decode(key.expose_secret())),
            );
        }
        if data.is_empty() {
            return Err(RegisterError::NotInline);
        }
        let resource = Cluster::new(
            name,
            ClusterSpec {
                display_name: None,
                server: cluster.server.unwrap_or_default(),
                ca_data: cluster.certificate_authority_data,
                credential_secret: SecretRef {
                    namespace: SYSTEM_NAMESPACE.into(),
                    name: secret_name(name),
                },
            },
        );
        let clusters = Api::<Cluster>::all(global.clone());
        let created = clusters.create(&PostParams::default(), &resource).await?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(secret_name(name)),
                namespace: Some(SYSTEM_NAMESPACE.into()),
                labels: Some(
                    [(
                        "platform.nextgen-console.io/cluster".to_string(),
                        name.to_string(),
                    )]
                    .into(),
                ),
                owner_references: credential_owner(&created).map(|owner| vec![owner]),
                ..ObjectMeta::default()
            },
            data: Some(data),
            ..Secret::default()
        };
        if let Err(error) = Api::<Secret>::namespaced(global.clone(), SYSTEM_NAMESPACE)
            .create(&PostParams::default(), &secret)
            .await
        {
            // A Cluster without its credential is of no use; leave nothing half registered.
            if let Err(cleanup) = clusters.delete(name, &DeleteParams::default()).await {
                tracing::warn!(cluster = %name, error = %cleanup, "removing a Cluster whose Secret could not be created");
            }
            return Err(error.into());
        }
        Ok(())
    }

    /// Deletes the Cluster resource and its credential Secret (the Secret may already be gone:
    /// it is garbage-collected with its Cluster).
    pub async fn remove(global: &Client, name: &str) -> Result<(), kube::Error> {
        use k8s_openapi::api::core::v1::Secret;
        use kube::api::DeleteParams;

        use crate::clusters::resource::Cluster;

        Api::<Cluster>::all(global.clone())
            .delete(name, &DeleteParams::default())
            .await?;
        match Api::<Secret>::namespaced(global.clone(), SYSTEM_NAMESPACE)
            .delete(&secret_name(name), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(error) => Err(error),
        }
    }
    const TIMEOUT: Duration = Duration::from_secs(5);

    /// What the console's credential must be allowed on a managed cluster (the README lists
    /// the same as a ClusterRole).
    const NEEDED: [(&str, &str, &str, &str); 4] = [
        ("impersonate", "", "users", "impersonate users"),
        ("impersonate", "", "groups", "impersonate groups"),
        ("list", "", "namespaces", "list namespaces"),
        ("list", "", "nodes", "list nodes"),
    ];

    /// Reads a pasted kubeconfig without contacting anything: its size, its YAML, the context
    /// to import (the current one when `context` is `None`) and whether it asks for anything
    /// the console must not do. Returns the parsed kubeconfig and the chosen context's name.
    pub fn parse(
        kubeconfig: &str,
        context: Option<&str>,
    ) -> Result<(Kubeconfig, String), ImportError> {
        if kubeconfig.len() > MAX_KUBECONFIG_BYTES {
            return Err(ImportError::TooLarge {
                size_kib: kubeconfig.len().div_ceil(1024),
                limit_kib: MAX_KUBECONFIG_BYTES / 1024,
            });
        }
        let invalid = |reason: String| ImportError::InvalidKubeconfig { reason };
        let parsed = Kubeconfig::from_yaml(kubeconfig).map_err(|e| invalid(reason_of(&e)))?;
        let available: Vec<String> = parsed.contexts.iter().map(|c| c.name.clone()).collect();
        let context = match context
            .map(str::to_string)
            .or_else(|| parsed.current_context.clone())
        {
            Some(c) if available.contains(&c) => c,
            Some(c) => {
                return Err(ImportError::NoSuchContext {
                    context: c,
                    available,
                });
            }
            None => match available.as_slice() {
                [only] => only.clone(),
                _ => {
                    return Err(ImportError::NoSuchContext {
                        context: String::new(),
                        available,
                    });
                }
            },
        };
        refuse_unsafe(&parsed, &context)?;
        Ok((parsed, context))
    }

    /// An error's innermost cause, or its own text when that is empty (a refusal always says
    /// something).
    fn reason_of(error: &dyn std::error::Error) -> String {
        let inner = innermost(error);
        if inner.trim().is_empty() {
            let outer = error.to_string();
            if outer.trim().is_empty() {
                "it is not a kubeconfig".into()
            } else {
                outer
            }
        } else {
            inner
        }
    }

    pub async fn check(
        kubeconfig: &str,
        context: Option<&str>,
    ) -> Result<ImportPreview, ImportError> {
        let invalid = |reason: String| ImportError::InvalidKubeconfig { reason };
        let (parsed, context) = parse(kubeconfig, context)?;
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = Config::from_custom_kubeconfig(parsed, &options)
            .await
            .map_err(|e| invalid(reason_of(&e)))?;
        config.connect_timeout = Some(TIMEOUT);
        config.read_timeout = Some(TIMEOUT);
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        pin_allowed_address(&mut config, &server).await?;
        let client = Client::try_from(config).map_err(|e| invalid(reason_of(&e)))?;

        let info = tokio::time::timeout(TIMEOUT, client.apiserver_version())
            .await
            .map_err(|_| ImportError::Unreachable {
                server: server.clone(),
                reason: format!("no answer within {} s", TIMEOUT.as_secs()),
            })?
            .map_err(|e| classify(&server, &e))?;
        // Other servers answer `/version` with JSON too (Prometheus does).
        if info.git_version.trim().is_empty() {
            return Err(ImportError::NotKubernetes {
                server,
                what: "its /version answer names no Kubernetes version".into(),
            });
        }
        check_management_range(&info.git_version).map_err(|e| match e {
            ManagementRangeError::OutOfRange { version } => ImportError::VersionOutOfRange {
                version: version.to_string(),
                range: MANAGED_RANGE.into(),
            },
            ManagementRangeError::Unparsable { reported } => ImportError::VersionOutOfRange {
                version: reported,
                range: MANAGED_RANGE.into(),
            },
        })?;

        let mut missing = Vec::new();
        for (verb, group, resource, label) in NEEDED {
            if !tokio::time::timeout(TIMEOUT, may(&client, verb, group, resource))
                .await
                .map_err(|_| ImportError::Unreachable {
                    server: server.clone(),
                    reason: format!("no answer within {} s", TIMEOUT.as_secs()),
                })?
                .map_err(|e| classify(&server, &e))?
            {
                missing.push(label.to_string());
            }
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingRbac { missing });
        }
        let nodes = tokio::time::timeout(
            TIMEOUT,
            Api::<Node>::all(client).list_metadata(&ListParams::default()),
        )
        .await
        .map_err(|_| ImportError::Unreachable {
            server: server.clone(),
            reason: format!("no answer within {} s", TIMEOUT.as_secs()),
        })?
        .map_err(|e| classify(&server, &e))?
        .items
        .len();
        Ok(ImportPreview {
            context,
            server,
            version: info.git_version,
            nodes,
        })
    }

    /// Host names of cloud metadata services (lower case, without a trailing dot).
    const METADATA_HOSTS: [&str; 7] = [
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
    ];
    /// Cloud metadata and platform endpoints outside the link-local ranges.
    const METADATA_V4: [Ipv4Addr; 4] = [
        Ipv4Addr::new(169, 254, 169, 254), // AWS, GCP, Azure, OpenStack, …
        Ipv4Addr::new(100, 100, 100, 200), // Alibaba Cloud
        Ipv4Addr::new(168, 63, 129, 16),   // Azure wire server
        Ipv4Addr::new(192, 0, 0, 192),     // Oracle Cloud (legacy)
    ];
    const METADATA_V6: [Ipv6Addr; 2] = [
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254), // AWS (IPv6)
        Ipv6Addr::new(0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254),  // GCP (IPv6)
    ];

    /// Why the console refuses to connect to `ip`, if it does: cloud metadata services and
    /// link-local addresses (169.254.0.0/16, fe80::/10) hand out the console host's own
    /// credentials or reach its local network, never a cluster's API server.
    pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
        let ip = match ip.to_canonical() {
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            IpAddr::V6(v6) if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] => {
                let [.., a, b, c, d] = v6.octets();
                IpAddr::V4(Ipv4Addr::new(a, b, c, d))
            }
            other => other,
        };
        match ip {
            IpAddr::V4(v4) if METADATA_V4.contains(&v4) => Some("a cloud metadata address"),
            IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
            IpAddr::V6(v6) if METADATA_V6.contains(&v6) => Some("a cloud metadata address"),
            IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("a link-local address"),
            _ => None,
        }
    }

    /// Refuses a server whose host is a cloud metadata name or resolves to any forbidden
    /// address, and otherwise makes `config` connect to the address just checked (with the host
    /// name kept for TLS), so a name that resolves differently a moment later (DNS rebinding)
    /// cannot take the connection elsewhere.
    async fn pin_allowed_address(config: &mut Config, server: &str) -> Result<(), ImportError> {
        let uri = config.cluster_url.clone();
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let refuse = |address: String, what: &str| ImportError::ForbiddenAddress {
            server: server.into(),
            address,
            what: what.into(),
        };
        if host.is_empty() {
            return Err(ImportError::InvalidKubeconfig {
                reason: format!("the server {server:?} names no host"),
            });
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if METADATA_HOSTS.contains(&name.as_str()) {
            return Err(refuse(host, "the name of a cloud metadata service"));
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return match forbidden_address(ip) {
                Some(what) => Err(refuse(ip.to_string(), what)),
                None => Ok(()),
            };
        }
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        let unreachable = |reason: String| ImportError::Unreachable {
            server: server.into(),
            reason,
        };
        let addresses: Vec<std::net::SocketAddr> =
            tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((name.as_str(), port)))
                .await
                .map_err(|_| {
                    unreachable(format!(
                        "{host} did not resolve within {} s",
                        TIMEOUT.as_secs()
                    ))
                })?
                .map_err(|e| unreachable(format!("{host} does not resolve: {e}")))?
                .collect();
        if let Some((ip, what)) = addresses
            .iter()
            .find_map(|a| forbidden_address(a.ip()).map(|what| (a.ip(), what)))
        {
            return Err(refuse(format!("{host} ({ip})"), what));
        }
        // The first address that accepts a connection, as an HTTP client tries them in turn.
        let mut last_error = format!("{host} resolves to no address");
        let mut reachable = None;
        for address in &addresses {
            match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(address)).await {
                Ok(Ok(_)) => {
                    reachable = Some(*address);
                    break;
                }
                Ok(Err(e)) => last_error = format!("{address}: {e}"),
                Err(_) => {
                    last_error = format!("{address}: no answer within {} s", TIMEOUT.as_secs())
                }
            }
        }
        let Some(first) = reachable else {
            return Err(unreachable(last_error));
        };
        let authority = match first.ip() {
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        };
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let pinned = format!(
            "{}://{authority}{path}",
            uri.scheme_str().unwrap_or("https")
        );
        config.cluster_url = pinned.parse().map_err(|e| ImportError::InvalidKubeconfig {
            reason: format!("the server {server:?}: {e}"),
        })?;
        if config.tls_server_name.is_none() {
            config.tls_server_name = Some(host);
        }
        Ok(())
    }

    /// A pasted kubeconfig is input from a browser: nothing in it may make the console run a
    /// command, read its own files, skip certificate checks, go through a proxy or act as
    /// someone else.
    pub fn refuse_unsafe(kubeconfig: &Kubeconfig, context: &str) -> Result<(), ImportError> {
        let refuse = |field: &str, what: &str| {
            Err(ImportError::Unsafe {
                field: field.into(),
                what: what.into(),
            })
        };
        let ctx = kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.context.clone())
            .unwrap_or_default();
        if let Some(user) = kubeconfig
            .auth_infos
            .iter()
            .find(|u| Some(&u.name) == ctx.user.as_ref())
            .and_then(|u| u.auth_info.as_ref())
        {
            if user.exec.is_some() {
                return refuse("an exec credential plugin", "run a command");
            }
            if user.auth_provider.is_some() {
                return refuse("an auth-provider", "run a credential plugin");
            }
            if user.token_file.is_some()
                || user.client_certificate.is_some()
                || user.client_key.is_some()
            {
                return refuse("file paths for the credential", "read its own files");
            }
            if user.impersonate.is_some()
                || user.impersonate_uid.is_some()
                || user.impersonate_groups.is_some()
                || user.impersonate_user_extra.is_some()
            {
                return refuse("impersonation", "act as someone else than the credential");
            }
        }
        if let Some(cluster) = kubeconfig
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .and_then(|c| c.cluster.as_ref())
        {
            if cluster.certificate_authority.is_some() {
                return refuse("a file path for the CA", "read its own files");
            }
            if cluster.insecure_skip_tls_verify == Some(true) {
                return refuse("insecure-skip-tls-verify", "trust any certificate");
            }
            if cluster.proxy_url.is_some() {
                return refuse(
                    "a proxy-url",
                    "connect through a proxy the kubeconfig names",
                );
            }
        }
        Ok(())
    }

    async fn may(
        client: &Client,
        verb: &str,
        group: &str,
        resource: &str,
    ) -> Result<bool, kube::Error> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        Ok(Api::<SelfSubjectAccessReview>::all(client.clone())
            .create(&PostParams::default(), &review)
            .await?
            .status
            .is_some_and(|s| s.allowed))
    }

    /// The `reason` kube-rs gives a Status it made up because an error answer was not a
    /// Kubernetes Status (HTML, plain text).
    const NOT_A_STATUS: &str = "Failed to parse error data";

    /// Tells apart a server that is not a Kubernetes API server, a certificate problem, a
    /// refused credential and an unreachable server. What a server that is not an API server
    /// answered is not repeated: the user chose the address, not what lives there.
    fn classify(server: &str, error: &kube::Error) -> ImportError {
        match error {
            kube::Error::SerdeError(_) => {
                return ImportError::NotKubernetes {
                    server: server.into(),
                    what: "its answer is not the JSON a Kubernetes API server sends".into(),
                };
            }
            kube::Error::Api(status)
                if status.reason == NOT_A_STATUS
                    || (status.reason.is_empty() && status.message.is_empty()) =>
            {
                return ImportError::NotKubernetes {
                    server: server.into(),
                    what: format!(
                        "it answered HTTP {} without a Kubernetes status",
                        status.code
                    ),
                };
            }
            kube::Error::Api(status) if status.code == 401 => {
                return ImportError::Unauthorized {
                    server: server.into(),
                    reason: innermost(error),
                };
            }
            _ => {}
        }
        let reason = innermost(error);
        let lower = format!("{error:?}").to_lowercase();
        if lower.contains("certificate")
            || lower.contains("unknownissuer")
            || lower.contains("invalidcertificate")
        {
            ImportError::UntrustedCertificate {
                server: server.into(),
                reason,
            }
        } else {
            ImportError::Unreachable {
                server: server.into(),
                reason,
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::{ImportError, ssr::check};

    fn kubeconfig(cluster_extra: &str, user: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:9\", {cluster_extra}}}\nusers:\n- name: u\n  user: {{{user}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n"
        )
    }

    #[tokio::test]
    async fn a_pasted_kubeconfig_cannot_make_the_server_run_commands_read_files_or_skip_tls() {
        let marker = std::env::temp_dir().join(format!("ngc-exec-{}", std::process::id()));
        let exec = format!(
            "exec: {{apiVersion: client.authentication.k8s.io/v1, command: /bin/touch, args: [{}]}}",
            marker.display()
        );
        let ca = "certificate-authority-data: Zm9v";
        let cases = [
            (ca, exec.as_str(), "exec"),
            (ca, "tokenFile: /etc/shadow", "file paths"),
            (
                ca,
                "client-certificate: /etc/x.crt, client-key: /etc/x.key",
                "file paths",
            ),
            (
                "certificate-authority: /etc/ssl/certs/ca.pem",
                "token: t",
                "file path for the CA",
            ),
            (
                "insecure-skip-tls-verify: true",
                "token: t",
                "insecure-skip-tls-verify",
            ),
            (
                "certificate-authority-data: Zm9v, proxy-url: \"http://127.0.0.1:3128\"",
                "token: t",
                "proxy-url",
            ),
            (ca, "token: t, as: system:admin", "impersonation"),
        ];
        for (cluster, user, field) in cases {
            match check(&kubeconfig(cluster, user), None).await {
                Err(ImportError::Unsafe { field: found, .. }) => {
                    assert!(found.contains(field), "{user}: {found}")
                }
                other => panic!("{cluster} / {user}: expected Unsafe, got {other:?}"),
            }
        }
        assert!(!marker.exists(), "the exec plugin ran");
        // Inline data passes this check (and then fails for the honest reason: nothing listens).
        let inline = kubeconfig(ca, "token: t");
        assert!(!matches!(
            check(&inline, None).await,
            Err(ImportError::Unsafe { .. })
        ));
    }
}

#[cfg(all(test, feature = "ssr"))]
mod address_tests {
    use std::net::IpAddr;

    use super::{
        ImportError,
        ssr::{MAX_KUBECONFIG_BYTES, check, forbidden_address},
    };

    fn at(server: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{server}\", certificate-authority-data: Zm9v}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n"
        )
    }

    #[test]
    fn link_local_and_metadata_addresses_are_forbidden_and_others_are_not() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{s}: {e}"));
        for forbidden in [
            "169.254.169.254",
            "169.254.0.1",
            "169.254.170.2",
            "100.100.100.200",
            "168.63.129.16",
            "fe80::1",
            "febf::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(forbidden_address(ip(forbidden)).is_some(), "{forbidden}");
        }
        for allowed in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.1.10",
            "::1",
            "fd00::1",
            "2001:db8::1",
        ] {
            assert_eq!(forbidden_address(ip(allowed)), None, "{allowed}");
        }
    }

    #[tokio::test]
    async fn metadata_and_link_local_servers_are_refused_without_connecting() {
        for server in [
            "http://169.254.169.254",
            "https://169.254.169.254:443/latest",
            "https://[fd00:ec2::254]",
            "https://[fe80::1]:6443",
            "https://169.254.10.10:6443",
            "http://metadata.google.internal",
            "https://metadata.goog.",
            "https://METADATA.google.internal:8443",
        ] {
            match check(&at(server), None).await {
                Err(ImportError::ForbiddenAddress { what, .. }) => {
                    assert!(
                        what.contains("metadata") || what.contains("link-local"),
                        "{what}"
                    )
                }
                other => panic!("{server}: expected ForbiddenAddress, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_host_name_is_checked_by_every_address_it_resolves_to() {
        // localhost resolves to loopback, which is allowed: the refusal is for the closed
        // port, not for the address.
        let refusal = check(&at("https://localhost:9"), None).await;
        assert!(
            matches!(refusal, Err(ImportError::Unreachable { .. })),
            "{refusal:?}"
        );
        let refusal = check(&at("https://no-such-host.invalid:6443"), None).await;
        match refusal {
            Err(ImportError::Unreachable { reason, .. }) => {
                assert!(reason.contains("does not resolve"), "{reason}")
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_oversized_kubeconfig_is_refused_with_the_limit() {
        let mut big = at("https://127.0.0.1:9");
        big.push('#');
        big.push_str(&"x".repeat(MAX_KUBECONFIG_BYTES));
        let refusal = check(&big, None).await;
        assert_eq!(
            refusal,
            Err(ImportError::TooLarge {
                size_kib: big.len().div_ceil(1024),
                limit_kib: 512
            })
        );
        let message = refusal.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("512 KiB"), "{message}");
    }
}

/// Property tests of the kubeconfig import's parser: whatever is pasted, it never panics and
/// every refusal says why; a kubeconfig whose chosen context uses anything that would make the
/// console run commands, read its files, skip TLS checks, use a proxy or impersonate is always
/// refused, wherever in the file that field sits.
#[cfg(all(test, feature = "ssr"))]
mod parser_properties {
    use proptest::prelude::*;

    use super::{ImportError, ssr::parse};

    /// Whether a refusal says something in each of its parts.
    fn says_why(error: &ImportError) -> bool {
        let parts_said = match error {
            ImportError::InvalidKubeconfig { reason } => !reason.trim().is_empty(),
            ImportError::Unsafe { field, what } => !field.is_empty() && !what.is_empty(),
            ImportError::NoSuchContext { .. } | ImportError::TooLarge { .. } => true,
            other => panic!("the parser cannot refuse with {other:?}: it connects nowhere"),
        };
        parts_said && error.to_string().len() > 40
    }

    /// Pieces of YAML and of kubeconfigs, put together in any order.
    fn yamlish() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            Just("apiVersion: v1\n".to_string()),
            Just("kind: Config\n".to_string()),
            Just("clusters:\n".to_string()),
            Just("users:\n".to_string()),
            Just("contexts:\n".to_string()),
            Just("current-context: c\n".to_string()),
            Just("- name: c\n".to_string()),
            Just("- name: u\n".to_string()),
            Just("  cluster: {server: \"https://127.0.0.1:9\"}\n".to_string()),
            Just("  user: {token: t}\n".to_string()),
            Just("  context: {cluster: c, user: u}\n".to_string()),
            Just("  exec: {command: /bin/true}\n".to_string()),
            Just("---\n".to_string()),
            Just("&a ".to_string()),
            Just("*a".to_string()),
            Just("<<: *a\n".to_string()),
            Just("!!binary ".to_string()),
            Just("? ".to_string()),
            Just(": ".to_string()),
            Just("- ".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("\"".to_string()),
            Just("'".to_string()),
            Just("|\n".to_string()),
            Just("\t".to_string()),
            Just("  ".to_string()),
            Just("\n".to_string()),
            Just("~".to_string()),
            Just("null".to_string()),
            "[a-z0-9:/._-]{0,12}",
            any::<String>(),
        ];
        prop::collection::vec(token, 0..48).prop_map(|parts| parts.concat())
    }

    /// A YAML value written either in block or in flow style.
    #[derive(Clone, Debug)]
    enum Y {
        Map(Vec<(String, Y)>),
        Seq(Vec<Y>),
        Str(String),
        Bool(bool),
    }

    impl Y {
        fn str(s: &str) -> Y {
            Y::Str(s.to_string())
        }

        fn flow(&self) -> String {
            match self {
                Y::Map(entries) => format!(
                    "{{{}}}",
                    entries
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", v.flow()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Y::Seq(items) => format!(
                    "[{}]",
                    items.iter().map(Y::flow).collect::<Vec<_>>().join(", ")
                ),
                Y::Str(s) => serde_json::Value::String(s.clone()).to_string(),
                Y::Bool(b) => b.to_string(),
            }
        }

        /// Block style at `indent`, as the value of a key (or item of a list).
        fn block(&self, indent: usize) -> String {
            let pad = " ".repeat(indent);
            match self {
                Y::Map(entries) if !entries.is_empty() => entries
                    .iter()
                    .map(|(k, v)| match v {
                        Y::Map(m) if !m.is_empty() => format!("\n{pad}{k}:{}", v.block(indent + 2)),
                        Y::Seq(s) if !s.is_empty() => format!("\n{pad}{k}:{}", v.block(indent)),
                        _ => format!("\n{pad}{k}: {}", v.flow()),
                    })
                    .collect(),
                Y::Seq(items) if !items.is_empty() => items
                    .iter()
                    .map(|item| match item {
                        Y::Map(m) if !m.is_empty() => {
                            let inner = item.block(indent + 2);
                            // The first key goes on the dash's line.
                            format!("\n{pad}- {}", inner.trim_start())
                        }
                        _ => format!("\n{pad}- {}", item.flow()),
                    })
                    .collect(),
                other => format!(" {}", other.flow()),
            }
        }
    }

    /// Fields that must never be accepted in the chosen context's user.
    fn unsafe_user_field() -> impl Strategy<Value = (String, Y)> {
        prop_oneof![
            Just((
                "exec".to_string(),
                Y::Map(vec![
                    (
                        "apiVersion".into(),
                        Y::str("client.authentication.k8s.io/v1")
                    ),
                    ("command".into(), Y::str("/bin/touch")),
                    (
                        "args".into(),
                        Y::Seq(vec![Y::str("/tmp/ngc-proptest-exec")])
                    ),
                ])
            )),
            Just((
                "auth-provider".to_string(),
                Y::Map(vec![
                    ("name".into(), Y::str("oidc")),
                    (
                        "config".into(),
                        Y::Map(vec![("idp-issuer-url".into(), Y::str("https://x"))])
                    ),
                ])
            )),
            Just(("tokenFile".to_string(), Y::str("/etc/shadow"))),
            Just(("client-certificate".to_string(), Y::str("/etc/x.crt"))),
            Just(("client-key".to_string(), Y::str("/etc/x.key"))),
            Just(("as".to_string(), Y::str("system:admin"))),
            Just(("as-uid".to_string(), Y::str("0"))),
            Just((
                "as-groups".to_string(),
                Y::Seq(vec![Y::str("system:masters")])
            )),
            Just((
                "as-user-extra".to_string(),
                Y::Map(vec![("scopes".into(), Y::Seq(vec![Y::str("all")]))])
            )),
        ]
    }

    /// Fields that must never be accepted in the chosen context's cluster.
    fn unsafe_cluster_field() -> impl Strategy<Value = (String, Y)> {
        prop_oneof![
            Just((
                "certificate-authority".to_string(),
                Y::str("/etc/ssl/ca.pem")
            )),
            Just(("insecure-skip-tls-verify".to_string(), Y::Bool(true))),
            Just(("proxy-url".to_string(), Y::str("http://127.0.0.1:3128"))),
        ]
    }

    fn safe_user() -> Vec<(String, Y)> {
        vec![
            ("token".into(), Y::str("t")),
            ("client-certificate-data".into(), Y::str("Zm9v")),
            ("client-key-data".into(), Y::str("Zm9v")),
        ]
    }

    fn safe_cluster(i: usize) -> Vec<(String, Y)> {
        vec![
            (
                "server".into(),
                Y::Str(format!("https://127.0.0.1:{}", 6443 + i)),
            ),
            ("certificate-authority-data".into(), Y::str("Zm9v")),
            ("tls-server-name".into(), Y::str("kubernetes")),
        ]
    }

    /// A kubeconfig of several clusters, users and contexts in which the chosen context's user
    /// or cluster carries one unsafe field at a generated position; and that context's name
    /// (passed explicitly or as the current context).
    /// The same kubeconfig without the unsafe field comes along, to show the generator writes
    /// kubeconfigs the parser accepts.
    fn unsafe_kubeconfig() -> impl Strategy<Value = (String, String, Option<String>)> {
        (
            1usize..4,
            1usize..4,
            1usize..4,
            any::<prop::sample::Index>(),
            any::<bool>(),
            prop_oneof![
                unsafe_user_field().prop_map(|f| (true, f)),
                unsafe_cluster_field().prop_map(|f| (false, f)),
            ],
            any::<prop::sample::Index>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(
                (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
                4,
            ),
        )
            .prop_map(
                |(
                    clusters,
                    users,
                    contexts,
                    chosen,
                    as_current,
                    (in_user, field),
                    at,
                    flow,
                    split,
                    chosen_last,
                    wiring,
                )| {
                    let chosen = chosen.index(contexts);
                    // Context i uses cluster wiring[i].0 and user wiring[i].1.
                    let wire: Vec<(usize, usize)> = (0..contexts)
                        .map(|i| (wiring[i].0.index(clusters), wiring[i].1.index(users)))
                        .collect();
                    let (bad_cluster, bad_user) = wire[chosen];
                    let build = |with_field: bool| {
                        let insert = |mut entries: Vec<(String, Y)>| {
                            let i = at.index(entries.len() + 1);
                            if with_field {
                                entries.insert(i, field.clone());
                            }
                            entries
                        };
                        let cluster_list: Vec<Y> = (0..clusters)
                            .map(|i| {
                                let mut fields = safe_cluster(i);
                                if !in_user && i == bad_cluster {
                                    fields = insert(fields);
                                }
                                Y::Map(vec![
                                    ("name".into(), Y::Str(format!("c{i}"))),
                                    ("cluster".into(), Y::Map(fields)),
                                ])
                            })
                            .collect();
                        let user_list: Vec<Y> = (0..users)
                            .map(|i| {
                                let mut fields = safe_user();
                                if in_user && i == bad_user {
                                    fields = insert(fields);
                                }
                                Y::Map(vec![
                                    ("name".into(), Y::Str(format!("u{i}"))),
                                    ("user".into(), Y::Map(fields)),
                                ])
                            })
                            .collect();
                        let mut context_list: Vec<Y> = wire
                            .iter()
                            .enumerate()
                            .map(|(i, (c, u))| {
                                Y::Map(vec![
                                    ("name".into(), Y::Str(format!("x{i}"))),
                                    (
                                        "context".into(),
                                        Y::Map(vec![
                                            ("cluster".into(), Y::Str(format!("c{c}"))),
                                            ("user".into(), Y::Str(format!("u{u}"))),
                                        ]),
                                    ),
                                ])
                            })
                            .collect();
                        if chosen_last {
                            context_list.reverse();
                        }
                        let name = format!("x{chosen}");
                        let head = vec![
                            ("apiVersion".to_string(), Y::str("v1")),
                            ("kind".to_string(), Y::str("Config")),
                        ];
                        let mut sections = vec![
                            ("clusters".to_string(), Y::Seq(cluster_list)),
                            ("users".to_string(), Y::Seq(user_list)),
                            ("contexts".to_string(), Y::Seq(context_list)),
                        ];
                        if as_current {
                            sections.push(("current-context".to_string(), Y::Str(name.clone())));
                        }
                        let render = |entries: Vec<(String, Y)>| {
                            let doc = Y::Map(entries);
                            if flow { doc.flow() } else { doc.block(0) }
                        };
                        if split {
                            // Users in a second YAML document: kubectl (and kube-rs) merge them.
                            let users = sections.remove(1);
                            let mut first = head.clone();
                            first.extend(sections);
                            let mut second = head;
                            second.push(users);
                            format!("{}\n---\n{}\n", render(first), render(second))
                        } else {
                            let mut all = head;
                            all.extend(sections);
                            render(all)
                        }
                    };
                    let name = format!("x{chosen}");
                    (build(true), build(false), (!as_current).then_some(name))
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_input_never_panics_and_every_refusal_says_why(
            input in yamlish(),
            context in proptest::option::of("[a-z0-9]{0,3}"),
        ) {
            if let Err(refusal) = parse(&input, context.as_deref()) {
                prop_assert!(says_why(&refusal), "{refusal:?} / {refusal}");
            }
        }

        #[test]
        fn an_unsafe_field_in_the_chosen_context_is_always_refused(
            (kubeconfig, without, context) in unsafe_kubeconfig(),
        ) {
            let accepted = parse(&without, context.as_deref());
            prop_assert!(accepted.is_ok(), "{accepted:?}\n{without}");
            let refusal = parse(&kubeconfig, context.as_deref());
            prop_assert!(
                matches!(refusal, Err(ImportError::Unsafe { .. })),
                "{refusal:?}\n{kubeconfig}"
            );
        }
    }

    #[test]
    fn nested_aliases_are_refused_in_bounded_time() {
        // "Billion laughs": each level repeats the previous one nine times.
        let mut text = String::from("a0: &a0 [\"lol\"]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
            ));
        }
        text.push_str("clusters: *a11\n");
        let started = std::time::Instant::now();
        let outcome = parse(&text, None);
        assert!(outcome.is_err(), "{outcome:?}");
        assert!(
            // 9^11 expansions unbounded; the parser's alias budget stops it (about 2 s in a
            // debug build, well under that in release).
            started.elapsed() < std::time::Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
    }
}
