// The monitoring plugins in the browser: east's Prometheus settings form refuses settings that
// would leave pods Pending on the infra nodes, previews good ones (diff, dry run, YAML), applies
// them and the page follows the rollout live until the pods run on infra nodes; then the
// Administrator overview and the Monitoring page's charts, in light and dark, English and
// Chinese, with screenshots.
import { test, expect } from "@playwright/test";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const LABEL = "e2e.nextgen-console.io/test=monitoring";

function removePrometheus() {
  kubectl(sandbox, "global", ["delete", "clusterplugins.platform.nextgen-console.io", "-l", LABEL, "--ignore-not-found", "--wait=true"]);
  kubectl(sandbox, "east", [
    "-n", "nextgen-plugins", "delete", "statefulsets,services,configmaps,persistentvolumeclaims",
    "-l", "plugins.nextgen-console.io/plugin=prometheus", "--ignore-not-found", "--wait=true",
  ]);
  kubectl(sandbox, "east", ["delete", "persistentvolumes,storageclasses", "-l", "plugins.nextgen-console.io/plugin=prometheus", "--ignore-not-found"]);
}

test.beforeAll(() => {
  removePrometheus();
  kubectl(sandbox, "global", ["apply", "-f", "-"], `apiVersion: platform.nextgen-console.io/v1alpha1
kind: ClusterPlugin
metadata: {name: east.prometheus, labels: {e2e.nextgen-console.io/test: monitoring}}
spec: {cluster: east, plugin: prometheus, version: "3.5.0"}
`);
});

test.afterAll(() => removePrometheus());

test("settings are refused, previewed, applied and followed live to pods on infra nodes", async ({ page }) => {
  test.setTimeout(180_000);
  const errors = watchErrors(page);
  await page.goto("/admin/plugins/east.prometheus");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await expect(page).toHaveURL(/\/admin\/plugins\/east\.prometheus$/);
  await hydrated(page);
  await expect(page.getByTestId("settings-form")).toBeVisible();

  // Without the infra taint's toleration the preview says why the pods would stay Pending.
  await page.getByTestId("tolerations").fill("");
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("settings-errors")).toContainText("no toleration covers");
  await expect(page.getByTestId("settings-errors")).toContainText("east-infra-1");
  await screenshot(page, "monitoring-settings-refused");

  // With it: every object as a diff, the cluster's dry run, the settings as YAML.
  await page.getByTestId("tolerations").fill("node-role.kubernetes.io/infra:NoSchedule");
  await page.getByTestId("retention").fill("7d");
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("settings-preview")).toBeVisible();
  await expect(page.getByTestId("settings-yaml")).toContainText("retention: 7d");
  await expect(page.locator('[data-object="StatefulSet nextgen-plugins/prometheus"]')).toBeVisible();
  await expect(page.getByTestId("dry-run-error")).toHaveCount(0);
  await screenshot(page, "monitoring-settings-preview");

  await page.getByTestId("apply").click();
  await expect(page.getByTestId("settings-preview")).toContainText("Saved");
  // Live: the controller applies as admin and the pods land on infra nodes.
  await expect(page.getByTestId("plugin-detail")).toHaveAttribute("data-phase", "Ready", { timeout: 120_000 });
  await expect(page.getByTestId("settings-author")).toContainText("admin");
  await expect(page.locator('[data-testid="plugin-workloads"] [data-testid="nodes"]').first()).toContainText("east-infra-");
  await screenshot(page, "monitoring-plugin-light");

  await page.locator("#theme-toggle").click();
  await page.locator("#theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await screenshot(page, "monitoring-plugin-dark");
  await page.locator("#language-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh");
  await expect(page.getByTestId("settings-form")).toContainText("容忍");
  await screenshot(page, "monitoring-plugin-zh-dark");
  await page.locator("#language-toggle").click();
  await page.locator("#theme-toggle").click();
  expect(errors).toEqual([]);
});

test("the Administrator view opens on the overview, and the charts draw in both themes", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/admin");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await expect(page).toHaveURL(/\/admin\/overview$/);
  await hydrated(page);
  await expect(page.getByTestId("overview-clusters").locator('[data-cluster="east"]')).toBeVisible();
  await expect(page.getByTestId("overview-clusters").locator('[data-cluster="east"] [data-testid="health"]')).toHaveText("Reachable");
  await expect(page.locator("#overview-plugins-title")).toBeVisible();
  await screenshot(page, "admin-overview");

  await page.goto("/admin/monitoring?cluster=east");
  await hydrated(page);
  await expect(page.locator('[data-chart="nodes"] svg[role="img"]')).toBeVisible({ timeout: 30_000 });
  await screenshot(page, "monitoring-charts-light");
  await page.locator("#theme-toggle").click();
  await page.locator("#theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await screenshot(page, "monitoring-charts-dark");
  await page.locator("#language-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh");
  await screenshot(page, "monitoring-charts-zh");
  await page.locator("#language-toggle").click();
  await page.locator("#theme-toggle").click();
  expect(errors).toEqual([]);
});
