//! The Application resource (`applications.platform.nextgen-console.io`, namespaced: it lives in
//! its project's namespace on the global cluster): a workload template (a Deployment, optionally
//! a Service and ConfigMaps), the member clusters it is placed on and per-cluster overrides. The
//! console's controller applies it to every placed cluster and writes each cluster's state, the
//! aggregate health and the revision history into the status.
//!
//! This module is the resource and the pure decisions (revisions, what is applied to a cluster,
//! health); the controller in the server carries them out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The field manager of everything the application controller applies to member clusters.
pub const FIELD_MANAGER: &str = "nextgen-console-apps";
/// The finalizer that keeps an Application until its workloads are gone from every cluster.
pub const FINALIZER: &str = "platform.nextgen-console.io/cleanup";
/// Labels on every object applied to a member cluster.
pub const APP_LABEL: &str = "platform.nextgen-console.io/application";
pub const PROJECT_LABEL: &str = "platform.nextgen-console.io/project";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The annotation with the application revision an object was applied from.
pub const REVISION_ANNOTATION: &str = "platform.nextgen-console.io/revision";
/// The annotation with what the console set on a Deployment it applies (replicas and images),
/// so a later difference on the cluster is known to be someone else's: drift.
pub const APPLIED_ANNOTATION: &str = "platform.nextgen-console.io/applied";
/// The annotation a change carries to say why (shown in the history).
pub const CAUSE_ANNOTATION: &str = "platform.nextgen-console.io/change-cause";
/// How many revisions the history keeps unless the spec says otherwise.
pub const DEFAULT_HISTORY: usize = 10;

