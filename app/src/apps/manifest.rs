//! The Application manifest the YAML editor and the short form produce, and its parser: the
//! YAML is parsed on the server (errors name the line and column) and checked for what the
//! console itself needs (a DNS-label name, a placement, containers); every other field is left
//! to the member clusters' API servers (dry run, strict validation).

#[cfg(feature = "ssr")]
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::resource::ApplicationSpec;

/// What the YAML editor holds: an Application manifest (apiVersion and kind may be left out).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default, rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    pub metadata: ManifestMeta,
    pub spec: ApplicationSpec,
}

#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestMeta {
    pub name: String,
}

/// The manifest the editor starts with.
pub const EXAMPLE: &str = "apiVersion: platform.nextgen-console.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  placement: [east, west]
  template:
    deployment:
      replicas: 2
      template:
        spec:
          containers:
            - name: web
              image: registry.example/web:1
              volumeMounts: [{name: conf, mountPath: /etc/web}]
          volumes:
            - name: conf
              configMap: {name: web-conf, defaultMode: 420}
    configMaps:
      - name: web-conf
        data:
          app.ini: |
            mode=production
";

/// Parses the editor's text; the error says where (line and column) and what.
#[cfg(feature = "ssr")]
pub fn parse(text: &str) -> Result<Manifest, String> {
    let manifest: Manifest = serde_saphyr_or_json(text)?;
    if let Some(kind) = manifest.kind.as_deref().filter(|k| *k != "Application") {
        return Err(format!("kind is {kind}; this editor creates Applications"));
    }
    let name = &manifest.metadata.name;
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        return Err(format!(
            "metadata.name {name:?} must be a DNS label: lower-case letters, digits and '-', at most 63"
        ));
    }
    if manifest.spec.placement.is_empty() {
        return Err("spec.placement lists no cluster; name at least one member cluster".into());
    }
    if !manifest.spec.template.deployment["template"]["spec"]["containers"].is_array() {
        return Err(
            "spec.template.deployment.template.spec.containers is missing: a Deployment needs containers"
                .into(),
        );
    }
    Ok(manifest)
}

/// The manifest of the short form: one container, the same replicas everywhere, placed on the
/// clusters listed (comma- or space-separated); checked as the editor's text is.
#[cfg(feature = "ssr")]
pub fn from_form(
    name: &str,
    image: &str,
    replicas: i32,
    clusters: &str,
) -> Result<Manifest, String> {
    let placement: Vec<String> = clusters
        .split([',', ' '])
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    let manifest = Manifest {
        metadata: ManifestMeta {
            name: name.to_string(),
        },
        spec: ApplicationSpec {
            template: super::resource::WorkloadTemplate {
                deployment: serde_json::json!({
                    "replicas": replicas,
                    "template": {"spec": {"containers": [{"name": "main", "image": image.trim()}]}}
                }),
                ..Default::default()
            },
            placement,
            ..Default::default()
        },
        ..Default::default()
    };
    parse(&serde_json::to_string(&manifest).unwrap_or_default())
}

#[cfg(feature = "ssr")]
fn serde_saphyr_or_json(text: &str) -> Result<Manifest, String> {
    serde_saphyr::from_str(text).map_err(|e| format!("the YAML does not parse: {e}"))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_with_default_mode_and_every_field_kept() {
        let manifest = parse(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest.metadata.name, "web");
        let volume = &manifest.spec.template.deployment["template"]["spec"]["volumes"][0];
        assert_eq!(volume["configMap"]["defaultMode"], 420);
    }

    #[test]
    fn a_yaml_error_names_its_line() {
        let broken = "metadata:\n  name: web\nspec:\n  placement: [east\n";
        let error = parse(broken).err().unwrap_or_default();
        assert!(error.contains("line"), "{error}");
    }

    #[test]
    fn a_bad_name_and_a_missing_placement_are_named() {
        let bad = EXAMPLE.replace("name: web\nspec", "name: Web_1\nspec");
        assert!(parse(&bad).err().unwrap_or_default().contains("DNS label"));
        let nowhere = EXAMPLE.replace("placement: [east, west]", "placement: []");
        assert!(
            parse(&nowhere)
                .err()
                .unwrap_or_default()
                .contains("spec.placement")
        );
    }

    #[test]
    fn the_form_makes_one_container_placed_where_listed() {
        let manifest = from_form("web", " registry.example/web:1 ", 2, "east, west")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest.spec.placement, ["east", "west"]);
        let deployment = &manifest.spec.template.deployment;
        assert_eq!(deployment["replicas"], 2);
        assert_eq!(
            deployment["template"]["spec"]["containers"][0]["image"],
            "registry.example/web:1"
        );
        assert!(from_form("Web", "i", 1, "east").is_err());
        assert!(from_form("web", "i", 1, " , ").is_err());
    }

    #[test]
    fn crlf_text_parses_like_lf() {
        let windows = EXAMPLE.replace('\n', "\r\n");
        let manifest = parse(&windows).unwrap_or_else(|e| panic!("{e}"));
        let text = &manifest.spec.template.config_maps[0].data["app.ini"];
        assert_eq!(
            super::super::resource::normalize_line_endings(text),
            "mode=production\n"
        );
    }
}

#[cfg(all(test, feature = "ssr"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn is_dns_label(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    }

    fn manifest(name: &str) -> String {
        format!(
            "apiVersion: platform.nextgen-console.io/v1alpha1\nkind: Application\nmetadata:\n  name: {}\nspec:\n  placement: [east]\n  template:\n    deployment:\n      template:\n        spec:\n          containers: [{{name: web, image: registry.example/web:1}}]\n",
            serde_json::to_string(name).unwrap_or_default()
        )
    }

    proptest! {
        /// Whatever the editor holds, parsing answers (never panics), and a refusal says what.
        #[test]
        fn any_text_is_answered_with_a_manifest_or_a_reason(text in "\\PC{0,400}") {
            if let Err(reason) = parse(&text) {
                prop_assert!(!reason.trim().is_empty());
            }
        }

        /// Structured-looking noise too: YAML punctuation, indentation and keys of the manifest.
        #[test]
        fn yaml_shaped_noise_is_answered(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("metadata:".to_string()), Just("spec:".to_string()),
                    Just("  name: x".to_string()), Just("  placement: [".to_string()),
                    Just("- ".to_string()), Just("{".to_string()), Just("}".to_string()),
                    Just("&a".to_string()), Just("*a".to_string()), Just("!!binary".to_string()),
                    Just("\t".to_string()), Just("\r\n".to_string()), "[a-z: \\-\\[\\]{},\n]{0,12}",
                ],
                0..40,
            )
        ) {
            let text = parts.join("\n");
            if let Err(reason) = parse(&text) {
                prop_assert!(!reason.trim().is_empty());
            }
        }

        /// The name is accepted exactly when it is a DNS label, whatever it holds.
        #[test]
        fn only_dns_labels_are_accepted_as_names(name in "\\PC{0,70}") {
            let parsed = parse(&manifest(&name));
            prop_assert_eq!(parsed.is_ok(), is_dns_label(&name), "{:?}: {:?}", name, parsed.err());
        }
    }
}
