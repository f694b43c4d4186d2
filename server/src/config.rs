//! Server configuration from flags and environment variables (every flag has an env twin).

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The Next-Gen Console server.
#[derive(Clone, Debug, Parser)]
#[command(name = "nextgen-console", version, about)]
pub struct Config {
    /// Address to listen on. Defaults to the site address cargo-leptos configures (LEPTOS_SITE_ADDR).
    #[arg(long, env = "CONSOLE_ADDR")]
    pub addr: Option<SocketAddr>,

    /// Kubeconfig whose contexts become the managed clusters. Without it the console shows empty states.
    #[arg(long, env = "CONSOLE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Log line format.
    #[arg(long, env = "CONSOLE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// CSP frame-ancestors: who may embed the console in a frame ('none', or origins of an older console).
    #[arg(long, env = "CONSOLE_FRAME_ANCESTORS", default_value = "'none'")]
    pub frame_ancestors: String,

    /// Seconds in-flight requests get to finish after SIGTERM before the server exits.
    #[arg(long, env = "CONSOLE_SHUTDOWN_GRACE_SECONDS", default_value_t = 20)]
    pub shutdown_grace_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_flags() {
        let config = Config::try_parse_from(["nextgen-console"]).map_err(|e| e.to_string());
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.addr, None);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.frame_ancestors, "'none'");
    }

    #[test]
    fn a_malformed_address_is_refused_with_the_flag_named() {
        let error = Config::try_parse_from(["nextgen-console", "--addr", "localhost"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("--addr"), "{error}");
    }
}
