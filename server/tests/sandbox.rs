//! The sandbox's parts, checked against themselves: real control planes with kwok nodes run
//! Deployments, Dex signs a demo user in through a real authorization-code flow, the registry
//! takes a pushed image and collects garbage, Prometheus holds apiserver series.

mod support;

use std::time::Duration;

use k8s_openapi::api::{
    apps::v1::{Deployment, DeploymentSpec},
    core::v1::{Container, Node, Pod, PodSpec, PodTemplateSpec},
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{
    Api,
    api::{ListParams, ObjectMeta, PostParams},
    runtime::wait::{Condition, await_condition},
};
use support::{TestNamespace, sandbox};

#[tokio::test]
async fn every_cluster_runs_the_pinned_version_with_ready_nodes() {
    let sandbox = sandbox();
    assert_eq!(sandbox.clusters.len(), 3, "global, east and west");
    for cluster in &sandbox.clusters {
        let client = cluster.admin_client().await;
        let version = client
            .apiserver_version()
            .await
            .unwrap_or_else(|e| panic!("{}: /version: {e}", cluster.name));
        assert_eq!(version.git_version, sandbox.version, "{}", cluster.name);
        let nodes = Api::<Node>::all(client)
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{}: nodes: {e}", cluster.name));
        let ready = nodes
            .items
            .iter()
            .filter(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        assert_eq!(ready, cluster.nodes, "{}: Ready nodes", cluster.name);
    }
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    let labels = std::collections::BTreeMap::from([("app".to_string(), name.to_string())]);
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "web".into(),
                        image: Some("registry.example/web:1.0".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn is_available() -> impl Condition<Deployment> {
    |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Available" && c.status == "True")
            })
            && d.and_then(|d| d.status.as_ref())
                .and_then(|s| s.ready_replicas)
                == Some(3)
    }
}

#[tokio::test]
async fn a_deployment_becomes_available_with_running_pods_on_each_workload_cluster() {
    let sandbox = sandbox();
    let runs = sandbox.workload_clusters().map(|cluster| async move {
        let ns = TestNamespace::create(cluster, "deploy").await;
        let client = cluster.admin_client().await;
        let deployments = Api::<Deployment>::namespaced(client.clone(), &ns.name);
        deployments
            .create(&PostParams::default(), &deployment("web", 3))
            .await
            .unwrap_or_else(|e| panic!("{}: create Deployment: {e}", cluster.name));
        tokio::time::timeout(
            Duration::from_secs(90),
            await_condition(deployments, "web", is_available()),
        )
        .await
        .unwrap_or_else(|_| panic!("{}: Deployment not Available within 90 s", cluster.name))
        .unwrap_or_else(|e| panic!("{}: watching the Deployment: {e}", cluster.name));

        let pods = Api::<Pod>::namespaced(client, &ns.name)
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap_or_else(|e| panic!("{}: pods: {e}", cluster.name));
        assert_eq!(pods.items.len(), 3, "{}: pods", cluster.name);
        for pod in &pods.items {
            let status = pod.status.as_ref();
            assert_eq!(
                status.and_then(|s| s.phase.as_deref()),
                Some("Running"),
                "{}",
                cluster.name
            );
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or_default();
            assert!(
                node.starts_with(&format!("{}-node-", cluster.name)),
                "{}: pod scheduled on {node}",
                cluster.name
            );
        }
        ns
    });
    let namespaces = futures::future::join_all(runs).await;
    assert_eq!(namespaces.len(), 2, "east and west");
}

/// Claims this test reads from the verified ID token's payload (openidconnect checked its
/// signature, issuer, audience, expiry and nonce first).
#[derive(serde::Deserialize)]
struct GroupsClaim {
    groups: Vec<String>,
}

#[tokio::test]
async fn a_demo_user_signs_in_at_dex_and_the_id_token_validates() {
    use openidconnect::{
        AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
        core::{CoreClient, CoreProviderMetadata, CoreResponseType},
    };

    let sandbox = sandbox();
    let http = sandbox.browser();
    let issuer = IssuerUrl::new(sandbox.oidc.issuer.clone()).unwrap_or_else(|e| panic!("{e}"));
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap_or_else(|e| panic!("discovery at {}: {e}", sandbox.oidc.issuer));
    let secret = std::fs::read_to_string(&sandbox.oidc.client_secret_file)
        .unwrap_or_else(|e| panic!("client secret: {e}"));
    let redirect_uri = format!("http://127.0.0.1:{}/auth/callback", sandbox.console_port);
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(sandbox.oidc.client_id.clone()),
        Some(ClientSecret::new(secret.trim().to_string())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).unwrap_or_else(|e| panic!("{e}")));

    let alice = sandbox.user("alice");
    let authorize = |client: &CoreClient<_, _, _, _, _, _>| {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("groups".into()))
            .set_pkce_challenge(challenge)
            .url();
        (url, state, nonce, verifier)
    };

    // A wrong password is refused at the provider: no redirect back with a code.
    let (url, _, _, _) = authorize(&client);
    let refused = support::sign_in_at_dex(
        &sandbox.browser(),
        url.as_str(),
        &redirect_uri,
        &alice.email,
        "wrong",
    )
    .await;
    assert!(
        refused.is_err(),
        "a wrong password must not yield a code: {refused:?}"
    );

    let (url, state, nonce, verifier) = authorize(&client);
    let callback = support::sign_in_at_dex(
        &http,
        url.as_str(),
        &redirect_uri,
        &alice.email,
        &alice.password,
    )
    .await
    .unwrap_or_else(|e| panic!("sign-in as alice: {e}"));
    let params: std::collections::HashMap<_, _> = callback.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("state").map(String::as_str),
        Some(state.secret().as_str()),
        "state"
    );
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {callback}"));

    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap_or_else(|e| panic!("{e}"))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e}"));
    let id_token = token.id_token().unwrap_or_else(|| panic!("no ID token"));
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token does not validate: {e}"));
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some(alice.email.as_str())
    );
    assert_eq!(claims.issuer().as_str(), sandbox.oidc.issuer);

    // The same token with another nonce is refused: the check is real.
    assert!(
        id_token
            .claims(&client.id_token_verifier(), &Nonce::new("other".into()))
            .is_err()
    );

    let payload = id_token
        .to_string()
        .split('.')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_default();
    let payload = base64_url_decode(&payload);
    let groups: GroupsClaim =
        serde_json::from_slice(&payload).unwrap_or_else(|e| panic!("groups claim: {e}"));
    assert_eq!(groups.groups, alice.groups);
}

