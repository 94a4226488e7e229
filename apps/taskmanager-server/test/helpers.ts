import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
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
  const schemas: string[] = [];
  return {
    name: "postgres",
    storage() {
      const schema = `tm_test_${uid()}`;
      schemas.push(schema);
      return { kind: "postgres", url: PG_URL, schema, poolSize: 8 };
    },
    async cleanup() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        for (const s of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export const backends = (): Backend[] => [sqliteBackend(), postgresBackend()];

export async function start(storage: StorageOptions, options: Partial<StartOptions> = {}): Promise<RunningServer> {
  return startServer({ storage, apiKeys: [API_KEY], ...options });
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
