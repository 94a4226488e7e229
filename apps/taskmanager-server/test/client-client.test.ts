import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../src/server.js";
import { TaskManagerClient, TaskManagerError, canonicalize, createWorkerId, dedupeKey } from "@prismq/taskmanager-client";

const KEY = "client-test-key-0123456789";
const uid = () => randomBytes(5).toString("hex");
const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" }, tags: { type: "array" }, meta: { type: "object" } } };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TaskManagerError, String(err));
    return err.code;
  }
  return "no error";
}

describe("TaskManagerClient against our server", () => {
  let server: RunningServer;
  let client: TaskManagerClient;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tm-client-"));
    server = await startServer({ storage: { kind: "sqlite", path: join(dir, "t.sqlite") }, apiKeys: [KEY] });
    client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: "test-worker" });
  });
  after(async () => {
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newType = async () => {
    const name = `Client.Test_${uid()}`;
    const r = await client.registerTaskType({ name, version: "1.0.0", paramSchema: schema });
    return { name, id: r.id };
  };

  it("checks health", async () => {
    const h = await client.health();
    assert.equal(h.status, "healthy");
    assert.equal(h.database, "connected");
  });

  it("registers, updates, reads and lists task types", async () => {
    const name = `Client.Reg_${uid()}`;
    const first = await client.registerTaskType({ name, version: "1.0.0", paramSchema: schema });
    assert.equal(first.created, true);
    const second = await client.registerTaskType({ name, version: "1.1.0", paramSchema: schema });
    assert.deepEqual(second, { id: first.id, name, version: "1.1.0", created: false });
    const t = await client.getTaskType(name);
    assert.equal(t?.id, first.id);
    assert.equal(t?.isActive, true);
    assert.deepEqual(t?.paramSchema, schema);
    assert.equal(await client.getTaskType(`Client.Missing_${uid()}`), null);
    const all = await client.listTaskTypes({ activeOnly: true });
    assert.ok(all.some((x) => x.name === name));
  });

  it("lists every task type through the server's pages, each once, by name", async () => {
    const names = [];
    for (let i = 0; i < 7; i++) names.push((await newType()).name);
    const whole = await client.listTaskTypes();
    const paged = await client.listTaskTypes({ pageSize: 2 });
    assert.ok(whole.length >= 7);
    assert.deepEqual(paged.map((t) => t.name), whole.map((t) => t.name));
    assert.equal(new Set(paged.map((t) => t.id)).size, paged.length);
    for (const name of names) assert.ok(paged.some((t) => t.name === name), name);
    assert.deepEqual(paged.map((t) => t.name), [...paged.map((t) => t.name)].sort());
    // More than one default page (50): all of them, not the first 50.
    for (let i = 0; i < 50; i++) await newType();
    const many = await client.listTaskTypes({ activeOnly: true });
    assert.ok(many.length >= 57, `${many.length}`);
  });

  it("canonicalises params, so the same task in another key order dedupes, with the server's key", async () => {
    const { name } = await newType();
    const a = await client.createTask(name, { n: 1, meta: { b: 2, a: 1 }, tags: ["x", "y"] });
    const b = await client.createTask(name, { tags: ["x", "y"], meta: { a: 1, b: 2 }, n: 1 });
    assert.equal(a.deduplicated, false);
    assert.equal(b.deduplicated, true);
    assert.equal(b.id, a.id);
    assert.equal(a.dedupeKey, dedupeKey(name, { meta: { a: 1, b: 2 }, n: 1, tags: ["x", "y"] }));
    assert.equal(b.dedupeKey, a.dedupeKey);
    const task = await client.getTask(a.id);
    assert.deepEqual(Object.keys(task?.params ?? {}), ["meta", "n", "tags"]);
  });

  it("reads tasks, answers null for a missing one, and pages through lists", async () => {
    const { name } = await newType();
    const ids: number[] = [];
    for (let n = 0; n < 7; n++) ids.push((await client.createTask(name, { n })).id);
    const seen: number[] = [];
    for await (const t of client.listTasks({ type: name, pageSize: 3 })) seen.push(t.id);
    assert.deepEqual(seen, [...ids].reverse());
    const pending = [];
    for await (const t of client.listTasks({ type: name, status: "completed" })) pending.push(t);
    assert.equal(pending.length, 0);
    assert.equal(await client.getTask(999_999_999), null);
    const t = await client.getTask(ids[0] as number);
    assert.equal(t?.status, "pending");
    assert.deepEqual(t?.params, { n: 0 });
  });

  it("claims by each strategy", async () => {
    const run = async (strategy: "fifo" | "lifo" | "priority" | "fewest-attempts", prios: number[]) => {
      const { name } = await newType();
      const ids: number[] = [];
      for (const [n, priority] of prios.entries()) ids.push((await client.createTask(name, { n }, { priority })).id);
      const got: number[] = [];
      for (let t = await client.claimTask({ taskType: name, strategy }); t; t = await client.claimTask({ taskType: name, strategy })) got.push(t.id);
      return { ids, got };
    };
    const fifo = await run("fifo", [0, 0, 0]);
    assert.deepEqual(fifo.got, fifo.ids);
    const lifo = await run("lifo", [0, 0, 0]);
    assert.deepEqual(lifo.got, [...lifo.ids].reverse());
    const prio = await run("priority", [1, 9, 5]);
    assert.deepEqual(prio.got, [prio.ids[1], prio.ids[2], prio.ids[0]]);
    const fewest = await run("fewest-attempts", [0, 0]);
    assert.deepEqual(fewest.got, fewest.ids);
  });

  it("claims, reports progress, completes, and fails with retry to pending", async () => {
    const { name } = await newType();
    const created = await client.createTask(name, { n: 5 });
    const claimed = await client.claimTask<{ n: number }>({ taskType: name });
    assert.deepEqual(claimed, { id: created.id, type: name, params: { n: 5 }, attempts: 1, priority: 0 });
    assert.equal(await client.claimTask({ taskType: name }), null);
    await client.reportProgress(created.id, 50, "half");
    assert.equal((await client.getTask(created.id))?.progress, 50);
    assert.deepEqual(await client.failTask(created.id, "boom"), { id: created.id, status: "pending (retry)" });
    const again = await client.claimTask({ taskType: name });
    assert.equal(again?.attempts, 2);
    assert.deepEqual(await client.completeTask(created.id, { ok: true }), { id: created.id, status: "completed" });
    const t = await client.getTask(created.id);
    assert.deepEqual(t?.result, { ok: true });
    const history = await client.getTaskHistory(created.id);
    assert.deepEqual(history.map((h) => h.statusChange), ["created", "claimed", "pending (retry)", "claimed", "completed"]);
  });

  it("fails a task for good when it is not retryable", async () => {
    const { name } = await newType();
    const created = await client.createTask(name, { n: 1 });
    await client.claimTask({ taskType: name });
    assert.deepEqual(await client.failTask(created.id, "video deleted", { retryable: false }), { id: created.id, status: "failed" });
    assert.equal((await client.getTask(created.id))?.attempts, 1);
  });

  it("throws typed errors with stable codes", async () => {
    const { name } = await newType();
    assert.equal(await code(client.createTask(name, { n: "not a number" })), "TM_ERR_VALIDATION");
    try {
      await client.createTask(name, { wrong: 1 });
    } catch (err) {
      assert.ok(err instanceof TaskManagerError && err.code === "TM_ERR_VALIDATION");
      assert.ok((err as unknown as { details: string[] }).details.length > 0);
    }
    assert.equal(await code(client.createTask(`Client.Unknown_${uid()}`, { n: 1 })), "TM_ERR_NOT_FOUND");
    assert.equal(await code(client.claimTask({ taskType: `Client.Unknown_${uid()}` })), "TM_ERR_NOT_FOUND");
    const created = await client.createTask(name, { n: 9 });
    assert.equal(await code(client.completeTask(created.id)), "TM_ERR_CONFLICT");
    await client.claimTask({ taskType: name, workerId: "someone-else" });
    assert.equal(await code(client.completeTask(created.id)), "TM_ERR_CONFLICT");
    const wrongKey = new TaskManagerClient({ baseUrl: server.url, apiKey: "wrong-wrong-wrong-wrong" });
    assert.equal(await code(wrongKey.health()), "no error");
    assert.equal(await code(wrongKey.getTask(1)), "TM_ERR_AUTH");
    await wrongKey.close();
    const down = new TaskManagerClient({ baseUrl: "http://127.0.0.1:9/api", apiKey: KEY, retry: { attempts: 2, baseDelayMs: 1 } });
    assert.equal(await code(down.health()), "TM_ERR_NETWORK");
    await down.close();
    const ac = new AbortController();
    ac.abort();
    assert.equal(await code(client.health({ signal: ac.signal })), "TM_ERR_ABORTED");
  });

  it("tells onRequest of every request attempt: method, route with ids as :id, status (0 without an answer) and duration", async () => {
    const seen: Array<{ method: string; route: string; status: number; durationMs: number }> = [];
    const observed = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, onRequest: (r) => seen.push(r) });
    const name = `Client.Observed_${uid()}`;
    await observed.registerTaskType({ name, version: "1.0.0", paramSchema: { type: "object" } });
    const created = await observed.createTask(name, { n: 1 });
    await observed.getTask(created.id);
    await observed.close();
    const down = new TaskManagerClient({ baseUrl: "http://127.0.0.1:9/api", apiKey: KEY, retry: false, onRequest: (r) => seen.push(r) });
    await down.health().catch(() => undefined);
    await down.close();
    assert.deepEqual(
      seen.map((r) => `${r.method} ${r.route} ${r.status}`),
      ["POST /task-types/register 200", "POST /tasks 200", "GET /tasks/:id 200", "GET /health 0"],
    );
    assert.ok(seen.every((r) => r.durationMs >= 0 && Number.isFinite(r.durationMs)));
  });

  it("builds from the environment and refuses a missing variable", () => {
    const c = TaskManagerClient.fromEnv({ TASKMANAGER_API_URL: server.url, TASKMANAGER_API_KEY: KEY });
    assert.match(c.workerId, /^worker-.+-[0-9a-f]{8}$/);
    void c.close();
    assert.throws(() => TaskManagerClient.fromEnv({ TASKMANAGER_API_URL: server.url }), /TASKMANAGER_API_KEY/);
    assert.throws(() => new TaskManagerClient({ baseUrl: "not a url", apiKey: KEY }), /baseUrl/);
  });

  it("makes unique worker ids of the form <name>-<host>-<random>", () => {
    const a = createWorkerId("yt-processor");
    const b = createWorkerId("yt-processor");
    assert.notEqual(a, b);
    assert.match(a, /^yt-processor-[A-Za-z0-9.-]+-[0-9a-f]{8}$/);
  });

  it("canonicalises nested objects and keeps array order", () => {
    assert.deepEqual(JSON.stringify(canonicalize({ b: [{ d: 1, c: 2 }], a: { z: 1, y: null } })), '{"a":{"y":null,"z":1},"b":[{"c":2,"d":1}]}');
  });
});
