// Precompresses the shipped bundle (brotli q11 and gzip -9, served by the server as .br/.gz
// siblings) and prints its size report: raw, gzip and brotli bytes of the WASM, JS and CSS.
// Usage: node scripts/site-assets.mjs [site-pkg-dir] [--markdown]
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const dir = process.argv.find((a, i) => i > 1 && !a.startsWith("--")) ?? "target/site/pkg";
const markdown = process.argv.includes("--markdown");
const kinds = { ".wasm": "WASM", ".js": "JS", ".css": "CSS" };

const rows = [];
for (const name of readdirSync(dir).sort()) {
  const ext = Object.keys(kinds).find((e) => name.endsWith(e));
  if (!ext) continue;
  const path = join(dir, name);
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gz);
  rows.push({ kind: kinds[ext], name, raw: statSync(path).size, gzip: gz.length, brotli: br.length });
}
if (!rows.some((r) => r.kind === "WASM")) {
  console.error(`error: no .wasm file in ${dir}; build the site first (cargo leptos build --release)`);
  process.exit(1);
}
const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
if (markdown) {
  console.log("| asset | raw | gzip | brotli |\n| --- | ---: | ---: | ---: |");
  for (const r of rows) console.log(`| ${r.kind} | ${kb(r.raw)} | ${kb(r.gzip)} | ${kb(r.brotli)} |`);
  console.log(`| **total** | ${kb(total.raw)} | ${kb(total.gzip)} | **${kb(total.brotli)}** |`);
} else {
  console.log("size report (shipped bundle)");
  for (const r of rows) console.log(`  ${r.kind.padEnd(5)} ${kb(r.raw).padStart(11)} raw ${kb(r.gzip).padStart(11)} gzip ${kb(r.brotli).padStart(11)} brotli  ${r.name}`);
  console.log(`  total ${kb(total.raw).padStart(11)} raw ${kb(total.gzip).padStart(11)} gzip ${kb(total.brotli).padStart(11)} brotli`);
}
