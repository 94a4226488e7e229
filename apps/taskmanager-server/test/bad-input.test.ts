import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { API_KEY, api, backends, call, newType, start } from "./helpers.js";

interface Case {
  what: string;
  method: "GET" | "POST";
  path: string;
  body?: string;
  status: number;
  error: RegExp;
}

for (const backend of backends()) {
  describe(`bad and hostile input on ${backend.name}`, () => {
    let server: RunningServer;
    let type: { name: string; id: number };
    let claimedId: number;

    before(async () => {
      server = await start(backend.storage(), { bodyLimitBytes: 256 * 1024 });
      type = await newType(server.url);
      const tm = api(server.url);
      await tm.post("/tasks", { type: type.name, params: { n: 1 } });
      await tm.post("/tasks", { type: type.name, params: { n: 2 } });
      claimedId = (await tm.post("/tasks/claim", { worker_id: "owner", task_type_id: type.id })).json.data.id;
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    /** Everything a client can read back: types, tasks and their history. */
    async function snapshot() {
      const tm = api(server.url);
      const types = (await tm.get("/task-types?limit=1000")).json.data;
      const tasks = (await tm.get("/tasks?limit=1000")).json.data;
      const histories = [];
      for (const t of tasks.items) histories.push((await tm.get(`/tasks/${t.id}/history`)).json.data);
      const full = [];
      for (const t of tasks.items) full.push((await tm.get(`/tasks/${t.id}`)).json.data);
      return { types, tasks, histories, full };
    }

    const deep = (n: number) => `{"type":"T","params":${"{\"a\":".repeat(n)}1${"}".repeat(n)}}`;
    const injection = "x' OR '1'='1'; DROP TABLE tasks; --";

    const cases = (): Case[] => [
      { what: "malformed JSON", method: "POST", path: "/tasks", body: "{bad", status: 400, error: /Invalid JSON in request body/ },
      { what: "empty body", method: "POST", path: "/tasks", body: "", status: 400, error: /Invalid JSON in request body/ },
      { what: "JSON null", method: "POST", path: "/tasks", body: "null", status: 400, error: /expected a JSON object/ },
      { what: "JSON array", method: "POST", path: "/tasks/claim", body: "[1,2]", status: 400, error: /expected a JSON object/ },
      { what: "JSON string", method: "POST", path: "/task-types/register", body: '"x"', status: 400, error: /expected a JSON object/ },
      { what: "type as a number", method: "POST", path: "/tasks", body: JSON.stringify({ type: 5, params: { n: 1 } }), status: 400, error: /Validation failed/ },
      { what: "params as a string", method: "POST", path: "/tasks", body: JSON.stringify({ type: type.name, params: "n=1" }), status: 400, error: /Validation failed/ },
      { what: "priority as text", method: "POST", path: "/tasks", body: JSON.stringify({ type: type.name, params: { n: 9 }, priority: "high" }), status: 400, error: /Validation failed/ },
      { what: "priority out of range", method: "POST", path: "/tasks", body: JSON.stringify({ type: type.name, params: { n: 9 }, priority: 1e12 }), status: 400, error: /Validation failed/ },
      { what: "deep nesting", method: "POST", path: "/tasks", body: deep(200), status: 400, error: /nested deeper than/ },
      { what: "huge body", method: "POST", path: "/tasks", body: JSON.stringify({ type: type.name, params: { blob: "x".repeat(300 * 1024) } }), status: 413, error: /Payload Too Large/ },
      { what: "injection in type", method: "POST", path: "/tasks", body: JSON.stringify({ type: injection, params: { n: 1 } }), status: 400, error: /Validation failed/ },
      { what: "injection in a type name", method: "POST", path: "/task-types/register", body: JSON.stringify({ name: injection, version: "1", param_schema: { type: "object" } }), status: 400, error: /Validation failed/ },
      { what: "injection in version", method: "POST", path: "/task-types/register", body: JSON.stringify({ name: type.name, version: injection.repeat(5), param_schema: { type: "object" } }), status: 400, error: /Validation failed/ },
      { what: "injection in type_pattern", method: "POST", path: "/tasks/claim", body: JSON.stringify({ worker_id: "w", task_type_id: type.id, type_pattern: `%${injection}` }), status: 400, error: /Validation failed/ },
      { what: "injection in sort_by", method: "POST", path: "/tasks/claim", body: JSON.stringify({ worker_id: "w", task_type_id: type.id, sort_by: "id; DELETE FROM tasks" }), status: 400, error: /Validation failed/ },
      { what: "injection in worker_id on complete", method: "POST", path: `/tasks/${claimedId}/complete`, body: JSON.stringify({ worker_id: injection, success: true }), status: 403, error: /claimed by another worker/ },
      { what: "injection in the list type filter", method: "GET", path: `/tasks?type=${encodeURIComponent(`%${injection}`)}`, status: 400, error: /Validation failed/ },
      { what: "injection in the list status filter", method: "GET", path: `/tasks?status=${encodeURIComponent(injection)}`, status: 400, error: /Validation failed/ },
      { what: "negative offset", method: "GET", path: "/tasks?offset=-1", status: 400, error: /Validation failed/ },
      { what: "non-numeric limit", method: "GET", path: "/tasks?limit=ten", status: 400, error: /Validation failed/ },
      { what: "path traversal in a type name", method: "GET", path: "/task-types/..%2F..%2Fetc%2Fpasswd", status: 400, error: /Invalid task type name/ },
      { what: "NUL in a type name", method: "GET", path: "/task-types/a%00b", status: 400, error: /Invalid task type name/ },
      { what: "path traversal in a task id", method: "GET", path: "/tasks/..%2F1", status: 400, error: /Invalid task id/ },
      { what: "unicode type name", method: "GET", path: `/task-types/${encodeURIComponent("ŽluťoučkýKůň")}`, status: 400, error: /Invalid task type name/ },
      { what: "an api prefix", method: "GET", path: "/task-types/api.x", status: 400, error: /Invalid task type name/ },
      { what: "a float task id", method: "POST", path: "/tasks/1.5/complete", body: JSON.stringify({ worker_id: "w", success: true }), status: 400, error: /Invalid task id/ },
      { what: "a progress out of range", method: "POST", path: `/tasks/${claimedId}/progress`, body: JSON.stringify({ worker_id: "owner", progress: 1000 }), status: 400, error: /Validation failed/ },
      { what: "a huge worker_id", method: "POST", path: "/tasks/claim", body: JSON.stringify({ worker_id: "w".repeat(300), task_type_id: type.id }), status: 400, error: /Validation failed/ },
    ];

    it("answers every malformed or hostile request with a clear 4xx and changes nothing", async () => {
      const before = await snapshot();
      for (const c of cases()) {
        const r = await call(server.url, c.method, c.path, c.body, { "X-API-Key": API_KEY, "Content-Type": "application/json" });
        assert.equal(r.status, c.status, `${c.what}: got ${r.status} ${r.text.slice(0, 200)}`);
        assert.match(r.json?.error ?? "", c.error, c.what);
        assert.doesNotMatch(r.text, /SQL|sqlite|syntax error|relation|stack/i, `${c.what} leaks internals`);
      }
      assert.deepEqual(await snapshot(), before);
    });

    it("answers bad keys with 401 for every endpoint and changes nothing", async () => {
      const before = await snapshot();
      const endpoints: Array<[string, string, string | undefined]> = [
        ["GET", "/tasks", undefined],
        ["GET", "/task-types", undefined],
        ["POST", "/tasks", JSON.stringify({ type: type.name, params: { n: 77 } })],
        ["POST", "/tasks/claim", JSON.stringify({ worker_id: "w", task_type_id: type.id })],
        ["POST", `/tasks/${claimedId}/complete`, JSON.stringify({ worker_id: "owner", success: true })],
        ["POST", "/task-types/register", JSON.stringify({ name: "Test.Evil", version: "1", param_schema: { type: "object" } })],
      ];
      for (const key of [undefined, "", "x", API_KEY.slice(0, -1), `${API_KEY}x`, API_KEY.toUpperCase(), "a".repeat(5000)]) {
        for (const [method, path, body] of endpoints) {
          const headers: Record<string, string> = { "Content-Type": "application/json" };
          if (key !== undefined) headers["X-API-Key"] = key;
          const r = await call(server.url, method, path, body, headers);
          assert.equal(r.status, 401, `${method} ${path} with key ${String(key).slice(0, 10)}`);
        }
      }
      assert.deepEqual(await snapshot(), before);
    });

    it("takes a body whatever its Content-Type, as the hosted service does", async () => {
      const r = await call(server.url, "POST", "/tasks", JSON.stringify({ type: type.name, params: { n: 3 } }), { "X-API-Key": API_KEY, "Content-Type": "text/plain" });
      assert.equal(r.status, 200);
    });
  });
}
