// The running sandbox (sandbox/up --detach writes sandbox.json): clusters, kubectl, Dex, users.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { execFileSync } from "node:child_process";
import { expect, type Page } from "@playwright/test";

export interface Sandbox {
  version: string;
  kubectl: string;
  ca_file: string;
  serving_cert: string;
  serving_key: string;
  console_kubeconfig: string;
  clusters: { name: string; server: string; admin_kubeconfig: string; nodes: number; infra_nodes?: number }[];
  oidc: { issuer: string; client_id: string; client_secret_file: string };
  users: { username: string; email: string; password: string; groups: string[] }[];
  console_port: number;
  pod_log_file: string;
}

export const sandboxFile = (() => {
  const cache =
    process.env.SANDBOX_CACHE ?? `${process.env.XDG_CACHE_HOME ?? `${homedir()}/.cache`}/nextgen-console/sandbox`;
  return `${process.env.SANDBOX_STATE ?? `${cache}/run`}/sandbox.json`;
})();

export function readSandbox(): Sandbox | null {
  return existsSync(sandboxFile) ? (JSON.parse(readFileSync(sandboxFile, "utf8")) as Sandbox) : null;
}

export function requireSandbox(): Sandbox {
  const sandbox = readSandbox();
  if (!sandbox) {
    throw new Error(`no sandbox is running (${sandboxFile} is missing): start one with sandbox/up --detach`);
  }
  return sandbox;
}

/// The port the sign-in tests' console listens on: one of the redirect URIs the sandbox's Dex accepts.
export const sandboxConsolePort = (sandbox: Sandbox) => sandbox.console_port + 2;

/// Runs kubectl as the sandbox admin on one cluster, feeding `stdin` (a manifest) when given.
export function kubectl(sandbox: Sandbox, cluster: string, args: string[], stdin?: string): string {
  const c = sandbox.clusters.find((c) => c.name === cluster);
  if (!c) throw new Error(`the sandbox has no cluster ${cluster}`);
  return execFileSync(sandbox.kubectl, args, {
    env: { ...process.env, KUBECONFIG: c.admin_kubeconfig },
    input: stdin,
    encoding: "utf8",
  });
}

/// Runs kubectl as `user` in `groups` (the sandbox admin impersonating), as the console acts
/// for a signed-in user: what it writes is authored by that user.
export function kubectlAs(sandbox: Sandbox, cluster: string, user: string, groups: string[], args: string[], stdin?: string): string {
  const as = ["--as", user, ...groups.flatMap((g) => ["--as-group", g])];
  return kubectl(sandbox, cluster, [...as, ...args], stdin);
}

/// The demo projects team-a and team-b (sandbox/manifests/projects.yaml), authored by the
/// platform admin; the console installs the CRD at start, so this runs once it serves.
export function ensureDemoProjects(sandbox: Sandbox) {
  const manifest = readFileSync(new URL("../sandbox/manifests/projects.yaml", import.meta.url), "utf8");
  kubectlAs(sandbox, "global", "admin@example.com", ["platform-admins"], ["apply", "--server-side", "--field-manager", "nextgen-console-demo", "-f", "-"], manifest);
}

/** A namespace on east where `group` may edit (a manifest for `kubectl apply -f -`). */
export function namespaceFor(name: string, group: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${name}, labels: {e2e.nextgen-console.io/test: "true"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${group}-edit, namespace: ${name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: ${group}}]
`;
}

/** Fills Dex's login form as `username` (the password from sandbox.json unless given). */
export async function signInAtDex(page: Page, sandbox: Sandbox, username: string, password?: string) {
  const user = sandbox.users.find((u) => u.username === username);
  if (!user) throw new Error(`the sandbox has no user ${username}`);
  await expect(page).toHaveURL(new RegExp(`^${sandbox.oidc.issuer}`));
  await page.locator('input[name="login"]').fill(user.email);
  await page.locator('input[name="password"]').fill(password ?? user.password);
  await page.locator("#submit-login").click();
}

/** Appends `line` to the file kwok serves as every fake container's log (CRI format). */
export function writeContainerLog(sandbox: Sandbox, line: string) {
  appendFileSync(sandbox.pod_log_file, `${new Date().toISOString()} stdout F ${line}\n`);
}
