/**
 * The whole pipeline: `pnpm start --once` (the `@prismq/system` orchestrator) with the sandbox answering after
 * 50 ms, in hybrid mode when Redis answers (direct otherwise). Reports ideas
 * stored per second and each process's peak resident memory (VmHWM).
 *
 *   pnpm bench:pipeline        (BENCH_LATENCY_MS=50 by default)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50);
const dir = mkdtempSync(join(tmpdir(), "bench-pipeline-"));
const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/start.ts", "--once", "--quiet", "--data-dir", dir, "--port", "0", "--latency", String(LATENCY)], {
  cwd: root,
  encoding: "utf8",
  env: process.env,
});
rmSync(dir, { recursive: true, force: true });
const text = `${run.stdout}${run.stderr}`;
const ideas = /Ideas stored: (\d+) in ([\d.]+) s \(([\d.]+) ideas\/s\)/.exec(text);
const rss = /Peak RSS: (.+)/.exec(text)?.[1];
const mode = /hybrid mode/.test(text) ? "hybrid" : "direct";
if (run.status !== 0 || !ideas || !rss) {
  console.error(`pipeline run failed (exit ${run.status}):\n${text.slice(-2000)}`);
  process.exit(1);
}
console.log(`\n## The whole pipeline (pnpm start --once, ${mode} mode, sandbox latency ${LATENCY} ms)\n`);
console.log("| ideas stored | seconds | ideas/s |");
console.log("|---|---|---|");
console.log(`| ${ideas[1]} | ${ideas[2]} | ${ideas[3]} |`);
console.log("\n| process | peak RSS (MB) |");
console.log("|---|---|");
for (const part of rss.split(", ")) {
  const m = /^(\S+) (\S+) MB$/.exec(part);
  if (m) console.log(`| ${m[1]} | ${m[2]} |`);
}
