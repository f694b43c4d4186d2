//! The Cluster resource (`clusters.platform.nextgen-console.io`, cluster-scoped, on the global
//! cluster): one per managed cluster, with where it is, the Secret holding the console's
//! credential for it, and the status the console's controller keeps current.

use serde::{Deserialize, Serialize};

/// The API group of the console's own resources.
pub const GROUP: &str = "platform.nextgen-console.io";
/// Condition types the controller writes.
/// The hub's cluster name: platform state lives there; it is upgraded with the platform rather
/// than checked as a workload cluster.
pub const GLOBAL_CLUSTER: &str = "global";

/// A registered cluster as the selector and lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    pub name: String,
    /// API server URL.
    pub server: String,
    /// Registered by a Cluster resource on global (so it can be removed from the console), not
    /// by the console's kubeconfig.
    #[serde(default)]
    pub managed: bool,
}

/// What a probe of the cluster's API server found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterHealth {
    Reachable {
        version: String,
    },
    Unreachable {
        reason: String,
    },
    /// Registered by a Cluster resource that the controller has not probed yet.
    Pending,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub cluster: ClusterRef,
    pub health: ClusterHealth,
}

pub const REACHABLE: &str = "Reachable";
pub const VERSION_SUPPORTED: &str = "VersionSupported";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(kube::CustomResource, schemars::JsonSchema))]
#[cfg_attr(
    feature = "kube",
    kube(
        group = "platform.nextgen-console.io",
        version = "v1alpha1",
        kind = "Cluster",
        plural = "clusters",
        status = "ClusterState",
        shortname = "ngcluster",
        printcolumn = r#"{"name":"Server","type":"string","jsonPath":".spec.server"}"#,
        printcolumn = r#"{"name":"Version","type":"string","jsonPath":".status.version"}"#,
        printcolumn = r#"{"name":"Nodes","type":"integer","jsonPath":".status.nodes"}"#,
        printcolumn = r#"{"name":"Reachable","type":"string","jsonPath":".status.conditions[?(@.type==\"Reachable\")].status"}"#
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// The name people see; the resource's name when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The API server's URL. Immutable: the credential was imported for this address, so
    /// pointing the Cluster elsewhere would send it there.
    #[cfg_attr(
        feature = "kube",
        schemars(extend("x-kubernetes-validations" = [{
            "rule": "self == oldSelf",
            "message": "spec.server is immutable: the credential was imported for this address. To manage the cluster at another address, remove it and import it again."
        }]))
    )]
    pub server: String,
    /// Base64 of the PEM CA that signs the API server's certificate (as a kubeconfig's
    /// certificate-authority-data); the system's roots when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_data: Option<String>,
    /// The Secret with the console's credential for the cluster: `token`, or `tls.crt` and
    /// `tls.key` (a client certificate). Immutable, and used only when the Secret has an owner
    /// reference to this Cluster (kind, name and uid), as the import creates it.
    #[cfg_attr(
        feature = "kube",
        schemars(extend("x-kubernetes-validations" = [{
            "rule": "self == oldSelf",
            "message": "spec.credentialSecret is immutable: the credential belongs to this Cluster. To use another credential, remove the cluster and import it again."
        }]))
    )]
    pub credential_secret: SecretRef,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

/// What the controller last found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_nodes: Option<u32>,
    #[serde(default)]
    pub conditions: Vec<ClusterCondition>,
    /// RFC 3339 time of the last probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<String>,
    /// Probes failed in a row; the controller backs off on it.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// The spec generation the last probe used: a changed spec is probed at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kube", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterCondition {
    #[serde(rename = "type")]
    pub type_: String,
    /// "True", "False" or "Unknown".
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition_time: String,
}

impl ClusterState {
    pub fn condition(&self, type_: &str) -> Option<&ClusterCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Sets a condition, keeping its transition time when its status did not change.
    pub fn set_condition(
        &mut self,
        type_: &str,
        ok: Option<bool>,
        reason: &str,
        message: String,
        now: &str,
    ) {
        set_condition(&mut self.conditions, type_, ok, reason, message, now);
    }
}

/// Sets the condition `type_` in `conditions` (`None` is Unknown), keeping its transition time
/// while its status stays the same. Every resource of the console keeps its conditions this way.
pub fn set_condition(
    conditions: &mut Vec<ClusterCondition>,
    type_: &str,
    ok: Option<bool>,
    reason: &str,
    message: String,
    now: &str,
) {
    let status = match ok {
        Some(true) => "True",
        Some(false) => "False",
        None => "Unknown",
    };
    let last_transition_time = match conditions.iter().find(|c| c.type_ == type_) {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => now.to_string(),
    };
    let condition = ClusterCondition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message,
        last_transition_time,
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "kube")]
    #[test]
    fn server_and_credential_secret_are_immutable_in_the_crd() {
        use kube::CustomResourceExt as _;
        let crd = serde_json::to_value(Cluster::crd()).unwrap_or_default();
        let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        for field in ["server", "credentialSecret"] {
            let rules = &spec[field]["x-kubernetes-validations"];
            assert_eq!(rules[0]["rule"], "self == oldSelf", "{field}: {spec:#}");
            let message = rules[0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("import it again"), "{message}");
        }
    }

    #[test]
    fn a_condition_keeps_its_transition_time_until_its_status_changes() {
        let mut state = ClusterState::default();
        state.set_condition(REACHABLE, Some(true), "Probed", "ok".into(), "t1");
        state.set_condition(REACHABLE, Some(true), "Probed", "still ok".into(), "t2");
        let c = state.condition(REACHABLE).cloned().unwrap_or_default();
        assert_eq!(
            (
                c.status.as_str(),
                c.last_transition_time.as_str(),
                c.message.as_str()
            ),
            ("True", "t1", "still ok")
        );
        state.set_condition(
            REACHABLE,
            Some(false),
            "Unreachable",
            "refused".into(),
            "t3",
        );
        let c = state.condition(REACHABLE).cloned().unwrap_or_default();
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.as_str()),
            ("False", "t3")
        );
        assert_eq!(state.conditions.len(), 1);
    }
}
