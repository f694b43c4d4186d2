// What the browser benchmarks share: the release console started over TLS against the sandbox,
// a client of a member cluster's API as the sandbox admin, and the figure lines scripts/bench
// collects (`BENCH | figure | result | target | comparison`, as server/benches/report does).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { Page } from "@playwright/test";
import { readSandbox, type Sandbox } from "../sandbox";

export function sandboxOrThrow(): Sandbox {
  const found = readSandbox();
  if (!found) throw new Error("no sandbox running: sandbox/up --detach");
  return found;
}

/// The release console (scripts/build first) on `port`, signing in through the sandbox's Dex.
export function startConsole(sandbox: Sandbox, port: number): { origin: string; process: ChildProcess } {
  const origin = `https://127.0.0.1:${port}`;
  const process_ = spawn(
    "../target/release/server",
    [
      "--addr", `127.0.0.1:${port}`, "--kubeconfig", sandbox.console_kubeconfig,
      "--tls-cert-file", sandbox.serving_cert, "--tls-key-file", sandbox.serving_key, "--tls-ca-file", sandbox.ca_file,
      "--oidc-issuer", sandbox.oidc.issuer, "--oidc-client-secret-file", sandbox.oidc.client_secret_file,
      "--oidc-ca-file", sandbox.ca_file, "--oidc-redirect-url", `${origin}/auth/callback`,
    ],
    { stdio: "ignore", env: { ...process.env, LEPTOS_SITE_ROOT: "../target/site", LEPTOS_SITE_PKG_DIR: "pkg", LEPTOS_OUTPUT_NAME: "nextgen-console" } },
  );
  return { origin, process: process_ };
}

/// Opens `url` once the console answers (it takes a moment to start).
export async function gotoWhenUp(page: Page, url: string) {
  for (let i = 0; ; i++) {
    try {
      await page.goto(url);
      return;
    } catch (e) {
      if (i > 60) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/// Requests to `cluster`'s API server with the sandbox admin's client certificate.
export function clusterApi(sandbox: Sandbox, cluster: string) {
  const c = sandbox.clusters.find((c) => c.name === cluster);
  if (!c) throw new Error(`the sandbox has no cluster ${cluster}`);
  const kubeconfig = readFileSync(c.admin_kubeconfig, "utf8");
  const field = (name: string) => (kubeconfig.match(new RegExp(`${name}: (.+)`)) ?? ["", ""])[1].trim();
  const agent = new https.Agent({
    ca: readFileSync(sandbox.ca_file),
    cert: readFileSync(field("client-certificate")),
    key: readFileSync(field("client-key")),
    keepAlive: true,
    maxSockets: 32,
  });
  return (method: string, path: string, body?: unknown, type = "application/json"): Promise<string> =>
    new Promise((resolve, reject) => {
      const request = https.request(new URL(path, c.server), { method, agent, headers: { "content-type": type } }, (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () =>
          (response.statusCode ?? 500) < 300 ? resolve(text) : reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`)),
        );
      });
      request.on("error", reject);
      request.end(body ? JSON.stringify(body) : undefined);
    });
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];

/// One line of a benchmark's own table and its figure line for scripts/bench.
export function figure(name: string, result: string, target: string, comparison: string) {
  console.log(`${name.padEnd(52)} ${result.padStart(12)}   target ${target}   ${comparison}`);
  benchLine(name, result, target, comparison);
}

/// The figure line alone (server/benches/report/mod.rs reads the format; `|` inside a field
/// would split it, so it becomes `/`).
export function benchLine(name: string, result: string, target: string, comparison: string) {
  console.log(`BENCH | ${[name, result, target, comparison].map((f) => f.replaceAll("|", "/")).join(" | ")}`);
}
