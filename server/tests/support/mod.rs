//! Test support: the sandbox of real clusters, identity provider, registry and metrics backend
//! (`sandbox/up`). The first test that asks starts it, or attaches to one already running (for
//! example one `.ci/run` started); every test binary and every test shares it. Tests isolate
//! themselves with namespaces of their own, so they run in parallel.

#![allow(dead_code)] // each test binary uses its own part of this module

pub mod console;
pub mod registry;

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use k8s_openapi::api::core::v1::Namespace;
use kube::{
    Api, Client, Config,
    api::{DeleteParams, ObjectMeta, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
};
use serde::Deserialize;

/// What `sandbox/up` recorded in `sandbox.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Sandbox {
    pub version: String,
    pub ca_file: PathBuf,
    pub admin_kubeconfig: PathBuf,
    pub console_kubeconfig: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    pub kubectl: PathBuf,
    pub state_dir: PathBuf,
    pub registry_gc: PathBuf,
    pub clusters: Vec<SandboxCluster>,
    pub oidc: Oidc,
    pub users: Vec<User>,
    pub registry: String,
    pub prometheus: String,
    /// Redis for the console replicas' shared session store (`--session-store`).
    pub redis: String,
    /// The CRI-format file kwok serves as every container's log (append to make output).
    pub pod_log_file: PathBuf,
    pub console_port: u16,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SandboxCluster {
    pub name: String,
    pub server: String,
    pub admin_kubeconfig: PathBuf,
    pub console_kubeconfig: PathBuf,
    /// Every node of the cluster, workers and infra nodes.
    pub nodes: usize,
    /// The infra nodes among them (labelled and tainted `node-role.kubernetes.io/infra`).
    #[serde(default)]
    pub infra_nodes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Oidc {
    pub issuer: String,
    pub client_id: String,
    pub client_secret_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub username: String,
    pub email: String,
    pub password: String,
    pub groups: Vec<String>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| panic!("server crate has no parent directory"))
        .to_path_buf()
}

/// The sandbox's state directory, as `sandbox/lib.sh` computes it.
fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SANDBOX_STATE") {
        return dir.into();
    }
    let cache = std::env::var_os("SANDBOX_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(
                        std::env::var_os("HOME").unwrap_or_else(|| panic!("HOME is not set")),
                    )
                    .join(".cache")
                });
            base.join("nextgen-console/sandbox")
        });
    cache.join("run")
}

/// Starts the sandbox (or attaches to a running one) once per test binary. Several test
/// binaries may ask at once: `flock` serialises them, and `sandbox/up --detach` returns at once
/// when a healthy sandbox is already up.
pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let state = state_dir();
        std::fs::create_dir_all(&state)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", state.display()));
        let lock = state.with_file_name("up.lock");
        // -o: the lock is held by flock itself, not inherited by sandbox/up's children (the
        // sandbox's daemons), which would otherwise hold it for as long as the sandbox runs.
        let status = Command::new("flock")
            .arg("-o")
            .arg(&lock)
            .arg(repo_root().join("sandbox/up"))
            .arg("--detach")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run sandbox/up: {e}"));
        assert!(
            status.success(),
            "sandbox/up --detach failed ({status}); see its output above"
        );
        let json = state.join("sandbox.json");
        let text = std::fs::read_to_string(&json)
            .unwrap_or_else(|e| panic!("sandbox/up left no {}: {e}", json.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", json.display()))
    })
}

impl Sandbox {
    pub fn cluster(&self, name: &str) -> &SandboxCluster {
        self.clusters
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("the sandbox has no cluster {name}"))
    }

    /// The workload clusters (every cluster but `global`).
    pub fn workload_clusters(&self) -> impl Iterator<Item = &SandboxCluster> {
        self.clusters.iter().filter(|c| c.name != "global")
    }

    pub fn user(&self, username: &str) -> &User {
        self.users
            .iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("the sandbox has no user {username}"))
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca_file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.ca_file.display()))
    }

    /// A cookie-keeping HTTP client that trusts the sandbox CA and does not follow redirects:
    /// the tests play the browser step by step.
    pub fn browser(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&self.ca_pem())
            .unwrap_or_else(|e| panic!("sandbox CA: {e}"));
        reqwest::Client::builder()
            .add_root_certificate(ca)
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap_or_else(|e| panic!("http client: {e}"))
    }

    /// A kubeconfig file's contents with every credential inline, as a person would paste it.
    pub fn flattened(&self, kubeconfig: &Path) -> String {
        let output = Command::new(&self.kubectl)
            .env("KUBECONFIG", kubeconfig)
            .args(["config", "view", "--flatten", "--raw"])
            .output()
            .unwrap_or_else(|e| panic!("kubectl config view: {e}"));
        assert!(
            output.status.success(),
            "kubectl config view --flatten failed"
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// kubectl as the sandbox administrator of `cluster`.
    pub fn kubectl(&self, cluster: &str) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.env("KUBECONFIG", &self.cluster(cluster).admin_kubeconfig);
        cmd
    }
}

