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
    use crate::upgrades::matrix::{MANAGED_RANGE, ManagementRangeError, check_management_range};

    /// The API group of the console's own resources (Cluster, ClusterVersionShadow, …).
    pub const CLUSTER_GROUP: &str = "platform.nextgen-console.io";
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

    fn innermost(error: &dyn std::error::Error) -> String {
        let mut source = error;
        while let Some(next) = source.source() {
            source = next;
        }
        source.to_string()
    }
}
