//! The server functions of images, at stable endpoints under `/api/images/` (the `ac` CLI calls
//! them with JSON bodies). Each checks the caller's scope on global, then calls `service`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::ConsoleError;
use console_api::image::{
    CronJobRequest, DeleteRequest, DeleteResult, ImageList, ImageQuery, PruneRequest, PruneResult,
};

#[cfg(feature = "ssr")]
mod ssr {
    use crate::{
        ConsoleError,
        images::{
            registry::{PlatformRegistry, RegistryError},
            service::{Caller, Images, Scope, catalog_namespaces, scope_of},
        },
    };
    use leptos::prelude::*;

    /// The registry and clusters of this server.
    pub fn images() -> Result<Images, ConsoleError> {
        let registry = use_context::<PlatformRegistry>().unwrap_or_default();
        if !registry.is_configured() {
            return Err(RegistryError::NotConfigured.into());
        }
        Ok(Images {
            registry,
            clusters: crate::platform::registry()?,
        })
    }

    /// The signed-in user, with the access cache their checks go through.
    pub fn caller() -> Result<Caller, ConsoleError> {
        Ok(Caller {
            identity: crate::platform::identity()?,
            access: crate::access::ssr::cache()?,
        })
    }

    /// What the signed-in user may `verb` (get/list/delete) among the registry's repositories
    /// ([`scope_of`] over the namespaces the repositories name).
    pub async fn scope(
        caller: &Caller,
        verb: &str,
        repositories: &[String],
    ) -> Result<Scope, ConsoleError> {
        scope_of(
            &caller.access,
            &crate::platform::registry()?,
            &caller.identity,
            verb,
            &catalog_namespaces(repositories),
        )
        .await
    }

    pub fn now() -> i64 {
        k8s_openapi::jiff::Timestamp::now().as_second()
    }
}

/// A page of the tags the user may see, with where each runs.
#[server(endpoint = "images/list", input = Json)]
pub async fn list_images(query: ImageQuery) -> Result<ImageList, ConsoleError> {
    let images = ssr::images()?;
    let caller = ssr::caller()?;
    let repositories = images.registry.catalog().await?;
    let scope = ssr::scope(&caller, "list", &repositories).await?;
    images
        .list(Some(&caller), &scope, repositories, &query)
        .await
}

/// Previews (dry run, the default) or carries out (`confirm`) deleting images by path.
#[server(endpoint = "images/delete", input = Json)]
pub async fn delete_images(request: DeleteRequest) -> Result<DeleteResult, ConsoleError> {
    if request.images.is_empty() {
        return Err(ConsoleError::Invalid {
            message: "name at least one image (repository:tag or repository@sha256:…)".into(),
        });
    }
    let images = ssr::images()?;
    let caller = ssr::caller()?;
    let repositories: Vec<String> = request
        .images
        .iter()
        .filter_map(|i| {
            console_api::image::parse_image_path(i, &images.registry.hosts())
                .ok()
                .map(|(r, _)| r)
        })
        .collect();
    let scope = ssr::scope(&caller, "delete", &repositories).await?;
    images.delete(Some(&caller), &scope, &request).await
}

/// Plans (dry run, the default) or carries out (`confirm`) a prune.
#[server(endpoint = "images/prune", input = Json)]
pub async fn prune_images(request: PruneRequest) -> Result<PruneResult, ConsoleError> {
    let images = ssr::images()?;
    let caller = ssr::caller()?;
    let repositories = images.registry.catalog().await?;
    // The namespaces the policy names count even where no repository is yet.
    let mut named = repositories.clone();
    named.extend(request.policy.namespaces.iter().map(|ns| format!("{ns}/")));
    let scope = ssr::scope(&caller, "delete", &named).await?;
    images
        .prune(Some(&caller), &scope, repositories, &request, ssr::now())
        .await
}

