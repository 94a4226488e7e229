import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type { RunningServer } from "../src/server.js";
import type { Store } from "../src/store/types.js";
import { API_KEY, backends, call, newType, start, uid } from "./helpers.js";

/**
 * Every route driven with a generated hostile corpus, on both stores. For each request:
 * no 5xx, no crash (no uncaught exception or unhandled rejection in this process, which
 * hosts the server), `/api/health` still answers, and a refused request (4xx) leaves every
 * stored type, task and history row exactly as it was.
 */

const RUNS = Number(process.env.HOSTILE_RUNS ?? 40);

/** Strings a hostile client would try: control bytes, lone surrogates, LIKE and regex bombs, SQL, reserved ids. */
const nasty = fc.constantFrom(
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\u202e",
  "\u001b[2J",
  "%",
  "\\",
  "%\\",
  "_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_X",
  "%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b",
  "^(a+)+$",
  "(a|aa)*c",
  "' OR '1'='1'; DROP TABLE tasks; --",
  "operator",
  "OPERATOR",
  "system",
  "__proto__",
  "constructor",
  "api",
  "..%2F..%2Fetc",
  "9".repeat(40),
  "-1",
  "1e308",
  "NaN",
  "",
  " ",
  "x".repeat(5000),
);
const hostileString = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2 ** 53, -(2 ** 63), 1e308, 101, 0.5));
const leaf = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));
const hostileValue = fc.oneof(
  { depthSize: "small" },
  leaf,
  fc.array(leaf, { maxLength: 6 }),
  fc.dictionary(hostileString, leaf, { maxKeys: 6 }),
  fc.jsonValue({ maxDepth: 4 }),
);
/** An object body: known field names with hostile values, plus unknown fields. */
const bodyOf = (fields: string[]) =>
  fc
    .record(Object.fromEntries(fields.map((f) => [f, hostileValue])), { requiredKeys: [] })
    .chain((known) => fc.dictionary(hostileString, hostileValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...known })));

/** Schemas that take a server down when trusted, and random ones. */
const refChain = (depth: number) => {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  defs[`d${depth}`] = { type: "object" };
  return { type: "object", $defs: defs, $ref: "#/$defs/d0" };
};
const hostileSchema = fc.oneof(
  fc.constant({ $async: true, type: "object", properties: { a: { type: "string", maxLength: 3 } } }),
  fc.constant({ type: "object", properties: { a: { type: "string", pattern: "^(a+)+$" } } }),
  fc.constant({ type: "object", properties: { a: { type: "string", pattern: "(\\w)\\1" } } }),
  fc.constant({ type: "object", patternProperties: { "^(a|a)*$": { type: "string" } } }),
  fc.constant(refChain(29)),
  fc.constant({ type: "object", $ref: "#" }),
  fc.constant({ type: "object", properties: { a: { type: "array", uniqueItems: true } } }),
  fc.constant({ type: "object", properties: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`p${i}`, { type: "string", pattern: `^${"a?".repeat(8)}$` }])) }),
  fc.record({ type: fc.constantFrom("object", "string", "number", "bogus") }, { requiredKeys: [] }).chain((base) =>
    fc.dictionary(fc.constantFrom("properties", "required", "additionalProperties", "items", "pattern", "enum", "minimum", "$id", "$schema", "format"), hostileValue, { maxKeys: 3 }).map((rest) => ({ ...rest, ...base })),
  ),
  hostileValue,
);

/** Everything a client can read back, straight from the store: types, tasks, histories. */
async function snapshot(store: Store) {
  const types = await store.listTaskTypes({ activeOnly: false, limit: 1000, offset: 0 });
  const summaries = await store.listTasks({ limit: 1000, offset: 0 });
  const tasks = [];
  for (const s of summaries) tasks.push({ task: await store.getTask(s.id), history: await store.history(s.id) });
  return { types, tasks };
}

