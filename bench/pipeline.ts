/**
 * The whole pipeline: `pnpm start --once` (the `@prismq/system` orchestrator) with the sandbox answering after
 * 50 ms, in hybrid mode when Redis answers (direct otherwise). Reports ideas stored per second and each
 * process's peak resident memory (VmHWM), side by side in one run: the services with their V8 settings
 * (`SERVICE_NODE_OPTIONS`, as in the Docker image) and with Node's own defaults.
 *
 *   pnpm bench:pipeline        (BENCH_LATENCY_MS=50 by default)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVICE_NODE_OPTIONS } from "@prismq/system";

const root = fileURLToPath(new URL("..", import.meta.url));
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50);
/** At most this many MB resident per service (issue 18). */
const TARGET_MB = 100;

interface Run {
  label: string;
  ideas: string;
  seconds: string;
  perSecond: string;
  rss: Map<string, number>;
  mode: string;
}

function run(label: string, nodeOptions: string, env: NodeJS.ProcessEnv = process.env): Run {
  const dir = mkdtempSync(join(tmpdir(), "bench-pipeline-"));
  const args = ["--import", "tsx", "scripts/start.ts", "--once", "--quiet", "--data-dir", dir, "--port", "0", "--latency", String(LATENCY), `--node-options=${nodeOptions}`];
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env });
  rmSync(dir, { recursive: true, force: true });
  const text = `${child.stdout}${child.stderr}`;
  const ideas = /Ideas stored: (\d+) in ([\d.]+) s \(([\d.]+) ideas\/s\)/.exec(text);
  const rss = /Peak RSS: (.+)/.exec(text)?.[1];
  if (child.status !== 0 || !ideas || !rss) {
    console.error(`pipeline run (${label}) failed (exit ${child.status}):\n${text.slice(-2000)}`);
    process.exit(1);
  }
  const byProcess = new Map<string, number>();
  for (const part of rss.split(", ")) {
    const m = /^(\S+) (\S+) MB$/.exec(part);
    if (m) byProcess.set(m[1] as string, Number(m[2]));
  }
  return { label, ideas: ideas[1] as string, seconds: ideas[2] as string, perSecond: ideas[3] as string, rss: byProcess, mode: /hybrid mode/.test(text) ? "hybrid" : "direct" };
}

// The third run points REDIS_URL where nothing answers, so the system runs in direct mode: no BullMQ, no ioredis.
const runs = [
  run(`\`${SERVICE_NODE_OPTIONS}\` (default)`, SERVICE_NODE_OPTIONS),
  run("Node's defaults", ""),
  run(`\`${SERVICE_NODE_OPTIONS}\`, direct mode`, SERVICE_NODE_OPTIONS, { ...process.env, REDIS_URL: "redis://127.0.0.1:1" }),
];
console.log(`\n## The whole pipeline (pnpm start --once, sandbox latency ${LATENCY} ms)\n`);
console.log("| services' NODE_OPTIONS | mode | ideas stored | seconds | ideas/s |");
console.log("|---|---|---|---|---|");
for (const r of runs) console.log(`| ${r.label} | ${r.mode} | ${r.ideas} | ${r.seconds} | ${r.perSecond} |`);
console.log(`\n| process | ${runs.map((r) => `peak RSS (MB), ${r.label}`).join(" | ")} |`);
console.log(`|---|${runs.map(() => "---").join("|")}|`);
for (const name of runs[0]?.rss.keys() ?? []) {
  console.log(`| ${name} | ${runs.map((r) => r.rss.get(name) ?? "-").join(" | ")} |`);
}
const over = [...(runs[0]?.rss ?? [])].filter(([name, mb]) => name !== "sandbox" && mb > TARGET_MB);
console.log(over.length ? `\nOver ${TARGET_MB} MB with the default settings: ${over.map(([n, mb]) => `${n} ${mb} MB`).join(", ")}.` : `\nEvery service at most ${TARGET_MB} MB with the default settings.`);