/// A CronJob that runs `ac adm prune images` as `request` describes, checked by a server-side
/// dry run on global as the user; YAML, with how to make its Secret in comments on top.
#[server(endpoint = "images/prune-cronjob", input = Json)]
pub async fn prune_cronjob(request: CronJobRequest) -> Result<String, ConsoleError> {
    use k8s_openapi::api::batch::v1::CronJob;
    use kube::api::{Api, PostParams};
    console_api::image::validate_policy(&request.policy)
        .map_err(|message| ConsoleError::Invalid { message })?;
    let image = match &request.image {
        Some(image) if !image.trim().is_empty() => image.trim().to_string(),
        _ => {
            let registry = use_context::<super::registry::PlatformRegistry>().unwrap_or_default();
            match registry.hosts().first() {
                Some(host) => default_image(host),
                None => {
                    return Err(ConsoleError::Invalid {
                        message: "no platform registry is configured to take the ac image from; pass --image with an image that has ac in it".into(),
                    });
                }
            }
        }
    };
    let cronjob = cronjob_manifest(&request, &image)?;
    let typed: CronJob =
        serde_json::from_value(cronjob.clone()).map_err(|e| ConsoleError::Internal {
            message: format!("the CronJob does not parse: {e}"),
        })?;
    let client = crate::platform::client_as_user(crate::platform::GLOBAL_CLUSTER)?;
    Api::<CronJob>::namespaced(client, CRONJOB_NAMESPACE)
        .create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &typed,
        )
        .await
        .map_err(|e| crate::platform::kube_error(crate::platform::GLOBAL_CLUSTER, e))?;
    let yaml = serde_saphyr::to_string(&cronjob).map_err(|e| ConsoleError::Internal {
        message: format!("the CronJob does not render as YAML: {e}"),
    })?;
    Ok(format!("{}{yaml}", secret_instructions(&request)))
}

/// Where the prune CronJob runs on global.
pub const CRONJOB_NAMESPACE: &str = "nextgen-console-system";
/// Where the CronJob's pod finds the Secret's files.
pub const CRONJOB_SECRET_DIR: &str = "/var/run/secrets/ac";

/// The image with `ac` of this console's version in the platform registry at `host`.
pub fn default_image(host: &str) -> String {
    format!("{host}/platform/ac:{}", env!("CARGO_PKG_VERSION"))
}

/// How to make the Secret the CronJob reads, as YAML comments.
pub fn secret_instructions(request: &CronJobRequest) -> String {
    let ca = if request.ca {
        " \\\n#     --from-file=ca.crt=<the console's CA certificate>"
    } else {
        ""
    };
    format!(
        "# Runs `ac adm prune images` against {server} as the user whose console token the Secret\n\
         # {secret} holds (a token from the console's kubeconfig ends with its session; for a lasting\n\
         # schedule an ImagePrunePolicy acts as its author instead). Create the Secret first:\n\
         #   kubectl -n {CRONJOB_NAMESPACE} create secret generic {secret} \\\n\
         #     --from-literal=token=<ngc_… token>{ca}\n",
        server = request.server,
        secret = request.secret,
    )
}