#[cfg(feature = "kube")]
fn preserve(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

#[cfg(feature = "kube")]
fn preserve_optional(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object", "nullable": true, "x-kubernetes-preserve-unknown-fields": true
    })
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "Application",
        plural = "applications",
        namespaced,
        status = "ApplicationState",
        shortname = "ngapp",
        printcolumn = r#"{"name":"Revision","type":"integer","jsonPath":".status.revision"}"#,
        printcolumn = r#"{"name":"Health","type":"string","jsonPath":".status.health"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    pub template: WorkloadTemplate,
    /// The member clusters the application runs on.
    pub placement: Vec<String>,
    #[serde(default)]
    pub overrides: Vec<ClusterOverride>,
    /// Revisions kept in the history (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkloadTemplate {
    /// A Deployment's `spec`, any valid field (the member cluster's API server validates it).
    #[cfg_attr(feature = "kube", schemars(schema_with = "preserve"))]
    pub deployment: Value,
    /// A Service's `spec` in front of it; its selector defaults to the Deployment's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "kube", schemars(schema_with = "preserve_optional"))]
    pub service: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_maps: Vec<ConfigMapTemplate>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct ConfigMapTemplate {
    pub name: String,
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct ClusterOverride {
    pub cluster: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Replaces the image of every container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Set on every container (replacing a variable of the same name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum Health {
    /// Not synced yet.
    #[default]
    Pending,
    Healthy,
    Progressing,
    Degraded,
    Unreachable,
    /// The author may not run it there: outside the project, or refused by the cluster's RBAC.
    Refused,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApplicationState {
    #[serde(default)]
    pub health: Health,
    /// The revision of the current template.
    #[serde(default)]
    pub revision: i64,
    /// Past and current templates, newest first.
    #[serde(default)]
    pub history: Vec<Revision>,
    #[serde(default)]
    pub clusters: Vec<ClusterSync>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The user the controller acts as on member clusters (the author of the spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `Authorized`: whether the controller could act for the author on every placed cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<crate::cluster::ClusterCondition>,
}

/// The condition that says whether the controller acts for the application's author everywhere
/// it is placed, and if not, why.
pub const AUTHORIZED: &str = "Authorized";

impl ApplicationState {
    pub fn condition(&self, type_: &str) -> Option<&crate::cluster::ClusterCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    pub fn set_condition(
        &mut self,
        type_: &str,
        ok: bool,
        reason: &str,
        message: String,
        now: &str,
    ) {
        set_condition(&mut self.conditions, type_, ok, reason, message, now);
    }
}

/// Sets a condition in `conditions`, keeping its transition time while its status stays the
/// same ([`crate::cluster::set_condition`]).
pub fn set_condition(
    conditions: &mut Vec<crate::cluster::ClusterCondition>,
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    now: &str,
) {
    crate::cluster::set_condition(conditions, type_, Some(ok), reason, message, now);
}

/// Where each placed cluster's workload goes: the namespace the project uses on that cluster,
/// or why the application may not run there (the cluster is not one of the project's).
pub fn placement_namespaces(
    project: &str,
    spec: &crate::project::ProjectSpec,
    placement: &[String],
) -> Vec<(String, Result<String, String>)> {
    placement
        .iter()
        .map(|cluster| {
            let target = if spec.clusters.iter().any(|c| &c.name == cluster) {
                Ok(spec.namespace_on(project, cluster))
            } else {
                let members: Vec<&str> = spec.clusters.iter().map(|c| c.name.as_str()).collect();
                Err(format!(
                    "{cluster} is not a cluster of project {project} (its clusters: {}); ask a project admin to add it",
                    if members.is_empty() { "none".to_string() } else { members.join(", ") }
                ))
            };
            (cluster.clone(), target)
        })
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision: i64,
    pub template: WorkloadTemplate,
    pub created_time: String,
    #[serde(default)]
    pub cause: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterSync {
    pub cluster: String,
    pub namespace: String,
    pub health: Health,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_revision: Option<i64>,
    #[serde(default)]
    pub desired: i32,
    #[serde(default)]
    pub ready: i32,
    #[serde(default)]
    pub available: i32,
    #[serde(default)]
    pub updated: i32,
    /// The Deployment's conditions, as "Type=Status (Reason)".
    #[serde(default)]
    pub conditions: Vec<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// What was found changed on the cluster and set back at the last sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    #[serde(default)]
    pub consecutive_failures: u32,
}

/// The next revision bookkeeping: a template unlike the current revision's becomes a new
/// revision (an old template again, as after a rollback, too); the history keeps `limit`.
pub fn record_revision(
    state: &mut ApplicationState,
    template: &WorkloadTemplate,
    cause: &str,
    now: &str,
    limit: usize,
) -> bool {
    if state
        .history
        .first()
        .is_some_and(|current| &current.template == template)
    {
        return false;
    }
    let next = state.history.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    state.history.insert(
        0,
        Revision {
            revision: next,
            template: template.clone(),
            created_time: now.into(),
            cause: cause.into(),
        },
    );
    state.history.truncate(limit.max(1));
    state.revision = next;
    true
}

/// Line endings as saved: CRLF (and lone CR) become LF, so text edited on Windows and on Linux
/// is stored alike.
pub fn normalize_line_endings(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The Deployment applied to `cluster`: the template's spec with the console's labels, a
/// default selector, and the cluster's overrides.
pub fn render_deployment(
    name: &str,
    namespace: &str,
    project: &str,
    revision: i64,
    template: &WorkloadTemplate,
    overrides: Option<&ClusterOverride>,
) -> Value {
    let mut spec = template.deployment.clone();
    if !spec.is_object() {
        spec = json!({});
    }
    let pod_labels = json!({"app.kubernetes.io/name": name, APP_LABEL: name});
    if spec["selector"].is_null() {
        spec["selector"] = json!({"matchLabels": pod_labels});
    }
    if let Some(labels) = spec["template"]["metadata"]["labels"].as_object_mut() {
        if let Some(defaults) = pod_labels.as_object() {
            for (k, v) in defaults {
                labels.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    } else {
        spec["template"]["metadata"]["labels"] = pod_labels;
    }
    if let Some(o) = overrides {
        if let Some(replicas) = o.replicas {
            spec["replicas"] = json!(replicas);
        }
        if let Some(containers) = spec["template"]["spec"]["containers"].as_array_mut() {
            for container in containers {
                if let Some(image) = &o.image {
                    container["image"] = json!(image);
                }
                for var in &o.env {
                    let env = container["env"].as_array().cloned().unwrap_or_default();
                    let mut env: Vec<Value> = env
                        .into_iter()
                        .filter(|e| e["name"] != json!(var.name))
                        .collect();
                    env.push(json!({"name": var.name, "value": var.value}));
                    container["env"] = json!(env);
                }
            }
        }
    }
    let applied =
        json!({"replicas": spec["replicas"].as_i64().unwrap_or(1), "images": images(&spec)});
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {APP_LABEL: name, PROJECT_LABEL: project, MANAGED_BY: "nextgen-console"},
            "annotations": {
                REVISION_ANNOTATION: revision.to_string(),
                APPLIED_ANNOTATION: applied.to_string(),
            },
        },
        "spec": spec,
    })
}

/// The images of a Deployment spec's containers, in order.
pub fn images(spec: &Value) -> Vec<String> {
    spec["template"]["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| c["image"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// What someone other than the console changed in a Deployment it applied: replicas or images
/// that differ from what its applied-annotation records.
pub fn drift(live: &Value) -> Option<String> {
    let applied: Value =
        serde_json::from_str(live["metadata"]["annotations"][APPLIED_ANNOTATION].as_str()?).ok()?;
    let mut found = Vec::new();
    let (set, now) = (
        applied["replicas"].as_i64().unwrap_or(1),
        live["spec"]["replicas"].as_i64().unwrap_or(1),
    );
    if set != now {
        found.push(format!("replicas {now} (want {set})"));
    }
    let set_images: Vec<String> =
        serde_json::from_value(applied["images"].clone()).unwrap_or_default();
    let live_images = images(&live["spec"]);
    if set_images != live_images {
        found.push(format!("images {live_images:?} (want {set_images:?})"));
    }
    (!found.is_empty()).then(|| found.join(", "))
}

/// The Service in front of the Deployment, if the template has one.
pub fn render_service(
    name: &str,
    namespace: &str,
    project: &str,
    template: &WorkloadTemplate,
) -> Option<Value> {
    let mut spec = template.service.clone()?;
    if spec["selector"].is_null() {
        spec["selector"] = json!({APP_LABEL: name});
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {APP_LABEL: name, PROJECT_LABEL: project, MANAGED_BY: "nextgen-console"},
        },
        "spec": spec,
    }))
}

pub fn render_config_maps(
    name: &str,
    namespace: &str,
    project: &str,
    template: &WorkloadTemplate,
) -> Vec<Value> {
    template
        .config_maps
        .iter()
        .map(|cm| {
            let data: BTreeMap<&String, String> = cm
                .data
                .iter()
                .map(|(k, v)| (k, normalize_line_endings(v)))
                .collect();
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": cm.name,
                    "namespace": namespace,
                    "labels": {APP_LABEL: name, PROJECT_LABEL: project, MANAGED_BY: "nextgen-console"},
                },
                "data": data,
            })
        })
        .collect()
}

/// One cluster's health from its Deployment's status.
pub fn deployment_health(deployment: &Value) -> (Health, String) {
    let want = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = &deployment["status"];
    let n = |key: &str| status[key].as_i64().unwrap_or(0);
    let current =
        status["observedGeneration"].as_i64() >= deployment["metadata"]["generation"].as_i64();
    let conditions = status["conditions"].as_array().cloned().unwrap_or_default();
    let failed = conditions.iter().find(|c| {
        (c["type"] == "Progressing" && c["status"] == "False")
            || (c["type"] == "ReplicaFailure" && c["status"] == "True")
    });
    if let Some(c) = failed {
        return (
            Health::Degraded,
            format!(
                "{}: {}",
                c["reason"].as_str().unwrap_or_default(),
                c["message"].as_str().unwrap_or_default()
            ),
        );
    }
    if current
        && n("updatedReplicas") == want
        && n("availableReplicas") == want
        && n("replicas") == want
    {
        (
            Health::Healthy,
            format!("{want} of {want} replicas available"),
        )
    } else {
        (
            Health::Progressing,
            format!(
                "{} of {want} updated, {} available",
                n("updatedReplicas"),
                n("availableReplicas")
            ),
        )
    }
}

/// The application's health from its clusters': any refused makes it Refused (it will not heal
/// by itself), then any unreachable Unreachable, then any degraded Degraded, then any not yet done Progressing; all healthy is Healthy.
pub fn aggregate(clusters: &[ClusterSync]) -> Health {
    if clusters.is_empty() {
        return Health::Pending;
    }
    [
        Health::Refused,
        Health::Unreachable,
        Health::Degraded,
        Health::Progressing,
        Health::Pending,
    ]
    .into_iter()
    .find(|h| clusters.iter().any(|c| c.health == *h))
    .unwrap_or(Health::Healthy)
}

/// An Application as the pages and the `ac` CLI show it (what `apps/list` and `apps/get` answer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub name: String,
    /// The project, which is the Application's namespace on global.
    pub project: String,
    pub placement: Vec<String>,
    /// The spec as YAML, as the editor shows it.
    pub spec_yaml: String,
    pub status: ApplicationState,
    /// Deletion has begun: the controller is removing the workload from every cluster.
    pub deleting: bool,
}

/// One line of a [`line_diff`]: kept on both sides, only in the old text, or only in the new.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffMark {
    Same,
    Removed,
    Added,
}

