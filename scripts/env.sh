# Shared environment for the project's scripts: tool paths and the Leptos site settings.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# cargo-installed tools (wasm-opt 116 must win over Debian's 108) and the npm tools cargo-leptos calls.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$ROOT/node_modules/.bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export NPM_CONFIG_UPDATE_NOTIFIER=false

# What cargo-leptos would export when it starts the server; needed when the binary runs on its own.
export LEPTOS_OUTPUT_NAME=nextgen-console
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_HASH_FILES=true
export LEPTOS_ENV=PROD

# Each step says how much disk is left: a full disk fails a build with a bus error in the linker.
step() { printf '\n==> %s  (%s s, %s free)\n' "$*" "$SECONDS" "$(df -h --output=avail "$ROOT" 2>/dev/null | tail -1 | tr -d ' ')"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
