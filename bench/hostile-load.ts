/**
 * Hostile load: how long `GET /api/health` takes while clients holding a valid key send the
 * requests that used to crash or stall the server (the probes of the hardening work), beside
 * the same health checks with no load, in one run. The server runs as its own process on
 * SQLite; the load comes from this one. Prints a Markdown table; target: p99 under load
 * within 5x of idle.
 *
 *   pnpm bench:hostile          (or: pnpm build && pnpm exec tsx bench/hostile-load.ts)
 *   BENCH_HOSTILE_SECONDS=20 BENCH_HOSTILE_CLIENTS=8 pnpm bench:hostile
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

const SECONDS = Number(process.env.BENCH_HOSTILE_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_HOSTILE_CLIENTS ?? 6);
const SLOW_CONNECTIONS = Number(process.env.BENCH_HOSTILE_SLOW ?? 50);
const KEY = "bench-key-0123456789abcdef";
const root = fileURLToPath(new URL("..", import.meta.url));
const serverEntry = join(root, "apps/taskmanager-server/dist/index.js");

const dir = mkdtempSync(join(tmpdir(), "bench-hostile-"));
const child = spawn(process.execPath, [serverEntry], {
  env: { ...process.env, PORT: "0", API_KEYS: KEY, LOG_LEVEL: "silent", DATA_DIR: dir, SQLITE_PATH: join(dir, "tasks.sqlite"), ...(process.env.BENCH_BODY_LIMIT ? { BODY_LIMIT_BYTES: process.env.BENCH_BODY_LIMIT } : {}) },
  stdio: ["ignore", "pipe", "pipe"],
});
let died: string | undefined;
child.on("exit", (code, signal) => (died = `exited (${code ?? signal}) during the run`));
const base = await new Promise<string>((resolve, reject) => {
  let out = "";
  const onData = (d: Buffer) => {
    out += d.toString();
    const m = /TaskManager API: (\S+)/.exec(out);
    if (m) resolve(m[1] as string);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  child.on("exit", () => reject(new Error(`server exited: ${out}`)));
});
const url = new URL(base);
const pool = new Pool(url.origin, { connections: CLIENTS * 2 + 4, headersTimeout: 120_000, bodyTimeout: 120_000 });

async function request(method: string, path: string, body?: unknown): Promise<number> {
  const res = await pool.request({
    method: method as "GET" | "POST",
    path: url.pathname + path,
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

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
      await request("GET", "/health");
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
await request("POST", "/task-types/register", { name: typeName, version: "1", param_schema: { type: "object", properties: { n: { type: "integer" } } } });
const typeId = await (async () => {
  const res = await pool.request({ method: "GET", path: `${url.pathname}/task-types/${typeName}`, headers: { "x-api-key": KEY } });
  const json = (await res.body.json()) as { data: { items: Array<{ id: number }> } };
  return json.data.items[0]?.id as number;
})();
await request("POST", "/tasks", { type: typeName, params: { n: 1 } });

const refChain = (depth: number) => {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  defs[`d${depth}`] = { type: "object" };
  return { type: "object", $defs: defs, $ref: "#/$defs/d0" };
};
const bigSchema = { type: "object", properties: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`property_${i}`, { type: "string", pattern: `^x{0,${i % 50}}$` }])) };

/** The probes, each one request (or two) that used to crash, stall or bloat the server. */
const probes: Array<[string, () => Promise<unknown>]> = [
  ["$async schema, then a create", async () => {
    const name = `Bench.Async_${Math.random().toString(36).slice(2)}`;
    await request("POST", "/task-types/register", { name, version: "1", param_schema: { $async: true, type: "object", properties: { a: { type: "string", maxLength: 3 } } } });
    await request("POST", "/tasks", { type: name, params: { a: "much too long" } });
  }],
  ["backtracking pattern, then a create", async () => {
    const name = `Bench.Redos_${Math.random().toString(36).slice(2)}`;
    await request("POST", "/task-types/register", { name, version: "1", param_schema: { type: "object", properties: { a: { type: "string", pattern: "^(a+)+$" } } } });
    await request("POST", "/tasks", { type: name, params: { a: `${"a".repeat(29)}!` } });
  }],
  ["$ref chain 29 deep, then a create", async () => {
    const name = `Bench.Refs_${Math.random().toString(36).slice(2)}`;
    await request("POST", "/task-types/register", { name, version: "1", param_schema: refChain(29) });
    await request("POST", "/tasks", { type: name, params: { x: 1 } });
  }],
  ["LIKE bomb in type_pattern", () => request("POST", "/tasks/claim", { worker_id: "bench", task_type_id: typeId, type_pattern: `${"%_".repeat(20)}X` })],
  ["LIKE bomb in the list filter", () => request("GET", `/tasks?type=${encodeURIComponent(`${"%_".repeat(20)}X`)}`)],
  ["40k-item uniqueItems array", async () => {
    const name = `Bench.Unique_${Math.random().toString(36).slice(2)}`;
    await request("POST", "/task-types/register", { name, version: "1", param_schema: { type: "object", properties: { a: { type: "array", uniqueItems: true } } } });
    await request("POST", "/tasks", { type: name, params: { a: Array.from({ length: 40_000 }, (_, i) => i) } });
  }],
  ["large schema with 6k patterns", () => request("POST", "/task-types/register", { name: `Bench.Big_${Math.random().toString(36).slice(2)}`, version: "1", param_schema: bigSchema })],
  ["NUL bytes in text fields", () => request("POST", "/tasks/claim", { worker_id: "bench\u0000x", task_type_id: typeId })],
];

const idle = await healthLatencies(SECONDS);
const rssBefore = rssMb();

// Slow clients: connections that send a few header bytes and then nothing.
const slow = Array.from({ length: SLOW_CONNECTIONS }, () => {
  const socket = connect(Number(url.port), url.hostname);
  socket.on("error", () => {});
  socket.write("POST /api/tasks HTTP/1.1\r\nHost: x\r\n");
  return socket;
});

const counts = new Map<string, { sent: number; failed: number }>();
let stop = false;
const load = Array.from({ length: CLIENTS }, async (_, c) => {
  let i = c;
  while (!stop && !died) {
    const [name, fn] = probes[i++ % probes.length] as [string, () => Promise<unknown>];
    const entry = counts.get(name) ?? { sent: 0, failed: 0 };
    counts.set(name, entry);
    entry.sent++;
    try {
      await fn();
    } catch {
      entry.failed++;
    }
  }
});
const loaded = await healthLatencies(SECONDS);
stop = true;
await Promise.all(load);
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
console.log(`\n## Hostile load: /api/health latency beside idle (${SECONDS} s each, ${CLIENTS} hostile clients, ${SLOW_CONNECTIONS} slow connections)\n`);
console.log("| phase | health checks | p50 (ms) | p99 (ms) | p99 / idle p99 |");
console.log("|---|---|---|---|---|");
console.log(row("idle", idle));
console.log(row("under hostile load", loaded));
console.log(`\n| probe | sent | failed (no answer) |\n|---|---|---|`);
for (const [name, c] of counts) console.log(`| ${name} | ${c.sent} | ${c.failed} |`);
const ratio = pct(loaded, 99) / pct(idle, 99);
console.log(
  `\nServer ${alive ? "stayed up" : died}; RSS ${rssBefore} MB before the load, ${rssAfter} MB after. ` +
    `p99 under load is ${ratio.toFixed(1)}x idle (target: within 5x).`,
);
process.exit(alive ? 0 : 1);
