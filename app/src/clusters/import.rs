//! Importing a cluster from a kubeconfig: before the console accepts a cluster it connects with
//! the pasted credential, reads `/version`, enforces the management range and checks that the
//! credential has the RBAC the console needs. Each way this can fail has its own message.

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
        "{server} cannot be reached: {reason}. Check the address and that the console's network reaches it."
    )]
    Unreachable { server: String, reason: String },
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
/// context when empty). Only users who may create Cluster resources on the global cluster may
/// ask: the check connects to an address the user supplies.
#[server]
pub async fn check_import(
    kubeconfig: String,
    context: String,
) -> Result<Result<ImportPreview, ImportError>, ConsoleError> {
    use crate::access::{AccessCheck, ssr::cache};
    let identity = crate::auth::identity()?;
    let registry = super::registry()?;
    let create = AccessCheck::new("create", ssr::CLUSTER_GROUP, "clusters");
    let (allowed, _) = cache()?
        .decide(&registry, super::GLOBAL_CLUSTER, &identity, &[create])
        .await?;
    if allowed.first() != Some(&true) {
        return Err(ConsoleError::Forbidden {
            message: format!(
                "{} may not create clusters.{} on the global cluster",
                identity.username,
                ssr::CLUSTER_GROUP
            ),
        }
        .respond());
    }
    Ok(ssr::check(
        &kubeconfig,
        (!context.is_empty()).then_some(context.as_str()),
    )
    .await)
}

/// Checks the cluster as [`check_import`] does and, when it passes, registers it: a Secret with
/// the credential in `nextgen-console-system` and a Cluster resource named `name` on the global
/// cluster, both created as the signed-in user (so the global cluster's RBAC decides).
#[server]
pub async fn register_cluster(
    kubeconfig: String,
    context: String,
    name: String,
) -> Result<Result<ImportPreview, ImportError>, ConsoleError> {
    let identity = crate::auth::identity()?;
    let registry = super::registry()?;
    let context = (!context.is_empty()).then_some(context.as_str());
    if let Err(message) = ssr::valid_name(&name) {
        return Err(ConsoleError::Invalid { message }.respond());
    }
    if registry.list().iter().any(|c| c.name == name) {
        return Err(ConsoleError::Invalid {
            message: format!("a cluster named {name:?} is already registered; choose another name"),
        }
        .respond());
    }
    let preview = match ssr::check(&kubeconfig, context).await {
        Ok(preview) => preview,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let global = registry.client_for(super::GLOBAL_CLUSTER, &identity)?;
    match ssr::register(&global, &kubeconfig, context, &name).await {
        Ok(()) => Ok(Ok(preview)),
        Err(ssr::RegisterError::NotInline) => Err(ConsoleError::Invalid {
            message: "the kubeconfig's credential is not inline: paste the output of `kubectl config view --flatten --raw` (a token, or client-certificate-data and client-key-data)".into(),
        }
        .respond()),
        Err(ssr::RegisterError::Kube(error)) => Err(super::kube_error(super::GLOBAL_CLUSTER, error)),
    }
}

/// Stops managing `name`: deletes its Cluster resource and credential Secret on the global
/// cluster, as the signed-in user. Nothing on the cluster itself is touched.
#[server]
pub async fn remove_cluster(name: String) -> Result<(), ConsoleError> {
    let identity = crate::auth::identity()?;
    let global = super::registry()?.client_for(super::GLOBAL_CLUSTER, &identity)?;
    ssr::remove(&global, &name)
        .await
        .map_err(|e| super::kube_error(super::GLOBAL_CLUSTER, e))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::time::Duration;

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
    use crate::error::innermost;
    use crate::upgrades::matrix::{MANAGED_RANGE, ManagementRangeError, check_management_range};

    /// The API group of the console's own resources (Cluster, ClusterVersionShadow, …).
    pub const CLUSTER_GROUP: &str = crate::clusters::resource::GROUP;
    /// Where the credentials of managed clusters live on the global cluster.
    pub const SYSTEM_NAMESPACE: &str = "nextgen-console-system";

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

    /// Creates the credential Secret and the Cluster resource for a checked kubeconfig.
    pub async fn register(
        global: &Client,
        kubeconfig: &str,
        context: Option<&str>,
        name: &str,
    ) -> Result<(), RegisterError> {
        use k8s_openapi::{ByteString, api::core::v1::Secret};
        use kube::api::ObjectMeta;

        use crate::clusters::resource::{Cluster, ClusterSpec, SecretRef};

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
                ..ObjectMeta::default()
            },
            data: Some(data),
            ..Secret::default()
        };
        Api::<Secret>::namespaced(global.clone(), SYSTEM_NAMESPACE)
            .create(&PostParams::default(), &secret)
            .await?;
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
        Api::<Cluster>::all(global.clone())
            .create(&PostParams::default(), &resource)
            .await?;
        Ok(())
    }

    /// Deletes the Cluster resource and its credential Secret (the Secret may already be gone).
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

    pub async fn check(
        kubeconfig: &str,
        context: Option<&str>,
    ) -> Result<ImportPreview, ImportError> {
        let invalid = |reason: String| ImportError::InvalidKubeconfig { reason };
        let parsed = Kubeconfig::from_yaml(kubeconfig).map_err(|e| invalid(innermost(&e)))?;
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
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = Config::from_custom_kubeconfig(parsed, &options)
            .await
            .map_err(|e| invalid(innermost(&e)))?;
        config.connect_timeout = Some(TIMEOUT);
        config.read_timeout = Some(TIMEOUT);
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let client = Client::try_from(config).map_err(|e| invalid(innermost(&e)))?;

        let info = tokio::time::timeout(TIMEOUT, client.apiserver_version())
            .await
            .map_err(|_| ImportError::Unreachable {
                server: server.clone(),
                reason: format!("no answer within {} s", TIMEOUT.as_secs()),
            })?
            .map_err(|e| classify(&server, &e))?;
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
            if !may(&client, verb, group, resource)
                .await
                .map_err(|e| classify(&server, &e))?
            {
                missing.push(label.to_string());
            }
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingRbac { missing });
        }
        let nodes = Api::<Node>::all(client)
            .list_metadata(&ListParams::default())
            .await
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

    /// A pasted kubeconfig is input from a browser: nothing in it may make the console run a
    /// command, read its own files, skip certificate checks or go through a proxy.
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
            if user.impersonate.is_some() || user.impersonate_groups.is_some() {
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

    /// Tells a certificate problem, a refused credential and an unreachable server apart.
    fn classify(server: &str, error: &kube::Error) -> ImportError {
        let reason = innermost(error);
        if let kube::Error::Api(status) = error
            && status.code == 401
        {
            return ImportError::Unauthorized {
                server: server.into(),
                reason,
            };
        }
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
