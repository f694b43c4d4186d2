// Live-update latency to the browser's DOM, against the sandbox (a benchmark: prints figures,
// asserts nothing about speed). Starts the release console (scripts/build first) over TLS with
// the sandbox's Dex, signs alice in in Debian's Chromium, and times, from just before the API
// call on the member cluster to the moment the page shows it:
//   1. resource browser: a ConfigMap created in team-a on east appears in the list;
//   2. application page: a Deployment of alice's application scaled by hand on east (drift);
//      the console's controller sets it back and the page shows the drift it corrected.
// Beside each, in the same run, `kubectl get -w` (as east's and global's admin) is timed from
// the same API call to printing its line for the same change: the ConfigMap's name, and the
// drift in the Application's status. It also counts the browser's connections that carry live
// streams on a page that follows two kinds (a cluster's nodes and namespaces): one WebSocket.
// Prints, besides its table, `BENCH | figure | result | target | comparison` lines for
// scripts/bench.
// Run: npx playwright test --config end2end/bench.config.ts   (needs sandbox/up --detach and
// scripts/build)
import { test } from "@playwright/test";
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { ensureDemoProjects, signInAtDex } from "../sandbox";
import { benchLine, clusterApi, gotoWhenUp, percentile, sandboxOrThrow, startConsole } from "./support";

const RUNS = 20;
const sandbox = sandboxOrThrow();
const port = sandbox.console_port + 4;
const east = sandbox.clusters.find((c) => c.name === "east")!;
const api = clusterApi(sandbox, "east");

const figures = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s[s.length - 1] };
};
const ms = (v: number) => `${v.toFixed(0)} ms`;
const report = (label: string, samples: number[]) => {
  const f = figures(samples);
  console.log(`${label.padEnd(52)} ${ms(f.p50).padStart(9)} ${ms(f.p95).padStart(9)} ${ms(f.max).padStart(9)}`);
};
const triple = (samples: number[]) => {
  const f = figures(samples);
  return `p50 ${ms(f.p50)} / p95 ${ms(f.p95)} / max ${ms(f.max)}`;
};

/** `kubectl get -w` as a cluster's admin: when each line was printed, newest last. */
function kubectlWatch(kubeconfig: string, args: string[]) {
  const lines: { at: number; text: string }[] = [];
  const child = spawn(sandbox.kubectl, ["get", "-w", ...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });
  let rest = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const at = performance.now();
    rest += chunk.toString();
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    for (const text of parts) lines.push({ at, text });
  });
  /** The time of the first line after `since` that `want` accepts. */
  const seen = async (since: number, want: (text: string) => boolean) => {
    for (let i = 0; i < 1000; i++) {
      const line = lines.find((l) => l.at >= since && want(l.text));
      if (line) return line.at;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`kubectl ${args.join(" ")}: no line in 10 s`);
  };
  return { seen, stop: () => child.kill("SIGTERM") };
}

test("live-update latency to the DOM", async ({ page }) => {
  test.setTimeout(300_000);
  const { origin, process: server } = startConsole(sandbox, port);
  try {
    await gotoWhenUp(page, `${origin}/admin/clusters/east/resources?kind=configmaps&namespace=team-a`);
    await page.getByTestId("signin-button").click();
    await signInAtDex(page, sandbox, "alice");
    await page.waitForSelector('[data-live="live"]');

    const suffix = randomBytes(3).toString("hex");
    const configmaps = [];
    const configmapsKubectl = [];
    const eastWatch = kubectlWatch(east.admin_kubeconfig, ["configmaps", "-n", "team-a", "-o", "name"]);
    await new Promise((r) => setTimeout(r, 1000)); // kubectl has listed and is watching
    for (let i = 0; i < RUNS; i++) {
      const name = `lat-${suffix}-${i}`;
      const started = performance.now();
      await api("POST", "/api/v1/namespaces/team-a/configmaps", { metadata: { name } });
      await page.waitForSelector(`[data-name="${name}"]`, { timeout: 10_000 });
      configmaps.push(performance.now() - started);
      configmapsKubectl.push((await eastWatch.seen(started, (t) => t.trim() === `configmap/${name}`)) - started);
      await page.waitForTimeout(150); // each change its own, not a burst
    }
    eastWatch.stop();

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
    const global = sandbox.clusters.find((c) => c.name === "global")!;
    const drift = [];
    const driftKubectl = [];
    const appWatch = kubectlWatch(global.admin_kubeconfig, [
      "applications.platform.nextgen-console.io", "-n", "team-a", app,
      "-o", "jsonpath={range .status.clusters[*]}{.drift}{\"\\n\"}{end}",
    ]);
    await new Promise((r) => setTimeout(r, 1000));
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
      driftKubectl.push((await appWatch.seen(started, (t) => t.includes(`replicas ${replicas} `))) - started);
      await page.waitForTimeout(300);
    }
    appWatch.stop();

    // Connections that carry live streams, on a page following two kinds (nodes, namespaces).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    const sockets: string[] = [];
    const eventSources: string[] = [];
    let subscriptions = 0;
    cdp.on("Network.webSocketCreated", (e: { url: string }) => sockets.push(e.url));
    cdp.on("Network.requestWillBeSent", (e: { type?: string; request: { url: string } }) => {
      if (e.type === "EventSource") eventSources.push(e.request.url);
    });
    cdp.on("Network.webSocketFrameSent", (e: { response: { payloadData: string } }) => {
      if (e.response.payloadData.includes('"op":"watch"')) subscriptions++;
    });
    await page.goto(`${origin}/admin/clusters/east`);
    await page.waitForFunction(() => document.querySelectorAll('[data-live="live"]').length >= 2, null, { timeout: 30_000 });
    const badges = await page.locator('[data-live="live"]').count();
    await cdp.detach();

    execFileSync(sandbox.kubectl, ["-n", "team-a", "delete", "applications.platform.nextgen-console.io", app, "--wait=false"], {
      env: { ...process.env, KUBECONFIG: global.admin_kubeconfig },
    });
    for (let i = 0; i < RUNS; i++) await api("DELETE", `/api/v1/namespaces/team-a/configmaps/lat-${suffix}-${i}`).catch(() => {});

    console.log(`live-update latency to the browser's DOM (${RUNS} changes each, Chromium, TLS, signed in as alice)`);
    console.log(`${"change on east → shown".padEnd(52)} ${"p50".padStart(9)} ${"p95".padStart(9)} ${"max".padStart(9)}`);
    report("ConfigMap created → resource browser row", configmaps);
    report("  kubectl get -w prints it (same change)", configmapsKubectl);
    report("Deployment scaled by hand → app page drift", drift);
    report("  kubectl get -w prints the drift (same change)", driftKubectl);
    console.log(`connections carrying live streams on a page of ${badges} live sections: ${sockets.length} WebSocket (${sockets.join(", ")}), ${eventSources.length} EventSource; ${subscriptions} subscriptions`);
    benchLine("live: ConfigMap created on east → resource browser row", triple(configmaps), "p50 <= 100 ms, p95 <= 200 ms", `kubectl get -w ${triple(configmapsKubectl)}`);
    benchLine("live: Deployment drift on east → app page shows it", triple(drift), "-", `kubectl get -w ${triple(driftKubectl)}`);
    benchLine("live: connections per tab carrying a page's streams", `${sockets.length + eventSources.length} (${subscriptions} streams)`, "1", "-");
  } finally {
    server.kill("SIGTERM");
  }
});
