// Live-update latency to the browser's DOM, against the sandbox (a benchmark: prints figures,
// asserts nothing about speed). Starts the release console (scripts/build first) over TLS with
// the sandbox's Dex, signs alice in in Debian's Chromium, and times, from just before the API
// call on the member cluster to the moment the page shows it:
//   1. resource browser: a ConfigMap created in team-a on east appears in the list;
//   2. application page: a Deployment of alice's application scaled by hand on east (drift);
//      the console's controller sets it back and the page shows the drift it corrected.
// Run: npx playwright test --config end2end/bench.config.ts   (needs sandbox/up --detach and
// scripts/build)
import { test } from "@playwright/test";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import { randomBytes } from "node:crypto";
import { ensureDemoProjects, readSandbox, signInAtDex } from "../sandbox";

const RUNS = 20;
const found = readSandbox();
if (!found) throw new Error("no sandbox running: sandbox/up --detach");
const sandbox = found;
const port = sandbox.console_port + 4;
const origin = `https://127.0.0.1:${port}`;
const east = sandbox.clusters.find((c) => c.name === "east")!;
const kubeconfig = readFileSync(east.admin_kubeconfig, "utf8");
const field = (name: string) => (kubeconfig.match(new RegExp(`${name}: (.+)`)) ?? ["", ""])[1].trim();
const agent = new https.Agent({
  ca: readFileSync(sandbox.ca_file),
  cert: readFileSync(field("client-certificate")),
  key: readFileSync(field("client-key")),
  keepAlive: true,
});

function api(method: string, path: string, body?: unknown, type = "application/json"): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      new URL(path, east.server),
      { method, agent, headers: { "content-type": type } },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => ((response.statusCode ?? 500) < 300 ? resolve(text) : reject(new Error(`${response.statusCode} ${text}`))));
      },
    );
    request.on("error", reject);
    request.end(body ? JSON.stringify(body) : undefined);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
const report = (label: string, samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} ${percentile(s, 0.5).toFixed(0).padStart(6)} ms ${percentile(s, 0.95).toFixed(0).padStart(6)} ms ${s[s.length - 1].toFixed(0).padStart(6)} ms`);
};

test("live-update latency to the DOM", async ({ page }) => {
  test.setTimeout(300_000);
  const server = spawn(
    "../target/release/server",
    [
      "--addr", `127.0.0.1:${port}`, "--kubeconfig", sandbox.console_kubeconfig,
      "--tls-cert-file", sandbox.serving_cert, "--tls-key-file", sandbox.serving_key, "--tls-ca-file", sandbox.ca_file,
      "--oidc-issuer", sandbox.oidc.issuer, "--oidc-client-secret-file", sandbox.oidc.client_secret_file,
      "--oidc-ca-file", sandbox.ca_file, "--oidc-redirect-url", `${origin}/auth/callback`,
    ],
    { stdio: "ignore", env: { ...process.env, LEPTOS_SITE_ROOT: "../target/site", LEPTOS_SITE_PKG_DIR: "pkg", LEPTOS_OUTPUT_NAME: "nextgen-console" } },
  );
  try {
    for (let i = 0; ; i++) {
      try {
        await page.goto(`${origin}/admin/clusters/east/resources?kind=configmaps&namespace=team-a`);
        break;
      } catch (e) {
        if (i > 60) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await page.getByTestId("signin-button").click();
    await signInAtDex(page, sandbox, "alice");
    await page.waitForSelector('[data-live="live"]');

    const suffix = randomBytes(3).toString("hex");
    const configmaps = [];
    for (let i = 0; i < RUNS; i++) {
      const name = `lat-${suffix}-${i}`;
      const started = performance.now();
      await api("POST", "/api/v1/namespaces/team-a/configmaps", { metadata: { name } });
      await page.waitForSelector(`[data-name="${name}"]`, { timeout: 10_000 });
      configmaps.push(performance.now() - started);
    }

    // An application of alice's on east (in the demo project team-a), then drift made by hand there.
    ensureDemoProjects(sandbox);
    const app = `lat-${suffix}`;
    await page.goto(`${origin}/platform/applications/new?project=team-a`);
    await page.waitForSelector('html[data-hydrated="true"]');
    await page.locator("#f-name").fill(app);
    await page.locator("#f-image").fill("registry.example/lat:1");
    await page.locator("#f-replicas").fill("1");
    await page.locator("#f-clusters").fill("east");
    await page.getByTestId("app-form").getByRole("button").click();
    await page.getByTestId("created").getByRole("link").click();
    await page.waitForSelector('tr[data-cluster="east"][data-health="Healthy"]', { timeout: 30_000 });
    await page.waitForSelector('[data-live="live"]');
    const drift = [];
    for (let i = 0; i < RUNS; i++) {
      const replicas = 2 + (i % 3);
      const started = performance.now();
      await api("PATCH", `/apis/apps/v1/namespaces/team-a/deployments/${app}`, { spec: { replicas } }, "application/merge-patch+json");
      await page.waitForFunction(
        (n) => [...document.querySelectorAll('[data-testid="drift"]')].some((e) => (e.textContent ?? "").includes(`replicas ${n} `)),
        replicas,
        { timeout: 10_000 },
      );
      drift.push(performance.now() - started);
      await page.waitForTimeout(300);
    }
    await api("DELETE", `/api/v1/namespaces/team-a/configmaps?labelSelector=`, null).catch(() => {});
    execFileSync(sandbox.kubectl, ["-n", "team-a", "delete", "applications.platform.nextgen-console.io", app, "--wait=false"], {
      env: { ...process.env, KUBECONFIG: sandbox.clusters.find((c) => c.name === "global")!.admin_kubeconfig },
    });
    for (let i = 0; i < RUNS; i++) await api("DELETE", `/api/v1/namespaces/team-a/configmaps/lat-${suffix}-${i}`).catch(() => {});

    console.log(`live-update latency to the browser's DOM (${RUNS} changes each, Chromium, TLS, signed in as alice)`);
    console.log(`${"change on east → shown".padEnd(44)} ${"p50".padStart(9)} ${"p95".padStart(9)} ${"max".padStart(9)}`);
    report("ConfigMap created → resource browser row", configmaps);
    report("Deployment scaled by hand → app page drift", drift);
  } finally {
    server.kill("SIGTERM");
  }
});
