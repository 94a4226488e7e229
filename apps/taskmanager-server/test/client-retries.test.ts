// Retries against the REAL server, behind a small HTTP proxy that breaks chosen
// requests: it answers 503 with an empty body, or forwards the request to the
// server and then destroys the socket, so the server acted but the answer is lost.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";
import { startServer } from "../src/server.js";
import { Agent, request } from "undici";
import { TaskManagerClient, createWorkerId, type TaskManagerError } from "@prismq/taskmanager-client";

const KEY = "retries-test-key-0123456789";
const uid = () => randomBytes(5).toString("hex");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const SCHEMA = {
  type: "object",
  required: ["n"],
  properties: { n: { type: "integer", minimum: 0 }, tag: { type: "string", maxLength: 50 } },
  additionalProperties: false,
};

type Fault = "503" | "lose-answer";

interface Rule {
  method: string;
  path: string;
  remaining: number;
  fault: Fault;
}

/** A proxy in front of one server that breaks the first N requests to a chosen method and path. */
class FaultyProxy {
  /** Base URL (ending in `/api`) to give the client. */
  url = "";
  /** Every request the proxy received, in order, as `METHOD /path`. */
  readonly seen: string[] = [];
  private readonly rules: Rule[] = [];
  private readonly agent = new Agent({ keepAliveTimeout: 1_000 });
  private readonly server: Server;