/// The CronJob running the CLI's prune as `request` says (confirmed), with `image`.
pub fn cronjob_manifest(
    request: &CronJobRequest,
    image: &str,
) -> Result<serde_json::Value, ConsoleError> {
    let server = request.server.trim();
    if !(server.starts_with("https://") || server.starts_with("http://")) {
        return Err(ConsoleError::Invalid {
            message: format!(
                "the console address {server:?} for the CronJob is not an http(s) URL; pass --console-url https://<console>"
            ),
        });
    }
    for (what, name) in [
        ("--token-secret", &request.secret),
        ("--service-account", &request.service_account),
    ] {
        if !valid_dns_subdomain(name) {
            return Err(ConsoleError::Invalid {
                message: format!(
                    "{what} {name:?} is not a Kubernetes object name (lowercase letters, digits, '-' and '.')"
                ),
            });
        }
    }
    let policy = &request.policy;
    let mut args: Vec<String> = vec![
        "adm".into(),
        "prune".into(),
        "images".into(),
        "--confirm".into(),
    ];
    if request.gc {
        args.push("--gc".into());
    }
    if let Some(d) = &policy.keep_younger_than {
        args.push(format!("--keep-younger-than={d}"));
    }
    if let Some(n) = policy.keep_newest {
        args.push(format!("--keep-tag-revisions={n}"));
    }
    for p in &policy.allow {
        args.push(format!("--allow={p}"));
    }
    for ns in &policy.namespaces {
        args.push(format!("--namespace={ns}"));
    }
    for c in &policy.exclude_clusters {
        args.push(format!("--exclude-cluster={c}"));
    }
    if policy.all {
        args.push("--all".into());
    }
    let mut env = vec![
        serde_json::json!({"name": "AC_SERVER", "value": server}),
        serde_json::json!({"name": "AC_TOKEN", "valueFrom": {"secretKeyRef": {"name": request.secret, "key": "token"}}}),
        serde_json::json!({"name": "NO_COLOR", "value": "1"}),
    ];
    let mut container = serde_json::json!({
        "name": "prune",
        "image": image,
        "command": ["ac"],
        "args": args,
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]}
        }
    });
    let mut pod = serde_json::json!({
        "restartPolicy": "Never",
        "serviceAccountName": request.service_account,
        "automountServiceAccountToken": false,
        "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
    });
    if request.ca {
        env.push(serde_json::json!({"name": "AC_CERTIFICATE_AUTHORITY", "value": format!("{CRONJOB_SECRET_DIR}/ca.crt")}));
        container["volumeMounts"] =
            serde_json::json!([{"name": "ac", "mountPath": CRONJOB_SECRET_DIR, "readOnly": true}]);
        pod["volumes"] = serde_json::json!([{"name": "ac", "secret": {
            "secretName": request.secret,
            "items": [{"key": "ca.crt", "path": "ca.crt"}]
        }}]);
    }
    container["env"] = serde_json::Value::Array(env);
    pod["containers"] = serde_json::json!([container]);
    Ok(serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "prune-images",
            "namespace": CRONJOB_NAMESPACE,
            "labels": {"app.kubernetes.io/name": "prune-images", "app.kubernetes.io/part-of": "nextgen-console"}
        },
        "spec": {
            "schedule": request.schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": pod}}}
        }
    }))
}

/// A DNS subdomain name (RFC 1123), as most Kubernetes object names are.
fn valid_dns_subdomain(name: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 253 && name.split('.').all(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CronJobRequest {
        CronJobRequest {
            schedule: "0 3 * * *".into(),
            server: "https://console.example".into(),
            secret: "prune-images-ac".into(),
            service_account: "default".into(),
            ..CronJobRequest::default()
        }
    }

    #[test]
    fn the_cronjob_reads_its_server_token_and_ca_from_env_and_its_secret() {
        let mut with_ca = request();
        with_ca.ca = true;
        with_ca.gc = true;
        let job =
            cronjob_manifest(&with_ca, "r:5000/platform/ac:1").unwrap_or_else(|e| panic!("{e}"));
        let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let env = container["env"].to_string();
        assert!(
            env.contains("AC_SERVER") && env.contains("https://console.example"),
            "{env}"
        );
        assert!(
            env.contains("secretKeyRef") && env.contains("AC_TOKEN"),
            "{env}"
        );
        assert!(env.contains("/var/run/secrets/ac/ca.crt"), "{env}");
        assert_eq!(pod["volumes"][0]["secret"]["secretName"], "prune-images-ac");
        assert_eq!(pod["automountServiceAccountToken"], false);
        let args = container["args"].to_string();
        assert!(
            args.contains("--confirm") && args.contains("--gc"),
            "{args}"
        );
        // Without a private CA nothing is mounted; without --gc no collection runs.
        let plain = cronjob_manifest(&request(), "img").unwrap_or_else(|e| panic!("{e}"));
        let pod = &plain["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert!(pod["volumes"].is_null());
        assert!(!pod["containers"][0]["args"].to_string().contains("--gc"));
    }

    #[test]
    fn a_cronjob_without_a_console_address_or_with_bad_names_is_refused() {
        let mut bad = request();
        bad.server = "console.example".into();
        assert!(cronjob_manifest(&bad, "img").is_err());
        let mut bad = request();
        bad.secret = "Not A Name".into();
        let error = cronjob_manifest(&bad, "img")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("--token-secret"), "{error}");
        assert!(
            secret_instructions(&request())
                .lines()
                .all(|l| l.starts_with('#'))
        );
    }
}
