//! Who wrote a platform resource, in a form the console can trust: the annotations
//! `platform.nextgen-console.io/author` and `author-groups` name the user who last changed the
//! resource's spec, and a ValidatingAdmissionPolicy on global refuses any write that names
//! someone other than the writer (or a group the writer is not in). Controllers act by
//! impersonating that author, so they never do more than the author may. It covers
//! [`AUTHORED`]: Applications, Projects and ImagePrunePolicies.

use serde_json::{Value, json};

use console_api::identity::Identity;

pub const AUTHOR_ANNOTATION: &str = "platform.nextgen-console.io/author";
pub const AUTHOR_GROUPS_ANNOTATION: &str = "platform.nextgen-console.io/author-groups";
/// The name of the ValidatingAdmissionPolicy and its binding that make the annotations honest.
pub const AUTHOR_POLICY: &str = "nextgen-console-authors";
/// The resources (of the console's API group) whose authors the policy vouches for.
pub const AUTHORED: [&str; 3] = ["applications", "projects", "imageprunepolicies"];
/// The same for ClusterPlugins, whose settings (`spec.monitoring`) are user-written placement:
/// a policy of its own, so it constrains only writes that change the settings or the author,
/// and the console's own moves of `spec.version` (ClusterVersionShadow) pass.
pub const PLUGIN_AUTHOR_POLICY: &str = "nextgen-console-plugin-authors";
/// The group every authenticated user is in; the apiserver adds it to every impersonated
/// request by itself, so it is never carried.
const AUTHENTICATED: &str = "system:authenticated";

/// Why the author of a resource cannot be acted as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorError {
    #[error(
        "no author is recorded: the console acts on member clusters only as the user who wrote the spec. Change it through the console, or set annotation {AUTHOR_ANNOTATION} to your user name (and {AUTHOR_GROUPS_ANNOTATION} to your groups, comma-separated)"
    )]
    Missing,
    #[error(
        "the author {0:?} is a name of the global cluster itself (system:), which means nothing on other clusters; write the spec as a user of the identity provider"
    )]
    SystemUser(String),
    #[error(
        "the author is in group {0:?}, a group of the global cluster itself (system:) that the console does not carry to other clusters; write the spec as a user of the identity provider"
    )]
    SystemGroup(String),
    #[error(
        "the admission policy {AUTHOR_POLICY} that vouches for the author annotation is not in force on the global cluster ({0}); the console does not act on an author it cannot trust"
    )]
    PolicyMissing(String),
    #[error(
        "the admission policy {PLUGIN_AUTHOR_POLICY} that vouches for the author of plugin settings is not in force on the global cluster ({0}); the console does not act on an author it cannot trust"
    )]
    PluginPolicyMissing(String),
}

/// The annotations that record `user` (as the global cluster sees them) as the author.
pub fn annotations(username: &str, groups: &[String]) -> Value {
    let groups: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|g| *g != AUTHENTICATED)
        .collect();
    json!({
        AUTHOR_ANNOTATION: username,
        AUTHOR_GROUPS_ANNOTATION: groups.join(","),
    })
}

/// The identity to act as for a resource with these annotations. Names of the global cluster
/// itself (`system:` users and groups, such as service accounts or `system:masters`) are refused:
/// they mean something else, or nothing, on another cluster.
pub fn author_of(
    annotations: &std::collections::BTreeMap<String, String>,
) -> Result<Identity, AuthorError> {
    let username = annotations
        .get(AUTHOR_ANNOTATION)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or(AuthorError::Missing)?;
    if username.starts_with("system:") {
        return Err(AuthorError::SystemUser(username.into()));
    }
    let mut groups = Vec::new();
    for group in annotations
        .get(AUTHOR_GROUPS_ANNOTATION)
        .map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty() && *g != AUTHENTICATED)
    {
        if group.starts_with("system:") {
            return Err(AuthorError::SystemGroup(group.into()));
        }
        groups.push(group.to_string());
    }
    Ok(Identity {
        username: username.into(),
        display_name: username.into(),
        groups,
        local: false,
    })
}

/// The author annotations for a change made now through `global` (a client acting as the
/// signed-in user on the global cluster): the apiserver itself says who that is
/// (SelfSubjectReview), so the annotations match what the admission policy checks, in local
/// mode too.
pub async fn stamp(global: &kube::Client) -> Result<Value, crate::ConsoleError> {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let review = kube::Api::<SelfSubjectReview>::all(global.clone())
        .create(&Default::default(), &SelfSubjectReview::default())
        .await
        .map_err(|e| crate::platform::kube_error(crate::platform::GLOBAL_CLUSTER, e))?;
    let user = review.status.and_then(|s| s.user_info).unwrap_or_default();
    Ok(annotations(
        &user.username.unwrap_or_default(),
        &user.groups.unwrap_or_default(),
    ))
}

/// The ValidatingAdmissionPolicy that makes the author annotations honest on global: a write
/// that changes the spec or the annotations must name its own writer (or no one), and may claim
/// only groups the writer is in. Writes that leave both alone (finalizers, labels) pass.
pub fn policy() -> Value {
    build_policy(AUTHOR_POLICY, &AUTHORED, "object.spec == oldObject.spec")
}

/// The policy for ClusterPlugins: as [`policy`], but only the settings (`spec.monitoring`) count
/// as the author's part of the spec; a change of `spec.version` alone (the ClusterVersionShadow
/// controller moving a Core plugin, an upgrade from the plugins page) keeps the recorded author,
/// since the version only picks an image from the catalog and places nothing.
pub fn plugin_policy() -> Value {
    build_policy(
        PLUGIN_AUTHOR_POLICY,
        &["clusterplugins"],
        "has(object.spec.monitoring) == has(oldObject.spec.monitoring) && (!has(object.spec.monitoring) || object.spec.monitoring == oldObject.spec.monitoring)",
    )
}