impl SandboxCluster {
    /// A kube client with the sandbox administrator's certificate.
    pub async fn admin_client(&self) -> Client {
        client_from(&self.admin_kubeconfig).await
    }

    /// A client acting as `user` in `groups` (the sandbox administrator impersonating), as the
    /// console acts for a signed-in user.
    pub async fn client_as(&self, user: &str, groups: &[&str]) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.admin_kubeconfig)
            .unwrap_or_else(|e| panic!("kubeconfig of {}: {e}", self.name));
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap_or_else(|e| panic!("kubeconfig of {}: {e}", self.name));
        config.auth_info.impersonate = Some(user.into());
        config.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
        Client::try_from(config).unwrap_or_else(|e| panic!("kube client: {e}"))
    }
}

/// The platform administrator of the sandbox's identity provider, as an author of platform
/// resources: the console's controllers act on member clusters as this user.
pub const PLATFORM_ADMIN: (&str, &[&str]) = ("admin@example.com", &["platform-admins"]);

/// The author annotations naming `user` in `groups` (what the console's pages write).
pub fn authored_by(user: &str, groups: &[&str]) -> std::collections::BTreeMap<String, String> {
    let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    serde_json::from_value(app::access::author::annotations(user, &groups))
        .unwrap_or_else(|e| panic!("{e}"))
}

pub async fn client_from(path: &Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", path.display()));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("kubeconfig {}: {e}", path.display()));
    Client::try_from(config).unwrap_or_else(|e| panic!("kube client: {e}"))
}

/// A namespace of the test's own, deleted when the value drops (without waiting for it to go).
pub struct TestNamespace {
    pub name: String,
    kubeconfig: PathBuf,
}

impl TestNamespace {
    pub async fn create(cluster: &SandboxCluster, prefix: &str) -> Self {
        Self::named(cluster, &format!("t-{prefix}-{:08x}", rand_u32())).await
    }

    /// A namespace called `name` (several clusters may need the same one).
    pub async fn named(cluster: &SandboxCluster, name: &str) -> Self {
        let client = cluster.admin_client().await;
        let name = name.to_string();
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("nextgen-console.test".to_string(), "true".to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("cannot create namespace {name} on {}: {e}", cluster.name));
        Self {
            name,
            kubeconfig: cluster.admin_kubeconfig.clone(),
        }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let (kubeconfig, name) = (self.kubeconfig.clone(), self.name.clone());
        // Drop may run inside the test's runtime, which this blocks: a client of the test's
        // runtime would deadlock here, so a thread with a runtime and a client of its own
        // deletes the namespace.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    let client = client_from(&kubeconfig).await;
                    let _ = Api::<Namespace>::all(client)
                        .delete(&name, &DeleteParams::background())
                        .await;
                });
            }
        })
        .join();
    }
}

/// A random-enough suffix without another dependency: the clock's nanoseconds mixed with the
/// process id and a counter.
fn rand_u32() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos
        ^ std::process::id().rotate_left(16)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(2_654_435_761)
}

/// Plays the browser: follows Dex's redirects, fills its login form, and returns where Dex
/// finally redirects (the client's redirect URI with `code` and `state`), or the login page
/// when Dex refuses the password.
pub async fn sign_in_at_dex(
    http: &reqwest::Client,
    start: &str,
    redirect_uri: &str,
    login: &str,
    password: &str,
) -> Result<url::Url, String> {
    let mut url = url::Url::parse(start).map_err(|e| e.to_string())?;
    let mut posted = false;
    for _ in 0..10 {
        if url.as_str().starts_with(redirect_uri) {
            return Ok(url);
        }
        let response = http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let response = if response.status().is_redirection() {
            response
        } else if response.status().is_success() && !posted {
            posted = true;
            http.post(url.clone())
                .form(&[("login", login), ("password", password)])
                .send()
                .await
                .map_err(|e| e.to_string())?
        } else {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(format!("{status} at {url}: {body}"));
        };
        if let Some(location) = response.headers().get(reqwest::header::LOCATION) {
            let location = location.to_str().map_err(|e| e.to_string())?;
            url = url.join(location).map_err(|e| e.to_string())?;
        } else {
            let body = response.text().await.unwrap_or_default();
            return Err(format!("no redirect after the login form at {url}: {body}"));
        }
    }
    Err(format!("too many redirects, stopped at {url}"))
}

