/**
 * Server benchmark: creates/s and claim+complete cycles/s at 8 and 32
 * workers, on SQLite and PostgreSQL (one node with group commit off, one
 * node, two nodes on one schema), beside a bare node:http server that
 * answers the same requests with a constant body (the HTTP ceiling) and
 * the BullMQ reference on the local Redis. Every server runs as its own
 * process, the load comes from this one (spread over the nodes), all in
 * one run on this machine. Prints a Markdown table.
 *
 *   pnpm bench:server            (or: pnpm build && pnpm exec tsx bench/taskmanager-server.ts)
 *   BENCH_TASKS=20000 pnpm bench:server
 *
 * Against another build (a checkout of an older commit, built): the same load on
 * SQLite and on PostgreSQL, on this build's server and that one's in turn,
 * `BENCH_ROUNDS` times (default 5), and the median of each, side by side.
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && pnpm install && pnpm build)
 *   BENCH_AGAINST=/tmp/old pnpm bench:server
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Pool } from "undici";
import { bullmqReference } from "./bullmq.js";
import { waitForServerUrl } from "./server-process.js";

const TASKS = Number(process.env.BENCH_TASKS ?? 12_000);
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const KEY = "bench-key-0123456789abcdef";
const root = fileURLToPath(new URL("..", import.meta.url));
const serverEntry = join(root, "apps/taskmanager-server/dist/index.js");
const AGAINST = process.env.BENCH_AGAINST;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Target {
  label: string;
  base: string;
  /** One connection pool per server node; worker `w` talks to node `w % pools.length`. */
  pools: Pool[];
  /** CPU seconds the target's processes have used so far (user + system), where it can be read. */
  cpu?: () => number;
  stop(): Promise<void>;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are the 12th and 13th fields after the command name, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGTERM");
  // A server that has not exited after 10 s (a connection it still waits on) is killed: the bench must end.
  const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(kill);
}

/** `nodes` server processes on one database (several only make sense on PostgreSQL). */
async function startTaskManager(label: string, env: Record<string, string>, nodes = 1, entry = serverEntry): Promise<Target> {
  const children: ChildProcess[] = [];
  const bases: string[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const child = spawn(process.execPath, [entry], {
        env: { ...process.env, PORT: "0", API_KEYS: KEY, LOG_LEVEL: "warn", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      // One after the other: the first applies the migrations, the next finds them applied.
      bases.push(await waitForServerUrl(child));
    }
  } catch (err) {
    await Promise.all(children.map(stopChild));
    throw err;
  }
  const pools = bases.map((b) => new Pool(new URL(b).origin, { connections: 64 }));
  const cpu = () => children.reduce((sum, c) => sum + cpuSeconds(c.pid as number), 0);
  return { label, base: new URL(bases[0] as string).pathname, pools, cpu, stop: async () => void (await Promise.all(children.map(stopChild))) };
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
    process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeAllConnections(); });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "pipe"] });
  const base = await waitForServerUrl(child);
  return { label: "bare node:http (ceiling)", base: "/api", pools: [new Pool(new URL(base).origin, { connections: 64 })], stop: () => stopChild(child) };
}

