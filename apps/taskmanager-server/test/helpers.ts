import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { pino } from "pino";
import { testSchemas } from "@prismq/sql-migrations/testing";
import { startServer, type RunningServer, type StartOptions, type StorageOptions } from "../src/server.js";

export const API_KEY = "test-key-0123456789abcdef";
export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A unique suffix for schema, file and type names, so tests never share state. */
export const uid = () => randomBytes(6).toString("hex");

export interface Backend {
  name: "sqlite" | "postgres";
  /** Fresh, isolated storage: its own SQLite file, or its own PostgreSQL schema. */
  storage(): StorageOptions;
  /** Removes everything `storage()` made. */
  cleanup(): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    storage() {
      const dir = mkdtempSync(join(tmpdir(), "tm-test-"));
      dirs.push(dir);
      return { kind: "sqlite", path: join(dir, "tasks.sqlite") };
    },
    async cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): Backend {
  const schemas = testSchemas("tm_test_", () => new pg.Client({ connectionString: PG_URL }));
  return {
    name: "postgres",
    storage: () => ({ kind: "postgres", url: PG_URL, schema: schemas.next(), poolSize: 8 }),
    cleanup: () => schemas.drop(),
  };
}

export const backends = (): Backend[] => [sqliteBackend(), postgresBackend()];

/**
 * A server for one suite. Its refusal budget is off unless a test sets it: these suites send
 * hundreds of refused requests with one key on purpose, each to check its answer; the budget has
 * tests of its own (`throttle.test.ts`).
 */
export async function start(storage: StorageOptions, options: Partial<StartOptions> = {}): Promise<RunningServer> {
  return startServer({ storage, apiKeys: [API_KEY], refusedPerSecond: 0, ...options });
}

/** A logger whose JSON lines the test reads back. */
export function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One HTTP call; the body is read whole, and parsed when it is JSON. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { "X-API-Key": API_KEY },
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A client bound to one server. */
export function api(base: string) {
  return {
    get: (path: string) => call(base, "GET", path),
    post: (path: string, body: unknown) => call(base, "POST", path, body),
    raw: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(base, method, path, body, headers),
  };
}

export const simpleSchema = {
  type: "object",
  required: ["n"],
  properties: { n: { type: "integer", minimum: 0 }, tag: { type: "string", maxLength: 50 } },
  additionalProperties: false,
};

/** Registers a type with a unique name and answers its name and id. */
export async function newType(base: string, schema: object = simpleSchema): Promise<{ name: string; id: number }> {
  const name = `Test.Type_${uid()}`;
  const r = await api(base).post("/task-types/register", { name, version: "1.0.0", param_schema: schema });
  if (r.status !== 200) throw new Error(`register failed: ${r.text}`);
  return { name, id: r.json.data.id as number };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** A type whose schema takes any non-empty object, for tests that send arbitrary params. */
export const anySchema = { type: "object" };

/** The states an operator test starts from. `retry` is pending after one failed attempt. */
export type StartState = "pending" | "claimed" | "completed" | "failed" | "retry";

/**
 * Creates a task of type `name` (id `typeId`) and drives it into `state` through the API, as
 * worker `worker`. Each call uses fresh params, so it is never deduplicated.
 */
export async function taskIn(base: string, type: { name: string; id: number }, state: StartState, worker = "worker-1"): Promise<number> {
  const tm = api(base);
  const created = await tm.post("/tasks", { type: type.name, params: { n: Math.floor(Math.random() * 1e9), tag: uid() } });
  if (created.status !== 200) throw new Error(`create failed: ${created.text}`);
  const id = created.json.data.id as number;
  if (state === "pending") return id;
  // Newest first: the task just created, whatever else of this type is pending.
  const claimed = await tm.post("/tasks/claim", { worker_id: worker, task_type_id: type.id, sort_by: "id", sort_order: "DESC" });
  if (claimed.json?.data?.id !== id) throw new Error(`expected to claim ${id}: ${claimed.text}`);
  if (state === "claimed") return id;
  const body =
    state === "completed"
      ? { worker_id: worker, success: true, result: { ok: true } }
      : { worker_id: worker, success: false, error: `worker error for ${id}`, retryable: state === "retry" };
  const done = await tm.post(`/tasks/${id}/complete`, body);
  if (done.status !== 200) throw new Error(`complete failed: ${done.text}`);
  return id;
}

/** A task and its history as a client reads them back. */
export async function readTask(base: string, id: number) {
  const tm = api(base);
  const task = (await tm.get(`/tasks/${id}`)).json.data.items[0];
  const history = (await tm.get(`/tasks/${id}/history`)).json.data.items;
  return { task, history };
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
