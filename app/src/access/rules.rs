//! RBAC's matching of a request against the resource rules a SelfSubjectRulesReview returns,
//! as the apiserver's RBAC authorizer matches them (wildcards, subresources, resource names).

use k8s_openapi::api::authorization::v1::ResourceRule;

use super::AccessCheck;

const ALL: &str = "*";

/// Whether any rule grants `check`. Rules come from one namespace's review, so the caller
/// asks only about that namespace.
pub fn allows(rules: &[ResourceRule], check: &AccessCheck) -> bool {
    rules.iter().any(|rule| rule_allows(rule, check))
}

fn rule_allows(rule: &ResourceRule, check: &AccessCheck) -> bool {
    let listed = |values: &Option<Vec<String>>, wanted: &str| {
        values.iter().flatten().any(|v| v == ALL || v == wanted)
    };
    rule.verbs.iter().any(|v| v == ALL || *v == check.verb)
        && listed(&rule.api_groups, &check.group)
        && resource_matches(
            rule.resources.as_deref().unwrap_or_default(),
            &check.resource,
        )
        && names_match(
            rule.resource_names.as_deref().unwrap_or_default(),
            check.name.as_deref(),
        )
}

/// `*` matches everything; `*/scale` matches the scale subresource of anything; otherwise the
/// rule names the resource (with its subresource) exactly.
fn resource_matches(resources: &[String], wanted: &str) -> bool {
    let subresource = wanted.split_once('/').map(|(_, sub)| sub);
    resources.iter().any(|r| {
        r == ALL || r == wanted || subresource.is_some_and(|sub| r.strip_prefix("*/") == Some(sub))
    })
}

/// A rule without names covers every name; a rule with names covers only those, so it never
/// grants a request that names nothing (list, create without a name).
fn names_match(names: &[String], wanted: Option<&str>) -> bool {
    names.is_empty() || wanted.is_some_and(|w| names.iter().any(|n| n == w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ResourceRule {
            verbs: strings(verbs),
            api_groups: Some(strings(groups)),
            resources: Some(strings(resources)),
            resource_names: (!names.is_empty()).then(|| strings(names)),
        }
    }

    fn check(verb: &str, group: &str, resource: &str) -> AccessCheck {
        AccessCheck::new(verb, group, resource).in_namespace("team-a")
    }

    #[test]
    fn exact_rules_grant_only_their_verbs_groups_and_resources() {
        let rules = [rule(&["get", "list"], &["apps"], &["deployments"], &[])];
        assert!(allows(&rules, &check("list", "apps", "deployments")));
        assert!(!allows(&rules, &check("delete", "apps", "deployments")));
        assert!(!allows(&rules, &check("list", "", "deployments")));
        assert!(!allows(&rules, &check("list", "apps", "statefulsets")));
    }

    #[test]
    fn wildcards_cover_every_verb_group_and_resource() {
        let admin = [rule(&["*"], &["*"], &["*"], &[])];
        assert!(allows(
            &admin,
            &check("delete", "perf.example.io", "widgets")
        ));
        assert!(allows(&admin, &check("create", "", "pods/exec")));
    }

    #[test]
    fn subresources_need_their_own_rule_or_a_subresource_wildcard() {
        let rules = [
            rule(&["get"], &[""], &["pods"], &[]),
            rule(&["update"], &["apps"], &["*/scale"], &[]),
        ];
        assert!(!allows(&rules, &check("get", "", "pods/log")));
        assert!(allows(
            &rules,
            &check("update", "apps", "deployments/scale")
        ));
        assert!(!allows(&rules, &check("update", "apps", "deployments")));
    }

    #[test]
    fn resource_names_restrict_a_rule_to_those_objects() {
        let rules = [rule(
            &["get", "delete"],
            &[""],
            &["configmaps"],
            &["settings"],
        )];
        assert!(allows(
            &rules,
            &check("get", "", "configmaps").named("settings")
        ));
        assert!(!allows(
            &rules,
            &check("get", "", "configmaps").named("other")
        ));
        // A list names nothing, so a named rule cannot grant it.
        assert!(!allows(&rules, &check("list", "", "configmaps")));
    }

    #[test]
    fn no_rules_grant_nothing() {
        assert!(!allows(&[], &check("get", "", "pods")));
    }
}
