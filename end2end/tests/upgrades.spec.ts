// Plugins and cluster updates in the browser, live: the plugin list shows each lifecycle, an
// Aligned plugin upgrades from the list and the new version appears without a reload; Core
// plugins point to the cluster update; a cluster update to 4.3 is requested and its stages
// appear as they run, ending in the history.
import { test, expect } from "@playwright/test";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const PLUGINS: [string, string][] = [
  ["platform-agent", "4.2.1"],
  ["log-collector", "3.0.2"],
  ["ingress-gateway", "4.2.0"],
  ["cert-manager", "1.16.2"],
];

// East starts at platform release 4.2 every run: its plugins and its shadow are made afresh.
test.beforeAll(() => {
  kubectl(sandbox, "global", [
    "delete", "clusterplugins.platform.nextgen-console.io,clusterversionshadows.platform.nextgen-console.io",
    "-l", "e2e.nextgen-console.io/test=upgrades", "--ignore-not-found", "--wait=true",
  ]);
  kubectl(sandbox, "global", ["delete", "clusterversionshadow.platform.nextgen-console.io", "east", "--ignore-not-found", "--wait=true"]);
  // What runs on east is what the plugins report: an earlier run's versions go too.
  kubectl(sandbox, "east", [
    "-n", "nextgen-plugins", "delete", "deployments", "-l", "app.kubernetes.io/managed-by=nextgen-console", "--ignore-not-found",
  ]);
  const manifests = PLUGINS.map(
    ([plugin, version]) => `apiVersion: platform.nextgen-console.io/v1alpha1
kind: ClusterPlugin
metadata: {name: east.${plugin}, labels: {e2e.nextgen-console.io/test: upgrades}}
spec: {cluster: east, plugin: ${plugin}, version: "${version}"}
`,
  );
  manifests.push(`apiVersion: platform.nextgen-console.io/v1alpha1
kind: ClusterVersionShadow
metadata: {name: east, labels: {e2e.nextgen-console.io/test: upgrades}}
spec: {}
`);
  // apply, not create: the console may have made east's shadow again in the meantime.
  kubectl(sandbox, "global", ["apply", "-f", "-"], manifests.join("---\n"));
});

test("plugins show their lifecycle and an Aligned plugin upgrades from the list, live", async ({ page }) => {
  // The plugins were made afresh just before: their first rollouts on east count against this
  // test's time, and on a loaded machine they took longer than the default 30 s in all.
  test.setTimeout(90_000);
  const errors = watchErrors(page);
  await page.goto("/admin/plugins");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await expect(page).toHaveURL(/\/admin\/plugins$/);
  await hydrated(page);
  await expect(page.getByTestId("live")).toHaveAttribute("data-live", "live");

  const row = (plugin: string) => page.locator(`[data-plugin="east.${plugin}"]`);
  for (const [plugin, version] of PLUGINS) {
    await expect(row(plugin)).toHaveAttribute("data-phase", "Ready", { timeout: 30_000 });
    await expect(row(plugin).getByTestId("installed")).toHaveText(version);
  }
  await expect(row("platform-agent").getByTestId("lifecycle")).toHaveText("Core");
  await expect(row("ingress-gateway").getByTestId("lifecycle")).toHaveText("Aligned");
  await expect(row("cert-manager").getByTestId("lifecycle")).toHaveText("Agnostic");
  await expect(row("platform-agent").getByTestId("follows-cluster")).toBeVisible();
  await expect(row("platform-agent").getByTestId("upgrade")).toHaveCount(0);

  // Aligned: only 4.2's newer version is offered on a 4.2 cluster.
  const gateway = row("ingress-gateway");
  await expect(gateway.locator("select option")).toHaveText(["4.2.3"]);
  await gateway.getByTestId("upgrade").click();
  // The rollout runs on east; the row follows it without a reload.
  await expect(row("ingress-gateway").getByTestId("installed")).toHaveText("4.2.3", { timeout: 30_000 });
  await expect(row("ingress-gateway")).toHaveAttribute("data-phase", "Ready");
  await expect(row("ingress-gateway").getByTestId("no-upgrade")).toBeVisible();
  await screenshot(page, "plugins");
  expect(errors).toEqual([]);
});

test("a cluster update is requested and its stages show live until it is in the history", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/admin/upgrades/east");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await expect(page).toHaveURL(/\/admin\/upgrades\/east$/);
  await hydrated(page);
  await expect(page.getByTestId("live")).toHaveAttribute("data-live", "live");
  await expect(page.getByTestId("current-release")).toHaveText("4.2", { timeout: 30_000 });

  // A downgrade is refused by the server with the reason.
  await page.getByLabel("Target release").selectOption("4.1");
  await page.getByTestId("request-update").click();
  await expect(page.getByRole("alert").filter({ hasText: "downgrades are not supported" })).toBeVisible();

  await page.getByLabel("Target release").selectOption("4.3");
  await page.getByTestId("request-update").click();
  await expect(page.getByTestId("requested")).toBeVisible();
  // The stages appear as the controller runs them, then the run moves into the history.
  const run = page.getByTestId("history").locator('[data-testid="run"][data-release="4.3"]');
  await expect(run).toHaveAttribute("data-state", "Completed", { timeout: 60_000 });
  await expect(run.locator("[data-stage]")).toHaveCount(4);
  await expect(run.locator('[data-stage="Upgrade platform-agent to 4.3.0"]')).toHaveAttribute("data-state", "Succeeded");
  await expect(page.getByTestId("current-release")).toHaveText("4.3");
  await expect(page.getByTestId("preflight-checks").locator('[data-check="Plugin ingress-gateway"]')).toHaveAttribute(
    "data-result",
    "Warning",
  );
  await screenshot(page, "cluster-update");
  // The refused downgrade answered 422 on purpose; nothing else may have gone wrong.
  expect(errors.filter((e) => !e.includes("status of 422"))).toEqual([]);
});
