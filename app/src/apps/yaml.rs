//! Creating an Application: from a short form, or from a YAML manifest. The YAML is parsed on
//! the server (errors name the line and column), checked for what the console itself needs (a
//! name, registered clusters), then checked by every placed cluster's API server as the user
//! (server-side dry run, strict field validation), so every valid Kubernetes field is accepted
//! and nothing invalid is stored. ConfigMap text is saved with LF line endings.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
#[cfg(feature = "ssr")]
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::resource::{self, ApplicationSpec};
use crate::ConsoleError;
use crate::i18n::{t, t_string, use_i18n};
use crate::ui::{ErrorPanel, PageHeader};

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

#[cfg(feature = "ssr")]
fn serde_saphyr_or_json(text: &str) -> Result<Manifest, String> {
    serde_saphyr::from_str(text).map_err(|e| format!("the YAML does not parse: {e}"))
}

#[cfg(feature = "ssr")]
async fn create(project: &str, mut manifest: Manifest) -> Result<String, ConsoleError> {
    use kube::api::PostParams;
    let registry = crate::clusters::registry()?;
    let known: Vec<String> = registry.list().into_iter().map(|c| c.name).collect();
    if let Some(unknown) = manifest.spec.placement.iter().find(|c| !known.contains(c)) {
        return Err(ConsoleError::Invalid {
            message: format!(
                "spec.placement: {unknown} is not a registered cluster; choose among {}",
                known.join(", ")
            ),
        }
        .respond());
    }
    for map in manifest.spec.template.config_maps.iter_mut() {
        for value in map.data.values_mut() {
            *value = resource::normalize_line_endings(value);
        }
    }
    let name = manifest.metadata.name.clone();
    super::ssr::dry_run(project, &name, &manifest.spec).await?;
    let mut app = resource::Application::new(&name, manifest.spec);
    let mut annotations: std::collections::BTreeMap<String, String> =
        serde_json::from_value(super::ssr::author().await?).unwrap_or_default();
    annotations.insert(resource::CAUSE_ANNOTATION.into(), "created".into());
    app.metadata.annotations = Some(annotations);
    super::ssr::api(project)?
        .create(&PostParams::default(), &app)
        .await
        .map_err(super::ssr::global_error)?;
    Ok(name)
}

/// Creates an Application from the YAML editor's text in `project`, as the user.
#[server]
pub async fn create_application(project: String, yaml: String) -> Result<String, ConsoleError> {
    let manifest = parse(&yaml).map_err(|message| ConsoleError::Invalid { message }.respond())?;
    create(&project, manifest).await
}

/// Creates an Application from the form: one container, the same replicas everywhere.
#[server]
pub async fn create_from_form(
    project: String,
    name: String,
    image: String,
    replicas: i32,
    clusters: String,
) -> Result<String, ConsoleError> {
    let placement: Vec<String> = clusters
        .split([',', ' '])
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    let manifest = Manifest {
        metadata: ManifestMeta { name },
        spec: ApplicationSpec {
            template: resource::WorkloadTemplate {
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
    let text = serde_json::to_string(&manifest).unwrap_or_default();
    let manifest = parse(&text).map_err(|message| ConsoleError::Invalid { message }.respond())?;
    create(&project, manifest).await
}

/// `/platform/applications/new?project=`.
#[component]
pub fn NewApplicationPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let project = Memo::new(move |_| query.read().get("project").unwrap_or_default());
    let from_yaml = ServerAction::<CreateApplication>::new();
    let from_form = ServerAction::<CreateFromForm>::new();
    let done = move |value: Option<Result<String, ConsoleError>>| {
        match value {
        Some(Ok(name)) => view! {
            <p role="status" data-testid="created" class="text-emerald-700 dark:text-emerald-400">
                <a href=format!("/platform/applications/{}/{name}", project.get_untracked()) class="underline focus-ring">
                    {t_string!(i18n, apps.created, name = name.clone()).to_string()}
                </a>
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! { <ErrorPanel error=leptos::error::Error::from(error) /> }.into_any(),
        None => ().into_any(),
    }
    };
    view! {
        <PageHeader title=Signal::derive(move || t_string!(i18n, apps.new_title, project = project.get()).to_string()) />
        <section class="mb-8 max-w-3xl" aria-labelledby="form-heading">
            <h2 id="form-heading" class="mb-2 text-lg font-semibold">{t!(i18n, apps.from_form)}</h2>
            <ActionForm action=from_form attr:class="grid grid-cols-[auto_1fr] items-center gap-2 text-sm" attr:data-testid="app-form">
                <input type="hidden" name="project" value=move || project.get() />
                <label for="f-name">{t!(i18n, apps.name)}</label>
                <input id="f-name" name="name" required class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring" />
                <label for="f-image">{t!(i18n, apps.image)}</label>
                <input id="f-image" name="image" required class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring" />
                <label for="f-replicas">{t!(i18n, apps.replicas)}</label>
                <input id="f-replicas" name="replicas" type="number" min="0" value="1" class="w-24 rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-600 focus-ring" />
                <label for="f-clusters">{t!(i18n, apps.clusters)}</label>
                <input id="f-clusters" name="clusters" required placeholder="east, west" class="rounded border border-slate-300 bg-transparent px-2 py-1 font-mono dark:border-slate-600 focus-ring" />
                <span></span>
                <button type="submit" disabled=move || from_form.pending().get() class="w-fit rounded-md bg-sky-600 px-3 py-1.5 font-medium text-white hover:bg-sky-700 focus-ring">
                    {move || if from_form.pending().get() { t_string!(i18n, apps.creating).to_string() } else { t_string!(i18n, apps.create).to_string() }}
                </button>
            </ActionForm>
            <div class="mt-2">{move || done(from_form.value().get())}</div>
        </section>
        <section class="max-w-4xl" aria-labelledby="yaml-heading">
            <h2 id="yaml-heading" class="mb-2 text-lg font-semibold">{t!(i18n, apps.from_yaml)}</h2>
            <p class="mb-2 text-sm text-slate-600 dark:text-slate-300">{t!(i18n, apps.yaml_help)}</p>
            <ActionForm action=from_yaml attr:class="flex flex-col gap-2" attr:data-testid="yaml-form">
                <input type="hidden" name="project" value=move || project.get() />
                <label for="yaml" class="sr-only">{t!(i18n, apps.from_yaml)}</label>
                <textarea id="yaml" name="yaml" rows="24" spellcheck="false" class="w-full rounded border border-slate-300 bg-transparent p-2 font-mono text-xs dark:border-slate-600 focus-ring">{EXAMPLE}</textarea>
                <button type="submit" disabled=move || from_yaml.pending().get() data-testid="create-yaml" class="w-fit rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 focus-ring">
                    {move || if from_yaml.pending().get() { t_string!(i18n, apps.creating).to_string() } else { t_string!(i18n, apps.create).to_string() }}
                </button>
            </ActionForm>
            <div class="mt-2">{move || done(from_yaml.value().get())}</div>
        </section>
    }
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
    fn crlf_text_parses_like_lf() {
        let windows = EXAMPLE.replace('\n', "\r\n");
        let manifest = parse(&windows).unwrap_or_else(|e| panic!("{e}"));
        let text = &manifest.spec.template.config_maps[0].data["app.ini"];
        assert_eq!(resource::normalize_line_endings(text), "mode=production\n");
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
