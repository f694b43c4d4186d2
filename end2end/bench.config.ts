// Benchmarks in the browser (figures printed, nothing timed asserted): not part of the test run.
import { defineConfig } from "@playwright/test";
import { execSync } from "node:child_process";

export default defineConfig({
  testDir: "./bench",
  testMatch: /\.bench\.ts/,
  outputDir: "./test-results",
  timeout: 300_000,
  workers: 1,
  reporter: [["list"]],
  use: {
    ignoreHTTPSErrors: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? execSync("command -v chromium").toString().trim(),
      args: ["--no-sandbox", "--disable-gpu"],
    },
  },
});
