//! The Project resource (`projects.platform.nextgen-console.io`, cluster-scoped on global): the
//! member clusters a team works on with the namespace used on each, optional quotas, and the
//! members with their roles. The console's controller makes the namespaces and RoleBindings on
//! every member cluster and on global (where the project's Applications live, in the namespace
//! named after the project).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::PROJECT_NAMESPACE_LABEL;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "Project",
        plural = "projects",
        status = "ProjectState",
        shortname = "ngproject",
        printcolumn = r#"{"name":"Clusters","type":"string","jsonPath":".spec.clusters[*].name"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub clusters: Vec<ProjectCluster>,
    #[serde(default)]
    pub members: Vec<Member>,
    /// `hard` limits of a ResourceQuota in the project's namespace on every member cluster,
    /// for example {"pods": "20", "requests.cpu": "4"}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct ProjectCluster {
    pub name: String,
    /// The namespace used there; the project's name when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct Member {
    /// "User" or "Group", as the identity provider names them.
    pub kind: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub enum Role {
    #[serde(rename = "project-admin")]
    ProjectAdmin,
    #[default]
    #[serde(rename = "developer")]
    Developer,
    #[serde(rename = "viewer")]
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::ProjectAdmin, Role::Developer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProjectAdmin => "project-admin",
            Role::Developer => "developer",
            Role::Viewer => "viewer",
        }
    }

    /// The built-in ClusterRole the role grants in the project's namespaces (Applications
    /// aggregate into them).
    pub fn cluster_role(self) -> &'static str {
        match self {
            Role::ProjectAdmin => "admin",
            Role::Developer => "edit",
            Role::Viewer => "view",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectState {
    #[serde(default)]
    pub namespaces: Vec<NamespaceState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The user the controller acts as on every cluster (the author of the spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `Authorized`: whether the controller could act for the author everywhere, and why not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<crate::cluster::ClusterCondition>,
}

/// Namespaces no project may take: the cluster's own and the console's. Binding a project's
/// roles there would hand out the cluster or the console.
pub fn system_namespace(namespace: &str) -> bool {
    namespace == "default"
        || namespace.starts_with("kube-")
        || namespace.starts_with("openshift-")
        || namespace == "nextgen-console-system"
        || namespace == crate::plugin::PLUGIN_NAMESPACE
}

/// Why `project` may not use a namespace whose labels are `labels` (None: it does not exist
/// yet), or None when it may.
pub fn namespace_refusal(
    project: &str,
    namespace: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    if system_namespace(namespace) {
        return Some(format!(
            "namespace {namespace} is a system namespace; choose a namespace of the project's own"
        ));
    }
    let owner = labels.and_then(|l| l.get(PROJECT_NAMESPACE_LABEL))?;
    (owner != project).then(|| {
        format!("namespace {namespace} belongs to project {owner}; choose another namespace")
    })
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct NamespaceState {
    pub cluster: String,
    pub namespace: String,
    pub ready: bool,
    #[serde(default)]
    pub message: String,
}

impl ProjectSpec {
    /// The namespace the project uses on `cluster`.
    pub fn namespace_on(&self, project: &str, cluster: &str) -> String {
        self.clusters
            .iter()
            .find(|c| c.name == cluster)
            .and_then(|c| c.namespace.clone())
            .unwrap_or_else(|| project.to_string())
    }
}

/// What the controller applies in one namespace: the namespace itself, one RoleBinding per role
/// that has members, and the quota (member clusters only).
pub fn render(project: &str, namespace: &str, spec: &ProjectSpec, with_quota: bool) -> Vec<Value> {
    let labels = json!({
        PROJECT_NAMESPACE_LABEL: project,
        "app.kubernetes.io/managed-by": "nextgen-console",
    });
    let mut objects = vec![json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": namespace, "labels": labels},
    })];
    for role in Role::ALL {
        let subjects: Vec<Value> = spec
            .members
            .iter()
            .filter(|m| m.role == role)
            .map(|m| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": m.kind, "name": m.name}))
            .collect();
        if subjects.is_empty() {
            continue;
        }
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("project-{}", role.as_str()), "namespace": namespace, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role.cluster_role()},
            "subjects": subjects,
        }));
    }
    if with_quota && let Some(hard) = &spec.quota {
        objects.push(json!({
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "project-quota", "namespace": namespace, "labels": labels},
            "spec": {"hard": hard},
        }));
    }
    objects
}

