// Replays the hosted TaskManager's real answers (see /work/shared/taskmanager-api.md,
// "Quirks of the hosted service that a client must tolerate") through an undici
// MockAgent, and checks that the client absorbs every one of them.
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { afterEach, describe, it } from "node:test";
import { MockAgent, type Interceptable } from "undici";
import { TaskManagerClient, type TaskManagerClientOptions, type TaskManagerError } from "../src/index.js";

const ORIGIN = "https://tm.example.test";
const BASE = `${ORIGIN}/api`;
const WORKER = "worker-test-1";
const TS = 1_760_000_000;

/** The hosted success envelope. */
const ok = (data: unknown) => ({ success: true, message: "Success", data, timestamp: TS });
/** The hosted error envelope. */
const fail = (error: string, extra: Record<string, unknown> = {}) => ({ success: false, error, timestamp: TS, ...extra });
const JSON_HEADERS = { "content-type": "application/json" };

interface Hosted {
  agent: MockAgent;
  pool: Interceptable;
  client: TaskManagerClient;
  /** Requests the client made to `method path` so far. */
  calls(method: string, path: string): Array<{ body: unknown }>;
}

let current: Hosted | undefined;

function hosted(options: Partial<TaskManagerClientOptions> = {}): Hosted {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  const pool = agent.get(ORIGIN);
  const client = new TaskManagerClient({
    baseUrl: BASE,
    apiKey: "k",
    workerId: WORKER,
    dispatcher: agent,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  const calls = (method: string, path: string) =>
    (agent.getCallHistory()?.calls() ?? [])
      .filter((c) => c.method === method && c.path === path)
      .map((c) => ({ body: typeof c.body === "string" && c.body ? (JSON.parse(c.body) as unknown) : c.body }));
  const h: Hosted = { agent, pool, client, calls };
  current = h;
  return h;
}

afterEach(async () => {
  if (!current) return;
  const { agent, client } = current;
  current = undefined;
  await client.close();
  // Every answer a test scripted must have been asked for: nothing silently skipped.
  agent.assertNoPendingInterceptors();
  await agent.close();
});

/** Asserts that `promise` rejects with a TaskManagerError of `code`, and returns it. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<TaskManagerError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.equal((caught as TaskManagerError).code, code, `expected ${code}, got ${String(caught)}`);
  return caught as TaskManagerError;
}

/** The hosted answer to `GET /task-types/{name}` (ids as strings, is_active 1, schema as an object). */
function typeRecord(name: string, id: string | number, isActive: number | string = 1, schema: unknown = { type: "object" }) {
  return {
    id,
    name,
    version: "1.0.0",
    param_schema: schema,
    is_active: isActive,
    created_at: "2025-01-02 03:04:05",
    updated_at: "2025-01-02 03:04:05",
  };
}

function interceptType(pool: Interceptable, name: string, id: string | number) {
  pool
    .intercept({ path: `/api/task-types/${name}`, method: "GET" })
    .reply(200, ok({ items: [typeRecord(name, id)], count: 1 }), { headers: JSON_HEADERS });
}

const DEADLOCK = "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction";

describe("hosted quirk 1: claim with no task", () => {
  it("claim answered 500 'There is no active transaction' returns null without retrying", async () => {
    const { pool, client, calls } = hosted();
    interceptType(pool, "PrismQ.Demo", "7");
    pool
      .intercept({ path: "/api/tasks/claim", method: "POST" })
      .reply(500, fail("There is no active transaction"), { headers: JSON_HEADERS });

    assert.equal(await client.claimTask({ taskType: "PrismQ.Demo" }), null);
    assert.equal(calls("POST", "/api/tasks/claim").length, 1);
  });

  it("claim answered 404 returns null", async () => {
    const { pool, client, calls } = hosted();
    interceptType(pool, "PrismQ.Demo", 7);
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(404, fail("No available tasks"), { headers: JSON_HEADERS });

    assert.equal(await client.claimTask({ taskType: "PrismQ.Demo" }), null);
    assert.equal(calls("POST", "/api/tasks/claim").length, 1);
  });

  it("claim answered a 500 deadlock is retried (the transaction was rolled back) and returns the task", async () => {
    const { pool, client, calls } = hosted();
    interceptType(pool, "PrismQ.Demo", "7");
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(500, fail(DEADLOCK), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(
      200,
      ok({ id: "12", type: "PrismQ.Demo", params: '{"n":1,"tag":"x"}', attempts: "1", priority: "0", message: "Task claimed successfully" }),
      { headers: JSON_HEADERS },
    );

    const task = await client.claimTask({ taskType: "PrismQ.Demo" });
    assert.deepEqual(task, { id: 12, type: "PrismQ.Demo", params: { n: 1, tag: "x" }, attempts: 1, priority: 0 });
    const claims = calls("POST", "/api/tasks/claim");
    assert.equal(claims.length, 2);
    assert.deepEqual(claims[0]?.body, claims[1]?.body, "the retry repeats the same claim");
    assert.equal((claims[0]?.body as { task_type_id: unknown }).task_type_id, 7, "the type id is sent as a number");
  });

  it("claim answered 503 without deadlock text is not retried and throws TM_ERR_SERVER", async () => {
    const { pool, client, calls } = hosted();
    interceptType(pool, "PrismQ.Demo", "7");
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(503, fail("Service temporarily unavailable"), { headers: JSON_HEADERS });

    const err = await rejectsWith(client.claimTask({ taskType: "PrismQ.Demo" }), "TM_ERR_SERVER");
    assert.equal(err.status, 503);
    assert.equal(calls("POST", "/api/tasks/claim").length, 1, "a claim that may have happened is never repeated");
  });
});

describe("hosted quirk 2: records wrapped in items, missing is 200 with empty items", () => {
  it("getTask answered 200 with empty items returns null", async () => {
    const { pool, client } = hosted();
    pool.intercept({ path: "/api/tasks/99", method: "GET" }).reply(200, ok({ items: [], count: 0 }), { headers: JSON_HEADERS });
    assert.equal(await client.getTask(99), null);
  });

  it("getTaskType answered 200 with empty items returns null", async () => {
    const { pool, client } = hosted();
    pool.intercept({ path: "/api/task-types/Nope.Type", method: "GET" }).reply(200, ok({ items: [], count: 0 }), { headers: JSON_HEADERS });
    assert.equal(await client.getTaskType("Nope.Type"), null);
  });

  it("getTask returns the record with string ids and counters converted to numbers and JSON-text params/result parsed", async () => {
    const { pool, client } = hosted();
    pool.intercept({ path: "/api/tasks/5", method: "GET" }).reply(
      200,
      ok({
        items: [
          {
            id: "5",
            type: "PrismQ.Demo",
            status: "completed",
            params: '{"n":3,"tag":"a"}',
            result: '{"ok":true,"items":[1,2]}',
            error_message: null,
            priority: "0",
            progress: "100",
            attempts: "2",
            claimed_by: WORKER,
            claimed_at: "2025-01-02 03:04:05",
            completed_at: "2025-01-02 03:04:09",
            created_at: "2025-01-02 03:00:00",
          },
        ],
        count: 1,
      }),
      { headers: JSON_HEADERS },
    );

    const task = await client.getTask(5);
    assert.deepEqual(task, {
      id: 5,
      type: "PrismQ.Demo",
      status: "completed",
      priority: 0,
      progress: 100,
      attempts: 2,
      claimedBy: WORKER,
      createdAt: "2025-01-02 03:00:00",
      completedAt: "2025-01-02 03:04:09",
      params: { n: 3, tag: "a" },
      result: { ok: true, items: [1, 2] },
      errorMessage: null,
      claimedAt: "2025-01-02 03:04:05",
    });
  });

  it("getTask keeps params and result that already are objects", async () => {
    const { pool, client } = hosted();
    pool.intercept({ path: "/api/tasks/6", method: "GET" }).reply(
      200,
      ok({
        items: [
          {
            id: 6,
            type: "PrismQ.Demo",
            status: "pending",
            params: { n: 1 },
            result: null,
            error_message: null,
            priority: 0,
            progress: 0,
            attempts: 0,
            claimed_by: null,
            claimed_at: null,
            completed_at: null,
            created_at: "2025-01-02 03:00:00",
          },
        ],
        count: 1,
      }),
      { headers: JSON_HEADERS },
    );
    const task = await client.getTask(6);
    assert.equal(task?.id, 6);
    assert.deepEqual(task?.params, { n: 1 });
    assert.equal(task?.result, null);
    assert.equal(task?.claimedBy, null);
  });
});

describe("hosted quirk 4: ids as strings, booleans as 1/0, JSON as text", () => {
  it("getTaskType converts the string id to a number, is_active 1/0 to a boolean, and parses param_schema given as JSON text", async () => {
    const { pool, client } = hosted();
    const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" } } };
    pool
      .intercept({ path: "/api/task-types/Active.Type", method: "GET" })
      .reply(200, ok({ items: [typeRecord("Active.Type", "3", 1, JSON.stringify(schema))], count: 1 }), { headers: JSON_HEADERS });
    pool
      .intercept({ path: "/api/task-types/Inactive.Type", method: "GET" })
      .reply(200, ok({ items: [typeRecord("Inactive.Type", "4", 0, schema)], count: 1 }), { headers: JSON_HEADERS });
    pool
      .intercept({ path: "/api/task-types/Inactive.Text", method: "GET" })
      .reply(200, ok({ items: [typeRecord("Inactive.Text", 5, "0", schema)], count: 1 }), { headers: JSON_HEADERS });

    const active = await client.getTaskType("Active.Type");
    assert.equal(active?.id, 3);
    assert.equal(active?.isActive, true);
    assert.deepEqual(active?.paramSchema, schema);
    assert.equal(active?.createdAt, "2025-01-02 03:04:05");

    const inactive = await client.getTaskType("Inactive.Type");
    assert.equal(inactive?.id, 4);
    assert.equal(inactive?.isActive, false);
    assert.deepEqual(inactive?.paramSchema, schema);

    const inactiveText = await client.getTaskType("Inactive.Text");
    assert.equal(inactiveText?.isActive, false);
  });

  it("registerTaskType answered with a string id returns a number and caches it for claims", async () => {
    const { pool, client, calls } = hosted();
    pool
      .intercept({ path: "/api/task-types/register", method: "POST" })
      .reply(200, ok({ id: "1", name: "PrismQ.Demo", version: "1.0.0", created: true }), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(404, fail("No available tasks"), { headers: JSON_HEADERS });

    const reg = await client.registerTaskType({ name: "PrismQ.Demo", version: "1.0.0", paramSchema: { type: "object" } });
    assert.deepEqual(reg, { id: 1, name: "PrismQ.Demo", version: "1.0.0", created: true });
    assert.equal(await client.claimTask({ taskType: "PrismQ.Demo" }), null);
    assert.equal((calls("POST", "/api/tasks/claim")[0]?.body as { task_type_id: unknown }).task_type_id, 1);
    assert.equal(calls("GET", "/api/task-types/PrismQ.Demo").length, 0, "no lookup by name after register");
  });

  it("createTask answered with a string id returns a number id (new and deduplicated)", async () => {
    const { pool, client } = hosted();
    pool.intercept({ path: "/api/tasks", method: "POST" }).reply(
      200,
      ok({ id: "1", type: "PrismQ.Demo", status: "pending", dedupe_key: "abc", message: "Task created successfully" }),
      { headers: JSON_HEADERS },
    );
    pool
      .intercept({ path: "/api/tasks", method: "POST" })
      .reply(200, ok({ id: "1", status: "completed", deduplicated: true, message: "Task already exists" }), { headers: JSON_HEADERS });

    assert.deepEqual(await client.createTask("PrismQ.Demo", { n: 1 }), { id: 1, status: "pending", deduplicated: false, dedupeKey: "abc" });
    const dup = await client.createTask("PrismQ.Demo", { n: 1 });
    assert.equal(dup.id, 1);
    assert.equal(dup.status, "completed");
    assert.equal(dup.deduplicated, true);
    assert.match(dup.dedupeKey, /^[0-9a-f]{64}$/, "the key is computed locally when the answer has none");
  });

  it("completeTask and reportProgress accept answers with string ids", async () => {
    const { pool, client, calls } = hosted();
    pool
      .intercept({ path: "/api/tasks/1/progress", method: "POST" })
      .reply(200, ok({ id: "1", progress: 50, message: "half" }), { headers: JSON_HEADERS });
    pool
      .intercept({ path: "/api/tasks/1/complete", method: "POST" })
      .reply(200, ok({ id: "1", status: "completed", message: "Task completed successfully" }), { headers: JSON_HEADERS });

    await client.reportProgress(1, 50, "half");
    assert.deepEqual(await client.completeTask(1, { z: 1, a: 2 }), { id: 1, status: "completed" });
    assert.deepEqual(calls("POST", "/api/tasks/1/progress")[0]?.body, { worker_id: WORKER, progress: 50, message: "half" });
    assert.deepEqual(calls("POST", "/api/tasks/1/complete")[0]?.body, { worker_id: WORKER, success: true, result: { a: 2, z: 1 } });
  });
});

describe("hosted quirk 5: two error shapes, empty 500s, leaked SQL", () => {
  it("401 in the non-envelope text/html shape gives TM_ERR_AUTH and is not retried", async () => {
    const { pool, client, calls } = hosted();
    pool.intercept({ path: "/api/tasks/1", method: "GET" }).reply(
      401,
      JSON.stringify({ error: "Unauthorized", message: "Invalid or missing API key. Provide it in X-API-Key.", timestamp: "2025-01-02T03:04:05+00:00" }),
      { headers: { "content-type": "text/html; charset=UTF-8" } },
    );

    const err = await rejectsWith(client.getTask(1), "TM_ERR_AUTH");
    assert.equal(err.status, 401);
    assert.equal(err.retryable, false);
    assert.match(err.message, /Invalid or missing API key/);
    assert.equal(calls("GET", "/api/tasks/1").length, 1);
  });

  it("400 envelope error with details gives TM_ERR_VALIDATION carrying the details, not retried", async () => {
    const { pool, client, calls } = hosted();
    const details = ["type is required", "params must be an object"];
    pool.intercept({ path: "/api/tasks", method: "POST" }).reply(400, fail("Validation failed", { details }), { headers: JSON_HEADERS });

    const err = await rejectsWith(client.createTask("PrismQ.Demo", { n: 1 }), "TM_ERR_VALIDATION");
    assert.equal(err.message, "Validation failed");
    assert.deepEqual((err as TaskManagerError & { details: string[] }).details, details);
    assert.equal(err.status, 400);
    assert.equal(calls("POST", "/api/tasks").length, 1);
  });

  it("empty-body 500 (PHP fatal error) gives TM_ERR_SERVER once retries are spent", async () => {
    const { pool, client, calls } = hosted();
    pool.intercept({ path: "/api/tasks/1", method: "GET" }).reply(500, "").times(3);

    const err = await rejectsWith(client.getTask(1), "TM_ERR_SERVER");
    assert.equal(err.status, 500);
    assert.equal(err.retryable, true);
    assert.match(err.message, /empty answer/);
    assert.equal(calls("GET", "/api/tasks/1").length, 3, "retry.attempts in all");
  });

  it("empty-body 500 on a GET is retried and the call then succeeds", async () => {
    const { pool, client, calls } = hosted();
    pool.intercept({ path: "/api/task-types/PrismQ.Demo", method: "GET" }).reply(500, "");
    interceptType(pool, "PrismQ.Demo", "9");

    const t = await client.getTaskType("PrismQ.Demo");
    assert.equal(t?.id, 9);
    assert.equal(calls("GET", "/api/task-types/PrismQ.Demo").length, 2);
  });

  it("500 leaking raw SQL text gives TM_ERR_SERVER", async () => {
    const { pool, client } = hosted({ retry: false });
    const sql =
      "SQLSTATE[42S22]: Column not found: 1054 Unknown column 't.foo' in 'field list' (SQL: SELECT t.foo FROM tasks t WHERE t.id = 1)";
    pool.intercept({ path: "/api/tasks/1", method: "GET" }).reply(500, fail(sql), { headers: JSON_HEADERS });

    const err = await rejectsWith(client.getTask(1), "TM_ERR_SERVER");
    assert.equal(err.status, 500);
    assert.deepEqual(err.body, fail(sql));
  });

  it("500 leaking raw SQL as a non-JSON body gives TM_ERR_SERVER", async () => {
    const { pool, client } = hosted({ retry: false });
    pool
      .intercept({ path: "/api/tasks/1", method: "GET" })
      .reply(500, "<b>Fatal error</b>: Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused", { headers: { "content-type": "text/html" } });

    const err = await rejectsWith(client.getTask(1), "TM_ERR_SERVER");
    assert.match(err.message, /SQLSTATE\[HY000\]/);
  });
});

describe("hosted quirk 7: rate limiting", () => {
  const RATE_BODY = { error: "Too Many Requests", message: "Rate limit exceeded. Try again later.", timestamp: "2025-01-02T03:04:05+00:00" };

  it("429 with a Retry-After: 1 header is retried after waiting about a second, then succeeds", async () => {
    const { pool, client, calls } = hosted({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2_000 } });
    pool.intercept({ path: "/api/tasks/1", method: "GET" }).reply(429, { ...RATE_BODY, retry_after: 1 }, {
      headers: {
        "content-type": "text/html",
        "retry-after": "1",
        "x-ratelimit-limit": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(TS + 1),
      },
    });
    pool.intercept({ path: "/api/tasks/1", method: "GET" }).reply(200, ok({ items: [], count: 0 }), { headers: JSON_HEADERS });

    const t0 = performance.now();
    assert.equal(await client.getTask(1), null);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 950, `waited ${elapsed.toFixed(0)} ms, expected about 1000`);
    assert.ok(elapsed < 2_000, `waited ${elapsed.toFixed(0)} ms`);
    assert.equal(calls("GET", "/api/tasks/1").length, 2);
  });

  it("429 with only retry_after in the body is retried after waiting that long, then succeeds", async () => {
    const { pool, client, calls } = hosted({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2_000 } });
    pool.intercept({ path: "/api/tasks", method: "POST" }).reply(429, { ...RATE_BODY, retry_after: 1 }, { headers: { "content-type": "text/html" } });
    pool
      .intercept({ path: "/api/tasks", method: "POST" })
      .reply(200, ok({ id: "4", type: "PrismQ.Demo", status: "pending", dedupe_key: "k4", message: "Task created successfully" }), {
        headers: JSON_HEADERS,
      });

    const t0 = performance.now();
    const created = await client.createTask("PrismQ.Demo", { n: 4 });
    const elapsed = performance.now() - t0;
    assert.equal(created.id, 4);
    assert.ok(elapsed >= 950, `waited ${elapsed.toFixed(0)} ms, expected about 1000`);
    assert.ok(elapsed < 2_000, `waited ${elapsed.toFixed(0)} ms`);
    assert.equal(calls("POST", "/api/tasks").length, 2);
  });

  it("a Retry-After longer than maxDelayMs is waited for only maxDelayMs", async () => {
    const { pool, client } = hosted({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 150 } });
    pool
      .intercept({ path: "/api/tasks/1", method: "GET" })
      .reply(429, { ...RATE_BODY, retry_after: 60 }, { headers: { "content-type": "text/html", "retry-after": "60" } });
    pool.intercept({ path: "/api/tasks/1", method: "GET" }).reply(200, ok({ items: [], count: 0 }), { headers: JSON_HEADERS });

    const t0 = performance.now();
    assert.equal(await client.getTask(1), null);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 140, `waited ${elapsed.toFixed(0)} ms, expected about 150`);
    assert.ok(elapsed < 1_000, `waited ${elapsed.toFixed(0)} ms, expected the cap`);
  });

  it("a claim answered 429 is retried (nothing was claimed) and then returns the task", async () => {
    const { pool, client, calls } = hosted({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 20 } });
    interceptType(pool, "PrismQ.Demo", "7");
    pool
      .intercept({ path: "/api/tasks/claim", method: "POST" })
      .reply(429, { ...RATE_BODY, retry_after: 1 }, { headers: { "content-type": "text/html", "retry-after": "1" } });
    pool
      .intercept({ path: "/api/tasks/claim", method: "POST" })
      .reply(200, ok({ id: 3, type: "PrismQ.Demo", params: { n: 1 }, attempts: 1, priority: 0, message: "ok" }), { headers: JSON_HEADERS });

    const task = await client.claimTask({ taskType: "PrismQ.Demo" });
    assert.equal(task?.id, 3);
    assert.equal(calls("POST", "/api/tasks/claim").length, 2);
  });
});

