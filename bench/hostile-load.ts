/**
 * Hostile load: how long `GET /api/health` takes while clients holding a valid key send the
 * requests that used to crash or stall the server (the probes of the hardening work), beside
 * the same health checks with no load, in one run. Three processes: the server (SQLite), the
 * hostile clients, and this one, which only measures, so the clients' own work (serialising and
 * sending large bodies) does not delay the health checks it times. Prints a Markdown table;
 * target: p99 under load within 5x of idle.
 *
 *   pnpm bench:hostile          (or: pnpm build && pnpm exec tsx bench/hostile-load.ts)
 *   BENCH_HOSTILE_SECONDS=20 BENCH_HOSTILE_CLIENTS=8 pnpm bench:hostile
 *   BENCH_REFUSED_PER_SECOND=0 pnpm bench:hostile     (the server's refusal budget off)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { waitForServerUrl } from "./server-process.js";

const SECONDS = Number(process.env.BENCH_HOSTILE_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_HOSTILE_CLIENTS ?? 6);
const SLOW_CONNECTIONS = Number(process.env.BENCH_HOSTILE_SLOW ?? 50);
const KEY = "bench-key-0123456789abcdef";

/** Sends the probes from `CLIENTS` loops until stdin closes, then prints what was sent and answered as one JSON line. */
async function hostileClients(base: string, typeName: string, typeId: number): Promise<void> {
  const url = new URL(base);
  const pool = new Pool(url.origin, { connections: CLIENTS * 2, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const statuses: Record<number, number> = {};
  // `body` is sent as given when it is a string: the large probes are serialised once.
  async function request(method: string, path: string, body?: unknown): Promise<number> {
    const res = await pool.request({
      method: method as "GET" | "POST",
      path: url.pathname + path,
      headers: { "x-api-key": KEY, "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    await res.body.dump();
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    return res.statusCode;
  }
  const refChain = (depth: number) => {
    const defs: Record<string, unknown> = {};
    for (let i = 0; i < depth; i++) defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
    defs[`d${depth}`] = { type: "object" };
    return { type: "object", $defs: defs, $ref: "#/$defs/d0" };
  };
  const bigSchemaJson = JSON.stringify({ type: "object", properties: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`property_${i}`, { type: "string", pattern: `^x{0,${i % 50}}$` }])) });
  const uniqueItemsJson = JSON.stringify(Array.from({ length: 40_000 }, (_, i) => i));
  const refChainJson = JSON.stringify(refChain(29));
  const unique = () => Math.random().toString(36).slice(2);

  /** The probes, each one request (or two) that used to crash, stall or bloat the server. */
  const probes: Array<[string, () => Promise<unknown>]> = [
    ["$async schema, then a create", async () => {
      const name = `Bench.Async_${unique()}`;
      await request("POST", "/task-types/register", { name, version: "1", param_schema: { $async: true, type: "object", properties: { a: { type: "string", maxLength: 3 } } } });
      await request("POST", "/tasks", { type: name, params: { a: "much too long" } });
    }],
    ["backtracking pattern, then a create", async () => {
      const name = `Bench.Redos_${unique()}`;
      await request("POST", "/task-types/register", { name, version: "1", param_schema: { type: "object", properties: { a: { type: "string", pattern: "^(a+)+$" } } } });
      await request("POST", "/tasks", { type: name, params: { a: `${"a".repeat(29)}!` } });
    }],
    ["$ref chain 29 deep, then a create", async () => {
      const name = `Bench.Refs_${unique()}`;
      await request("POST", "/task-types/register", `{"name":"${name}","version":"1","param_schema":${refChainJson}}`);
      await request("POST", "/tasks", { type: name, params: { x: 1 } });
    }],
    ["LIKE bomb in type_pattern", () => request("POST", "/tasks/claim", { worker_id: "bench", task_type_id: typeId, type_pattern: `${"%_".repeat(20)}X` })],
    ["LIKE bomb in the list filter", () => request("GET", `/tasks?type=${encodeURIComponent(`${"%_".repeat(20)}X`)}`)],
    ["40k-item uniqueItems array", async () => {
      const name = `Bench.Unique_${unique()}`;
      await request("POST", "/task-types/register", { name, version: "1", param_schema: { type: "object", properties: { a: { type: "array", uniqueItems: true } } } });
      await request("POST", "/tasks", `{"type":"${name}","params":{"a":${uniqueItemsJson}}}`);
    }],
    ["large schema with 6k patterns", () => request("POST", "/task-types/register", `{"name":"Bench.Big_${unique()}","version":"1","param_schema":${bigSchemaJson}}`)],
    ["NUL bytes in text fields", () => request("POST", "/tasks/claim", { worker_id: "bench\u0000x", task_type_id: typeId })],
    ["a good create (the type of the run)", () => request("POST", "/tasks", { type: typeName, params: { n: Math.floor(Math.random() * 1e9) } })],
  ];

  let stop = false;
  process.stdin.on("end", () => (stop = true)).resume();
  const counts: Record<string, { sent: number; failed: number }> = {};
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      let i = c;
      while (!stop) {
        const [name, fn] = probes[i++ % probes.length] as [string, () => Promise<unknown>];
        const entry = (counts[name] ??= { sent: 0, failed: 0 });
        entry.sent++;
        try {
          await fn();
        } catch {
          entry.failed++;
        }
      }
    }),
  );
  await pool.close();
  process.stdout.write(`${JSON.stringify({ counts, statuses })}\n`);
}

