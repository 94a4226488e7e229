/**
 * `pnpm bench`: every benchmark, one after the other on this machine, each
 * measuring beside its reference in its own run. Prints the Markdown tables
 * and writes them to `bench/results/latest.md` (not kept in git).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const scripts = ["taskmanager-server.ts", "hostile-load.ts", "stats.ts", "bullmq.ts", "taskmanager-client.ts", "youtube.ts", "reddit.ts", "pipeline.ts"];
const parts = [`# PrismQ Workers benchmarks\n\n${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}\n`];
let failed = 0;
for (const script of scripts) {
  process.stderr.write(`bench: ${script}...\n`);
  const run = spawnSync(process.execPath, ["--import", "tsx", join("bench", script)], { cwd: root, encoding: "utf8", env: process.env });
  if (run.status !== 0) {
    failed++;
    parts.push(`\n## ${script}: failed (exit ${run.status})\n\n\`\`\`\n${(run.stderr || run.stdout).slice(-1500)}\n\`\`\`\n`);
    continue;
  }
  // Keep the Markdown: from the first heading on.
  const out = run.stdout;
  parts.push(out.slice(Math.max(0, out.indexOf("\n## "))));
}
const md = parts.join("\n");
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(join(root, "bench", "results", "latest.md"), md);
console.log(md);
process.exit(failed ? 1 : 0);