/// The API groups of the CRDs [`install_operator_crds`] installs: five kinds per group, as a
/// cluster with a dozen operators has.
pub fn operator_group(index: usize) -> String {
    format!("g{:02}.perf.nextgen-console.io", index / 5)
}

/// Installs `count` namespaced CRDs on `cluster` (idempotent: server-side apply under one
/// field manager; they stay installed for later runs) and waits until the apiserver serves
/// every one of them in its aggregated discovery. Returns (group, plural) per CRD.
pub async fn install_operator_crds(
    cluster: &SandboxCluster,
    count: usize,
) -> Vec<(String, String)> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Patch, PatchParams};

    let client = cluster.admin_client().await;
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    let mut installed = Vec::with_capacity(count);
    for i in 0..count {
        let (group, kind, plural) = (
            operator_group(i),
            format!("Widget{i:02}"),
            format!("widget{i:02}s"),
        );
        let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.{group}"), "labels": {"nextgen-console.test/operator-crd": "true"}},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": plural, "singular": format!("widget{i:02}"), "listKind": format!("{kind}List")},
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
                }]
            }
        }))
        .unwrap_or_else(|e| panic!("CRD {plural}: {e}"));
        crds.patch(
            &format!("{plural}.{group}"),
            &PatchParams::apply("nextgen-console-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot apply CRD {plural}.{group}: {e}"));
        installed.push((group, plural));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let served = kube::discovery::Discovery::new(client.clone())
            .run_aggregated()
            .await
            .map(|d| {
                d.groups()
                    .filter(|g| g.name().ends_with(".perf.nextgen-console.io"))
                    .map(|g| g.recommended_resources().len())
                    .sum::<usize>()
            })
            .unwrap_or(0);
        if served >= count {
            return installed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} serves {served} of the {count} operator CRDs after 90 s",
            cluster.name
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// A namespace where `group` has the `edit` role, may read the kinds of the first `readable`
/// operator CRDs, and may read one Role by name: RBAC of several shapes at once.
pub async fn mixed_rbac_namespace(
    cluster: &SandboxCluster,
    group: &str,
    readable: usize,
) -> TestNamespace {
    use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

    let ns = TestNamespace::create(cluster, "access").await;
    let client = cluster.admin_client().await;
    let subject = || {
        Some(vec![Subject {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Group".into(),
            name: group.into(),
            ..Subject::default()
        }])
    };
    let mut groups: Vec<String> = (0..readable).map(operator_group).collect();
    groups.dedup();
    let role = Role {
        metadata: ObjectMeta {
            name: Some("operator-reader".into()),
            ..ObjectMeta::default()
        },
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(groups),
                resources: Some((0..readable).map(|i| format!("widget{i:02}s")).collect()),
                verbs: vec!["get".into(), "list".into(), "watch".into()],
                ..PolicyRule::default()
            },
            // `edit` grants nothing on RBAC objects, so this name-limited rule decides alone.
            PolicyRule {
                api_groups: Some(vec!["rbac.authorization.k8s.io".into()]),
                resources: Some(vec!["roles".into()]),
                resource_names: Some(vec!["operator-reader".into()]),
                verbs: vec!["get".into()],
                ..PolicyRule::default()
            },
        ]),
    };
    Api::<Role>::namespaced(client.clone(), &ns.name)
        .create(&PostParams::default(), &role)
        .await
        .unwrap_or_else(|e| panic!("role: {e}"));
    for (name, kind, role) in [
        ("edit", "ClusterRole", "edit"),
        ("operator-reader", "Role", "operator-reader"),
    ] {
        let binding = RoleBinding {
            metadata: ObjectMeta {
                name: Some(format!("{group}-{name}")),
                ..ObjectMeta::default()
            },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: kind.into(),
                name: role.into(),
            },
            subjects: subject(),
        };
        Api::<RoleBinding>::namespaced(client.clone(), &ns.name)
            .create(&PostParams::default(), &binding)
            .await
            .unwrap_or_else(|e| panic!("role binding {name}: {e}"));
    }
    ns
}

/// Appends `line` to every fake container's log, as a container writing to stdout would.
pub fn write_container_log(sandbox: &Sandbox, line: &str) {
    use std::io::Write;
    let now = time_now_rfc3339();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&sandbox.pod_log_file)
        .unwrap_or_else(|e| panic!("{}: {e}", sandbox.pod_log_file.display()));
    writeln!(file, "{now} stdout F {line}").unwrap_or_else(|e| panic!("container log: {e}"));
}

