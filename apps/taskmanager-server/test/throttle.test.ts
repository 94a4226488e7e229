import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { nestingDepth } from "../src/app.js";
import type { RunningServer } from "../src/server.js";
import { RefusalBudget } from "../src/throttle.js";
import { API_KEY, call, capturedLogger, simpleSchema, sqliteBackend, start, uid } from "./helpers.js";

const OTHER_KEY = "other-key-0123456789abcdef";

describe("refusal budget per key", () => {
  const backend = sqliteBackend();
  const servers: RunningServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await backend.cleanup();
  });

  it("answers 429 with Retry-After, unread, once a key has spent its refusals; reads, other keys and health go on; the clock refills it", async () => {
    let clock = Date.now();
    const { logger, lines } = capturedLogger();
    const server = await start(backend.storage(), { apiKeys: [API_KEY, OTHER_KEY], refusedPerSecond: 1, refusedBurst: 3, now: () => clock, logger });
    servers.push(server);
    const as = (key: string) => ({ "X-API-Key": key });
    const name = `Test.Throttle_${uid()}`;
    assert.equal((await call(server.url, "POST", "/task-types/register", { name, version: "1", param_schema: simpleSchema })).status, 200);

    // Three refusals: a 400 for params the schema refuses, a 400 for bad JSON, a 413 (over the route's cap).
    assert.equal((await call(server.url, "POST", "/tasks", { type: name, params: { n: -1 } })).status, 400);
    assert.equal((await call(server.url, "POST", "/tasks", "{not json")).status, 400);
    assert.equal((await call(server.url, "POST", "/tasks/claim", JSON.stringify({ worker_id: "w", task_type_id: 1, pad: "x".repeat(70 * 1024) }))).status, 413);

    // The budget is spent: even a good create is answered 429, and not stored.
    const throttled = await call(server.url, "POST", "/tasks", { type: name, params: { n: 1 } });
    assert.equal(throttled.status, 429, throttled.text);
    assert.equal(throttled.headers.get("retry-after"), "1");
    assert.equal(throttled.headers.get("connection"), "close", "the unread body is not received: the connection closes");
    assert.equal(throttled.headers.get("x-ratelimit-limit"), "3");
    assert.equal(throttled.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(throttled.headers.get("x-ratelimit-reset")) >= Math.floor(clock / 1000));
    assert.equal(throttled.json.error, "Too Many Requests");
    assert.equal(throttled.json.retry_after, 1);
    assert.match(throttled.json.message, /refused requests/);
    assert.equal((await call(server.url, "GET", `/tasks?type=${name}`)).json.data.count, 0, "a throttled create stores nothing");

    // Reads of the same key, another key's writes and the health check are not throttled.
    assert.equal((await call(server.url, "GET", `/task-types/${name}`)).status, 200);
    assert.equal((await call(server.url, "POST", "/tasks", { type: name, params: { n: 2 } }, as(OTHER_KEY))).status, 200);
    assert.equal((await call(server.url, "GET", "/health", undefined, {})).status, 200);

    // One warning for the key, naming its fingerprint, never the key.
    const warnings = lines.filter((l) => String(l.msg).startsWith("key throttled"));
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.key), /^[0-9a-f]{8}$/);
    assert.ok(!JSON.stringify(lines).includes(API_KEY));

    // A second later one refusal's worth has come back: the good create goes through.
    clock += 1000;
    const created = await call(server.url, "POST", "/tasks", { type: name, params: { n: 1 } });
    assert.equal(created.status, 200, created.text);
    assert.equal((await call(server.url, "GET", `/tasks?type=${name}`)).json.data.count, 2);
  });

  it("never counts a request that succeeds or a normal 404, and is off at 0", async () => {
    const server = await start(backend.storage(), { refusedPerSecond: 1, refusedBurst: 1 });
    servers.push(server);
    const name = `Test.Fine_${uid()}`;
    assert.equal((await call(server.url, "POST", "/task-types/register", { name, version: "1", param_schema: simpleSchema })).status, 200);
    for (let n = 0; n < 30; n++) assert.equal((await call(server.url, "POST", "/tasks", { type: name, params: { n } })).status, 200);
    // "No task to claim" is what an idle worker hears all day: not a refusal.
    for (let i = 0; i < 5; i++) assert.equal((await call(server.url, "POST", "/tasks/claim", { worker_id: "w", task_type_id: 999_999 })).status, 404);
    assert.equal((await call(server.url, "POST", "/tasks", { type: name, params: {} })).status, 400);

    const off = await start(backend.storage(), { refusedPerSecond: 0 });
    servers.push(off);
    for (let i = 0; i < 30; i++) assert.equal((await call(off.url, "POST", "/tasks", "{bad")).status, 400);
  });

  it("charges a refusal by the body it read: one unit, plus one per 16 KiB; a large one leaves the key in debt", () => {
    let t = 0;
    const budget = new RefusalBudget({ perSecond: 1, burst: 20, now: () => t });
    budget.charge("k", 100 * 1024); // 1 + 6
    assert.equal(budget.remaining("k"), 13);
    budget.charge("k", 100 * 1024);
    budget.charge("k", 100 * 1024);
    assert.equal(budget.remaining("k"), 0);
    assert.deepEqual(budget.check("k"), { retryAfterSeconds: 2, resetAt: 21 }, "in debt by one unit: two seconds to the next try");
    t = 2000;
    assert.equal(budget.check("k"), undefined);
  });

  it("counts the body a refused request made the server read", async () => {
    const server = await start(backend.storage(), { refusedPerSecond: 1, refusedBurst: 20 });
    servers.push(server);
    const name = `Test.Heavy_${uid()}`;
    assert.equal((await call(server.url, "POST", "/task-types/register", { name, version: "1", param_schema: { type: "object" } })).status, 200);
    // 229 KB of params: read, parsed and refused (over 64 KiB) for 1 + 14 units; the next one finds the budget spent.
    const heavy = JSON.stringify({ type: name, params: { a: Array.from({ length: 40_000 }, (_, i) => i) } });
    const first = await call(server.url, "POST", "/tasks", heavy);
    assert.equal(first.status, 400);
    assert.match(first.json.error, /params is too large/);
    assert.equal((await call(server.url, "POST", "/tasks", heavy)).status, 400);
    assert.equal((await call(server.url, "POST", "/tasks", heavy)).status, 429);
  });

  it("refills at its rate, up to the burst, and says when", () => {
    let t = 0;
    const budget = new RefusalBudget({ perSecond: 2, burst: 4, now: () => t });
    for (let i = 0; i < 4; i++) {
      assert.equal(budget.check("k"), undefined);
      budget.charge("k");
    }
    assert.deepEqual(budget.check("k"), { retryAfterSeconds: 1, resetAt: 2 });
    t = 500; // half a second: one refusal back
    assert.equal(budget.check("k"), undefined);
    assert.equal(budget.remaining("k"), 1);
    t = 60_000; // full again, and forgotten
    assert.equal(budget.remaining("k"), 4);
    assert.equal(budget.remaining("other"), 4);
  });
});