for (const backend of backends()) {
  describe(`a hostile corpus against every route on ${backend.name}`, () => {
    let server: RunningServer;
    let type: { name: string; id: number };
    let pendingId: number;
    let claimedId: number;
    let failedId: number;
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);

    before(async () => {
      process.on("uncaughtException", onCrash);
      process.on("unhandledRejection", onCrash);
      server = await start(backend.storage(), { bodyLimitBytes: 1024 * 1024, claimTimeoutSeconds: 300, maxAttempts: 3 });
      type = await newType(server.url, { type: "object", properties: { n: { type: "integer" }, tag: { type: "string", maxLength: 20 } } });
      const post = (path: string, body: unknown) => call(server.url, "POST", path, body);
      pendingId = (await post("/tasks", { type: type.name, params: { n: 1 } })).json.data.id;
      await post("/tasks", { type: type.name, params: { n: 2 } });
      await post("/tasks", { type: type.name, params: { n: 3 } });
      claimedId = (await post("/tasks/claim", { worker_id: "owner", task_type_id: type.id, sort_by: "id", sort_order: "DESC" })).json.data.id;
      failedId = (await post("/tasks/claim", { worker_id: "owner", task_type_id: type.id, sort_by: "id", sort_order: "DESC" })).json.data.id;
      await post(`/tasks/${failedId}/complete`, { worker_id: "owner", success: false, error: "boom", retryable: false });
    });
    after(async () => {
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
      await server.close();
      await backend.cleanup();
    });

    /** Sends one request; asserts no 5xx, no crash, health answering, and nothing changed when refused. */
    async function probe(method: string, path: string, body?: unknown): Promise<void> {
      const before = await snapshot(server.store);
      const raw = body === undefined ? undefined : JSON.stringify(body);
      const r = await call(server.url, method, path, raw, { "X-API-Key": API_KEY, "Content-Type": "application/json" });
      const what = `${method} ${path} ${String(raw).slice(0, 300)}`;
      assert.ok(r.status < 500, `${what}: got ${r.status} ${r.text.slice(0, 300)}`);
      assert.deepEqual(crashes, [], `${what}: the server process saw an uncaught error`);
      if (r.status >= 400) {
        assert.equal(r.json?.success, false, `${what}: a refusal is an error envelope: ${r.text.slice(0, 200)}`);
        assert.ok(typeof r.json?.error === "string" && r.json.error.length > 0, `${what}: names the problem`);
        assert.doesNotMatch(r.text, /SQL|sqlite|syntax error|relation "|invalid byte sequence|stack|at .*\.js:\d+/i, `${what}: leaks internals`);
        assert.deepEqual(await snapshot(server.store), before, `${what}: a refused request changed stored data`);
      }
      const health = await call(server.url, "GET", "/health");
      assert.equal(health.status, 200, `${what}: health stopped answering`);
    }

    const taskId = fc.oneof(
      fc.constantFrom(() => pendingId, () => claimedId, () => failedId).map((f) => String(f())),
      fc.constantFrom("0", "-1", "1.5", "99999999999", "9".repeat(30), "abc", "%00", "..%2F1"),
    );
    const run = (arb: fc.Arbitrary<[string, string, unknown?]>) =>
      fc.assert(
        fc.asyncProperty(arb, async ([method, path, body]) => probe(method, path, body)),
        { numRuns: RUNS, seed: Number(process.env.HOSTILE_SEED ?? 1414), endOnFailure: true },
      );
    /** Percent-encodes as a client would, lone surrogates as their raw (invalid UTF-8) bytes. */
    const q = (v: unknown) =>
      Array.from(String(v), (ch) => {
        const c = ch.codePointAt(0) as number;
        if (c < 0xd800 || c > 0xdfff) return encodeURIComponent(ch);
        return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
      }).join("");

    it("POST /task-types/register, then creates of every type it accepted", () =>
      fc.assert(
        fc.asyncProperty(
          fc.tuple(fc.oneof(hostileString, fc.constant(null).map(() => `Test.Hostile_${uid()}`)), fc.oneof(hostileString, hostileNumber), hostileSchema, fc.array(hostileValue, { maxLength: 3 })),
          async ([name, version, param_schema, extra]) => {
            await probe("POST", "/task-types/register", { name, version, param_schema });
            // Whatever was accepted must also validate params safely: the strings that trip unsafe validators, and random ones.
            for (const params of [{ a: "much too long" }, { a: `${"a".repeat(29)}!` }, { a: Array.from({ length: 2000 }, (_, i) => i) }, ...extra.map((v) => ({ a: v }))]) {
              await probe("POST", "/tasks", { type: name, params });
            }
          },
        ),
        { numRuns: RUNS, seed: Number(process.env.HOSTILE_SEED ?? 1414), endOnFailure: true },
      ));

    it("GET /task-types and /task-types/{name}", () =>
      run(
        fc.oneof(
          fc.tuple(hostileString, hostileString, hostileString).map(([a, l, o]) => ["GET", `/task-types?active_only=${q(a)}&limit=${q(l)}&offset=${q(o)}`] as [string, string]),
          hostileString.map((n) => ["GET", `/task-types/${q(n)}`] as [string, string]),
        ),
      ));

    it("POST /tasks", () =>
      run(
        fc
          .tuple(bodyOf(["type", "params", "priority"]), fc.boolean(), hostileValue, fc.option(hostileNumber))
          .map(([body, known, params, priority]) => ["POST", "/tasks", known ? { ...body, type: type.name, params: { n: 7, tag: params }, priority } : body] as [string, string, unknown]),
      ));

    it("GET /tasks with hostile filters", () =>
      run(
        fc
          .tuple(hostileString, hostileString, hostileString, hostileString)
          .map(([s, t, l, o]) => ["GET", `/tasks?status=${q(s)}&type=${q(t)}&limit=${q(l)}&offset=${q(o)}`] as [string, string]),
      ));

    it("GET /tasks/{id} and /tasks/{id}/history", () =>
      run(fc.tuple(taskId, fc.boolean()).map(([id, history]) => ["GET", `/tasks/${id}${history ? "/history" : ""}`] as [string, string])));

    it("POST /tasks/claim", () =>
      run(
        fc
          .tuple(bodyOf(["worker_id", "task_type_id", "type_pattern", "sort_by", "sort_order"]), fc.boolean(), hostileString)
          .map(([body, known, pattern]) => ["POST", "/tasks/claim", known ? { ...body, task_type_id: type.id, type_pattern: pattern } : body] as [string, string, unknown]),
      ));

    it("POST /tasks/{id}/progress, /complete, /requeue and /fail", () =>
      run(
        fc
          .tuple(fc.constantFrom("progress", "complete", "requeue", "fail"), taskId, bodyOf(["worker_id", "progress", "message", "success", "result", "error", "retryable", "reason"]))
          .map(([action, id, body]) => ["POST", `/tasks/${id}/${action}`, body] as [string, string, unknown]),
      ));

    it("GET /stats, /health, /openapi.json and unknown routes", () =>
      run(
        fc.oneof(
          fc.constantFrom("/stats", "/health", "/openapi.json", "/docs", "/dashboard").map((p) => ["GET", p] as [string, string]),
          fc.tuple(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), hostileString, hostileValue).map(([m, p, b]) => [m, `/${q(p)}`, m === "GET" ? undefined : b] as [string, string, unknown]),
        ),
      ));
  });
}
