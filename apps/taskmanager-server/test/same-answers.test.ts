import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { API_KEY, api, call, postgresBackend, sqliteBackend, start, uid, type Answer } from "./helpers.js";

/**
 * One table, run on both stores side by side: every case must get the same status and the same body
 * (the envelope's `timestamp` aside) from SQLite and from PostgreSQL, and a refused request must
 * leave the stored data as it was. Both servers run on one fixed clock and receive the same
 * requests in the same order, so their ids and times agree too, and so must their final contents.
 */

interface Case {
  what: string;
  method: "GET" | "POST";
  path: string;
  /** A JSON value, or raw text sent as is. */
  body?: unknown;
  status: number;
  /** For refusals: the `error`, and `details` when given. */
  error?: string;
  details?: string[];
}

const NUL = "\u0000";
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udc00";
const NUL_DETAIL = "must not contain NUL characters (\\u0000)";
const SURROGATE_DETAIL = "must not contain unpaired UTF-16 surrogates";
const TRAILING_ESCAPE = "must not end with a lone escape character '\\' (write '\\\\' for a backslash)";

describe("the same answers on SQLite and PostgreSQL", () => {
  const sqlite = sqliteBackend();
  const postgres = postgresBackend();
  const servers: Array<{ name: string; server: RunningServer }> = [];
  const clock = Date.UTC(2032, 1, 3, 4, 5, 6);
  const type = `Same.Type_${uid()}`;
  const other = `Same.Other_${uid()}`;
  let typeId = 0;
  let claimed = 0;
  let pending = 0;

  /** Sends one request to both servers and answers both answers, SQLite first. */
  async function both(method: string, path: string, body?: unknown): Promise<Answer[]> {
    const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return Promise.all(
      servers.map(({ server }) => call(server.url, method, path, text, { "X-API-Key": API_KEY, "Content-Type": "application/json" })),
    );
  }

  /** Everything a client can read back from one server. */
  async function snapshot(base: string) {
    const tm = api(base);
    const types = (await tm.get("/task-types?limit=1000")).json.data;
    const tasks = (await tm.get("/tasks?limit=1000")).json.data;
    const full = [];
    for (const t of tasks.items) {
      full.push({ task: (await tm.get(`/tasks/${t.id}`)).json.data, history: (await tm.get(`/tasks/${t.id}/history`)).json.data });
    }
    return { types, tasks, full };
  }

  const withoutTime = (a: Answer) => (a.json && typeof a.json === "object" ? { ...a.json, timestamp: 0 } : a.text);

  before(async () => {
    for (const [name, backend] of [["sqlite", sqlite], ["postgres", postgres]] as const) {
      servers.push({ name, server: await start(backend.storage(), { now: () => clock }) });
    }
    const setup = async (method: string, path: string, body: unknown) => {
      const [a, b] = await both(method, path, body);
      assert.equal(a?.status, 200, a?.text);
      assert.deepEqual(withoutTime(a as Answer), withoutTime(b as Answer), `${method} ${path}`);
      return (a as Answer).json.data;
    };
    typeId = (await setup("POST", "/task-types/register", { name: type, version: "1.0.0", param_schema: { type: "object" } })).id;
    await setup("POST", "/task-types/register", { name: other, version: "1.0.0", param_schema: { type: "object" } });
    claimed = (await setup("POST", "/tasks", { type, params: { n: 1 } })).id;
    pending = (await setup("POST", "/tasks", { type, params: { n: 2 } })).id;
    await setup("POST", "/tasks", { type: other, params: { n: 3 } });
    assert.equal((await setup("POST", "/tasks/claim", { worker_id: "owner", task_type_id: typeId })).id, claimed);
  });
  after(async () => {
    await Promise.all(servers.map(({ server }) => server.close()));
    await sqlite.cleanup();
    await postgres.cleanup();
  });

  const validation = (field: string, detail: string) => ({ status: 400, error: "Validation failed", details: [`${field}: ${detail}`] });

  const refused = (): Case[] => [
    { what: "NUL in version", method: "POST", path: "/task-types/register", body: { name: type, version: `1${NUL}`, param_schema: { type: "object" } }, ...validation("version", NUL_DETAIL) },
    { what: "a lone surrogate in version", method: "POST", path: "/task-types/register", body: { name: type, version: `1${LONE_HIGH}`, param_schema: { type: "object" } }, ...validation("version", SURROGATE_DETAIL) },
    { what: "NUL in a claim's worker_id", method: "POST", path: "/tasks/claim", body: { worker_id: `w${NUL}`, task_type_id: typeId }, ...validation("worker_id", NUL_DETAIL) },
    { what: "a lone low surrogate in a claim's worker_id", method: "POST", path: "/tasks/claim", body: { worker_id: `${LONE_LOW}w`, task_type_id: typeId }, ...validation("worker_id", SURROGATE_DETAIL) },
    { what: "NUL in a progress message", method: "POST", path: `/tasks/${claimed}/progress`, body: { worker_id: "owner", progress: 10, message: `half${NUL}way` }, ...validation("message", NUL_DETAIL) },
    { what: "a lone surrogate in a progress message", method: "POST", path: `/tasks/${claimed}/progress`, body: { worker_id: "owner", progress: 10, message: `half${LONE_HIGH}` }, ...validation("message", SURROGATE_DETAIL) },
    { what: "NUL in a progress worker_id", method: "POST", path: `/tasks/${claimed}/progress`, body: { worker_id: `owner${NUL}`, progress: 10 }, ...validation("worker_id", NUL_DETAIL) },
    { what: "NUL in a complete's error", method: "POST", path: `/tasks/${claimed}/complete`, body: { worker_id: "owner", success: false, error: `bad${NUL}` }, ...validation("error", NUL_DETAIL) },
    { what: "a lone surrogate in a complete's error", method: "POST", path: `/tasks/${claimed}/complete`, body: { worker_id: "owner", success: false, error: LONE_LOW }, ...validation("error", SURROGATE_DETAIL) },
    { what: "a lone surrogate in a complete's worker_id", method: "POST", path: `/tasks/${claimed}/complete`, body: { worker_id: `owner${LONE_HIGH}`, success: true }, ...validation("worker_id", SURROGATE_DETAIL) },
    { what: "NUL in a requeue reason", method: "POST", path: `/tasks/${claimed}/requeue`, body: { reason: `why${NUL}` }, ...validation("reason", NUL_DETAIL) },
    { what: "a lone surrogate in a requeue reason", method: "POST", path: `/tasks/${claimed}/requeue`, body: { reason: LONE_HIGH }, ...validation("reason", SURROGATE_DETAIL) },
    { what: "NUL in an operator fail's error", method: "POST", path: `/tasks/${pending}/fail`, body: { error: `stop${NUL}` }, ...validation("error", NUL_DETAIL) },
    { what: "a lone surrogate in an operator fail's error", method: "POST", path: `/tasks/${pending}/fail`, body: { error: `stop${LONE_LOW}` }, ...validation("error", SURROGATE_DETAIL) },
    { what: "a raw NUL byte inside a JSON string", method: "POST", path: "/tasks/claim", body: `{"worker_id":"a${NUL}b","task_type_id":${typeId}}`, status: 400, error: "Invalid JSON in request body" },
    { what: "NUL in a type name on create", method: "POST", path: "/tasks", body: { type: `${type}${NUL}`, params: { n: 9 } }, status: 400, error: "Validation failed" },
    { what: "a list filter ending in a lone escape (%\\)", method: "GET", path: "/tasks?type=%25%5C", ...validation("type", TRAILING_ESCAPE) },
    { what: "a list filter that is a lone escape", method: "GET", path: "/tasks?type=%5C", ...validation("type", TRAILING_ESCAPE) },
    { what: "a type_pattern ending in a lone escape", method: "POST", path: "/tasks/claim", body: { worker_id: "w", task_type_id: typeId, type_pattern: "Same.%\\" }, ...validation("type_pattern", TRAILING_ESCAPE) },
    { what: "NUL in a list filter", method: "GET", path: "/tasks?type=a%00%25", status: 400, error: "Validation failed" },
    { what: "NUL in a type name path", method: "GET", path: "/task-types/a%00b", status: 400, error: "Invalid task type name: must be 1-255 characters of A-Z, a-z, 0-9, '.', '_' or '-'" },
  ];

  it("refuses NUL, lone surrogates and trailing LIKE escapes with the same 400 on both stores, changing nothing", async () => {
    for (const c of refused()) {
      const beforeEach = await Promise.all(servers.map(({ server }) => snapshot(server.url)));
      const answers = await both(c.method, c.path, c.body);
      for (const [i, a] of answers.entries()) {
        const where = `${c.what} on ${servers[i]?.name}`;
        assert.equal(a.status, c.status, `${where}: ${a.text.slice(0, 300)}`);
        assert.equal(a.json?.success, false, where);
        assert.equal(a.json?.error, c.error, where);
        if (c.details) assert.deepEqual(a.json?.details, c.details, where);
      }
      assert.deepEqual(withoutTime(answers[1] as Answer), withoutTime(answers[0] as Answer), `${c.what}: the stores answer differently`);
      const afterEach = await Promise.all(servers.map(({ server }) => snapshot(server.url)));
      assert.deepEqual(afterEach, beforeEach, `${c.what} changed stored data`);
    }
  });

  it("stores NUL and lone surrogates inside JSON params, results and schemas faithfully, alike on both stores", async () => {
    const params = { text: `a${NUL}b`, [`key${NUL}`]: LONE_HIGH, pair: "\ud83d\ude00", low: `x${LONE_LOW}` };
    const schemaName = `Same.Schema_${uid()}`;
    const accepted: Case[] = [
      { what: "a schema with NUL and a lone surrogate in its description", method: "POST", path: "/task-types/register", body: { name: schemaName, version: "1", param_schema: { type: "object", description: `d${NUL}${LONE_LOW}` } }, status: 200 },
      { what: "params with NUL and lone surrogates in keys and values", method: "POST", path: "/tasks", body: { type, params }, status: 200 },
      { what: "the same params again (deduplicated by the same key)", method: "POST", path: "/tasks", body: { type, params }, status: 200 },
      { what: "a result with NUL and a lone surrogate", method: "POST", path: `/tasks/${claimed}/complete`, body: { worker_id: "owner", success: true, result: { out: `r${NUL}`, [LONE_HIGH]: [NUL] } }, status: 200 },
      { what: "a paired surrogate (an emoji) in a worker id", method: "POST", path: "/tasks/claim", body: { worker_id: "w-\ud83d\ude00", task_type_id: typeId }, status: 200 },
    ];
    const created: number[] = [];
    for (const c of accepted) {
      const answers = await both(c.method, c.path, c.body);
      for (const [i, a] of answers.entries()) assert.equal(a.status, c.status, `${c.what} on ${servers[i]?.name}: ${a.text.slice(0, 300)}`);
      assert.deepEqual(withoutTime(answers[1] as Answer), withoutTime(answers[0] as Answer), `${c.what}: the stores answer differently`);
      if (c.path === "/tasks") created.push((answers[0] as Answer).json.data.id);
    }
    assert.equal(created[0], created[1], "the repeat is deduplicated");
    for (const { server } of servers) {
      const tm = api(server.url);
      const task = (await tm.get(`/tasks/${created[0]}`)).json.data.items[0];
      assert.deepEqual(task.params, params);
      const done = (await tm.get(`/tasks/${claimed}`)).json.data.items[0];
      assert.deepEqual(done.result, { out: `r${NUL}`, [LONE_HIGH]: [NUL] });
      const schema = (await tm.get(`/task-types/${schemaName}`)).json.data.items[0].param_schema;
      assert.equal(schema.description, `d${NUL}${LONE_LOW}`);
    }
  });

  it("matches list filters and type patterns alike on both stores, hostile ones included", async () => {
    const hostile = `${"%_".repeat(120)}X`;
    // The tests before this one left 3 tasks of `type` (one pending) and 1 of `other`.
    const cases: Array<[string, number]> = [
      [`/tasks?type=${encodeURIComponent(type)}`, 3],
      [`/tasks?type=${encodeURIComponent("same.%")}`, 4],
      [`/tasks?type=${encodeURIComponent("SAME.TYPE\\_%")}`, 3],
      [`/tasks?type=${encodeURIComponent("Same.Type%")}&status=pending`, 1],
      [`/tasks?type=${encodeURIComponent("Same_Type%")}`, 3],
      [`/tasks?type=${encodeURIComponent("Same-Type%")}`, 0],
      [`/tasks?type=${encodeURIComponent("%\\\\")}`, 0],
      [`/tasks?type=${encodeURIComponent("%\\%")}`, 0],
      [`/tasks?type=${encodeURIComponent(hostile)}`, 0],
      [`/tasks?type=${encodeURIComponent("%")}&limit=2&offset=1`, 2],
      [`/tasks?type=${encodeURIComponent("Same._ype%")}`, 3],
      [`/tasks?type=${encodeURIComponent("Same.Type_")}`, 0], // no %: an exact name, as on the hosted service
    ];
    for (const [path, count] of cases) {
      const answers = await both("GET", path);
      for (const [i, a] of answers.entries()) assert.equal(a.status, 200, `${path} on ${servers[i]?.name}: ${a.text}`);
      assert.deepEqual(withoutTime(answers[1] as Answer), withoutTime(answers[0] as Answer), `${path}: the stores answer differently`);
      assert.equal((answers[0] as Answer).json.data.count, count, path);
    }
    for (const pattern of [hostile, "same.type\\_%", "%.Type\\_%", "Same.Other%"]) {
      const answers = await both("POST", "/tasks/claim", { worker_id: "pattern-worker", task_type_id: typeId, type_pattern: pattern });
      assert.deepEqual(withoutTime(answers[1] as Answer), withoutTime(answers[0] as Answer), `${pattern}: the stores answer differently`);
    }
    const [a, b] = await Promise.all(servers.map(({ server }) => snapshot(server.url)));
    assert.deepEqual(b, a, "the two stores hold the same data after the same requests");
  });
});