  constructor(private readonly target: string) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`proxy error: ${String(err)}`);
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api`;
    return this;
  }

  /** Breaks the next `times` requests to `method path` (path as the client sends it, `/api/...`). */
  fail(method: string, path: string, times: number, fault: Fault): void {
    this.rules.push({ method, path, remaining: times, fault });
  }

  /** How many requests to `method path` reached the proxy. */
  count(method: string, path: string): number {
    return this.seen.filter((s) => s === `${method} ${path}`).length;
  }

  reset(): void {
    this.rules.length = 0;
    this.seen.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.agent.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    this.seen.push(`${method} ${path}`);

    const rule = this.rules.find((r) => r.remaining > 0 && r.method === method && r.path === path);
    if (rule) rule.remaining--;
    if (rule?.fault === "503") {
      res.writeHead(503, { "content-length": "0" });
      res.end();
      return;
    }

    const headers: Record<string, string> = {};
    for (const name of ["x-api-key", "content-type", "accept"]) {
      const v = req.headers[name];
      if (typeof v === "string") headers[name] = v;
    }
    const answer = await request(this.target + path, {
      method: method as "GET" | "POST",
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : body,
      dispatcher: this.agent,
    });
    const text = await answer.body.text();

    if (rule?.fault === "lose-answer") {
      // The server has acted and answered; the client never hears of it.
      req.socket.destroy();
      return;
    }
    const contentType = answer.headers["content-type"];
    res.writeHead(answer.statusCode, {
      "content-type": typeof contentType === "string" ? contentType : "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }
}

interface Env {
  dir: string;
  server: { url: string; close(): Promise<void> };
  proxy: FaultyProxy;
}

async function startEnv(options: { claimTimeoutSeconds?: number } = {}): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), "tm-client-retries-"));
  const server = await startServer({ storage: { kind: "sqlite", path: join(dir, "tasks.sqlite") }, apiKeys: [KEY], ...options });
  const origin = new URL(server.url).origin;
  const proxy = await new FaultyProxy(origin).listen();
  return { dir, server, proxy };
}

async function stopEnv(env: Env | undefined): Promise<void> {
  if (!env) return;
  await env.proxy.close();
  await env.server.close();
  rmSync(env.dir, { recursive: true, force: true });
}

interface Warning {
  obj: object;
  msg: string;
}

const clients: TaskManagerClient[] = [];

function newClient(env: Env, warnings: Warning[] = []): TaskManagerClient {
  const client = new TaskManagerClient({
    baseUrl: env.proxy.url,
    apiKey: KEY,
    workerId: createWorkerId("retries-test"),
    timeoutMs: 2_000,
    retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
    logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
  });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

/** Registers a fresh type (unique name) through the proxy and answers its name. */
async function freshType(client: TaskManagerClient): Promise<string> {
  const name = `Retry.Test_${uid()}`;
  await client.registerTaskType({ name, version: "1.0.0", paramSchema: SCHEMA });
  return name;
}

async function tasksOfType(client: TaskManagerClient, type: string) {
  const out = [];
  for await (const t of client.listTasks({ type })) out.push(t);
  return out;
}

function codeOf(err: unknown): string {
  return (err as TaskManagerError).code;
}

describe("retries against the real server (default claim timeout)", () => {
  let env: Env | undefined;

  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await stopEnv(env);
  });
  afterEach(() => env?.proxy.reset());

  const current = (): Env => {
    assert.ok(env, "server started");
    return env;
  };

  it("createTask retried through three 503s creates exactly one task", async () => {
    const e = current();
    const client = newClient(e);
    const type = await freshType(client);
    e.proxy.fail("POST", "/api/tasks", 3, "503");

    const created = await client.createTask(type, { n: 1, tag: "a" });
    assert.equal(created.deduplicated, false);
    assert.equal(created.status, "pending");
    assert.equal(e.proxy.count("POST", "/api/tasks"), 4, "three 503s, then the one that created it");

    const tasks = await tasksOfType(client, type);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.id, created.id);
  });

  it("createTask whose answer is lost three times after the server created the task still creates exactly one task", async () => {
    const e = current();
    const client = newClient(e);
    const type = await freshType(client);
    e.proxy.fail("POST", "/api/tasks", 3, "lose-answer");

    const created = await client.createTask(type, { tag: "b", n: 2 });
    assert.equal(created.deduplicated, true, "the first lost attempt created it; the retry found it by its dedupe key");
    assert.equal(e.proxy.count("POST", "/api/tasks"), 4);

    const tasks = await tasksOfType(client, type);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.id, created.id);
    const task = await client.getTask(created.id);
    assert.deepEqual(task?.params, { n: 2, tag: "b" });
  });

  it("completeTask whose first answer is lost after the server completed it resolves as completed, with one 'completed' history row", async () => {
    const e = current();
    const warnings: Warning[] = [];
    const client = newClient(e, warnings);
    const type = await freshType(client);
    const { id } = await client.createTask(type, { n: 3 });
    const claimed = await client.claimTask({ taskType: type });
    assert.equal(claimed?.id, id);

    e.proxy.fail("POST", `/api/tasks/${id}/complete`, 1, "lose-answer");
    const settled = await client.completeTask(id, { out: "done", count: 1 });
    assert.deepEqual(settled, { id, status: "completed" });
    assert.equal(e.proxy.count("POST", `/api/tasks/${id}/complete`), 2, "the lost attempt, then the retry");

    const task = await client.getTask(id);
    assert.equal(task?.status, "completed");
    assert.equal(task?.claimedBy, client.workerId);
    assert.deepEqual(task?.result, { count: 1, out: "done" }, "the first attempt's result is kept");

    const history = await client.getTaskHistory(id);
    assert.deepEqual(
      history.map((h) => h.statusChange),
      ["created", "claimed", "completed"],
    );
    assert.equal(history.filter((h) => h.statusChange === "completed").length, 1, "no double completion");
    assert.equal(warnings.length, 1, "the settled retry is logged once");
  });

  it("failTask whose first answer is lost after the server failed it resolves as 'pending (retry)', with one failure history row", async () => {
    const e = current();
    const warnings: Warning[] = [];
    const client = newClient(e, warnings);
    const type = await freshType(client);
    const { id } = await client.createTask(type, { n: 4 });
    assert.equal((await client.claimTask({ taskType: type }))?.id, id);

    e.proxy.fail("POST", `/api/tasks/${id}/complete`, 1, "lose-answer");
    const settled = await client.failTask(id, "boom: upstream 502");
    assert.deepEqual(settled, { id, status: "pending (retry)" });
    assert.equal(e.proxy.count("POST", `/api/tasks/${id}/complete`), 2);

    const task = await client.getTask(id);
    assert.equal(task?.status, "pending");
    assert.equal(task?.errorMessage, "boom: upstream 502");
    assert.equal(task?.attempts, 1);

    const history = await client.getTaskHistory(id);
    assert.deepEqual(
      history.map((h) => h.statusChange),
      ["created", "claimed", "pending (retry)"],
      "exactly one failure was recorded",
    );
    assert.equal(warnings.length, 1, "the settled retry is logged once");
    assert.match(warnings[0]?.msg ?? "", /fail retried/);
  });

  it("failTask (retryable: false) whose first answer is lost resolves as 'failed', with one 'failed' history row", async () => {
    const e = current();
    const client = newClient(e);
    const type = await freshType(client);
    const { id } = await client.createTask(type, { n: 5 });
    assert.equal((await client.claimTask({ taskType: type }))?.id, id);

    e.proxy.fail("POST", `/api/tasks/${id}/complete`, 1, "lose-answer");
    const settled = await client.failTask(id, "video deleted", { retryable: false });
    assert.deepEqual(settled, { id, status: "failed" });

    const task = await client.getTask(id);
    assert.equal(task?.status, "failed");
    assert.equal(task?.errorMessage, "video deleted");
    const history = await client.getTaskHistory(id);
    assert.equal(history.filter((h) => h.statusChange === "failed").length, 1, "no double failure");
    assert.equal(history.length, 3);
  });

  it("GETs are retried through 503s and then answer", async () => {
    const e = current();
    const client = newClient(e);
    const type = await freshType(client);
    const { id } = await client.createTask(type, { n: 6 });

    e.proxy.fail("GET", `/api/tasks/${id}`, 2, "503");
    e.proxy.fail("GET", `/api/task-types/${type}`, 3, "503");
    e.proxy.fail("GET", `/api/tasks/${id}/history`, 1, "503");
    e.proxy.fail("GET", "/api/health", 4, "503");

    assert.equal((await client.getTask(id))?.id, id);
    assert.equal(e.proxy.count("GET", `/api/tasks/${id}`), 3);

    const t = await client.getTaskType(type);
    assert.equal(t?.name, type);
    assert.equal(t?.isActive, true);
    assert.equal(e.proxy.count("GET", `/api/task-types/${type}`), 4);

    assert.equal((await client.getTaskHistory(id)).length, 1);
    assert.equal((await client.health()).status, "healthy");
    assert.equal(e.proxy.count("GET", "/api/health"), 5, "four 503s, then the answer: all five attempts used");
  });

  it("listTasks retries a page answered 503", async () => {
    const e = current();
    const client = newClient(e);
    const type = await freshType(client);
    for (let n = 0; n < 3; n++) await client.createTask(type, { n });
    // Three tasks within one or two seconds: a page of 2 holds no complete second, so the page is
    // asked again with 4 rows from the top (whichever way the seconds fall); that page fails twice.
    const q = new URLSearchParams({ limit: "4", offset: "0", type });
    e.proxy.fail("GET", `/api/tasks?${q}`, 2, "503");

    const seen = [];
    for await (const t of client.listTasks({ type, pageSize: 2 })) seen.push(t.id);
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);
    assert.equal(e.proxy.count("GET", `/api/tasks?${q}`), 3);
  });

  it("a GET still answered 503 after every attempt throws TM_ERR_SERVER", async () => {
    const e = current();
    const client = newClient(e);
    e.proxy.fail("GET", "/api/tasks/1", 5, "503");

    await assert.rejects(client.getTask(1), (err: unknown) => codeOf(err) === "TM_ERR_SERVER" && (err as TaskManagerError).status === 503);
    assert.equal(e.proxy.count("GET", "/api/tasks/1"), 5);
  });
});

describe("a lost claim answer (claim timeout 1 s)", () => {
  let env: Env | undefined;

  before(async () => {
    env = await startEnv({ claimTimeoutSeconds: 1 });
  });
  after(async () => {
    await stopEnv(env);
  });

  it("throws TM_ERR_NETWORK or TM_ERR_TIMEOUT, is not retried, warns once, and the task returns after the claim timeout", async () => {
    assert.ok(env);
    const warnings: Warning[] = [];
    const client = newClient(env, warnings);
    const type = await freshType(client);
    const { id } = await client.createTask(type, { n: 7 });

    env.proxy.fail("POST", "/api/tasks/claim", 1, "lose-answer");
    let caught: unknown;
    await assert.rejects(client.claimTask({ taskType: type }), (err: unknown) => {
      caught = err;
      return true;
    });
    assert.ok(["TM_ERR_NETWORK", "TM_ERR_TIMEOUT"].includes(codeOf(caught)), `got ${String(caught)}`);
    assert.equal(env.proxy.count("POST", "/api/tasks/claim"), 1, "a claim whose answer was lost is never repeated");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.msg ?? "", /claim answer lost/);
    assert.equal((warnings[0]?.obj as { taskType?: string }).taskType, type);

    // The server did claim it: it is held, so nothing is claimable right now.
    const held = await client.getTask(id);
    assert.equal(held?.status, "claimed");
    assert.equal(held?.claimedBy, client.workerId);
    assert.equal(await client.claimTask({ taskType: type }), null);

    await sleep(1_200);
    const again = await client.claimTask({ taskType: type });
    assert.equal(again?.id, id, "the same task comes back after the claim timeout");
    assert.equal(again?.attempts, 2);
    assert.deepEqual(again?.params, { n: 7 });
    assert.deepEqual(await client.completeTask(id, { ok: true }), { id, status: "completed" });
    assert.equal(warnings.length, 1);
  });
});
