//! The admission policy that makes the author annotations of Applications and Projects honest
//! (see `app::access::author`): installed on global with the CRDs, and checked before a
//! controller acts as an author, since an annotation is worth trusting only while the policy that
//! vouches for it is in force.

use std::time::{Duration, Instant};

use app::access::author::{AUTHOR_POLICY, AuthorError, policy, policy_binding};
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};

/// How long a positive check of the policy is reused.
const RECHECK: Duration = Duration::from_secs(10);

/// Applies the policy and its binding to `global`.
pub async fn install(global: &Client, manager: &str) -> Result<(), kube::Error> {
    let params = PatchParams::apply(manager).force();
    Api::<ValidatingAdmissionPolicy>::all(global.clone())
        .patch(AUTHOR_POLICY, &params, &Patch::Apply(policy()))
        .await?;
    Api::<ValidatingAdmissionPolicyBinding>::all(global.clone())
        .patch(AUTHOR_POLICY, &params, &Patch::Apply(policy_binding()))
        .await?;
    Ok(())
}

/// Answers whether the policy is in force on global, remembering a yes for a few seconds.
#[derive(Default)]
pub struct PolicyCheck {
    confirmed: std::sync::Mutex<Option<Instant>>,
}

impl PolicyCheck {
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
        check(global).await?;
        if let Ok(mut confirmed) = self.confirmed.lock() {
            *confirmed = Some(Instant::now());
        }
        Ok(())
    }
}

/// The policy exists, fails closed, and a binding of it denies what it refuses.
async fn check(global: &Client) -> Result<(), AuthorError> {
    let missing = |what: String| AuthorError::PolicyMissing(what);
    let found = Api::<ValidatingAdmissionPolicy>::all(global.clone())
        .get_opt(AUTHOR_POLICY)
        .await
        .map_err(|e| missing(format!("reading it: {e}")))?
        .ok_or_else(|| missing("it does not exist".into()))?;
    let expected = policy();
    let spec = serde_json::to_value(&found.spec).unwrap_or_default();
    // Compared where the apiserver adds no defaults; the match rules get `scope` and selectors.
    if spec["validations"] != expected["spec"]["validations"]
        || spec["variables"] != expected["spec"]["variables"]
        || spec["failurePolicy"] != "Fail"
    {
        return Err(missing("it has been changed".into()));
    }
    let binding = Api::<ValidatingAdmissionPolicyBinding>::all(global.clone())
        .get_opt(AUTHOR_POLICY)
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
    if spec.policy_name.as_deref() != Some(AUTHOR_POLICY)
        || !denies
        || narrowed
        || spec.param_ref.is_some()
    {
        return Err(missing(
            "its binding does not deny for every namespace".into(),
        ));
    }
    Ok(())
}