describe("completing on the hosted service", () => {
  const claimedTask = (claimedBy: string, status = "completed") => ({
    items: [
      {
        id: "21",
        type: "PrismQ.Demo",
        status,
        params: '{"n":1}',
        result: '{"done":true}',
        error_message: null,
        priority: 0,
        progress: 100,
        attempts: 1,
        claimed_by: claimedBy,
        claimed_at: "2025-01-02 03:04:05",
        completed_at: "2025-01-02 03:04:09",
        created_at: "2025-01-02 03:00:00",
      },
    ],
    count: 1,
  });

  it("complete answered a 500 deadlock and then 200 succeeds, delivering the same result again (no completed work lost)", async () => {
    const { pool, client, calls } = hosted();
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(500, fail("SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock"), { headers: JSON_HEADERS });
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(200, ok({ id: "21", status: "completed", message: "Task completed successfully" }), { headers: JSON_HEADERS });

    assert.deepEqual(await client.completeTask(21, { done: true }), { id: 21, status: "completed" });
    const completes = calls("POST", "/api/tasks/21/complete");
    assert.equal(completes.length, 2);
    assert.deepEqual(completes[1]?.body, { worker_id: WORKER, success: true, result: { done: true } });
    assert.deepEqual(completes[0]?.body, completes[1]?.body);
  });

  it("complete whose first attempt 500s and whose retry is 'not in claimed state' is settled by reading the task: completed by this worker", async () => {
    const { pool, client, calls } = hosted();
    pool.intercept({ path: "/api/tasks/21/complete", method: "POST" }).reply(500, "");
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(400, fail("Task is not in claimed state"), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/21", method: "GET" }).reply(200, ok(claimedTask(WORKER)), { headers: JSON_HEADERS });

    assert.deepEqual(await client.completeTask(21, { done: true }), { id: 21, status: "completed" });
    assert.equal(calls("POST", "/api/tasks/21/complete").length, 2);
    assert.equal(calls("GET", "/api/tasks/21").length, 1);
  });

  it("complete whose first attempt times out and whose retry is 'not in claimed state' is settled by reading the task: completed by this worker", async () => {
    const { pool, client, calls } = hosted({ timeoutMs: 100 });
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(200, ok({ id: "21", status: "completed", message: "too late" }), { headers: JSON_HEADERS })
      .delay(1_000);
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(400, fail("Task is not in claimed state"), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/21", method: "GET" }).reply(200, ok(claimedTask(WORKER)), { headers: JSON_HEADERS });

    const t0 = performance.now();
    assert.deepEqual(await client.completeTask(21, { done: true }), { id: 21, status: "completed" });
    assert.ok(performance.now() - t0 < 900, "the lost answer was not waited for");
    assert.equal(calls("POST", "/api/tasks/21/complete").length, 2);
  });

  it("complete whose retry is 'not in claimed state' while the task was completed by another worker throws TM_ERR_CONFLICT", async () => {
    const { pool, client } = hosted();
    pool.intercept({ path: "/api/tasks/21/complete", method: "POST" }).reply(500, "");
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(400, fail("Task is not in claimed state"), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/21", method: "GET" }).reply(200, ok(claimedTask("someone-else")), { headers: JSON_HEADERS });

    const err = await rejectsWith(client.completeTask(21, { done: true }), "TM_ERR_CONFLICT");
    assert.equal((err as TaskManagerError & { reason: string }).reason, "not_claimed");
  });

  it("complete answered 'not in claimed state' on its first attempt throws TM_ERR_CONFLICT without reading the task", async () => {
    const { pool, client, calls } = hosted();
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(400, fail("Task is not in claimed state"), { headers: JSON_HEADERS });

    await rejectsWith(client.completeTask(21, { done: true }), "TM_ERR_CONFLICT");
    assert.equal(calls("GET", "/api/tasks/21").length, 0);
  });
});

describe("hosted quirk 3: the task-type list always fails", () => {
  it("listTaskTypes on the hosted 500 throws TM_ERR_SERVER, and claimTask resolves the type id by name once (cached)", async () => {
    const { pool, client, calls } = hosted();
    pool
      .intercept({ path: "/api/task-types?limit=1000&offset=0", method: "GET" })
      .reply(500, fail("SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your SQL syntax"), {
        headers: JSON_HEADERS,
      })
      .times(3);
    interceptType(pool, "PrismQ.Demo", "7");
    pool
      .intercept({ path: "/api/tasks/claim", method: "POST" })
      .reply(200, ok({ id: "31", type: "PrismQ.Demo", params: { n: 1 }, attempts: 1, priority: 0, message: "ok" }), { headers: JSON_HEADERS });
    pool
      .intercept({ path: "/api/tasks/claim", method: "POST" })
      .reply(500, fail("There is no active transaction"), { headers: JSON_HEADERS });

    await rejectsWith(client.listTaskTypes(), "TM_ERR_SERVER");

    const first = await client.claimTask({ taskType: "PrismQ.Demo" });
    assert.equal(first?.id, 31);
    assert.equal(await client.claimTask({ taskType: "PrismQ.Demo" }), null);

    assert.equal(calls("GET", "/api/task-types/PrismQ.Demo").length, 1, "the type is fetched once, then cached");
    const claims = calls("POST", "/api/tasks/claim");
    assert.equal(claims.length, 2);
    for (const c of claims) {
      assert.deepEqual(c.body, { worker_id: WORKER, task_type_id: 7, sort_by: "created_at", sort_order: "ASC" });
    }
  });
});

describe("batch claim and settle on the hosted service: no capabilities, single calls", () => {
  const hostedHealth = (pool: Interceptable) =>
    pool.intercept({ path: "/api/health", method: "GET" }).reply(200, ok({ status: "healthy", timestamp: TS, database: "connected" }), { headers: JSON_HEADERS });

  it("claimTasks claims one at a time until none is left, never sending limit, and reads /health once", async () => {
    const { pool, client, calls } = hosted();
    hostedHealth(pool);
    interceptType(pool, "PrismQ.Demo", "7");
    for (const id of ["12", "13"]) {
      pool
        .intercept({ path: "/api/tasks/claim", method: "POST" })
        .reply(200, ok({ id, type: "PrismQ.Demo", params: '{"n":1}', attempts: "1", priority: "0", message: "Task claimed successfully" }), { headers: JSON_HEADERS });
    }
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(500, fail("There is no active transaction"), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(500, fail("There is no active transaction"), { headers: JSON_HEADERS });

    const tasks = await client.claimTasks({ taskType: "PrismQ.Demo", limit: 50 });
    assert.deepEqual(tasks, [
      { id: 12, type: "PrismQ.Demo", params: { n: 1 }, attempts: 1, priority: 0 },
      { id: 13, type: "PrismQ.Demo", params: { n: 1 }, attempts: 1, priority: 0 },
    ]);
    assert.deepEqual(await client.claimTasks({ taskType: "PrismQ.Demo", limit: 5 }), []);
    const claims = calls("POST", "/api/tasks/claim");
    assert.equal(claims.length, 4);
    for (const c of claims) assert.equal((c.body as Record<string, unknown>).limit, undefined, "the hosted service never receives a limit");
    assert.equal(calls("GET", "/api/health").length, 1, "capabilities are read once");
  });

  it("settleTasks completes and fails each task with its own call, and answers each item's result or typed error", async () => {
    const { pool, client, calls } = hosted();
    hostedHealth(pool);
    pool
      .intercept({ path: "/api/tasks/21/complete", method: "POST" })
      .reply(200, ok({ id: "21", status: "completed", message: "Task completed successfully" }), { headers: JSON_HEADERS });
    pool
      .intercept({ path: "/api/tasks/22/complete", method: "POST" })
      .reply(200, ok({ id: "22", status: "pending (retry)", message: "Task failed" }), { headers: JSON_HEADERS });
    pool.intercept({ path: "/api/tasks/23/complete", method: "POST" }).reply(403, fail("Task is claimed by another worker"), { headers: JSON_HEADERS });

    const results = await client.settleTasks([
      { id: 21, status: "completed", result: { b: 1, a: 2 } },
      { id: 22, status: "failed", error: "flaky" },
      { id: 23, status: "completed" },
    ]);
    assert.deepEqual(results.slice(0, 2), [
      { id: 21, ok: true, status: "completed" },
      { id: 22, ok: true, status: "pending (retry)" },
    ]);
    const third = results[2] as { id: number; ok: false; error: TaskManagerError & { reason?: string } };
    assert.equal(third.ok, false);
    assert.equal(third.error.code, "TM_ERR_CONFLICT");
    assert.equal(third.error.reason, "other_worker");
    assert.deepEqual(calls("POST", "/api/tasks/21/complete")[0]?.body, { worker_id: WORKER, success: true, result: { a: 2, b: 1 } });
    assert.deepEqual(calls("POST", "/api/tasks/22/complete")[0]?.body, { worker_id: WORKER, success: false, error: "flaky" });
    assert.equal(calls("POST", "/api/tasks/settle").length, 0, "the hosted service never receives a batch settle");
  });
});