async function post(t: Target, path: string, body: unknown, node = 0): Promise<{ status: number; json: { data?: { id?: number } } }> {
  const res = await (t.pools[node % t.pools.length] as Pool).request({
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
  /** Server CPU microseconds per create and per claim+complete cycle (8 workers), where the target's CPU can be read. */
  cpuPerCreate?: number;
  cpuPerCycle?: number;
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
  const cpu0 = t.cpu?.();
  const creates = await timed(8, async (w) => {
    let n = 0;
    while (next < TASKS) {
      const i = next++;
      const r = await post(t, "/tasks", { type: typeName, params: { n: i } }, w);
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
        const c = await post(t, "/tasks/claim", { worker_id: worker, task_type_id: typeId }, w);
        if (c.status === 404) break;
        if (c.status !== 200) throw new Error(`claim answered ${c.status}`);
        const r = await post(t, `/tasks/${c.json.data?.id}/complete`, { worker_id: worker, success: true, result: { ok: true } }, w);
        if (r.status !== 200 && t.label.startsWith("TaskManager")) throw new Error(`complete answered ${r.status}`);
        n++;
      }
      return n;
    });
  };
  const half = Math.floor(TASKS / 2);
  const cpu1 = t.cpu?.();
  const c8 = await cycles(8, half);
  const cpu2 = t.cpu?.();
  const c32 = await cycles(32, TASKS - half);
  const perOp = (a: number | undefined, b: number | undefined, ops: number) => (a === undefined || b === undefined ? undefined : ((b - a) / ops) * 1e6);
  return {
    cpuPerCreate: perOp(cpu0, cpu1, creates.ops),
    cpuPerCycle: perOp(cpu1, cpu2, c8.ops),
    target: t.label,
    creates: creates.ops / creates.seconds,
    cycles8: c8.ops / c8.seconds,
    cycles32: c32.ops / c32.seconds,
  };
}

/** Tasks/s through batch claims of `limit` and one batch settle per claim, `workers` workers (our server only). */
async function measureBatches(t: Target, typeName: string, workers: number, limit: number): Promise<number> {
  const reg = await post(t, "/task-types/register", { name: typeName, version: "1.0.0", param_schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } });
  const typeId = reg.json.data?.id ?? 1;
  let next = 0;
  await timed(8, async (w) => {
    while (next < TASKS) {
      const i = next++;
      const r = await post(t, "/tasks", { type: typeName, params: { n: i } }, w);
      if (r.status !== 200) throw new Error(`create answered ${r.status}`);
    }
    return 0;
  });
  const run = await timed(workers, async (w) => {
    let n = 0;
    const worker = `bench-batch-${w}`;
    for (;;) {
      const c = (await post(t, "/tasks/claim", { worker_id: worker, task_type_id: typeId, limit }, w)) as unknown as { status: number; json: { data?: { items?: Array<{ id: number }> } } };
      if (c.status !== 200) throw new Error(`batch claim answered ${c.status}`);
      const items = c.json.data?.items ?? [];
      if (items.length === 0) break;
      const s = await post(t, "/tasks/settle", { worker_id: worker, items: items.map((it) => ({ id: it.id, status: "completed", result: { ok: true } })) }, w);
      if (s.status !== 200) throw new Error(`batch settle answered ${s.status}`);
      n += items.length;
    }
    return n;
  });
  if (run.ops !== TASKS) throw new Error(`batch claims settled ${run.ops} of ${TASKS} tasks`);
  return run.ops / run.seconds;
}

async function dropSchemas(schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client
    .connect()
    .then(async () => {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    })
    .finally(() => client.end());
}

/** The env of a server on a PostgreSQL schema of its own, its name recorded in `schemas` for the drop. */
function pgEnv(schemas: string[], extra: Record<string, string> = {}): Record<string, string> {
  const schema = `bench_${Date.now()}_${schemas.length}`;
  schemas.push(schema);
  return { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: "32", ...extra };
}

