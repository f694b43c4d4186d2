// Sign-in through the sandbox's real Dex in a real browser, and what RBAC then shows: alice
// (group team-a) sees team-a's namespaces on east and not team-b's; signing out ends the session.
import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { hydrated, screenshot, watchErrors } from "../helpers";
import { kubectl, namespaceFor, requireSandbox, signInAtDex } from "../sandbox";

const sandbox = requireSandbox();
const suffix = randomBytes(3).toString("hex");
const TEAM_A_NS = `e2e-a-${suffix}`;
const TEAM_B_NS = `e2e-b-${suffix}`;

test.beforeAll(() => {
  kubectl(sandbox, "east", ["apply", "-f", "-"], namespaceFor(TEAM_A_NS, "team-a") + "---\n" + namespaceFor(TEAM_B_NS, "team-b"));
});

test.afterAll(() => {
  kubectl(sandbox, "east", ["delete", "namespace", TEAM_A_NS, TEAM_B_NS, "--wait=false", "--ignore-not-found"]);
});

test("alice signs in through the identity provider and sees only team-a's namespaces", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/admin/clusters/east");
  // Not signed in: the console sends the browser to its sign-in page, remembering where it was going.
  await expect(page).toHaveURL(/\/signin\?next=%2Fadmin%2Fclusters%2Feast/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Sign in");
  await screenshot(page, "signin");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "alice");

  await expect(page).toHaveURL(/\/admin\/clusters\/east$/);
  await hydrated(page);
  await expect(page.getByTestId("user-name")).toHaveText("alice");
  const namespaces = page.getByTestId("namespaces");
  await expect(namespaces.locator(`[data-namespace="${TEAM_A_NS}"]`)).toBeVisible();
  await expect(namespaces.locator('[data-namespace="team-a"]')).toBeVisible();
  await expect(namespaces.locator(`[data-namespace="${TEAM_B_NS}"]`)).toHaveCount(0);
  await expect(namespaces.locator('[data-namespace="team-b"]')).toHaveCount(0);
  await expect(namespaces.locator('[data-namespace="kube-system"]')).toHaveCount(0);
  // Nodes are cluster-wide: alice may not list them, and the overview says so.
  await expect(page.getByTestId("nodes-forbidden")).toBeVisible();
  await screenshot(page, "signed-in-alice");
  expect(errors).toEqual([]);
});

test("a wrong password is refused at the provider and nothing is signed in", async ({ page }) => {
  await page.goto("/admin/clusters");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "bob", "not-bobs-password");
  // Dex keeps the user on its form with its own message; the console never saw a code.
  await expect(page).toHaveURL(new RegExp(`^${sandbox.oidc.issuer}`));
  await expect(page.locator("body")).toContainText(/invalid/i);
  await page.goto("/admin/clusters");
  await expect(page).toHaveURL(/\/signin/);
});

test("signing out ends the session, and pages ask to sign in again", async ({ page }) => {
  await page.goto("/admin/clusters/east");
  await page.getByTestId("signin-button").click();
  await signInAtDex(page, sandbox, "carol");
  await hydrated(page);
  await expect(page.getByTestId("user-name")).toHaveText("carol");
  // carol (auditors → view) may list every namespace, so the list is not filtered.
  await expect(page.getByTestId("namespaces").locator(`[data-namespace="${TEAM_B_NS}"]`)).toBeVisible();

  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/signin\?error=signed_out/);
  await expect(page.getByTestId("signin-reason")).toContainText("You have signed out");
  await page.goto("/admin/clusters/east");
  await expect(page).toHaveURL(/\/signin\?next=/);
  // The old session cookie no longer opens anything, through pages or the proxy.
  const proxied = await page.request.get("/clusters/east/api/v1/namespaces");
  expect(proxied.status()).toBe(401);
});