fn base64_url_decode(input: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(input.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("base64: {e}"))
}

/// A one-file layer (an uncompressed tar) made in the test, so each tag has content of its own.
fn layer_tar(name: &str, content: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, name, content)
        .unwrap_or_else(|e| panic!("tar: {e}"));
    builder.into_inner().unwrap_or_else(|e| panic!("tar: {e}"))
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn an_image_is_pushed_listed_deleted_and_garbage_collected() {
    use oci_client::{
        Client, Reference,
        client::{ClientConfig, ClientProtocol, Config, ImageLayer},
        manifest::{IMAGE_LAYER_MEDIA_TYPE, OciImageManifest},
        secrets::RegistryAuth,
    };

    let sandbox = sandbox();
    let host = sandbox.registry.trim_start_matches("http://");
    let repo = format!("ngc-test/hello-{}", std::process::id());
    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    });
    let auth = RegistryAuth::Anonymous;

    let mut layer_digests = Vec::new();
    for tag in ["v1", "v2"] {
        let reference: Reference = format!("{host}/{repo}:{tag}")
            .parse()
            .unwrap_or_else(|e| panic!("reference: {e}"));
        let tar = layer_tar(
            "hello.txt",
            format!("hello from {tag} of {repo}\n").as_bytes(),
        );
        layer_digests.push(sha256_digest(&tar));
        let layer = ImageLayer::new(tar, IMAGE_LAYER_MEDIA_TYPE.to_string(), None);
        let config = Config::oci_v1(
            serde_json::to_vec(&serde_json::json!({
                "architecture": "amd64", "os": "linux",
                "config": {"Cmd": ["/hello"]},
                "rootfs": {"type": "layers", "diff_ids": [layer_digests.last()]},
            }))
            .unwrap_or_default(),
            None,
        );
        let manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
        client
            .push(&reference, &[layer], config, &auth, Some(manifest))
            .await
            .unwrap_or_else(|e| panic!("push {reference}: {e}"));
    }

    let any: Reference = format!("{host}/{repo}:v1")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tags = client
        .list_tags(&any, &auth, None, None)
        .await
        .unwrap_or_else(|e| panic!("tags: {e}"))
        .tags;
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);

    // Delete v2 by its manifest digest, as the registry API requires.
    let v2: Reference = format!("{host}/{repo}:v2")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let digest = client
        .fetch_manifest_digest(&v2, &auth)
        .await
        .unwrap_or_else(|e| panic!("digest of v2: {e}"));
    let http = reqwest::Client::new();
    let deleted = http
        .delete(format!("{}/v2/{repo}/manifests/{digest}", sandbox.registry))
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete v2: {e}"));
    assert_eq!(deleted.status(), reqwest::StatusCode::ACCEPTED, "delete v2");
    let tags = client
        .list_tags(&any, &auth, None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .tags;
    assert_eq!(tags, ["v1"], "tags after deleting v2");

    // Garbage collection removes v2's layer from storage and keeps v1's.
    let blob_path = |digest: &str| {
        let hex = digest.trim_start_matches("sha256:");
        sandbox
            .state_dir
            .join("registry/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    };
    assert!(
        blob_path(&layer_digests[1]).exists(),
        "v2's layer is stored before GC"
    );
    let gc = std::process::Command::new(&sandbox.registry_gc)
        .output()
        .unwrap_or_else(|e| panic!("registry-gc: {e}"));
    assert!(
        gc.status.success(),
        "registry-gc: {}",
        String::from_utf8_lossy(&gc.stderr)
    );
    assert!(
        !blob_path(&layer_digests[1]).exists(),
        "v2's layer is gone after GC"
    );
    assert!(
        blob_path(&layer_digests[0]).exists(),
        "v1's layer survives GC"
    );
    // A new connection: registry-gc restarted the registry, so pooled ones are closed.
    let v1_blob = reqwest::Client::new()
        .head(format!(
            "{}/v2/{repo}/blobs/{}",
            sandbox.registry, layer_digests[0]
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        v1_blob.status(),
        reqwest::StatusCode::OK,
        "v1's layer is still served"
    );
}

#[tokio::test]
async fn prometheus_holds_apiserver_series_for_every_cluster() {
    let sandbox = sandbox();
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let response: serde_json::Value = http
            .get(format!("{}/api/v1/query", sandbox.prometheus))
            .query(&[(
                "query",
                "sum by (cluster) (apiserver_request_total{job=\"apiserver\"})",
            )])
            .send()
            .await
            .unwrap_or_else(|e| panic!("query: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("query response: {e}"));
        assert_eq!(response["status"], "success", "{response}");
        let mut clusters: Vec<String> = response["data"]["result"]
            .as_array()
            .map(|series| {
                series
                    .iter()
                    .filter(|s| {
                        s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()) > Some(0.0)
                    })
                    .filter_map(|s| s["metric"]["cluster"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        clusters.sort();
        let mut expected: Vec<String> = sandbox.clusters.iter().map(|c| c.name.clone()).collect();
        expected.sort();
        if clusters == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "apiserver series for {clusters:?}, expected {expected:?} within 60 s"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
