//! The admission policy that makes the author annotations of Applications, Projects and
//! ImagePrunePolicies honest (see `app::access::author`): installed on global with the CRDs, and
//! checked before a controller acts as an author, since an annotation is worth trusting only
//! while the policy that vouches for it is in force for that resource.

use std::time::{Duration, Instant};

use app::access::author::{
    AUTHOR_POLICY, AuthorError, PLUGIN_AUTHOR_POLICY, plugin_policy, plugin_policy_binding, policy,
    policy_binding,
};
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};

/// How long a positive check of the policy is reused.
const RECHECK: Duration = Duration::from_secs(10);

/// Applies both policies (Applications and Projects; ClusterPlugins) and their bindings to
/// `global`.
pub async fn install(global: &Client, manager: &str) -> Result<(), kube::Error> {
    let params = PatchParams::apply(manager).force();
    for (name, policy, binding) in [
        (AUTHOR_POLICY, policy(), policy_binding()),
        (
            PLUGIN_AUTHOR_POLICY,
            plugin_policy(),
            plugin_policy_binding(),
        ),
    ] {
        Api::<ValidatingAdmissionPolicy>::all(global.clone())
            .patch(name, &params, &Patch::Apply(policy))
            .await?;
        Api::<ValidatingAdmissionPolicyBinding>::all(global.clone())
            .patch(name, &params, &Patch::Apply(binding))
            .await?;
    }
    Ok(())
}

/// Answers whether the policy is in force on global, remembering a yes for a few seconds.
#[derive(Default)]
pub struct PolicyCheck {
    confirmed: std::sync::Mutex<Option<Instant>>,
    /// Checks the ClusterPlugins' policy rather than the Applications'.
    plugins: bool,
}

impl PolicyCheck {
    /// A check of the ClusterPlugins' policy.
    pub fn plugins() -> Self {
        PolicyCheck {
            confirmed: Default::default(),
            plugins: true,
        }
    }

    pub async fn in_force(&self, global: &Client) -> Result<(), AuthorError> {
        if self
            .confirmed
            .lock()
            .ok()
            .and_then(|c| *c)
            .is_some_and(|at| at.elapsed() < RECHECK)
        {
            return Ok(());
        }
        if self.plugins {
            check(global, PLUGIN_AUTHOR_POLICY, plugin_policy())
                .await
                .map_err(|e| match e {
                    AuthorError::PolicyMissing(why) => AuthorError::PluginPolicyMissing(why),
                    other => other,
                })?;
        } else {
            check(global, AUTHOR_POLICY, policy()).await?;
        }
        if let Ok(mut confirmed) = self.confirmed.lock() {
            *confirmed = Some(Instant::now());
        }
        Ok(())
    }
}

/// The policy exists, fails closed, and a binding of it denies what it refuses.
async fn check(
    global: &Client,
    name: &str,
    expected: serde_json::Value,
) -> Result<(), AuthorError> {
    let missing = |what: String| AuthorError::PolicyMissing(what);
    let found = Api::<ValidatingAdmissionPolicy>::all(global.clone())
        .get_opt(name)
        .await
        .map_err(|e| missing(format!("reading it: {e}")))?
        .ok_or_else(|| missing("it does not exist".into()))?;
    let spec = serde_json::to_value(&found.spec).unwrap_or_default();
    // Compared where the apiserver adds no defaults; the match rules get `scope` and selectors.
    if spec["validations"] != expected["spec"]["validations"]
        || spec["variables"] != expected["spec"]["variables"]
        || spec["failurePolicy"] != "Fail"
    {
        return Err(missing("it has been changed".into()));
    }
    let covered: Vec<String> = found
        .spec
        .as_ref()
        .and_then(|s| s.match_constraints.as_ref())
        .and_then(|m| m.resource_rules.as_ref())
        .into_iter()
        .flatten()
        .flat_map(|rule| rule.resources.clone().unwrap_or_default())
        .collect();
    let wanted = expected["spec"]["matchConstraints"]["resourceRules"][0]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(left_out) = wanted
        .iter()
        .filter_map(|r| r.as_str())
        .find(|r| !covered.iter().any(|c| c == r || c == "*"))
    {
        return Err(missing(format!("it does not cover {left_out}")));
    }
    let binding = Api::<ValidatingAdmissionPolicyBinding>::all(global.clone())
        .get_opt(name)
        .await
        .map_err(|e| missing(format!("reading its binding: {e}")))?
        .ok_or_else(|| missing("its binding does not exist".into()))?;
    let spec = binding.spec.unwrap_or_default();
    let denies = spec
        .validation_actions
        .unwrap_or_default()
        .iter()
        .any(|a| a == "Deny");
    let narrowed = serde_json::to_value(&spec.match_resources)
        .unwrap_or_default()
        .as_object()
        .is_some_and(|m| {
            m.iter().any(|(key, value)| match key.as_str() {
                "matchPolicy" => false,
                "namespaceSelector" | "objectSelector" => {
                    value.as_object().is_some_and(|s| !s.is_empty())
                }
                _ => !value.is_null() && value.as_array().is_none_or(|a| !a.is_empty()),
            })
        });
    if spec.policy_name.as_deref() != Some(name) || !denies || narrowed || spec.param_ref.is_some()
    {
        return Err(missing(
            "its binding does not deny for every namespace".into(),
        ));
    }
    Ok(())
}
