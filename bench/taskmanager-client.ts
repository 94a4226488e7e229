/**
 * Client overhead: claim+complete cycles/s through TaskManagerClient beside
 * raw undici requests making the same calls, against our server (SQLite, its
 * own process), in one run. Rounds alternate raw/client so machine noise hits
 * both alike; the table gives each round and the median ratio.
 *
 *   pnpm bench:client        (BENCH_TASKS=4000 BENCH_ROUNDS=3 by default)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { Pool } from "undici";
import { waitForServerUrl } from "./server-process.js";

const TASKS = Number(process.env.BENCH_TASKS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKERS = 8;
const KEY = "bench-key-0123456789abcdef";
const root = fileURLToPath(new URL("..", import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "tm-bench-client-"));
const child = spawn(process.execPath, [join(root, "apps/taskmanager-server/dist/index.js")], {
  env: { ...process.env, PORT: "0", API_KEYS: KEY, LOG_LEVEL: "warn", SQLITE_PATH: join(dir, "b.sqlite") },
  stdio: ["ignore", "ignore", "pipe"],
});
const base = await waitForServerUrl(child);
const origin = new URL(base).origin;

const client = new TaskManagerClient({ baseUrl: base, apiKey: KEY, connections: WORKERS });
const pool = new Pool(origin, { connections: WORKERS });
const raw = async (path: string, body: unknown) => {
  const res = await pool.request({ path: `/api${path}`, method: "POST", headers: { "content-type": "application/json", "x-api-key": KEY }, body: JSON.stringify(body) });
  return { status: res.statusCode, json: (await res.body.json()) as { data: { id: number } } };
};

async function fill(type: string): Promise<number> {
  const reg = await client.registerTaskType({ name: type, version: "1", paramSchema: { type: "object" } });
  let next = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (next < TASKS) await client.createTask(type, { n: next++ });
  }));
  return reg.id;
}

async function timed(work: (w: number) => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => work(w)));
  return TASKS / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const rows: Array<{ raw: number; client: number }> = [];
for (let round = 0; round < ROUNDS; round++) {
  const rawType = `Bench.Raw_${round}_${Date.now()}`;
  const rawId = await fill(rawType);
  const rawRate = await timed(async (w) => {
    for (;;) {
      const c = await raw("/tasks/claim", { worker_id: `raw-${w}`, task_type_id: rawId, sort_by: "created_at", sort_order: "ASC" });
      if (c.status !== 200) return;
      await raw(`/tasks/${c.json.data.id}/complete`, { worker_id: `raw-${w}`, success: true, result: { ok: true } });
    }
  });
  const clientType = `Bench.Client_${round}_${Date.now()}`;
  await fill(clientType);
  const clientRate = await timed(async (w) => {
    for (;;) {
      const t = await client.claimTask({ taskType: clientType, workerId: `client-${w}` });
      if (!t) return;
      await client.completeTask(t.id, { ok: true }, { workerId: `client-${w}` });
    }
  });
  rows.push({ raw: rawRate, client: clientRate });
}

await client.close();
await pool.close();
child.kill("SIGTERM");
await new Promise((r) => child.on("exit", r));
rmSync(dir, { recursive: true, force: true });

const ratios = rows.map((r) => r.client / r.raw).sort((a, b) => a - b);
const median = ratios[Math.floor(ratios.length / 2)] as number;
const f = (v: number) => Math.round(v).toLocaleString("en-US");
console.log(
  [
    `Client overhead, ${TASKS.toLocaleString("en-US")} claim+complete cycles per round, ${WORKERS} workers, our server on SQLite`,
    "",
    "| round | raw undici cycles/s | TaskManagerClient cycles/s | client / raw |",
    "|---|---|---|---|",
    ...rows.map((r, i) => `| ${i + 1} | ${f(r.raw)} | ${f(r.client)} | ${((r.client / r.raw) * 100).toFixed(0)}% |`),
    "",
    `Median: the client runs at ${(median * 100).toFixed(0)}% of raw undici (overhead ${((1 - median) * 100).toFixed(0)}%; target: under 15%).`,
  ].join("\n"),
);
