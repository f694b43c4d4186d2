// A namespace's page as the cluster's RBAC decides it: alice (team-a, edit) sees what she may
// do and a disabled "Delete namespace" with the reason; the platform admin deletes a namespace
// through the typed confirmation.
import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, namespaceFor, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const suffix = randomBytes(3).toString("hex");
const TEAM_NS = `e2e-acc-${suffix}`;
const DOOMED_NS = `e2e-del-${suffix}`;

test.beforeAll(() => {
  kubectl(sandbox, "east", ["apply", "-f", "-"], namespaceFor(TEAM_NS, "team-a") + "---\n" + namespaceFor(DOOMED_NS, "team-a"));
});

test.afterAll(() => {
  kubectl(sandbox, "east", ["delete", "namespace", TEAM_NS, DOOMED_NS, "--wait=false", "--ignore-not-found"]);
});

test("alice sees her access matrix and may not delete the namespace, with the reason shown", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/admin/clusters/east/namespaces/${TEAM_NS}`);
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "alice");
  await expect(page).toHaveURL(new RegExp(`/admin/clusters/east/namespaces/${TEAM_NS}$`));
  await hydrated(page);

  const matrix = page.getByTestId("access-matrix");
  const deployments = matrix.locator('[data-kind="apps/deployments"]');
  await expect(deployments.locator('[data-verb="create"]')).toHaveAttribute("data-allowed", "true");
  await expect(matrix.locator('[data-kind="/pods"] [data-verb="delete"]')).toHaveAttribute("data-allowed", "true");
  // edit grants no write on RBAC objects.
  await expect(
    matrix.locator('[data-kind="rbac.authorization.k8s.io/roles"] [data-verb="create"]'),
  ).toHaveAttribute("data-allowed", "false");

  const del = page.getByTestId("delete-namespace");
  await expect(del).toBeDisabled();
  await expect(page.getByTestId("delete-namespace-reason")).toContainText("does not let you delete namespaces");

  // The filter narrows the table without a round trip.
  await page.getByLabel("Filter kinds").fill("deploy");
  await expect(matrix.locator("tbody tr")).toHaveCount(1);
  await screenshot(page, "access-alice");

  // Every breadcrumb leads somewhere: "namespaces" is the cluster page's list.
  await page.getByRole("navigation", { name: "Breadcrumbs" }).getByRole("link", { name: "namespaces" }).click();
  await expect(page).toHaveURL(/\/admin\/clusters\/east$/);
  await expect(page.getByTestId("namespaces").locator(`[data-namespace="${TEAM_NS}"]`)).toBeVisible();
  expect(errors).toEqual([]);
});

test("the platform admin deletes a namespace after typing its name", async ({ page }) => {
  await page.goto(`/admin/clusters/east/namespaces/${DOOMED_NS}`);
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await hydrated(page);

  const del = page.getByTestId("delete-namespace");
  await expect(del).toBeEnabled();
  await del.click();
  const dialog = page.getByTestId("delete-dialog");
  await expect(dialog).toBeVisible();
  const confirm = page.getByTestId("delete-confirm");
  await expect(confirm).toBeDisabled();
  await page.getByTestId("delete-confirm-input").fill("wrong-name");
  await expect(confirm).toBeDisabled();
  await page.getByTestId("delete-confirm-input").fill(DOOMED_NS);
  await screenshot(page, "delete-namespace-confirm");
  await confirm.click();
  await expect(page.getByTestId("delete-done")).toContainText(DOOMED_NS);

  // The apiserver has it terminating or gone.
  const phase = kubectl(sandbox, "east", ["get", "namespace", DOOMED_NS, "-o", "jsonpath={.status.phase}", "--ignore-not-found"]);
  expect(["Terminating", ""]).toContain(phase.trim());
});

test("the upgrade preflight judges the sandbox's real clusters against the support matrix", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/admin/upgrades");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await hydrated(page);

  await expect(page.getByTestId("support-matrix").locator("[data-release]")).toHaveCount(4);
  // Every workload cluster runs 1.34.4: within 4.3's compatible 1.31-1.34.
  await expect(page.getByTestId("preflight-summary")).toHaveAttribute("data-blocking", "0");
  await expect(page.getByTestId("preflight").locator('[data-cluster="global"]')).toHaveCount(0);
  await expect(page.getByTestId("preflight").locator('[data-cluster="east"]')).toHaveAttribute("data-blocking", "false");

  // 4.2 knows 1.30-1.33 only: clusters already on 1.34 block it.
  await page.getByLabel("Target release").selectOption("4.2");
  await expect(page).toHaveURL(/release=4\.2/);
  // East and west block it (clusters other tests register may block too, so they are named).
  for (const cluster of ["east", "west"]) {
    await expect(page.getByTestId("preflight").locator(`[data-cluster="${cluster}"]`)).toHaveAttribute("data-blocking", "true");
  }
  await expect(page.getByTestId("preflight-summary")).not.toHaveAttribute("data-blocking", "0");
  await expect(page.getByTestId("preflight").locator('[data-cluster="west"]')).toContainText("this release is compatible with 1.30 to 1.33");
  await screenshot(page, "upgrade-preflight");
  expect(errors).toEqual([]);
});

test("an admin checks a pasted kubeconfig for import; a broken one gets its own message", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/admin/clusters");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await hydrated(page);
  await page.getByTestId("import-link").click();
  await expect(page).toHaveURL(/\/admin\/clusters\/import$/);
  await hydrated(page);

  const west = sandbox.clusters.find((c) => c.name === "west");
  if (!west) throw new Error("the sandbox has no west cluster");
  const flattened = execFileSync(sandbox.kubectl, ["config", "view", "--flatten", "--raw"], {
    env: { ...process.env, KUBECONFIG: west.console_kubeconfig },
    encoding: "utf8",
  });
  // Uploaded as a file: the browser reads it into the field.
  await page.getByTestId("import-file").setInputFiles({
    name: "west.kubeconfig",
    mimeType: "text/plain",
    buffer: Buffer.from(flattened),
  });
  await expect(page.getByTestId("import-kubeconfig")).toHaveValue(flattened);
  await page.getByTestId("import-check").click();
  await expect(page.getByTestId("import-version")).toHaveText(sandbox.version);
  await screenshot(page, "import-ok");

  // Register it under a name of its own, see it managed, then remove it again.
  const name = `e2e-west-${suffix}`;
  await page.getByTestId("import-name").fill(name);
  await page.getByTestId("import-register").click();
  await expect(page.getByTestId("import-registered")).toBeVisible();
  await expect(async () => {
    await page.goto(`/admin/clusters/${name}`);
    await expect(page.getByTestId("cluster-detail")).toContainText(sandbox.version, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await hydrated(page);
  // The admin sees the registered cluster's nodes (every kwok node of west, workers and infra, Ready).
  await expect(page.getByTestId("nodes").locator('tr[data-ready="true"]')).toHaveCount(
    sandbox.clusters.find((c) => c.name === "west")?.nodes ?? 6,
  );
  await expect(page.getByTestId("workload-counts")).toContainText("Deployments");
  await page.getByTestId("remove-cluster").click();
  await page.getByTestId("remove-confirm").click();
  await expect(page.getByTestId("remove-done")).toBeVisible();
  await page.goto("/admin/clusters");
  await expect(page.getByTestId("cluster-table").locator(`[data-cluster="${name}"]`)).toHaveCount(0);
  await page.goto("/admin/clusters/import");
  await hydrated(page);

  await page.getByTestId("import-kubeconfig").fill("clusters: [this is not a kubeconfig");
  await page.getByTestId("import-check").click();
  await expect(page.getByTestId("import-refused")).toHaveAttribute("data-reason", "invalid");
  expect(errors).toEqual([]);
});
