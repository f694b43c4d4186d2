// A 10,000-row list in the browser, against the sandbox (a benchmark: prints figures, asserts
// nothing about speed). Puts 10,000 pods in a namespace of its own on east (held before
// scheduling by a scheduling gate, so neither the scheduler nor kwok works on them), then, for
// the resource browser's Pods tab of that namespace as admin@example.com in Chromium over TLS:
//   data in the browser   the document (rows are rendered and the data for hydration is in it) has arrived
//   first screen          the first rows are in the DOM
//   hydrated              the page answers input
//   re-sort, filter       a click on a column header / a filter typed, until the rows show it
//   scroll                the DOM holds a window of rows, not 10,000; a jump to the middle renders
//   memory                JS heap and WASM memory of the page
// and in the same run `kubectl get pods -n NS` and `kubectl get pods -A` on east, direct.
// Run: npx playwright test --config end2end/bench.config.ts big-list   (sandbox/up --detach and
// scripts/build first). BENCH_PODS changes the count.
import { test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { signInAtDex } from "../sandbox";
import { clusterApi, figure, gotoWhenUp, percentile, sandboxOrThrow, startConsole } from "./support";

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const RUNS = 3;
const sandbox = sandboxOrThrow();
const east = clusterApi(sandbox, "east");
const eastKubeconfig = sandbox.clusters.find((c) => c.name === "east")!.admin_kubeconfig;

function kubectlSeconds(args: string[]): number {
  const started = performance.now();
  execFileSync(sandbox.kubectl, args, { env: { ...process.env, KUBECONFIG: eastKubeconfig }, stdio: "ignore", maxBuffer: 1 << 30 });
  return (performance.now() - started) / 1000;
}

async function createPods(namespace: string) {
  await east("POST", "/api/v1/namespaces", { metadata: { name: namespace, labels: { "nextgen-console.bench/run": "big-list" } } });
  let next = 0;
  const worker = async () => {
    while (next < PODS) {
      const i = next++;
      await east("POST", `/api/v1/namespaces/${namespace}/pods`, {
        metadata: { name: `pod-${String(i).padStart(5, "0")}`, labels: { app: `app-${i % 50}` } },
        spec: { schedulingGates: [{ name: "bench.nextgen-console.io/hold" }], containers: [{ name: "c", image: `registry.example/app-${i % 50}:1.${i % 7}` }] },
      });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

test("a 10,000-row list in the browser", async ({ browser }) => {
  test.setTimeout(900_000);
  const namespace = `bench-big-list-${randomBytes(3).toString("hex")}`;
  const created = performance.now();
  await createPods(namespace);
  console.log(`${PODS} pods created in ${((performance.now() - created) / 1000).toFixed(1)} s`);
  const { origin, process: server } = startConsole(sandbox, sandbox.console_port + 5);
  try {
    const kubectlNs = median([0, 1, 2].map(() => kubectlSeconds(["get", "pods", "-n", namespace])));
    const kubectlAll = median([0, 1, 2].map(() => kubectlSeconds(["get", "pods", "-A"])));

    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const signIn = await context.newPage();
    await gotoWhenUp(signIn, `${origin}/admin/clusters`);
    await signIn.getByTestId("signin-button").click();
    await signInAtDex(signIn, sandbox, "admin");
    await signIn.waitForSelector('html[data-hydrated="true"]');
    await signIn.close();

    const url = `${origin}/admin/clusters/east/resources?kind=pods&namespace=${namespace}`;
    const samples = { data: [] as number[], firstRows: [] as number[], hydrated: [] as number[], sort: [] as number[], filter: [] as number[], scroll: [] as number[] };
    let domRows = 0;
    let memory = { js: 0, wasm: 0 };
    for (let run = 0; run < RUNS; run++) {
      const page = await context.newPage();
      // Times the first row and hydration as the document is parsed, before any script of ours runs.
      await page.addInitScript(() => {
        const marks: Record<string, number> = {};
        (window as unknown as { __marks: Record<string, number> }).__marks = marks;
        new MutationObserver(() => {
          if (!marks.firstRows && document.querySelector("tr[data-name]")) marks.firstRows = performance.now();
          if (!marks.hydrated && document.documentElement.dataset.hydrated === "true") marks.hydrated = performance.now();
        }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
      });
      await page.goto(url, { timeout: 120_000 });
      await page.waitForSelector('html[data-hydrated="true"]', { timeout: 120_000 });
      const timing = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        const marks = (window as unknown as { __marks: Record<string, number> }).__marks;
        return { data: nav.responseEnd, firstRows: marks.firstRows, hydrated: marks.hydrated };
      });
      samples.data.push(timing.data);
      samples.firstRows.push(timing.firstRows - timing.data);
      samples.hydrated.push(timing.hydrated);

      // Re-sort by name (the second click, descending) and filter.
      samples.sort.push(
        await page.evaluate(async () => {
          const first = () => document.querySelector("tr[data-name]")?.getAttribute("data-name");
          const sortByName = () => (document.querySelector('button[data-sort="name"]') as HTMLButtonElement).click();
          // The first click sorts ascending, the order the rows came in; the second reverses it.
          sortByName();
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          const before = first();
          const started = performance.now();
          sortByName();
          while (first() === before) await new Promise((r) => requestAnimationFrame(r));
          return performance.now() - started;
        }),
      );
      samples.filter.push(
        await page.evaluate(async () => {
          const input = document.querySelector('input[type="search"]') as HTMLInputElement;
          const started = performance.now();
          input.value = "pod-0777";
          input.dispatchEvent(new Event("input", { bubbles: true }));
          while (document.querySelectorAll("tr[data-name]").length > 11) await new Promise((r) => requestAnimationFrame(r));
          const took = performance.now() - started;
          input.value = "";
          input.dispatchEvent(new Event("input", { bubbles: true }));
          return took;
        }),
      );
      await page.waitForFunction(() => document.querySelectorAll("tr[data-name]").length > 11);
      const scrolled = await page.evaluate(async () => {
        const box = document.querySelector("tr[data-name]")!.closest("div[tabindex]") as HTMLElement;
        const before = document.querySelector("tr[data-name]")?.getAttribute("data-name");
        const started = performance.now();
        box.scrollTop = box.scrollHeight / 2;
        box.dispatchEvent(new Event("scroll"));
        while (document.querySelector("tr[data-name]")?.getAttribute("data-name") === before) await new Promise((r) => requestAnimationFrame(r));
        return { took: performance.now() - started, rows: document.querySelectorAll("tr[data-name]").length };
      });
      samples.scroll.push(scrolled.took);
      domRows = scrolled.rows;

      const cdp = await context.newCDPSession(page);
      await cdp.send("HeapProfiler.collectGarbage");
      const metrics = (await cdp.send("Performance.getMetrics").catch(async () => {
        await cdp.send("Performance.enable");
        return cdp.send("Performance.getMetrics");
      })) as { metrics: { name: string; value: number }[] };
      const js = metrics.metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
      const proto = (await cdp.send("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype" })) as { result: { objectId: string } };
      const memories = (await cdp.send("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId })) as { objects: { objectId: string } };
      const wasm = (await cdp.send("Runtime.callFunctionOn", {
        objectId: memories.objects.objectId,
        functionDeclaration: "function () { return this.reduce((n, m) => n + m.buffer.byteLength, 0); }",
        returnByValue: true,
      })) as { result: { value: number } };
      memory = { js, wasm: wasm.result.value };
      await page.close();
    }
    const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    console.log(`${PODS} pods of one namespace on east, resource browser as admin (median of ${RUNS} loads)`);
    figure("big list: data in the browser (document loaded)", ms(samples.data), "≤ 1500 ms", `kubectl get pods -n: ${(kubectlNs * 1000).toFixed(0)} ms, -A: ${(kubectlAll * 1000).toFixed(0)} ms`);
    figure("big list: first screen after the data", ms(samples.firstRows), "≤ 300 ms", "-");
    figure("big list: hydrated", ms(samples.hydrated), "-", "-");
    figure("big list: re-sort by name", ms(samples.sort), "≤ 100 ms", "-");
    figure("big list: filter", ms(samples.filter), "≤ 100 ms", "-");
    figure("big list: scroll to the middle rendered", ms(samples.scroll), "-", `${domRows} rows in the DOM`);
    figure("big list: page memory (JS heap + WASM)", `${mib(memory.js + memory.wasm)}`, "-", `JS ${mib(memory.js)}, WASM ${mib(memory.wasm)}`);
  } finally {
    server.kill("SIGTERM");
    await east("DELETE", `/api/v1/namespaces/${namespace}`).catch(() => {});
  }
});