describe("route body caps", () => {
  const backend = sqliteBackend();
  let server: RunningServer;
  after(async () => {
    await server?.close();
    await backend.cleanup();
  });

  it("refuses from Content-Length a body no valid request of that route can have, whatever BODY_LIMIT_BYTES allows", async () => {
    server = await start(backend.storage(), { bodyLimitBytes: 1024 * 1024 });
    const name = `Test.Caps_${uid()}`;
    assert.equal((await call(server.url, "POST", "/task-types/register", { name, version: "1", param_schema: simpleSchema })).status, 200);
    const create = await call(server.url, "POST", "/tasks", { type: name, params: { n: 1, tag: "x".repeat(300 * 1024) } });
    assert.equal(create.status, 413);
    assert.equal(create.json.message, "Request body exceeds 262144 bytes");
    const register = await call(server.url, "POST", "/task-types/register", { name: `${name}.Big`, version: "1", param_schema: { type: "object", description: "d".repeat(300 * 1024) } });
    assert.equal(register.status, 413);
    const claim = await call(server.url, "POST", "/tasks/claim", { worker_id: "w", task_type_id: 1, pad: "x".repeat(70 * 1024) });
    assert.equal(claim.status, 413);
    assert.equal(claim.json.message, "Request body exceeds 65536 bytes");
    // Pretty-printed params of the largest size still fit: the cap is four times the 64 KiB field.
    const pretty = JSON.stringify({ type: name, params: { n: 1, tag: "y".repeat(50) } }, null, 2);
    assert.equal((await call(server.url, "POST", "/tasks", pretty)).status, 200);
    assert.equal((await call(server.url, "GET", `/task-types/${name}.Big`)).status, 404, "the refused register stored nothing");
  });

  it("reads nesting depth from the text, brackets inside strings not counted", () => {
    assert.equal(nestingDepth('{"a":[1,{"b":2}]}', 64), 3);
    assert.equal(nestingDepth('{"a":"[[[[{{{{","b":"\\"[["}', 64), 1);
    assert.equal(nestingDepth('"\\\\"', 64), 0);
    assert.equal(nestingDepth("[".repeat(10_000), 64), 65, "stops once past the limit");
  });
});
