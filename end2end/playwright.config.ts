// Browser tests against the release build, in Debian's Chromium (no browser is downloaded).
import { defineConfig } from "@playwright/test";
import { execSync } from "node:child_process";

const PORT = Number(process.env.E2E_PORT ?? 3300);
const chromium = process.env.CHROMIUM_PATH ?? execSync("command -v chromium").toString().trim();

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: {
      executablePath: chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    // Two kubeconfig contexts on loopback ports nothing listens on: clusters that are registered but unreachable.
    command: `../target/release/server --addr 127.0.0.1:${PORT} --kubeconfig fixtures/unreachable-clusters.yaml`,
    url: `http://127.0.0.1:${PORT}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