impl DiffMark {
    /// The marker `diff -u` puts before such a line.
    pub fn symbol(self) -> char {
        match self {
            DiffMark::Same => ' ',
            DiffMark::Removed => '-',
            DiffMark::Added => '+',
        }
    }
}

/// A line diff of two texts (a revision's template against the current one): every line of
/// both, in order, marked. A longest common subsequence, so unchanged lines stay together;
/// templates are short, so its quadratic table is cheap.
pub fn line_diff(old: &str, new: &str) -> Vec<(DiffMark, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().max(b.len())));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((DiffMark::Same, a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push((DiffMark::Added, b[j].to_string()));
            j += 1;
        } else {
            out.push((DiffMark::Removed, a[i].to_string()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str) -> WorkloadTemplate {
        WorkloadTemplate {
            deployment: json!({
                "replicas": 2,
                "template": {"spec": {"containers": [{"name": "web", "image": image, "env": [{"name": "MODE", "value": "a"}]}]}}
            }),
            ..WorkloadTemplate::default()
        }
    }

    #[test]
    fn a_changed_template_is_a_new_revision_and_the_history_keeps_the_limit() {
        let mut state = ApplicationState::default();
        assert!(record_revision(
            &mut state,
            &template("web:1"),
            "created",
            "t1",
            3
        ));
        assert!(!record_revision(
            &mut state,
            &template("web:1"),
            "",
            "t2",
            3
        ));
        for (i, image) in ["web:2", "web:3", "web:1"].iter().enumerate() {
            assert!(record_revision(
                &mut state,
                &template(image),
                "",
                &format!("t{i}"),
                3
            ));
        }
        assert_eq!(state.revision, 4);
        let kept: Vec<i64> = state.history.iter().map(|r| r.revision).collect();
        assert_eq!(kept, [4, 3, 2]);
    }

    #[test]
    fn overrides_set_replicas_image_and_env_on_the_rendered_deployment() {
        let o = ClusterOverride {
            cluster: "west".into(),
            replicas: Some(5),
            image: Some("web:9".into()),
            env: vec![EnvVar {
                name: "MODE".into(),
                value: "b".into(),
            }],
        };
        let d = render_deployment("web", "team-a", "team-a", 3, &template("web:1"), Some(&o));
        assert_eq!(d["spec"]["replicas"], 5);
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "web:9");
        assert_eq!(container["env"], json!([{"name": "MODE", "value": "b"}]));
        assert_eq!(d["spec"]["selector"]["matchLabels"][APP_LABEL], "web");
        assert_eq!(
            d["spec"]["template"]["metadata"]["labels"][APP_LABEL],
            "web"
        );
        assert_eq!(d["metadata"]["annotations"][REVISION_ANNOTATION], "3");
        let plain = render_deployment("web", "team-a", "team-a", 3, &template("web:1"), None);
        assert_eq!(plain["spec"]["replicas"], 2);
    }

    #[test]
    fn drift_is_a_difference_from_what_the_console_applied_not_from_a_new_wish() {
        let applied = render_deployment("web", "ns", "p", 1, &template("web:1"), None);
        let mut live = applied.clone();
        assert_eq!(drift(&live), None);
        live["spec"]["replicas"] = json!(5);
        assert_eq!(drift(&live).as_deref(), Some("replicas 5 (want 2)"));
        live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:hacked");
        assert!(drift(&live).is_some_and(|d| d.contains("web:hacked")));
        // Scaling by an override changes what the console applies: not drift.
        let o = ClusterOverride {
            cluster: "west".into(),
            replicas: Some(3),
            ..ClusterOverride::default()
        };
        let rescaled = render_deployment("web", "ns", "p", 1, &template("web:1"), Some(&o));
        assert_eq!(drift(&rescaled), None);
    }

    #[test]
    fn config_map_text_is_saved_with_unix_line_endings() {
        let t = WorkloadTemplate {
            config_maps: vec![ConfigMapTemplate {
                name: "conf".into(),
                data: [("app.ini".to_string(), "a=1\r\nb=2\rc=3\n".to_string())].into(),
            }],
            ..WorkloadTemplate::default()
        };
        let maps = render_config_maps("web", "ns", "p", &t);
        assert_eq!(maps[0]["data"]["app.ini"], "a=1\nb=2\nc=3\n");
    }

    #[test]
    fn placement_goes_to_the_projects_namespaces_and_never_outside_its_clusters() {
        let project = crate::project::ProjectSpec {
            clusters: vec![
                crate::project::ProjectCluster {
                    name: "east".into(),
                    namespace: None,
                },
                crate::project::ProjectCluster {
                    name: "west".into(),
                    namespace: Some("shop-west".into()),
                },
            ],
            ..Default::default()
        };
        let targets = placement_namespaces(
            "shop",
            &project,
            &["east".into(), "west".into(), "north".into()],
        );
        assert_eq!(targets[0], ("east".to_string(), Ok("shop".to_string())));
        assert_eq!(
            targets[1],
            ("west".to_string(), Ok("shop-west".to_string()))
        );
        let refused = targets[2].1.clone().err().unwrap_or_default();
        assert!(
            refused.contains("north is not a cluster of project shop")
                && refused.contains("east, west"),
            "{refused}"
        );
    }

    #[test]
    fn health_aggregates_worst_first() {
        let sync = |health| ClusterSync {
            health,
            ..ClusterSync::default()
        };
        assert_eq!(aggregate(&[]), Health::Pending);
        assert_eq!(
            aggregate(&[sync(Health::Healthy), sync(Health::Healthy)]),
            Health::Healthy
        );
        assert_eq!(
            aggregate(&[sync(Health::Healthy), sync(Health::Progressing)]),
            Health::Progressing
        );
        assert_eq!(
            aggregate(&[sync(Health::Degraded), sync(Health::Progressing)]),
            Health::Degraded
        );
        assert_eq!(
            aggregate(&[sync(Health::Degraded), sync(Health::Unreachable)]),
            Health::Unreachable
        );
        assert_eq!(
            aggregate(&[sync(Health::Unreachable), sync(Health::Refused)]),
            Health::Refused
        );
    }

    #[test]
    fn a_deployment_is_healthy_when_rolled_out_and_degraded_past_its_deadline() {
        let mut d = json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}
        });
        assert_eq!(deployment_health(&d).0, Health::Healthy);
        d["status"]["updatedReplicas"] = json!(1);
        assert_eq!(deployment_health(&d).0, Health::Progressing);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
        let (health, message) = deployment_health(&d);
        assert_eq!(health, Health::Degraded);
        assert!(message.contains("ProgressDeadlineExceeded"));
    }

    #[test]
    fn the_diff_marks_removed_and_added_lines() {
        let diff = line_diff("a\nimage: web:1\nc", "a\nimage: web:2\nc");
        let marked: Vec<String> = diff
            .iter()
            .map(|(m, l)| format!("{}{l}", m.symbol()))
            .collect();
        assert_eq!(marked, [" a", "-image: web:1", "+image: web:2", " c"]);
    }
}

