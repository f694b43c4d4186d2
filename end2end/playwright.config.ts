// Browser tests against the release build, in Debian's Chromium (no browser is downloaded).
//   shell:   the console in local mode with two unreachable clusters (no sandbox needed)
//   sandbox: the console over TLS, signing in through the sandbox's Dex, on its real clusters;
//            needs a running sandbox (scripts/test starts one; by hand: sandbox/up --detach)
import { defineConfig } from "@playwright/test";
import { execSync } from "node:child_process";
import { readSandbox, sandboxConsolePort } from "./sandbox";

const PORT = Number(process.env.E2E_PORT ?? 3300);
const chromium = process.env.CHROMIUM_PATH ?? execSync("command -v chromium").toString().trim();
const sandbox = readSandbox();

const webServers: {
  command: string;
  url: string;
  ignoreHTTPSErrors?: boolean;
  reuseExistingServer: boolean;
  timeout: number;
  stdout: "ignore";
  stderr: "pipe";
}[] = [
  {
    // Two kubeconfig contexts on loopback ports nothing listens on: clusters that are registered but unreachable.
    command: `../target/release/server --addr 127.0.0.1:${PORT} --kubeconfig fixtures/unreachable-clusters.yaml`,
    url: `http://127.0.0.1:${PORT}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
  },
];
if (sandbox) {
  const port = sandboxConsolePort(sandbox);
  const origin = `https://127.0.0.1:${port}`;
  webServers.push({
    command: [
      "../target/release/server",
      `--addr 127.0.0.1:${port}`,
      `--kubeconfig ${sandbox.console_kubeconfig}`,
      `--tls-cert-file ${sandbox.serving_cert} --tls-key-file ${sandbox.serving_key} --tls-ca-file ${sandbox.ca_file}`,
      `--oidc-issuer ${sandbox.oidc.issuer} --oidc-client-secret-file ${sandbox.oidc.client_secret_file}`,
      `--oidc-ca-file ${sandbox.ca_file} --oidc-redirect-url ${origin}/auth/callback`,
      `--registry-url ${(sandbox as unknown as { registry: string }).registry} --registry-host-aliases registry.platform.svc:5000`,
      // The charts of the Monitoring page and the overview's alerts read the sandbox's Prometheus.
      `--metrics-backend ${(sandbox as unknown as { prometheus: string }).prometheus}`,
    ].join(" "),
    url: `${origin}/readyz`,
    ignoreHTTPSErrors: true,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
  });
}

const chromiumLaunch = {
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
};

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  projects: [
    {
      name: "shell",
      testMatch: /shell\.spec\.ts/,
      use: { baseURL: `http://127.0.0.1:${PORT}`, launchOptions: chromiumLaunch },
    },
    {
      name: "sandbox",
      testMatch: /(signin|access|upgrades|resources|apps|images|monitoring|workloads)\.spec\.ts/,
      use: {
        baseURL: sandbox ? `https://127.0.0.1:${sandboxConsolePort(sandbox)}` : undefined,
        // The sandbox CA signs both the console's and Dex's certificates; Chromium does not know it.
        ignoreHTTPSErrors: true,
        launchOptions: chromiumLaunch,
      },
    },
  ],
  webServer: webServers,
});
