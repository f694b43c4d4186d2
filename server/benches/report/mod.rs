//! What every benchmark prints for `scripts/bench`: besides its own table, one machine-readable
//! line per figure,
//!
//! ```text
//! BENCH | figure | result | target | comparison measured in the same run
//! ```
//!
//! which `scripts/bench` collects from every benchmark into one table. Fields are free text
//! without `|`; `-` when there is no target or comparison.

#![allow(dead_code)] // each benchmark uses its own part

use std::time::Duration;

/// Prints one figure for `scripts/bench`.
pub fn line(figure: &str, result: &str, target: &str, comparison: &str) {
    let clean = |s: &str| s.replace('|', "/");
    println!(
        "BENCH | {} | {} | {} | {}",
        clean(figure),
        clean(result),
        clean(target),
        clean(comparison)
    );
}

/// The `p` quantile (0..=1) of `sorted`, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A benchmark's setting from the environment (`BENCH_<NAME>`), or `default`.
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(format!("BENCH_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The resident memory of this process, in KiB (Linux `/proc/self/status`).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