#[cfg(test)]
mod diff_properties {
    use super::*;
    use proptest::prelude::*;

    fn side(diff: &[(DiffMark, String)], skip: DiffMark) -> Vec<String> {
        diff.iter()
            .filter(|(mark, _)| *mark != skip)
            .map(|(_, line)| line.clone())
            .collect()
    }

    proptest! {
        /// Dropping the added lines gives back the old text, dropping the removed ones the new,
        /// and the kept lines are a longest common subsequence (never fewer than a common prefix).
        #[test]
        fn a_diff_holds_both_texts(
            old in proptest::collection::vec("[abc]{0,2}", 0..12),
            new in proptest::collection::vec("[abc]{0,2}", 0..12),
        ) {
            let diff = line_diff(&old.join("\n"), &new.join("\n"));
            let lines = |text: &Vec<String>| text.join("\n").lines().map(String::from).collect::<Vec<_>>();
            prop_assert_eq!(side(&diff, DiffMark::Added), lines(&old));
            prop_assert_eq!(side(&diff, DiffMark::Removed), lines(&new));
            let prefix = lines(&old).iter().zip(lines(&new).iter()).take_while(|(a, b)| a == b).count();
            prop_assert!(diff.iter().filter(|(m, _)| *m == DiffMark::Same).count() >= prefix);
        }
    }
}
