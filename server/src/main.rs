//! The console server binary: parse configuration, start logging, serve until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use clap::Parser;
use server::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if config.print_crds {
        // The author policies first, as the console installs them (see controllers::install_crds).
        let policy = [
            app::access::author::policy(),
            app::access::author::policy_binding(),
            app::access::author::plugin_policy(),
            app::access::author::plugin_policy_binding(),
        ];
        let crds = server::controllers::crds()
            .into_iter()
            .map(|crd| serde_json::to_value(crd).unwrap_or_default());
        for object in policy.into_iter().chain(crds) {
            match serde_json::to_string_pretty(&object) {
                Ok(json) => println!("{json}"),
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
        return ExitCode::SUCCESS;
    }
    server::telemetry::init(config.log_format);
    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
