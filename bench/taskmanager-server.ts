/**
 * Server benchmark: creates/s and claim+complete cycles/s at 8 and 32
 * workers, on SQLite and PostgreSQL, beside a bare node:http server that
 * answers the same requests with a constant body (the HTTP ceiling).
 * Every server runs as its own process, the load comes from this one, all
 * in one run on this machine. Prints a Markdown table, and one of single claims beside batch
 * claims of 50 on SQLite (tasks/s).
 *
 *   pnpm bench:server            (or: pnpm build && pnpm exec tsx bench/taskmanager-server.ts)
 *   BENCH_TASKS=20000 pnpm bench:server
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Pool } from "undici";

const TASKS = Number(process.env.BENCH_TASKS ?? 12_000);
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const KEY = "bench-key-0123456789abcdef";
const root = fileURLToPath(new URL("..", import.meta.url));
const serverEntry = join(root, "apps/taskmanager-server/dist/index.js");

interface Target {
  label: string;
  base: string;
  pool: Pool;
  stop(): Promise<void>;
}

function waitForUrl(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => reject(new Error(`process exited ${code}: ${out}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGTERM");
  await exited;
}

async function startTaskManager(label: string, env: Record<string, string>): Promise<Target> {
  const child = spawn(process.execPath, [serverEntry], {
    env: { ...process.env, PORT: "0", API_KEYS: KEY, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const base = await waitForUrl(child, /TaskManager API: (\S+)/);
  const origin = new URL(base).origin;
  return { label, base: new URL(base).pathname, pool: new Pool(origin, { connections: 64 }), stop: () => stopChild(child) };
}

/** The ceiling: node:http reading each body and answering a constant envelope. */
async function startBare(): Promise<Target> {
  const code = `
    const http = require("node:http");
    const body = JSON.stringify({ success: true, message: "Success", data: { id: 1, type: "Bench", params: { n: 1 }, attempts: 1, priority: 0, message: "ok" }, timestamp: 0 });
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, "127.0.0.1", () => console.log("TaskManager API: http://127.0.0.1:" + server.address().port + "/api"));
    process.on("SIGTERM", () => server.close(() => process.exit(0)));`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "pipe"] });
  const base = await waitForUrl(child, /TaskManager API: (\S+)/);
  return { label: "bare node:http (ceiling)", base: "/api", pool: new Pool(new URL(base).origin, { connections: 64 }), stop: () => stopChild(child) };
}

async function post(t: Target, path: string, body: unknown): Promise<{ status: number; json: { data?: { id?: number } } }> {
  const res = await t.pool.request({
    path: t.base + path,
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": KEY },
    body: JSON.stringify(body),
  });
  const json = (await res.body.json()) as { data?: { id?: number } };
  return { status: res.statusCode, json };
}

