//! The console server binary: parse configuration, start logging, serve until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use clap::Parser;
use server::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
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
