// The list across clusters in the browser: admin opens /admin/workloads, the strip names every
// registered cluster (the two unreachable kubeconfig contexts of the sandbox console are not
// among them: that console's registry is the sandbox's), the Deployments of a namespace of the
// test's own on east and on west both show with their cluster, the filter leaves others out, and
// alice sees her project's namespaces only. Screenshots light and dark, English and Chinese.
import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const NS = `e2e-wl-${randomBytes(3).toString("hex")}`;

const manifest = (name: string) => `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {e2e.nextgen-console.io/test: "true"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${NS}}
spec:
  replicas: 0
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: "registry.example/${name}:1"}]
`;

test.beforeAll(() => {
  kubectl(sandbox, "east", ["apply", "-f", "-"], manifest("web-east"));
  kubectl(sandbox, "west", ["apply", "-f", "-"], manifest("web-west"));
});

test.afterAll(() => {
  for (const cluster of ["east", "west"]) {
    kubectl(sandbox, cluster, ["delete", "namespace", NS, "--wait=false", "--ignore-not-found"]);
  }
});

test("admin sees the Deployments of every cluster in one list, filled in as each answers", async ({ page }) => {
  test.setTimeout(90_000);
  const errors = watchErrors(page);
  await page.goto("/admin/workloads");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await hydrated(page);

  const strip = page.getByTestId("workloads-clusters");
  for (const cluster of ["global", "east", "west"]) {
    await expect(strip.locator(`li[data-cluster="${cluster}"]`)).toHaveAttribute("data-state", "answered");
  }
  await expect(page.getByTestId("workloads-summary")).toContainText(/answered|应答/);
  const table = page.getByTestId("workloads");
  await page.locator("#workloads-filter").fill(NS);
  await expect(table.locator(`tr[data-name="${NS}/web-east"][data-cluster="east"]`)).toBeVisible();
  await expect(table.locator(`tr[data-name="${NS}/web-west"][data-cluster="west"]`)).toBeVisible();
  await expect(table.locator(`tr[data-name="${NS}/web-east"]`).getByTestId("ready")).toHaveText("0/0");
  await screenshot(page, "workloads-light");

  // The filter keeps only the test's namespace: the sandbox's demo Deployment team-a/web is out.
  await expect(table.locator('tr[data-name="team-a/web"]')).toHaveCount(0);

  // Asking again starts over and ends with every cluster answered again.
  await page.getByTestId("workloads-refresh").click();
  await expect(strip.locator('li[data-cluster="east"]')).toHaveAttribute("data-state", "answered");
  await expect(table.locator(`tr[data-name="${NS}/web-west"]`)).toBeVisible();

  // The toggle goes system → light → dark.
  await page.locator("#theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.locator("#theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await screenshot(page, "workloads-dark");
  expect(errors).toEqual([]);
});

test("alice sees only the namespaces she may, in Chinese", async ({ page }) => {
  test.setTimeout(90_000);
  const errors = watchErrors(page);
  await page.goto("/admin/workloads");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "alice");
  await hydrated(page);
  await page.locator("#language-toggle").click();
  await expect(page.getByRole("heading", { level: 1, name: "所有集群的工作负载" })).toBeVisible();
  const strip = page.getByTestId("workloads-clusters");
  await expect(strip.locator('li[data-cluster="east"]')).toHaveAttribute("data-state", "answered");
  await expect(strip.locator('li[data-cluster="east"]')).toContainText("命名空间");
  // The admin's test namespace is not hers on any cluster.
  await expect(page.getByTestId("workloads").locator(`tr[data-name^="${NS}/"]`)).toHaveCount(0);
  await screenshot(page, "workloads-alice");
  expect(errors).toEqual([]);
});