fn build_policy(name: &str, resources: &[&str], spec_unchanged: &str) -> Value {
    let get = |key: &str, of: &str| {
        format!(
            "has({of}.metadata.annotations) && '{key}' in {of}.metadata.annotations ? {of}.metadata.annotations['{key}'] : ''"
        )
    };
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "nextgen-console"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": [console_api::GROUP],
                "apiVersions": ["*"],
                "operations": ["CREATE", "UPDATE"],
                "resources": resources,
            }]},
            "variables": [
                {"name": "author", "expression": get(AUTHOR_ANNOTATION, "object")},
                {"name": "claimedGroups", "expression": get(AUTHOR_GROUPS_ANNOTATION, "object")},
                {"name": "unchanged", "expression": format!(
                    "request.operation == 'UPDATE' && {spec_unchanged} && variables.author == ({}) && variables.claimedGroups == ({})",
                    get(AUTHOR_ANNOTATION, "oldObject"),
                    get(AUTHOR_GROUPS_ANNOTATION, "oldObject"),
                )},
            ],
            "validations": [
                {
                    "expression": "variables.unchanged || variables.author == '' || variables.author == request.userInfo.username",
                    "messageExpression": format!(
                        "'annotation {AUTHOR_ANNOTATION} must name the user making this change (' + request.userInfo.username + ') or be left out: the console acts on member clusters as the author of the spec'"
                    ),
                    "reason": "Forbidden",
                },
                {
                    "expression": "variables.unchanged || variables.claimedGroups == '' || (has(request.userInfo.groups) && variables.claimedGroups.split(',').all(g, g in request.userInfo.groups))",
                    "messageExpression": format!(
                        "'annotation {AUTHOR_GROUPS_ANNOTATION} may list only groups you are in (' + (has(request.userInfo.groups) ? request.userInfo.groups.join(',') : '') + ')'"
                    ),
                    "reason": "Forbidden",
                },
            ],
        },
    })
}

/// The binding that puts [`policy`] in force for every namespace, denying what it refuses.
pub fn policy_binding() -> Value {
    binding(AUTHOR_POLICY)
}

/// The binding of [`plugin_policy`].
pub fn plugin_policy_binding() -> Value {
    binding(PLUGIN_AUTHOR_POLICY)
}

fn binding(name: &str) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "nextgen-console"}},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_recorded_author_is_acted_as_without_the_implicit_group() {
        let recorded = annotations(
            "alice@example.com",
            &["team-a".into(), AUTHENTICATED.into(), "qa".into()],
        );
        assert_eq!(recorded[AUTHOR_GROUPS_ANNOTATION], "team-a,qa");
        let author = author_of(&map(&[
            (AUTHOR_ANNOTATION, "alice@example.com"),
            (AUTHOR_GROUPS_ANNOTATION, "team-a,system:authenticated,qa"),
        ]));
        assert_eq!(
            author.map(|a| (a.username, a.groups, a.local)),
            Ok((
                "alice@example.com".to_string(),
                vec!["team-a".to_string(), "qa".to_string()],
                false
            ))
        );
    }

    #[test]
    fn no_author_and_names_of_the_global_cluster_itself_are_refused() {
        assert_eq!(author_of(&map(&[])), Err(AuthorError::Missing));
        assert_eq!(
            author_of(&map(&[(AUTHOR_ANNOTATION, "  ")])),
            Err(AuthorError::Missing)
        );
        assert_eq!(
            author_of(&map(&[(AUTHOR_ANNOTATION, "system:serviceaccount:a:b")])),
            Err(AuthorError::SystemUser("system:serviceaccount:a:b".into()))
        );
        assert_eq!(
            author_of(&map(&[
                (AUTHOR_ANNOTATION, "root"),
                (AUTHOR_GROUPS_ANNOTATION, "ops,system:masters")
            ])),
            Err(AuthorError::SystemGroup("system:masters".into()))
        );
    }

    #[test]
    fn the_policy_checks_the_writer_against_both_annotations() {
        let policy = policy();
        let rules = policy["spec"]["validations"].to_string();
        assert!(rules.contains("request.userInfo.username"), "{rules}");
        assert!(rules.contains("request.userInfo.groups"), "{rules}");
        assert_eq!(policy["spec"]["failurePolicy"], "Fail");
        assert_eq!(policy_binding()["spec"]["validationActions"][0], "Deny");
    }

    #[test]
    fn the_plugin_policy_lets_a_version_change_keep_its_author_but_not_a_settings_change() {
        let policy = plugin_policy();
        let unchanged = policy["spec"]["variables"][2]["expression"].to_string();
        assert!(unchanged.contains("object.spec.monitoring == oldObject.spec.monitoring"));
        assert!(
            !unchanged.contains("object.spec == oldObject.spec"),
            "{unchanged}"
        );
        assert_eq!(
            policy["spec"]["matchConstraints"]["resourceRules"][0]["resources"][0],
            "clusterplugins"
        );
        assert_eq!(
            plugin_policy_binding()["spec"]["policyName"],
            PLUGIN_AUTHOR_POLICY
        );
        // The Applications' policy is unchanged (consoles of other versions share it).
        assert!(policy_text().contains("object.spec == oldObject.spec"));
    }

    fn policy_text() -> String {
        super::policy()["spec"]["variables"].to_string()
    }
}
