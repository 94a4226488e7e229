/**
 * Dashboard benchmark: GET /api/stats latency (p50/p99) beside GET /api/health latency on the
 * same server in the same run, on a store filled with 100k tasks and 10k workers holding claims,
 * for SQLite and PostgreSQL; and /health while 10 dashboards poll /stats every 2 s each (as the
 * page does), beside /health with nothing else running. /stats must stay far below the 2 s poll
 * and must not hold up other requests. Prints a Markdown table.
 *
 *   pnpm bench:stats             (or: pnpm build && pnpm exec tsx bench/stats.ts)
 *   BENCH_STATS_TASKS=100000 BENCH_STATS_WORKERS=10000 BENCH_STATS_SAMPLES=300 BENCH_STATS_DASHBOARDS=10 pnpm bench:stats
 *
 * The stores are filled through the server's own store classes (the same transactions and history
 * rows as the API writes, without HTTP in the way), then each server runs as its own process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore, type Store } from "@prismq/taskmanager-server";
import { dedupeKeyOfJson, paramsJson } from "@prismq/taskmanager-protocol";
import pg from "pg";
import { Pool } from "undici";
import { waitForServerUrl } from "./server-process.js";

const TASKS = Number(process.env.BENCH_STATS_TASKS ?? 100_000);
const WORKERS = Number(process.env.BENCH_STATS_WORKERS ?? 10_000);
const SAMPLES = Number(process.env.BENCH_STATS_SAMPLES ?? 300);
/** Dashboards open at once while /health is measured under load, each polling /stats every 2 s as the page does. */
const DASHBOARDS = Number(process.env.BENCH_STATS_DASHBOARDS ?? 10);
const POLL_MS = 2000;
/** Pause between /health samples, so that a run spans many polls. */
const GAP_MS = 10;
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const KEY = "bench-key-0123456789abcdef";
const root = fileURLToPath(new URL("..", import.meta.url));
const serverEntry = join(root, "apps/taskmanager-server/dist/index.js");
const TYPES = ["Bench.Stats.Video", "Bench.Stats.Post", "Bench.Stats.Search", "Bench.Stats.Channel", "Bench.Stats.Comment"];

/** Runs `fn` for 0..n-1 with at most `limit` at once. */
async function each(n: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await fn(next++);
  }));
}

/**
 * 100k tasks over 5 types created over the last day; 20% completed and 2% failed for good (spread
 * over the day, some in the last hour); 15% claimed right now by 10k distinct workers (a third of
 * them holding two); the rest pending.
 */