/** Starts a target, warms it up on a type of its own (JIT and connection setup are not measured), measures it, stops it. */
async function measureTarget(start: () => Promise<Target>, n: number): Promise<Row> {
  const t = await start();
  try {
    await measure(t, `Bench.Warmup_${n}`).catch(() => undefined);
    return await measure(t, `Bench.Run_${n}`);
  } finally {
    await Promise.all(t.pools.map((p) => p.close()));
    await t.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** This build's server and another checkout's, in turn, on the same load; prints medians side by side. */
async function compare(against: string): Promise<void> {
  const builds = [
    { name: "this build", entry: serverEntry },
    { name: against, entry: join(against, "apps/taskmanager-server/dist/index.js") },
  ];
  const dir = mkdtempSync(join(tmpdir(), "tm-bench-"));
  const schemas: string[] = [];
  const stores = [
    { name: "SQLite", env: (i: number) => ({ SQLITE_PATH: join(dir, `cmp-${i}.sqlite`) }) },
    { name: "PostgreSQL", env: () => pgEnv(schemas) },
  ];
  const results = new Map<string, Row[]>();
  let n = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which build goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const store of stores) {
        for (const b of order) {
          const row = await measureTarget(() => startTaskManager(`${store.name} ${b.name}`, store.env(n), 1, b.entry), n++);
          const key = `${store.name}\t${b.name}`;
          results.set(key, [...(results.get(key) ?? []), row]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas(schemas);
  }
  const fmt = (v: number) => Math.round(v).toLocaleString("en-US");
  const lines = [
    `Server builds compared, ${TASKS.toLocaleString("en-US")} tasks per run, median (min-max) of ${ROUNDS} alternating rounds, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    "",
    "| store | build | creates/s | cycles/s, 8 workers | cycles/s, 32 workers | server CPU µs per create | per cycle (8 workers) |",
    "|---|---|---|---|---|---|---|",
    ...[...results].sort(([a], [b]) => a.localeCompare(b)).map(([key, rows]) => {
      const [store, build] = key.split("\t");
      const cell = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))})`;
      return `| ${store} | ${build} | ${cell(rows.map((r) => r.creates))} | ${cell(rows.map((r) => r.cycles8))} | ${cell(rows.map((r) => r.cycles32))} | ${cell(rows.map((r) => r.cpuPerCreate ?? Number.NaN))} | ${cell(rows.map((r) => r.cpuPerCycle ?? Number.NaN))} |`;
    }),
    "",
    "Server CPU per operation (read from /proc) is the steadier comparison where the load generator shares the machine's cores.",
  ];
  console.log(lines.join("\n"));
}

async function main(): Promise<void> {
  if (AGAINST) return compare(AGAINST);
  const dir = mkdtempSync(join(tmpdir(), "tm-bench-"));
  const schemas: string[] = [];
  const rows: Row[] = [];
  let batch50: number | undefined;
  const run = async (start: () => Promise<Target>) => void rows.push(await measureTarget(start, rows.length));
  try {
    await run(startBare);
    await run(() => startTaskManager("TaskManager on SQLite", { SQLITE_PATH: join(dir, "bench.sqlite") }));
    // Batch claims of 50 and one batch settle each, beside the single claims above, on a SQLite file of their own.
    const batchTarget = await startTaskManager("TaskManager on SQLite, batch claims", { SQLITE_PATH: join(dir, "batch.sqlite") });
    try {
      await measureBatches(batchTarget, "Bench.BatchWarmup", 8, 50).catch(() => undefined);
      batch50 = await measureBatches(batchTarget, "Bench.Batch", 8, 50);
    } finally {
      await Promise.all(batchTarget.pools.map((p) => p.close()));
      await batchTarget.stop();
    }
    await run(() => startTaskManager("TaskManager on PostgreSQL, group commit off (`DATABASE_BATCH_MAX=1`)", pgEnv(schemas, { DATABASE_BATCH_MAX: "1" })));
    await run(() => startTaskManager("TaskManager on PostgreSQL", pgEnv(schemas)));
    await run(() => startTaskManager("TaskManager on PostgreSQL, two server nodes", pgEnv(schemas, { DATABASE_POOL_SIZE: "16" }), 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas(schemas);
  }
  const bull = await bullmqReference();
  if (bull) rows.push({ target: "BullMQ queue on the same Redis (no HTTP, no SQL; reference)", creates: bull.creates, cycles8: bull.cycles8, cycles32: bull.cycles32 });
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
    "PostgreSQL has 32 connections (16 per node with two nodes) and group commit's defaults unless the row says otherwise;",
    "the two nodes share one schema and the load (worker w talks to node w mod 2). BullMQ's creates are `add`s from 8 producers, its cycles",
    "a worker of that concurrency taking and finishing jobs.",
    "",
    "Batch claims (our additive `POST /tasks/claim` with `limit`, and `POST /tasks/settle`), 8 workers, SQLite:",
    "",
    "| how a worker takes tasks | tasks/s at 8 workers | vs BullMQ jobs/s at 8 in flight |",
    "|---|---|---|",
    `| one claim + one complete per task | ${Math.round((rows[1] as Row).cycles8).toLocaleString("en-US")} | ${bull ? `${(((rows[1] as Row).cycles8 / bull.cycles8) * 100).toFixed(0)}%` : "-"} |`,
    `| a claim of 50 + one settle of 50 | ${Math.round(batch50 ?? 0).toLocaleString("en-US")} | ${bull ? `${(((batch50 ?? 0) / bull.cycles8) * 100).toFixed(0)}%` : "-"} |`,
    ...(bull ? [`| BullMQ worker, concurrency 8 (reference) | ${Math.round(bull.cycles8).toLocaleString("en-US")} | 100% |`] : []),
  ];
  console.log(lines.join("\n"));
}

await main();
