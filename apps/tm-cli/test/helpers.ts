import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { TestServer as BaseTestServer } from "@prismq/taskmanager-server/testing";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { run } from "../src/commands.js";

/** The test servers' key: no output of `tm` may ever contain it. */
export const KEY = "tm-cli-test-key-5f3a9c1e7b";
export const uid = (): string => randomBytes(5).toString("hex");

/** A real TaskManager server on a temp SQLite file, with its own key. */
export class TestServer extends BaseTestServer {
  constructor() {
    super({ apiKey: KEY, dirPrefix: "tm-cli-" });
  }
  /** The environment `tm` reads. */
  get env(): Record<string, string> {
    return { TASKMANAGER_API_URL: this.url, TASKMANAGER_API_KEY: KEY };
  }
  /** A client of this server, for setting up and checking state behind `tm`'s back. */
  client(workerId = `test-${uid()}`): TaskManagerClient {
    return new TaskManagerClient({ baseUrl: this.url, apiKey: KEY, workerId, timeoutMs: 5_000, retry: false });
  }
}

export interface TmResult {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `tm` in-process with captured output. Asserts on every run that the
 * key appears in no output, and that `--json` gives exactly one JSON document
 * on stdout when it succeeds.
 */
export async function tm(
  argv: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string; client?: TaskManagerClient } = {},
): Promise<TmResult> {
  let out = "";
  let err = "";
  const code = await run(argv, {
    env: options.env ?? {},
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
    stdin: options.stdin === undefined ? undefined : Readable.from([options.stdin]),
    client: options.client,
  });
  assert.ok(!out.includes(KEY) && !err.includes(KEY), "the API key must never be printed");
  if (argv.includes("--json") && code === 0) {
    assert.doesNotThrow(() => JSON.parse(out), `--json must print one JSON document, got: ${out}`);
    assert.equal(err, "");
  }
  return { code, out, err };
}

/** `tm ... --json` that must succeed: the parsed document. */
export async function tmJson<T = Record<string, unknown>>(argv: string[], env: Record<string, string | undefined>): Promise<T> {
  const r = await tm([...argv, "--json"], { env });
  assert.equal(r.code, 0, `tm ${argv.join(" ")} failed: ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** A bare HTTP server on loopback; `handler` answers every request. */
export async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Stands in for the hosted service where it differs from ours: a health
 * check, one task (read, listed, and answered to every create, whose
 * priority it cannot store), and `404 Endpoint not found` for every route it lacks
 * (task history, requeue, fail, stats). Answers 401 without the key.
 */
export async function fakeHostedService(): Promise<{ url: string; env: Record<string, string>; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const ts = () => Math.floor(Date.now() / 1000);
  const s = await httpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.url === "/api/health") return send(200, { success: true, message: "Success", data: { status: "healthy", timestamp: ts(), database: "connected" }, timestamp: ts() });
      if (req.headers["x-api-key"] !== KEY) {
        res.writeHead(401, { "content-type": "text/html" });
        return res.end(JSON.stringify({ error: "Unauthorized", message: "Invalid or missing API key.", timestamp: new Date().toISOString() }));
      }
      const item = {
          id: "7",
          type: "Hosted.Type",
          status: "failed",
          params: { a: 1 },
          result: null,
          error_message: "boom",
          priority: 0,
          progress: 0,
          attempts: 3,
          claimed_by: "w1",
          claimed_at: "2025-01-01 00:00:00",
          completed_at: "2025-01-01 00:01:00",
          created_at: "2025-01-01 00:00:00",
        };
      if (req.method === "GET" && req.url === "/api/tasks/7") return send(200, { success: true, message: "Success", data: { items: [item], count: 1 }, timestamp: ts() });
      const { id: _, params: __, result: ___, error_message: ____, claimed_at: _____, ...summary } = item;
      if (req.method === "GET" && req.url?.startsWith("/api/tasks?")) return send(200, { success: true, message: "Success", data: { items: [summary], count: 1 }, timestamp: ts() });
      // A create answers task 7 as the hosted service does: it has no way to store a priority.
      if (req.method === "POST" && req.url === "/api/tasks") {
        return send(200, { success: true, message: "Success", data: { id: "7", type: "Hosted.Type", status: "pending", dedupe_key: "0".repeat(64), message: "Task created successfully" }, timestamp: ts() });
      }
      send(404, { success: false, error: "Endpoint not found", timestamp: ts() });
    });
  });
  return { url: s.url, env: { TASKMANAGER_API_URL: s.url, TASKMANAGER_API_KEY: KEY }, requests, close: s.close };
}

/**
 * Whether a server has our operator endpoints: a requeue of a task that
 * cannot exist answers 404 `Task not found` there, and `Endpoint not found`
 * where the route is missing.
 */
export async function hasOperatorEndpoints(url: string): Promise<boolean> {
  const res = await fetch(`${url}/tasks/999999999/requeue`, { method: "POST", headers: { "x-api-key": KEY, "content-type": "application/json" }, body: "{}" });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  return !(res.status === 404 && body.error === "Endpoint not found");
}