async function fill(store: Store, concurrency: number): Promise<void> {
  const now = Date.now();
  const ids: number[] = [];
  for (const name of TYPES) ids.push((await store.registerTaskType({ name, version: "1.0.0", paramSchema: '{"type":"object"}', now })).id);
  const typeOf = (i: number) => i % TYPES.length;
  await each(TASKS, concurrency, async (i) => {
    const params = paramsJson({ n: i, url: `https://example.test/item/${i}` });
    await store.createTask({ typeId: ids[typeOf(i)] as number, params, dedupeKey: dedupeKeyOfJson(TYPES[typeOf(i)] as string, params), priority: 0, now: now - 86_400_000 + Math.floor((i / TASKS) * 86_000_000) });
  });
  const settle = async (count: number, success: boolean) =>
    each(count, concurrency, async (i) => {
      const at = now - 86_000_000 + Math.floor((i / count) * 86_000_000);
      const typeId = ids[i % TYPES.length] as number;
      const c = await store.claimTask({ typeId, workerId: "bench-settler", sortBy: "id", sortOrder: "ASC", now: at, expiredBefore: 0, maxAttempts: 3 });
      if (!c) throw new Error("nothing to claim while filling");
      const r = await store.complete({ id: c.id, workerId: "bench-settler", success, result: success ? '{"ok":true}' : null, error: success ? null : `bench failure ${i}`, maxAttempts: 0, now: at + 1000 });
      if (!r.ok) throw new Error(`complete refused while filling: ${r.refusal}`);
    });
  await settle(Math.floor(TASKS * 0.2), true);
  await settle(Math.floor(TASKS * 0.02), false);
  const claims = Math.floor(TASKS * 0.15);
  await each(claims, concurrency, async (i) => {
    const c = await store.claimTask({ typeId: ids[i % TYPES.length] as number, workerId: `bench-worker-${String(i % WORKERS).padStart(5, "0")}`, sortBy: "id", sortOrder: "ASC", now, expiredBefore: 0, maxAttempts: 3 });
    if (!c) throw new Error("nothing to claim while filling");
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

interface Latency {
  p50: number;
  p99: number;
}

async function get(pool: Pool, path: string): Promise<{ ms: number; bytes: number }> {
  const t0 = process.hrtime.bigint();
  const res = await pool.request({ path, method: "GET", headers: { "x-api-key": KEY } });
  const body = await res.body.text();
  const took = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${body.slice(0, 200)}`);
  return { ms: took, bytes: Buffer.byteLength(body) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function sample(pool: Pool, path: string, n: number, gapMs = 0): Promise<Latency & { bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = await get(pool, path);
    times.push(r.ms);
    bytes = r.bytes;
    if (gapMs) await sleep(gapMs);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), bytes };
}

interface Row {
  store: string;
  health: Latency;
  stats: Latency & { bytes: number };
  loaded: Latency;
  workers: number;
}

async function measure(label: string, env: Record<string, string>): Promise<Row> {
  const child = spawn(process.execPath, [serverEntry], {
    env: { ...process.env, PORT: "0", API_KEYS: KEY, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const base = await waitForServerUrl(child);
    const url = new URL(base);
    const pool = new Pool(url.origin, { connections: DASHBOARDS + 2 });
    const path = (p: string) => url.pathname + p;
    try {
      for (let i = 0; i < 10; i++) await Promise.all([get(pool, path("/health")), get(pool, path("/stats"))]);
      const health = await sample(pool, path("/health"), SAMPLES, GAP_MS);
      const stats = await sample(pool, path("/stats"), Math.max(20, Math.floor(SAMPLES / 3)));
      const answer = await pool.request({ path: path("/stats"), method: "GET", headers: { "x-api-key": KEY } });
      const workers = ((await answer.body.json()) as { data: { workersTotal: number } }).data.workersTotal;
      // Dashboards open at once, each polling every 2 s, their starts spread over the period.
      let polling = true;
      const pollers = Array.from({ length: DASHBOARDS }, async (_, d) => {
        await sleep((d * POLL_MS) / DASHBOARDS);
        while (polling) {
          const r = await get(pool, path("/stats"));
          await sleep(Math.max(0, POLL_MS - r.ms));
        }
      });
      const loaded = await sample(pool, path("/health"), SAMPLES, GAP_MS);
      polling = false;
      await Promise.all(pollers);
      return { store: label, health, stats, loaded, workers };
    } finally {
      await pool.close();
    }
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), "bench-stats-"));
  const schema = `bench_stats_${process.pid}`;
  try {
    const sqlitePath = join(dir, "tasks.sqlite");
    process.stderr.write(`filling SQLite with ${TASKS} tasks and ${WORKERS} workers...\n`);
    let t0 = Date.now();
    const sqlite = await openStore({ kind: "sqlite", path: sqlitePath });
    await fill(sqlite, 256);
    await sqlite.close();
    process.stderr.write(`  ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    rows.push(await measure("SQLite", { SQLITE_PATH: sqlitePath, DATA_DIR: dir }));

    process.stderr.write(`filling PostgreSQL with ${TASKS} tasks and ${WORKERS} workers...\n`);
    t0 = Date.now();
    const postgres = await openStore({ kind: "postgres", url: PG_URL, schema, poolSize: 16 });
    await fill(postgres, 32);
    await postgres.close();
    process.stderr.write(`  ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    // ANALYZE as autovacuum would after a bulk load, so the planner knows the sizes.
    const admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await admin.connect();
    await admin.query("ANALYZE");
    await admin.end();
    rows.push(await measure("PostgreSQL", { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, DATA_DIR: dir }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }

  console.log(`\n## GET /api/stats beside GET /api/health, ${TASKS.toLocaleString("en")} tasks, ${WORKERS.toLocaleString("en")} workers holding claims\n`);
  console.log(`Sequential requests from one client, ${SAMPLES} /health samples ${GAP_MS} ms apart per figure. "Under load": meanwhile ${DASHBOARDS} dashboards poll /stats every ${POLL_MS / 1000} s each.\n`);
  console.log("| store | /health p50 / p99 | /stats p50 / p99 | /stats ÷ /health (p50 / p99) | /stats size | /health with dashboards open p50 / p99 | loaded ÷ idle /health p99 |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.store} (${r.workers.toLocaleString("en")} workers) | ${ms(r.health.p50)} / ${ms(r.health.p99)} | ${ms(r.stats.p50)} / ${ms(r.stats.p99)} | ` +
        `${(r.stats.p50 / r.health.p50).toFixed(1)}x / ${(r.stats.p99 / r.health.p99).toFixed(1)}x | ${(r.stats.bytes / 1024).toFixed(1)} KiB | ` +
        `${ms(r.loaded.p50)} / ${ms(r.loaded.p99)} | ${(r.loaded.p99 / r.health.p99).toFixed(1)}x |`,
    );
  }
}

await main();
