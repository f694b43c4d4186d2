//! Generates the typed `i18n` module from `locales/*.json` at compile time.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=locales");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    // interpolate_display: titles and attributes need interpolated strings, not only views.
    let config = match Config::new("en").and_then(|c| c.add_locale("zh")) {
        Ok(config) => config.parse_options(ParseOptions::new().interpolate_display(true)),
        Err(error) => panic!("i18n configuration is invalid: {error}"),
    };
    let translations = match TranslationsInfos::parse(config) {
        Ok(t) => t,
        Err(error) => panic!("locales/*.json could not be parsed: {error}"),
    };
    translations.rerun_if_locales_changed();
    if let Err(error) = translations.generate_i18n_module(out_dir.join("i18n")) {
        panic!("the i18n module could not be generated: {error}");
    }
    translations.emit_diagnostics();
}
