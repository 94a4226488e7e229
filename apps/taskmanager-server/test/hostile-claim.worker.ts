/**
 * Runs in a worker thread for like.test.ts: builds the app over a fresh SQLite file, registers one
 * type with a task, and claims with each hostile `type_pattern` the parent sends, through the real
 * route (`inject`). Posts each answer back. If a pattern blocks this thread, the parent sees no
 * answer by its deadline, reports it and terminates the worker: the parent itself never blocks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { pino } from "pino";
import { buildApp, SqliteStore } from "../src/server.js";

const KEY = "worker-key-0123456789abcdef";
const { name, patterns } = workerData as { name: string; patterns: string[] };
const dir = mkdtempSync(join(tmpdir(), "tm-like-"));
const store = new SqliteStore(join(dir, "t.sqlite"));
const app = buildApp({ store, apiKeys: [KEY], logger: pino({ level: "silent" }) });
const headers = { "x-api-key": KEY, "content-type": "application/json" };
try {
  const reg = await app.inject({ method: "POST", url: "/api/task-types/register", headers, payload: { name, version: "1", param_schema: { type: "object" } } });
  const typeId = reg.json().data.id as number;
  await app.inject({ method: "POST", url: "/api/tasks", headers, payload: { type: name, params: { n: 1 } } });
  for (const pattern of patterns) {
    const r = await app.inject({ method: "POST", url: "/api/tasks/claim", headers, payload: { worker_id: "w", task_type_id: typeId, type_pattern: pattern } });
    parentPort?.postMessage({ pattern, status: r.statusCode, error: r.json().error ?? null });
  }
} finally {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
