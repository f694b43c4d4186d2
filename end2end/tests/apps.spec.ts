// An application's whole life cycle in the browser, as alice (team-a): created from YAML in her
// project, running on east and west, scaled on west only, a new image rolled out, rolled back,
// deleted from every cluster; every step followed live on the page. Bob (team-b) cannot see it.
import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { ensureDemoProjects, kubectl, kubectlAs, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const APP = `web-${randomBytes(3).toString("hex")}`;

// team-a is a Project on east and west: the controller places applications only on its clusters.
test.beforeAll(() => ensureDemoProjects(sandbox));

test.afterAll(() => {
  kubectl(sandbox, "global", ["-n", "team-a", "delete", "applications.platform.nextgen-console.io", APP, "--ignore-not-found", "--wait=false"]);
});

test("alice runs an application on east and west through its whole life cycle", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchErrors(page);
  await page.goto("/platform/applications/new?project=team-a");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "alice");
  await hydrated(page);

  // A YAML error names its line; then the real manifest is created.
  const editor = page.locator("#yaml");
  await editor.fill("metadata:\n  name: broken\nspec:\n  placement: [east\n");
  await page.getByTestId("create-yaml").click();
  await expect(page.getByRole("alert").filter({ hasText: "line" })).toBeVisible();
  const manifest = (await page.evaluate(() => document.querySelector("#yaml")?.textContent ?? "")) || "";
  await editor.fill(manifest.length > 0 ? manifest.replace("name: web\n", `name: ${APP}\n`) : "");
  await expect(editor).toHaveValue(new RegExp(`name: ${APP}`));
  await page.getByTestId("create-yaml").click();
  await page.getByTestId("created").getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/platform/applications/team-a/${APP}$`));
  await hydrated(page);
  await expect(page.getByTestId("live")).toHaveAttribute("data-live", "live");

  const row = (cluster: string) => page.getByTestId("app-clusters").locator(`tr[data-cluster="${cluster}"]`);
  for (const cluster of ["east", "west"]) {
    await expect(row(cluster)).toHaveAttribute("data-health", "Healthy", { timeout: 30_000 });
    await expect(row(cluster)).toHaveAttribute("data-ready", "2");
  }
  await screenshot(page, "app-created");

  // Scale west only.
  await page.locator("#scale-cluster").selectOption("west");
  await page.locator("#scale-replicas").fill("3");
  await page.getByTestId("scale").click();
  await expect(row("west")).toHaveAttribute("data-ready", "3", { timeout: 30_000 });
  await expect(row("east")).toHaveAttribute("data-desired", "2");

  // A new image: revision 2 rolls out on both.
  await page.locator("#image").fill("registry.example/web:2");
  await page.getByTestId("set-image").click();
  for (const cluster of ["east", "west"]) {
    await expect(row(cluster)).toHaveAttribute("data-revision", "2", { timeout: 30_000 });
    await expect(row(cluster)).toHaveAttribute("data-health", "Healthy", { timeout: 30_000 });
  }
  const east = kubectl(sandbox, "east", ["-n", "team-a", "get", "deployment", APP, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
  expect(east).toBe("registry.example/web:2");

  // The history diffs revision 1 against the current one, then rolls back to it.
  const first = page.getByTestId("history").locator('li[data-revision="1"]');
  await first.getByTestId("diff").click();
  await expect(page.getByTestId("diff-view")).toContainText("registry.example/web:1");
  await screenshot(page, "app-history");
  await first.getByTestId("rollback").click();
  await expect(page.getByTestId("app-summary")).toHaveAttribute("data-revision", "3", { timeout: 30_000 });
  await expect(row("west")).toHaveAttribute("data-revision", "3", { timeout: 30_000 });
  await expect(row("west")).toHaveAttribute("data-health", "Healthy", { timeout: 30_000 });

  // Delete after typing the name: gone from the project and from both clusters. Both clusters
  // settle first: a change arriving while the confirmation is open still rebuilds the actions
  // on this page (known, see `LiveResource::stable_view`), which would close it.
  await expect(row("east")).toHaveAttribute("data-revision", "3", { timeout: 30_000 });
  await expect(row("east")).toHaveAttribute("data-health", "Healthy", { timeout: 30_000 });
  await expect(page.getByTestId("app-summary")).toHaveAttribute("data-health", "Healthy", { timeout: 30_000 });
  await page.getByTestId("delete-app").click();
  await page.getByTestId("delete-confirm-input").fill(APP);
  // Wait for the delete's answer before leaving: navigating away would cancel the request.
  const deleted = page.waitForResponse((r) => r.url().endsWith("/api/apps/delete") && r.request().method() === "POST");
  await page.getByTestId("delete-confirm").click();
  expect((await deleted).ok()).toBeTruthy();
  await page.goto("/platform/applications?project=team-a");
  await hydrated(page);
  await expect(page.locator(`[data-app="${APP}"]`)).toHaveCount(0, { timeout: 60_000 });
  for (const cluster of ["east", "west"]) {
    const left = kubectl(sandbox, cluster, ["-n", "team-a", "get", "deployments", "-l", `platform.nextgen-console.io/application=${APP}`, "-o", "name"]);
    expect(left.trim()).toBe("");
  }
  expect(errors.filter((e) => !e.includes("status of 422"))).toEqual([]);
});

test("bob of team-b sees neither team-a's project nor its applications", async ({ page }) => {
  await page.goto("/platform/applications?project=team-a");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "bob");
  await hydrated(page);
  await expect(page.getByRole("alert")).toContainText(/forbidden/i);
  await page.goto("/platform/projects");
  await hydrated(page);
  await expect(page.locator('[data-project="team-b"]')).toBeVisible();
  await expect(page.locator('[data-project="team-a"]')).toHaveCount(0);
});

test("carol (auditors, view) sees team-a's application but no action she may not take", async ({ page }) => {
  const name = `view-${randomBytes(3).toString("hex")}`;
  // Written by the platform admin (kubectl as admin@example.com), whom the controller acts as.
  kubectlAs(
    sandbox,
    "global",
    "admin@example.com",
    ["platform-admins"],
    ["apply", "-f", "-"],
    `apiVersion: platform.nextgen-console.io/v1alpha1
kind: Application
metadata:
  name: ${name}
  namespace: team-a
  annotations: {platform.nextgen-console.io/author: admin@example.com, platform.nextgen-console.io/author-groups: platform-admins}
spec:
  placement: [east]
  template: {deployment: {replicas: 1, template: {spec: {containers: [{name: web, image: registry.example/web:1}]}}}}
`,
  );
  try {
    await page.goto(`/platform/applications/team-a/${name}`);
    await page.getByTestId("signin-button").click();
    await signInAtDex(page, sandbox, "carol");
    await hydrated(page);
    await expect(page.getByTestId("app-clusters").locator('tr[data-cluster="east"]')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("read-only")).toBeVisible();
    await expect(page.getByTestId("scale-form")).toHaveCount(0);
    await expect(page.getByTestId("delete-app")).toHaveCount(0);
  } finally {
    kubectl(sandbox, "global", ["-n", "team-a", "delete", "applications.platform.nextgen-console.io", name, "--wait=false"]);
  }
});