fn time_now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("timestamp: {e}"))
}

/// The apiserver's own answer to `check`: one SelfSubjectAccessReview with `client`.
pub async fn access_review(client: &Client, check: &app::access::AccessCheck) -> bool {
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(check.verb.clone()),
                group: Some(check.group.clone()),
                resource: Some(check.resource.clone()),
                namespace: check.namespace.clone(),
                name: check.name.clone(),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap_or_else(|e| panic!("access review: {e}"))
        .status
        .is_some_and(|s| s.allowed)
}

/// A short id unique to this test run, for names several runs must not share.
pub fn run_id() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            % 0xffff_ffff
    )
}

/// The namespace on global where Cluster credentials live.
pub const SYSTEM_NAMESPACE: &str = "nextgen-console-system";
/// The label a test puts on the resources its own controllers manage.
pub const RUN_LABEL: &str = "nextgen-console.test/run";

/// A Secret in the system namespace on global with the console's client certificate (valid on
/// every sandbox cluster), as a registered Cluster references it. Returns its name.
pub async fn console_credential_secret(sandbox: &Sandbox, name: &str) -> String {
    use k8s_openapi::{ByteString, api::core::v1::Secret};
    let pki = sandbox.ca_file.parent().unwrap_or_else(|| panic!("pki"));
    let read = |file: &str| {
        ByteString(std::fs::read(pki.join(file)).unwrap_or_else(|e| panic!("{file}: {e}")))
    };
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some(
            [
                ("tls.crt".to_string(), read("console.crt")),
                ("tls.key".to_string(), read("console.key")),
            ]
            .into(),
        ),
        ..Secret::default()
    };
    Api::<Secret>::namespaced(
        sandbox.cluster("global").admin_client().await,
        SYSTEM_NAMESPACE,
    )
    .create(&PostParams::default(), &secret)
    .await
    .unwrap_or_else(|e| panic!("secret {name}: {e}"));
    name.into()
}

/// A Cluster resource `name` for the API server at `server`, labelled with `run`, whose
/// credential is the Secret `secret`.
pub fn cluster_resource(
    name: &str,
    run: &str,
    server: String,
    ca: &str,
    secret: &str,
) -> app::clusters::resource::Cluster {
    use app::clusters::resource::{Cluster, ClusterSpec, SecretRef};
    let mut cluster = Cluster::new(
        name,
        ClusterSpec {
            display_name: Some(name.to_uppercase()),
            server,
            ca_data: Some(ca.into()),
            credential_secret: SecretRef {
                namespace: SYSTEM_NAMESPACE.into(),
                name: secret.into(),
            },
        },
    );
    cluster.metadata.labels = Some([(RUN_LABEL.to_string(), run.to_string())].into());
    cluster
}

/// Creates `cluster` on global (with `admin`) and adds an owner reference to it on its
/// credential Secret, as the import does: the console uses a credential only from a Secret
/// owned by that very Cluster. Several Clusters may share a test's Secret (each owns it).
pub async fn create_cluster(
    admin: &Client,
    cluster: &app::clusters::resource::Cluster,
) -> app::clusters::resource::Cluster {
    use app::{clusters::resource::Cluster, platform::credential::credential_owner};
    use k8s_openapi::api::core::v1::Secret;
    let name = cluster.metadata.name.clone().unwrap_or_default();
    let created = Api::<Cluster>::all(admin.clone())
        .create(&PostParams::default(), cluster)
        .await
        .unwrap_or_else(|e| panic!("cluster {name}: {e}"));
    let owner = credential_owner(&created).unwrap_or_else(|| panic!("{name} has no uid"));
    let secret_ref = &created.spec.credential_secret;
    let secrets = Api::<Secret>::namespaced(admin.clone(), &secret_ref.namespace);
    for _ in 0..20 {
        let mut secret = secrets
            .get(&secret_ref.name)
            .await
            .unwrap_or_else(|e| panic!("secret {}: {e}", secret_ref.name));
        secret
            .metadata
            .owner_references
            .get_or_insert_with(Vec::new)
            .push(owner.clone());
        match secrets
            .replace(&secret_ref.name, &PostParams::default(), &secret)
            .await
        {
            Ok(_) => return created,
            // Another Cluster of the test took ownership at the same time: read it again.
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(e) => panic!("owning secret {} by {name}: {e}", secret_ref.name),
        }
    }
    panic!("secret {} kept changing under {name}", secret_ref.name)
}

