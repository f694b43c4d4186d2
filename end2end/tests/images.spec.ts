// The platform registry's images in the browser: admin lists them (paged on the server, with
// where they run), filters by the test's namespace, previews a delete that warns about the other
// tag on the same digest, confirms it by typing the image; deleting an image in use shows where
// it runs in the confirmation and deletes it only with the extra tick; previews a prune of a
// namespace of the test's own; alice sees only team-a's images in her project. Screenshots of
// the list, the delete preview, the in-use confirmation and the prune plan.
import { test, expect } from "@playwright/test";
import { createHash, randomBytes } from "node:crypto";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const registry = (sandbox as unknown as { registry: string }).registry;
const NS = `e2e-img-${randomBytes(3).toString("hex")}`;
const REPO = `${NS}/app`;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

const digest = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function pushBlob(repo: string, bytes: Buffer): Promise<string> {
  const d = digest(bytes);
  const start = await fetch(`${registry}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  let location = start.headers.get("location") ?? "";
  if (!location.startsWith("http")) location = `${registry}${location}`;
  const put = await fetch(`${location}${location.includes("?") ? "&" : "?"}digest=${d}`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: bytes,
  });
  expect(put.ok).toBeTruthy();
  return d;
}

async function pushImage(repo: string, tag: string, build: string, created: string) {
  const layer = Buffer.from(`e2e layer ${repo} ${build}\n${"x".repeat(2048)}`);
  const layerDigest = await pushBlob(repo, layer);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", created, rootfs: { type: "layers", diff_ids: [layerDigest] } }));
  const configDigest = await pushBlob(repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
  });
  const put = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: "PUT", headers: { "content-type": OCI_MANIFEST }, body: manifest });
  expect(put.ok).toBeTruthy();
}

const host = registry.replace(/^https?:\/\//, "");

test.beforeAll(async () => {
  await pushImage(REPO, "a", "one", "2026-01-01T00:00:00Z");
  await pushImage(REPO, "b", "one", "2026-01-01T00:00:00Z");
  await pushImage(REPO, "c", "two", "2026-02-01T00:00:00Z");
  await pushImage(REPO, "inuse", "three", "2026-03-01T00:00:00Z");
  // REPO:inuse runs on west, in a namespace of the test's own.
  kubectl(sandbox, "west", ["apply", "-f", "-"], `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {e2e.nextgen-console.io/test: "true"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: runs-it, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: runs-it}}
  template:
    metadata: {labels: {app: runs-it}}
    spec:
      containers: [{name: app, image: "${host}/${REPO}:inuse"}]
`);
});

test.afterAll(() => {
  kubectl(sandbox, "west", ["delete", "namespace", NS, "--wait=false", "--ignore-not-found"]);
});

test("admin lists images, deletes one with its shared tag after typing it, and previews a prune", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchErrors(page);
  await page.goto("/admin/images");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "admin");
  await hydrated(page);

  const table = page.getByTestId("images-table");
  // Paged on the server: the first page and how many there are in all.
  await expect(page.getByTestId("images-pager")).toContainText(/ of | 共 /);
  await page.getByTestId("images-filter").fill("team-a/web");
  await page.getByTestId("images-show").click();
  await expect(page).toHaveURL(/q=team-a%2Fweb/);
  await expect(table.locator('tr[data-image="team-a/web:2.0"]')).toBeVisible();
  await expect(table.locator('tr[data-image="team-a/web:2.0"]').getByTestId("image-usage")).toContainText("east");
  await expect(table.locator('tr[data-image^="team-b/"]')).toHaveCount(0);
  await page.getByTestId("images-filter").fill(NS);
  await page.getByTestId("images-show").click();
  await expect(table.locator(`tr[data-image="${REPO}:a"]`)).toBeVisible();
  await expect(table.locator(`tr[data-image="${REPO}:a"] time`)).toHaveAttribute("datetime", "2026-01-01T00:00:00Z");
  await screenshot(page, "images-list");

  await page.getByTestId("delete-images-input").fill(`${REPO}:a`);
  await page.getByTestId("delete-preview").click();
  await expect(page.getByTestId("delete-preview-table").getByTestId("shared-digest")).toContainText("b");
  await screenshot(page, "images-delete-preview");
  await page.getByTestId("delete-open").click();
  await expect(page.getByTestId("delete-images-confirm")).toBeDisabled();
  await page.getByTestId("delete-images-confirm-input").fill(`${REPO}:a`);
  await page.getByTestId("delete-images-confirm").click();
  await expect(page.getByTestId("delete-result-table").getByTestId("delete-outcome")).toContainText(/deleted/i);
  await expect(table.locator(`tr[data-image="${REPO}:b"]`)).toHaveCount(0);

  // An image in use: the confirmation says where it runs, and only the extra tick deletes it.
  await page.getByTestId("delete-images-input").fill(`${REPO}:inuse`);
  await page.getByTestId("delete-preview").click();
  await expect(page.getByTestId("delete-preview-table").getByTestId("delete-outcome")).toContainText(/in use/i);
  await expect(page.getByTestId("delete-preview-table").getByTestId("in-use")).toContainText(`west/${NS}`);
  await page.getByTestId("delete-open").click();
  const warning = page.getByTestId("delete-in-use-warning");
  await expect(warning).toContainText(`${REPO}:inuse`);
  await expect(warning).toContainText(`west/${NS} Deployment runs-it`);
  await page.getByTestId("delete-images-confirm-input").fill(`${REPO}:inuse`);
  await screenshot(page, "images-delete-in-use");
  await page.getByTestId("delete-images-confirm").click();
  await expect(page.getByTestId("delete-result-table").getByTestId("delete-outcome")).toContainText(/in use/i);
  await expect(table.locator(`tr[data-image="${REPO}:inuse"]`)).toBeVisible();
  await page.getByTestId("delete-open").click();
  await page.getByTestId("delete-allow-in-use").check();
  await page.getByTestId("delete-images-confirm-input").fill(`${REPO}:inuse`);
  await page.getByTestId("delete-images-confirm").click();
  await expect(page.getByTestId("delete-result-table").getByTestId("delete-outcome")).toContainText(/deleted/i);
  await expect(table.locator(`tr[data-image="${REPO}:inuse"]`)).toHaveCount(0);

  await page.getByTestId("prune-namespaces").fill(NS);
  await page.getByTestId("prune-all").check();
  await page.getByTestId("prune-preview").click();
  await expect(page.getByTestId("prune-plan")).toBeVisible();
  await expect(page.getByTestId("prune-candidates")).toContainText(REPO);
  await screenshot(page, "images-prune-preview");
  expect(errors).toEqual([]);
});

test("alice sees only her project's images", async ({ page }) => {
  await page.goto("/platform/images?project=team-a");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "alice");
  await hydrated(page);
  const table = page.getByTestId("images-table");
  await expect(table.locator('tr[data-image="team-a/web:2.0"]')).toBeVisible();
  await expect(table.locator('tr[data-image^="team-b/"]')).toHaveCount(0);
});