async function timed(workers: number, work: (w: number) => Promise<number>): Promise<{ ops: number; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const counts = await Promise.all(Array.from({ length: workers }, (_, w) => work(w)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { ops: counts.reduce((a, b) => a + b, 0), seconds };
}

interface Row {
  target: string;
  creates: number;
  cycles8: number;
  cycles32: number;
}

async function measure(t: Target, typeName: string): Promise<Row> {
  const reg = await post(t, "/task-types/register", {
    name: typeName,
    version: "1.0.0",
    param_schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
  });
  const typeId = reg.json.data?.id ?? 1;
  // Creates: 8 concurrent creators, all tasks of this run.
  let next = 0;
  const creates = await timed(8, async () => {
    let n = 0;
    while (next < TASKS) {
      const i = next++;
      const r = await post(t, "/tasks", { type: typeName, params: { n: i } });
      if (r.status !== 200) throw new Error(`create answered ${r.status}`);
      n++;
    }
    return n;
  });
  // Cycles: claim, then complete, until half the tasks are done (8 workers), then the rest (32 workers).
  const cycles = async (workers: number, budget: number) => {
    let left = budget;
    return timed(workers, async (w) => {
      let n = 0;
      const worker = `bench-${workers}-${w}`;
      while (left > 0) {
        left--;
        const c = await post(t, "/tasks/claim", { worker_id: worker, task_type_id: typeId });
        if (c.status === 404) break;
        if (c.status !== 200) throw new Error(`claim answered ${c.status}`);
        const r = await post(t, `/tasks/${c.json.data?.id}/complete`, { worker_id: worker, success: true, result: { ok: true } });
        if (r.status !== 200 && t.label.startsWith("TaskManager")) throw new Error(`complete answered ${r.status}`);
        n++;
      }
      return n;
    });
  };
  const half = Math.floor(TASKS / 2);
  const c8 = await cycles(8, half);
  const c32 = await cycles(32, TASKS - half);
  return {
    target: t.label,
    creates: creates.ops / creates.seconds,
    cycles8: c8.ops / c8.seconds,
    cycles32: c32.ops / c32.seconds,
  };
}

/** Tasks claimed and completed per second by 8 workers on SQLite: one task per claim and complete, or `batch` per claim and settle. */
async function batchRate(t: Target, typeName: string, tasks: number, batch: number): Promise<number> {
  const reg = await post(t, "/task-types/register", { name: typeName, version: "1.0.0", param_schema: { type: "object" } });
  const typeId = reg.json.data?.id;
  for (let from = 0; from < tasks; from += 64) {
    const answers = await Promise.all(Array.from({ length: Math.min(64, tasks - from) }, (_, i) => post(t, "/tasks", { type: typeName, params: { n: from + i } })));
    if (answers.some((a) => a.status !== 200)) throw new Error("create refused");
  }
  const run = await timed(8, async (w) => {
    const worker = `bench-batch-${batch}-${w}`;
    let n = 0;
    for (;;) {
      if (batch === 1) {
        const c = await post(t, "/tasks/claim", { worker_id: worker, task_type_id: typeId });
        if (c.status === 404) return n;
        const done = await post(t, `/tasks/${c.json.data?.id}/complete`, { worker_id: worker, success: true, result: { ok: true } });
        if (done.status !== 200) throw new Error(`complete answered ${done.status}`);
        n++;
        continue;
      }
      const c = (await post(t, "/tasks/claim", { worker_id: worker, task_type_id: typeId, limit: batch })).json as { data: { items: Array<{ id: number }> } };
      if (c.data.items.length === 0) return n;
      const items = c.data.items.map((i) => ({ id: i.id, status: "completed", result: { ok: true } }));
      const s = (await post(t, "/tasks/settle", { worker_id: worker, items })).json as { data: { items: Array<{ ok: boolean }> } };
      if (!s.data.items.every((i) => i.ok)) throw new Error("a settle was refused");
      n += items.length;
    }
  });
  return run.ops / run.seconds;
}

/** Single claims beside batch claims of 50 on one SQLite server (each after a warm-up of its own): a table of their own. */
async function measureBatchClaims(dir: string): Promise<string[]> {
  const t = await startTaskManager("TaskManager on SQLite (batch claims)", { SQLITE_PATH: join(dir, "batch.sqlite") });
  try {
    const rates: Array<[string, number]> = [];
    for (const [label, batch] of [["single claims (claim + complete per task)", 1], ["batch claims of 50 (claim + settle per 50 tasks)", 50]] as const) {
      await batchRate(t, `Bench.BatchWarmup_${batch}`, Math.ceil(TASKS / 10), batch);
      rates.push([label, await batchRate(t, `Bench.Batch_${batch}`, TASKS, batch)]);
    }
    const single = rates[0]?.[1] ?? 1;
    return [
      "",
      "| TaskManager on SQLite, 8 workers | tasks/s |",
      "|---|---|",
      ...rates.map(([label, rate]) => `| ${label} | ${Math.round(rate).toLocaleString("en-US")} (${(rate / single).toFixed(1)}x) |`),
    ];
  } finally {
    await t.pool.close();
    await t.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tm-bench-"));
  const schema = `bench_${Date.now()}`;
  const rows: Row[] = [];
  let batchLines: string[] | undefined;
  const run = async (start: () => Promise<Target>) => {
    const t = await start();
    try {
      // A short warm-up on its own type, so JIT and connection setup are not measured.
      await measure(t, `Bench.Warmup_${rows.length}`).catch(() => undefined);
      rows.push(await measure(t, `Bench.Run_${rows.length}`));
    } finally {
      await t.pool.close();
      await t.stop();
    }
  };
  try {
    await run(startBare);
    await run(() => startTaskManager("TaskManager on SQLite", { SQLITE_PATH: join(dir, "bench.sqlite") }));
    batchLines = await measureBatchClaims(dir);
    await run(() => startTaskManager("TaskManager on PostgreSQL", { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: "32" }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect().then(() => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).finally(() => client.end());
  }
  const ceiling = rows[0] as Row;
  const fmt = (v: number, c: number) => `${Math.round(v).toLocaleString("en-US")} (${((v / c) * 100).toFixed(0)}%)`;
  const lines = [
    `Server benchmark, ${TASKS.toLocaleString("en-US")} tasks per target, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    "",
    "| target | creates/s (8 clients) | claim+complete cycles/s, 8 workers | cycles/s, 32 workers |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.target} | ${fmt(r.creates, ceiling.creates)} | ${fmt(r.cycles8, ceiling.cycles8)} | ${fmt(r.cycles32, ceiling.cycles32)} |`),
    "",
    "Percentages are of the bare node:http ceiling measured in the same run (a cycle is two requests: claim, complete).",
    ...(batchLines ?? []),
  ];
  console.log(lines.join("\n"));
}

await main();
