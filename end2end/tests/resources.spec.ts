// The resource browser as a team member (alice, edit in her namespace on east): lists follow
// changes live, a Secret's value stays masked until revealed, and a Pod's log streams.
import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, namespaceFor, requireSandbox, signInAtDex, writeContainerLog } from "../sandbox";

const sandbox = requireSandbox();
const NS = `e2e-res-${randomBytes(3).toString("hex")}`;

test.beforeAll(() => {
  kubectl(
    sandbox,
    "east",
    ["apply", "-f", "-"],
    namespaceFor(NS, "team-a") +
      `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "registry.example/web:1.0"}]}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ${NS}}
stringData: {password: s3cr3t-value}
`,
  );
});

test.afterAll(() => {
  kubectl(sandbox, "east", ["delete", "namespace", NS, "--wait=false", "--ignore-not-found"]);
});

test("alice browses her namespace: live lists, masked secrets, a streaming log", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/admin/clusters/east/resources?kind=deployments&namespace=${NS}`);
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "alice");
  await hydrated(page);
  await expect(page.getByTestId("live")).toHaveAttribute("data-live", "live");
  await expect(page.getByTestId("resources").locator('[data-name="web"]')).toHaveAttribute("data-status", "1/1", {
    timeout: 30_000,
  });

  // A ConfigMap created on the cluster appears without a reload.
  await page.locator('[data-kind="configmaps"]').click();
  await expect(page.getByTestId("live")).toHaveAttribute("data-live", "live");
  kubectl(sandbox, "east", ["-n", NS, "create", "configmap", "made-now", "--from-literal=a=1"]);
  await expect(page.getByTestId("resources").locator('[data-name="made-now"]')).toBeVisible({ timeout: 5_000 });

  // Secrets: masked in the YAML and the list of values until revealed.
  await page.locator('[data-kind="secrets"]').click();
  await page.getByTestId("resources").getByRole("link", { name: "db" }).click();
  await expect(page.getByTestId("yaml")).toContainText("password: ••••••••");
  await expect(page.getByTestId("yaml")).not.toContainText("czNjcjN0"); // base64 of the value
  const value = page.getByTestId("secret-values").locator('[data-key="password"]');
  await expect(value.getByTestId("value")).toHaveText("••••••••");
  await value.getByTestId("reveal").click();
  await expect(value.getByTestId("value")).toHaveText("s3cr3t-value");
  await screenshot(page, "secret-revealed");

  // A Pod's log follows what the container writes.
  await page.goto(`/admin/clusters/east/resources?kind=pods&namespace=${NS}`);
  await hydrated(page);
  await page.getByTestId("resources").getByRole("link").first().click();
  await expect(page.getByTestId("live")).toHaveAttribute("data-live", "live");
  const line = `e2e log line ${randomBytes(4).toString("hex")}`;
  writeContainerLog(sandbox, line);
  await expect(page.getByTestId("log")).toContainText(line, { timeout: 10_000 });
  await screenshot(page, "pod-log");
  expect(errors).toEqual([]);
});