/// Whether `name` may see the project: a User member of that name, or a Group member among
/// `groups`.
pub fn is_member(spec: &ProjectSpec, name: &str, groups: &[String]) -> bool {
    spec.members.iter().any(|m| {
        (m.kind == "User" && m.name == name) || (m.kind == "Group" && groups.contains(&m.name))
    })
}

/// A project the signed-in user belongs to (what `projects/list` answers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub name: String,
}

/// A Project as its page and the `ac` CLI show it (what `projects/get` answers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub name: String,
    pub spec: ProjectSpec,
    pub status: ProjectState,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ProjectSpec {
        ProjectSpec {
            clusters: vec![
                ProjectCluster {
                    name: "east".into(),
                    namespace: None,
                },
                ProjectCluster {
                    name: "west".into(),
                    namespace: Some("shop-west".into()),
                },
            ],
            members: vec![
                Member {
                    kind: "Group".into(),
                    name: "team-c".into(),
                    role: Role::Developer,
                },
                Member {
                    kind: "User".into(),
                    name: "carol@example.com".into(),
                    role: Role::Viewer,
                },
            ],
            quota: Some([("pods".to_string(), "20".to_string())].into()),
            ..ProjectSpec::default()
        }
    }

    #[test]
    fn each_role_with_members_becomes_one_binding_and_quotas_only_on_members() {
        let objects = render("shop", "shop", &spec(), true);
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            ["Namespace", "RoleBinding", "RoleBinding", "ResourceQuota"]
        );
        assert_eq!(objects[1]["roleRef"]["name"], "edit");
        assert_eq!(objects[2]["roleRef"]["name"], "view");
        assert_eq!(objects[3]["spec"]["hard"]["pods"], "20");
        let on_global = render("shop", "shop", &spec(), false);
        assert_eq!(on_global.len(), 3);
        assert_eq!(spec().namespace_on("shop", "west"), "shop-west");
        assert_eq!(spec().namespace_on("shop", "east"), "shop");
    }

    #[test]
    fn system_namespaces_and_other_projects_namespaces_are_refused() {
        for ns in [
            "kube-system",
            "kube-public",
            "default",
            "nextgen-console-system",
            "nextgen-plugins",
        ] {
            assert!(namespace_refusal("shop", ns, None).is_some(), "{ns}");
        }
        let theirs: BTreeMap<String, String> =
            [(PROJECT_NAMESPACE_LABEL.to_string(), "books".to_string())].into();
        let ours: BTreeMap<String, String> =
            [(PROJECT_NAMESPACE_LABEL.to_string(), "shop".to_string())].into();
        assert_eq!(
            namespace_refusal("shop", "books", Some(&theirs)),
            Some("namespace books belongs to project books; choose another namespace".into())
        );
        assert_eq!(namespace_refusal("shop", "shop", Some(&ours)), None);
        assert_eq!(namespace_refusal("shop", "shop-west", None), None);
        assert_eq!(
            namespace_refusal("shop", "plain", Some(&BTreeMap::new())),
            None
        );
    }

    #[test]
    fn membership_is_by_user_name_or_group() {
        let s = spec();
        assert!(is_member(&s, "dave@example.com", &["team-c".into()]));
        assert!(is_member(&s, "carol@example.com", &[]));
        assert!(!is_member(&s, "bob@example.com", &["team-b".into()]));
    }
}