async function measure(): Promise<boolean> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const serverEntry = join(root, "apps/taskmanager-server/dist/index.js");
  const dir = mkdtempSync(join(tmpdir(), "bench-hostile-"));
  const budget = process.env.BENCH_REFUSED_PER_SECOND;
  const child = spawn(process.execPath, [serverEntry], {
    env: {
      ...process.env,
      PORT: "0",
      API_KEYS: KEY,
      LOG_LEVEL: "silent",
      DATA_DIR: dir,
      SQLITE_PATH: join(dir, "tasks.sqlite"),
      ...(process.env.BENCH_BODY_LIMIT ? { BODY_LIMIT_BYTES: process.env.BENCH_BODY_LIMIT } : {}),
      ...(budget !== undefined ? { REFUSED_PER_SECOND: budget } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let died: string | undefined;
  child.on("exit", (code, signal) => (died = `exited (${code ?? signal}) during the run`));
  const base = await waitForServerUrl(child);
  const url = new URL(base);
  const pool = new Pool(url.origin, { connections: 4, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
    const res = await pool.request({ method, path: url.pathname + path, headers: { "x-api-key": KEY, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await res.body.json()) as { data: { items: Array<{ id: number }> } };
  };
  const rssMb = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      return NaN;
    }
  };
  /** Health latencies (ms) for `seconds`, one request at a time. */
  async function healthLatencies(seconds: number): Promise<number[]> {
    const out: number[] = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end && !died) {
      const t = performance.now();
      try {
        const res = await pool.request({ method: "GET", path: `${url.pathname}/health` });
        await res.body.dump();
      } catch {
        // A refused or reset health check counts as the whole wait.
      }
      out.push(performance.now() - t);
    }
    return out;
  }
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  };

  // A type to aim the claim and create probes at.
  const typeName = `Bench.Hostile_${process.pid}`;
  await call("POST", "/task-types/register", { name: typeName, version: "1", param_schema: { type: "object", properties: { n: { type: "integer" } } } });
  const typeId = (await call("GET", `/task-types/${typeName}`)).data.items[0]?.id as number;
  await call("POST", "/tasks", { type: typeName, params: { n: 1 } });

  const idle = await healthLatencies(SECONDS);
  const rssBefore = rssMb();

  // Slow clients: connections that send a few header bytes and then nothing.
  const slow = Array.from({ length: SLOW_CONNECTIONS }, () => {
    const socket = connect(Number(url.port), url.hostname);
    socket.on("error", () => {});
    socket.write("POST /api/tasks HTTP/1.1\r\nHost: x\r\n");
    return socket;
  });
  const clients = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_HOSTILE_TARGET: base, BENCH_HOSTILE_TYPE: typeName, BENCH_HOSTILE_TYPE_ID: String(typeId) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let report = "";
  clients.stdout.on("data", (d: Buffer) => (report += d.toString()));
  const loaded = await healthLatencies(SECONDS);
  clients.stdin.end();
  await new Promise((r) => clients.once("exit", r));
  const { counts, statuses } = JSON.parse(report) as { counts: Record<string, { sent: number; failed: number }>; statuses: Record<string, number> };
  const rssAfter = rssMb();
  for (const s of slow) s.destroy();
  const alive = !died;
  await pool.close();
  if (alive) {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  rmSync(dir, { recursive: true, force: true });

  const row = (label: string, xs: number[]) =>
    `| ${label} | ${xs.length} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} | ${(pct(xs, 99) / pct(idle, 99)).toFixed(1)}x |`;
  console.log(
    `\n## Hostile load: /api/health latency beside idle (${SECONDS} s each, ${CLIENTS} hostile clients on one key, ${SLOW_CONNECTIONS} slow connections, ` +
      `refusal budget ${budget === "0" ? "off" : `${budget ?? "default"}/s`})\n`,
  );
  console.log("| phase | health checks | p50 (ms) | p99 (ms) | p99 / idle p99 |");
  console.log("|---|---|---|---|---|");
  console.log(row("idle", idle));
  console.log(row("under hostile load", loaded));
  console.log(`\n| probe | sent | failed (no answer) |\n|---|---|---|`);
  for (const [name, c] of Object.entries(counts)) console.log(`| ${name} | ${c.sent} | ${c.failed} |`);
  console.log(`\nProbe answers by status: ${Object.entries(statuses).map(([code, n]) => `${code}: ${n}`).join(", ")}.`);
  const ratio = pct(loaded, 99) / pct(idle, 99);
  console.log(
    `\nServer ${alive ? "stayed up" : died}; RSS ${rssBefore} MB before the load, ${rssAfter} MB after. ` +
      `p99 under load is ${ratio.toFixed(1)}x idle (target: within 5x).`,
  );
  return alive;
}

const target = process.env.BENCH_HOSTILE_TARGET;
if (target) {
  await hostileClients(target, process.env.BENCH_HOSTILE_TYPE as string, Number(process.env.BENCH_HOSTILE_TYPE_ID));
} else {
  process.exit((await measure()) ? 0 : 1);
}