/// Polls `check` every 200 ms until it returns `Ok`, for at most `secs` seconds; panics with
/// what was awaited and the last `Err` (what was found instead).
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match check().await {
            Ok(value) => return value,
            Err(found) if std::time::Instant::now() > deadline => {
                panic!("not {what} within {secs} s; found {found}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

/// Runs `future` on a current-thread runtime of its own, on a thread of its own, and waits for
/// it: for clean-up in `Drop`, where the test's runtime may be unwinding or busy.
pub fn block_on_own_runtime(future: impl std::future::Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(future);
    })
    .join();
}

/// Removes the finalizers of every Application in namespace `ns` of `admin`'s cluster, so that
/// they go without a controller to honour them (after a failed test).
pub async fn release_applications(admin: &Client, ns: &str) {
    use kube::{
        ResourceExt,
        api::{Patch, PatchParams},
    };
    let apps = Api::<app::apps::resource::Application>::namespaced(admin.clone(), ns);
    for app in apps
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
        let _ = apps
            .patch(
                &app.name_any(),
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"metadata": {"finalizers": null}})),
            )
            .await;
    }
}

/// Replaces the `server:` line of a flattened single-cluster kubeconfig.
pub fn with_server(kubeconfig: &str, server: &str) -> String {
    kubeconfig
        .lines()
        .map(|l| match l.find("server: ") {
            Some(i) => format!("{}server: {server}", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits up to `secs` seconds until application `app`'s status, for its current generation,
/// satisfies `want` (`what` names that in the panic); returns that status.
pub async fn application_state(
    apps: &kube::Api<app::apps::resource::Application>,
    app: &str,
    what: &str,
    secs: u64,
    want: impl Fn(&app::apps::resource::ApplicationState) -> bool,
) -> app::apps::resource::ApplicationState {
    eventually(&format!("{app} {what}"), secs, || async {
        let found = apps.get(app).await.map_err(|e| e.to_string())?;
        let state = found.status.clone().unwrap_or_default();
        if state.observed_generation == found.metadata.generation && want(&state) {
            Ok(state)
        } else {
            Err(format!("{state:#?}"))
        }
    })
    .await
}

/// A TCP forwarder on loopback in front of an API server: `stop` cuts every connection and
/// stops listening (the cluster is unreachable through it), `start` listens on the same port
/// again. Lets a test take a shared sandbox cluster away from one client only.
pub struct Forwarder {
    pub addr: std::net::SocketAddr,
    target: String,
    tasks: Option<tokio::task::JoinHandle<()>>,
}

impl Forwarder {
    pub async fn new(target_url: &str) -> Self {
        let target = target_url
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("forwarder: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let mut forwarder = Forwarder {
            addr,
            target,
            tasks: None,
        };
        forwarder.serve(listener);
        forwarder
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        self.tasks = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    /// Stops listening and cuts every open connection.
    pub fn stop(&mut self) {
        if let Some(task) = self.tasks.take() {
            task.abort();
        }
    }

    pub async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("forwarder on {}: {e}", self.addr));
        self.serve(listener);
    }
}

/// A kubeconfig file with the sandbox console's contexts plus `name`, which reaches `cluster`'s
/// API server through `via` (same CA and credential).
pub fn kubeconfig_with_alias(
    sandbox: &Sandbox,
    cluster: &str,
    name: &str,
    via: std::net::SocketAddr,
) -> tempfile::NamedTempFile {
    let mut kubeconfig = Kubeconfig::read_from(&sandbox.console_kubeconfig)
        .unwrap_or_else(|e| panic!("console kubeconfig: {e}"));
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == cluster)
        .cloned()
        .unwrap_or_else(|| panic!("no context {cluster}"));
    let inner = context.context.clone().unwrap_or_default();
    let mut entry = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == inner.cluster)
        .cloned()
        .unwrap_or_else(|| panic!("no cluster {}", inner.cluster));
    entry.name = name.to_string();
    if let Some(c) = entry.cluster.as_mut() {
        c.server = Some(format!("https://{via}"));
        // The serving certificate names 127.0.0.1, which the forwarder's address also is.
    }
    kubeconfig.clusters.push(entry);
    let mut alias = context;
    alias.name = name.to_string();
    if let Some(c) = alias.context.as_mut() {
        c.cluster = name.to_string();
    }
    kubeconfig.contexts.push(alias);
    let file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    let yaml = serde_json::to_string(&kubeconfig).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(file.path(), yaml).unwrap_or_else(|e| panic!("{e}"));
    file
}
