import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { API_KEY, api, backends, newType, start, uid } from "./helpers.js";

for (const backend of backends()) {
  describe(`TaskManager contract on ${backend.name}`, () => {
    let server: RunningServer;
    let offsetMs = 0;
    let tm: ReturnType<typeof api>;

    before(async () => {
      server = await start(backend.storage(), { now: () => Date.now() + offsetMs, claimTimeoutSeconds: 300, maxAttempts: 3 });
      tm = api(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    describe("envelope, auth and CORS", () => {
      it("answers /health without a key, in the envelope, after checking the database", async () => {
        const r = await tm.raw("GET", "/health", undefined, {});
        assert.equal(r.status, 200);
        assert.equal(r.json.success, true);
        assert.equal(r.json.message, "Success");
        assert.deepEqual({ ...r.json.data, timestamp: 0 }, { status: "healthy", timestamp: 0, database: "connected", storage: backend.name, capabilities: ["claim-batch", "settle-batch"] });
        assert.equal(typeof r.json.timestamp, "number");
        assert.equal(r.headers.get("cache-control"), "no-store");
        assert.equal(r.headers.get("access-control-allow-origin"), "*");
      });

      it("serves /openapi.json and /docs without a key", async () => {
        const doc = await tm.raw("GET", "/openapi.json", undefined, {});
        assert.equal(doc.status, 200);
        assert.equal(doc.json.openapi, "3.1.0");
        assert.ok(doc.json.paths["/tasks/claim"]);
        const docs = await tm.raw("GET", "/docs", undefined, {});
        assert.equal(docs.status, 200);
        assert.match(docs.text, /\/api\/tasks\/claim/);
      });

      it("rejects a missing or wrong key with 401 in the plain error shape", async () => {
        for (const headers of [{}, { "X-API-Key": "wrong-key-wrong-key" }, { "X-API-Key": "" }] as Array<Record<string, string>>) {
          const r = await tm.raw("GET", "/tasks", undefined, headers);
          assert.equal(r.status, 401);
          assert.equal(r.json.error, "Unauthorized");
          assert.match(r.json.message, /Invalid or missing API key/);
          assert.match(r.json.timestamp, /^\d{4}-\d\d-\d\dT/);
          assert.equal(r.json.success, undefined);
        }
      });

      it("answers OPTIONS preflights without a key", async () => {
        const r = await tm.raw("OPTIONS", "/tasks", undefined, { Origin: "http://example.test" });
        assert.equal(r.status, 204);
        assert.equal(r.headers.get("access-control-allow-origin"), "*");
        assert.match(r.headers.get("access-control-allow-headers") ?? "", /X-API-Key/);
      });

      it("answers unknown routes and methods with 404 Endpoint not found", async () => {
        for (const [method, path] of [["GET", "/nope"], ["DELETE", "/tasks/1"], ["PUT", "/task-types/register"]] as const) {
          const r = await tm.raw(method, path, method === "GET" ? undefined : "{}", { "X-API-Key": API_KEY });
          assert.equal(r.status, 404);
          assert.deepEqual({ ...r.json, timestamp: 0 }, { success: false, error: "Endpoint not found", timestamp: 0 });
        }
      });
    });

    describe("task types", () => {
      it("registers a new type, then updates it in place with the same id", async () => {
        const name = `Test.Reg_${uid()}`;
        const schema = { type: "object", properties: { a: { type: "string" } } };
        const first = await tm.post("/task-types/register", { name, version: "1.0.0", param_schema: schema });
        assert.equal(first.status, 200);
        assert.deepEqual(first.json.data, { id: first.json.data.id, name, version: "1.0.0", created: true });
        assert.equal(typeof first.json.data.id, "number");
        const second = await tm.post("/task-types/register", { name, version: "1.1.0", param_schema: schema });
        assert.deepEqual(second.json.data, { id: first.json.data.id, name, version: "1.1.0", updated: true });
      });

      it("gets a type by name wrapped in items, and 404 for a missing one", async () => {
        const { name, id } = await newType(server.url);
        const r = await tm.get(`/task-types/${name}`);
        assert.equal(r.status, 200);
        assert.equal(r.json.data.count, 1);
        const t = r.json.data.items[0];
        assert.equal(t.id, id);
        assert.equal(t.name, name);
        assert.equal(t.is_active, 1);
        assert.equal(t.param_schema.type, "object");
        assert.match(t.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        const missing = await tm.get(`/task-types/Test.Missing_${uid()}`);
        assert.equal(missing.status, 404);
        assert.equal(missing.json.error, "Task type not found");
      });

      it("lists types (the hosted list is broken; ours works)", async () => {
        const { name } = await newType(server.url);
        const r = await tm.get("/task-types?active_only=true&limit=1000");
        assert.equal(r.status, 200);
        assert.equal(r.json.data.count, r.json.data.items.length);
        assert.ok(r.json.data.items.some((t: { name: string }) => t.name === name));
      });

      it("rejects invalid schemas and missing fields with a clear 400 and stores nothing", async () => {
        const name = `Test.Bad_${uid()}`;
        const cases: Array<[unknown, RegExp]> = [
          [{ name, version: "1", param_schema: { type: "object", properties: { a: { type: "strnig" } } } }, /Invalid param_schema/],
          [{ name, version: "1", param_schema: { properties: {} } }, /must have a "type" property/],
          [{ name, version: "1", param_schema: { type: "object", requried: ["a"] } }, /Invalid param_schema/],
          [{ name, version: "1", param_schema: "{not json" }, /Invalid JSON schema format/],
          [{ name, version: "1", param_schema: [1, 2] }, /Validation failed/],
          [{ name, version: "1" }, /Validation failed/],
          [{ version: "1", param_schema: { type: "object" } }, /Validation failed/],
        ];
        for (const [body, error] of cases) {
          const r = await tm.post("/task-types/register", body);
          assert.equal(r.status, 400, JSON.stringify(body));
          assert.match(r.json.error, error);
        }
        const missingField = await tm.post("/task-types/register", { version: "1", param_schema: { type: "object" } });
        assert.deepEqual(missingField.json.details, ["name: is required"]);
        assert.equal((await tm.get(`/task-types/${name}`)).status, 404);
      });

      it("rejects names with spaces, unicode, an api prefix or SQL metacharacters", async () => {
        for (const name of ["has space", "žluťoučký", "api.Thing", "API_x", "a'; DROP TABLE tasks;--", "a/b", "", "x".repeat(256)]) {
          const r = await tm.post("/task-types/register", { name, version: "1", param_schema: { type: "object" } });
          assert.equal(r.status, 400, name);
          assert.equal(r.json.error, "Validation failed");
          assert.match(r.json.details[0], /^name: /);
        }
        const byName = await tm.get(`/task-types/${encodeURIComponent("has space")}`);
        assert.equal(byName.status, 400);
        assert.match(byName.json.error, /Invalid task type name/);
      });
    });

    describe("creating and reading tasks", () => {
      it("creates a task with the hosted answer shape and the hosted dedupe key", async () => {
        const { name } = await newType(server.url);
        const params = { n: 7, tag: "a/ü" };
        const r = await tm.post("/tasks", { type: name, params });
        assert.equal(r.status, 200);
        const expected = createHash("sha256").update(`${name}\0{"n":7,"tag":"a/ü"}`).digest("hex");
        assert.deepEqual(r.json.data, { id: r.json.data.id, type: name, status: "pending", dedupe_key: expected, message: "Task created successfully" });
        assert.equal(typeof r.json.data.id, "number");
      });

      it("deduplicates identical creates forever, answering the current status", async () => {
        const { name, id: typeId } = await newType(server.url);
        const a = await tm.post("/tasks", { type: name, params: { n: 1 } });
        const b = await tm.post("/tasks", { type: name, params: { n: 1 } });
        assert.equal(b.json.data.id, a.json.data.id);
        assert.equal(b.json.data.deduplicated, true);
        assert.equal(b.json.data.status, "pending");
        await tm.post("/tasks/claim", { worker_id: "w", task_type_id: typeId });
        await tm.post(`/tasks/${a.json.data.id}/complete`, { worker_id: "w", success: true });
        const c = await tm.post("/tasks", { type: name, params: { n: 1 } });
        assert.equal(c.json.data.id, a.json.data.id);
        assert.equal(c.json.data.status, "completed");
      });

      it("treats the same keys in another order as another task (clients canonicalise)", async () => {
        const { name } = await newType(server.url);
        const a = await tm.post("/tasks", { type: name, params: { n: 1, tag: "x" } });
        const b = await tm.post("/tasks", { type: name, params: { tag: "x", n: 1 } });
        assert.notEqual(a.json.data.id, b.json.data.id);
      });

      it("validates params against the type's schema, listing every reason", async () => {
        const { name } = await newType(server.url);
        const r = await tm.post("/tasks", { type: name, params: { n: -1, extra: true } });
        assert.equal(r.status, 400);
        assert.match(r.json.error, /^Parameter validation failed: /);
        assert.equal(r.json.details.length, 2);
        const list = await tm.get(`/tasks?type=${name}`);
        assert.equal(list.json.data.count, 0);
      });

      it("rejects empty or non-object params, an unknown type, and params over 64 KiB", async () => {
        const { name } = await newType(server.url, { type: "object" });
        for (const params of [{}, [], "x", 5, null]) {
          const r = await tm.post("/tasks", { type: name, params });
          assert.equal(r.status, 400, JSON.stringify(params));
          assert.deepEqual(r.json.details, ["params: must be a non-empty JSON object"]);
        }
        const unknown = await tm.post("/tasks", { type: `Test.Unknown_${uid()}`, params: { n: 1 } });
        assert.equal(unknown.status, 404);
        assert.equal(unknown.json.error, "Task type not found");
        const big = await tm.post("/tasks", { type: name, params: { blob: "x".repeat(70_000) } });
        assert.equal(big.status, 400);
        assert.match(big.json.error, /params is too large/);
        assert.equal((await tm.get(`/tasks?type=${name}`)).json.data.count, 0);
      });

      it("reads a task wrapped in items, with params, result and times", async () => {
        const { name } = await newType(server.url);
        const created = await tm.post("/tasks", { type: name, params: { n: 3 }, priority: 5 });
        const r = await tm.get(`/tasks/${created.json.data.id}`);
        assert.equal(r.status, 200);
        assert.equal(r.json.data.count, 1);
        const t = r.json.data.items[0];
        assert.deepEqual(
          { id: t.id, type: t.type, status: t.status, params: t.params, result: t.result, error_message: t.error_message, priority: t.priority, progress: t.progress, attempts: t.attempts, claimed_by: t.claimed_by, claimed_at: t.claimed_at, completed_at: t.completed_at },
          { id: created.json.data.id, type: name, status: "pending", params: { n: 3 }, result: null, error_message: null, priority: 5, progress: 0, attempts: 0, claimed_by: null, claimed_at: null, completed_at: null },
        );
        assert.match(t.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      });

      it("answers 404 for a missing task and 400 for an id that is not a positive integer", async () => {
        assert.equal((await tm.get("/tasks/999999999")).status, 404);
        for (const id of ["abc", "0", "-1", "1.5", "99999999999999999999"]) {
          const r = await tm.get(`/tasks/${id}`);
          assert.equal(r.status, 400, id);
          assert.match(r.json.error, /Invalid task id/);
        }
      });

      it("lists tasks newest first, filtered by status, exact type or LIKE pattern, paged", async () => {
        const prefix = `Test.List_${uid()}`;
        const a = await newType(server.url);
        const typeA = `${prefix}.A`;
        const typeB = `${prefix}.B`;
        for (const t of [typeA, typeB]) await tm.post("/task-types/register", { name: t, version: "1", param_schema: { type: "object" } });
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) ids.push((await tm.post("/tasks", { type: typeA, params: { i } })).json.data.id);
        await tm.post("/tasks", { type: typeB, params: { i: 0 } });
        void a;
        const exact = await tm.get(`/tasks?type=${typeA}`);
        assert.deepEqual(exact.json.data.items.map((t: { id: number }) => t.id), [...ids].reverse());
        assert.equal(exact.json.data.count, 5);
        const pattern = await tm.get(`/tasks?type=${encodeURIComponent(`${prefix}.%`)}`);
        assert.equal(pattern.json.data.count, 6);
        const page = await tm.get(`/tasks?type=${typeA}&limit=2&offset=1`);
        assert.deepEqual(page.json.data.items.map((t: { id: number }) => t.id), [ids[3], ids[2]]);
        assert.equal(page.json.data.count, 2);
        const pending = await tm.get(`/tasks?type=${typeA}&status=pending`);
        assert.equal(pending.json.data.count, 5);
        const completed = await tm.get(`/tasks?type=${typeA}&status=completed`);
        assert.deepEqual(completed.json.data, { items: [], count: 0 });
        const item = exact.json.data.items[0];
        assert.deepEqual(Object.keys(item).sort(), ["attempts", "claimed_by", "completed_at", "created_at", "id", "priority", "progress", "status", "type"]);
      });

      it("rejects bad list filters with 400", async () => {
        for (const q of ["limit=abc", "limit=-1", "limit=0", "limit=1001", "offset=-5", "offset=x", "status=done", "type=has%20space"]) {
          const r = await tm.get(`/tasks?${q}`);
          assert.equal(r.status, 400, q);
        }
      });
    });

    describe("claiming", () => {
      it("claims with the hosted answer shape, then answers 404 No available tasks", async () => {
        const { name, id } = await newType(server.url);
        const created = await tm.post("/tasks", { type: name, params: { n: 1 } });
        const r = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: id });
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.data, { id: created.json.data.id, type: name, params: { n: 1 }, attempts: 1, priority: 0, message: "Task claimed successfully" });
        const none = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: id });
        assert.equal(none.status, 404);
        assert.equal(none.json.error, "No available tasks");
      });

      it("accepts a task_type_id sent as a string, as hosted answers hand them out", async () => {
        const { name, id } = await newType(server.url);
        await tm.post("/tasks", { type: name, params: { n: 1 } });
        const r = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: String(id) });
        assert.equal(r.status, 200);
      });

      it("answers 404 for an unknown type id and 400 for missing or mistyped fields", async () => {
        const unknown = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: 987654321 });
        assert.equal(unknown.status, 404);
        const cases = [{}, { worker_id: "w" }, { task_type_id: 1 }, { worker_id: "", task_type_id: 1 }, { worker_id: "w", task_type_id: 0 }, { worker_id: "w", task_type_id: "x" }, { worker_id: "w", task_type_id: 1, sort_by: "name; DROP TABLE tasks" }, { worker_id: "w", task_type_id: 1, sort_order: "SIDEWAYS" }];
        for (const body of cases) {
          const r = await tm.post("/tasks/claim", body);
          assert.equal(r.status, 400, JSON.stringify(body));
          assert.equal(r.json.error, "Validation failed");
          assert.ok(r.json.details.length > 0);
        }
      });

      it("claims only when the type name matches type_pattern", async () => {
        const { name, id } = await newType(server.url);
        await tm.post("/tasks", { type: name, params: { n: 1 } });
        const miss = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: id, type_pattern: "Other.%" });
        assert.equal(miss.status, 404);
        const hit = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: id, type_pattern: "test.type\\_%" });
        assert.equal(hit.status, 200);
      });

      it("orders claims by each strategy: FIFO, LIFO, priority, fewest attempts", async () => {
        const order = async (sortBy: string, sortOrder: string, setup: (name: string, id: number) => Promise<number[]>) => {
          const { name, id } = await newType(server.url);
          const expected = await setup(name, id);
          const got: number[] = [];
          for (;;) {
            const r = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: id, sort_by: sortBy, sort_order: sortOrder });
            if (r.status === 404) break;
            got.push(r.json.data.id);
          }
          assert.deepEqual(got, expected, `${sortBy} ${sortOrder}`);
        };
        const createN = async (name: string, prios: number[]) => {
          const ids: number[] = [];
          for (const [i, priority] of prios.entries()) ids.push((await tm.post("/tasks", { type: name, params: { n: i }, priority })).json.data.id);
          return ids;
        };
        await order("created_at", "ASC", async (name) => createN(name, [0, 0, 0]));
        await order("created_at", "DESC", async (name) => (await createN(name, [0, 0, 0])).reverse());
        await order("id", "DESC", async (name) => (await createN(name, [0, 0, 0])).reverse());
        await order("priority", "DESC", async (name) => {
          const ids = await createN(name, [1, 5, 1, 9]);
          return [ids[3], ids[1], ids[0], ids[2]] as number[];
        });
        await order("attempts", "ASC", async (name, id) => {
          const ids = await createN(name, [0, 0, 0]);
          // The first task fails once, so it has more attempts than the others.
          await tm.post("/tasks/claim", { worker_id: "w", task_type_id: id });
          await tm.post(`/tasks/${ids[0]}/complete`, { worker_id: "w", success: false, error: "boom" });
          return [ids[1], ids[2], ids[0]] as number[];
        });
      });

      it("lets another worker take over a claim older than the claim timeout", async () => {
        const { name, id } = await newType(server.url);
        const created = await tm.post("/tasks", { type: name, params: { n: 1 } });
        await tm.post("/tasks/claim", { worker_id: "slow", task_type_id: id });
        assert.equal((await tm.post("/tasks/claim", { worker_id: "fast", task_type_id: id })).status, 404);
        offsetMs += 301_000;
        const again = await tm.post("/tasks/claim", { worker_id: "fast", task_type_id: id });
        assert.equal(again.status, 200);
        assert.equal(again.json.data.id, created.json.data.id);
        assert.equal(again.json.data.attempts, 2);
        const late = await tm.post(`/tasks/${created.json.data.id}/complete`, { worker_id: "slow", success: true });
        assert.equal(late.status, 403);
        assert.equal(late.json.error, "Task is claimed by another worker");
        assert.equal((await tm.post(`/tasks/${created.json.data.id}/complete`, { worker_id: "fast", success: true })).status, 200);
      });

      it("renews the claim on progress, so a reporting worker keeps its task", async () => {
        const { name, id } = await newType(server.url);
        const created = await tm.post("/tasks", { type: name, params: { n: 1 } });
        const taskId = created.json.data.id;
        await tm.post("/tasks/claim", { worker_id: "steady", task_type_id: id });
        offsetMs += 200_000;
        const p = await tm.post(`/tasks/${taskId}/progress`, { worker_id: "steady", progress: 40, message: "halfway" });
        assert.deepEqual(p.json.data, { id: taskId, progress: 40, message: "halfway" });
        offsetMs += 200_000; // 400 s after the claim, 200 s after the heartbeat
        assert.equal((await tm.post("/tasks/claim", { worker_id: "other", task_type_id: id })).status, 404);
        const t = (await tm.get(`/tasks/${taskId}`)).json.data.items[0];
        assert.equal(t.progress, 40);
        assert.equal(t.progress_message, "halfway");
        assert.equal(t.claimed_by, "steady");
      });
    });

    describe("progress and complete", () => {
      const claimOne = async () => {
        const { name, id } = await newType(server.url);
        const created = await tm.post("/tasks", { type: name, params: { n: 1 } });
        await tm.post("/tasks/claim", { worker_id: "owner", task_type_id: id });
        return { taskId: created.json.data.id as number, typeId: id, name };
      };

      it("checks not found, then not claimed, then another worker, in that order", async () => {
        for (const path of ["progress", "complete"]) {
          const body = path === "progress" ? { worker_id: "x", progress: 10 } : { worker_id: "x", success: true };
          const missing = await tm.post(`/tasks/999999999/${path}`, body);
          assert.equal(missing.status, 404);
          assert.equal(missing.json.error, "Task not found");
          const { name } = await newType(server.url);
          const pending = await tm.post("/tasks", { type: name, params: { n: 1 } });
          const notClaimed = await tm.post(`/tasks/${pending.json.data.id}/${path}`, body);
          assert.equal(notClaimed.status, 400);
          assert.equal(notClaimed.json.error, "Task is not in claimed state");
          const { taskId } = await claimOne();
          const other = await tm.post(`/tasks/${taskId}/${path}`, body);
          assert.equal(other.status, 403);
          assert.equal(other.json.error, "Task is claimed by another worker");
        }
      });

      it("completes with a result, leaves progress as last reported (as the hosted service does) and keeps the history", async () => {
        const { taskId } = await claimOne();
        assert.equal((await tm.post(`/tasks/${taskId}/progress`, { worker_id: "owner", progress: 40 })).status, 200);
        const r = await tm.post(`/tasks/${taskId}/complete`, { worker_id: "owner", success: true, result: { ok: 1 } });
        assert.deepEqual(r.json.data, { id: taskId, status: "completed", message: "Task completed" });
        const t = (await tm.get(`/tasks/${taskId}`)).json.data.items[0];
        assert.equal(t.status, "completed");
        assert.deepEqual(t.result, { ok: 1 });
        assert.equal(t.progress, 40);
        assert.ok(t.completed_at);
        const again = await tm.post(`/tasks/${taskId}/complete`, { worker_id: "owner", success: true });
        assert.equal(again.status, 400);
        const h = await tm.get(`/tasks/${taskId}/history`);
        assert.deepEqual(h.json.data.items.map((x: { status_change: string }) => x.status_change), ["created", "claimed", "completed"]);
        assert.equal(h.json.data.items[2].worker_id, "owner");
        // A task completed without any progress report keeps progress 0.
        const quiet = await claimOne();
        assert.equal((await tm.post(`/tasks/${quiet.taskId}/complete`, { worker_id: "owner", success: true })).status, 200);
        assert.equal((await tm.get(`/tasks/${quiet.taskId}`)).json.data.items[0].progress, 0);
      });

      it("returns a failed task to pending while attempts last, then fails it for good", async () => {
        const { taskId, typeId } = await claimOne();
        const statuses: string[] = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
          if (attempt > 1) {
            const c = await tm.post("/tasks/claim", { worker_id: "owner", task_type_id: typeId });
            assert.equal(c.json.data.attempts, attempt);
          }
          const r = await tm.post(`/tasks/${taskId}/complete`, { worker_id: "owner", success: false, error: `boom ${attempt}` });
          statuses.push(r.json.data.status);
        }
        assert.deepEqual(statuses, ["pending (retry)", "pending (retry)", "failed"]);
        const t = (await tm.get(`/tasks/${taskId}`)).json.data.items[0];
        assert.equal(t.status, "failed");
        assert.equal(t.error_message, "boom 3");
        assert.equal(t.attempts, 3);
        assert.equal((await tm.post("/tasks/claim", { worker_id: "owner", task_type_id: typeId })).status, 404);
        const h = await tm.get(`/tasks/${taskId}/history`);
        assert.deepEqual(h.json.data.items.map((x: { status_change: string }) => x.status_change), ["created", "claimed", "pending (retry)", "claimed", "pending (retry)", "claimed", "failed"]);
      });

      it("rejects bad progress and complete bodies with 400 and changes nothing", async () => {
        const { taskId } = await claimOne();
        const cases: Array<[string, unknown]> = [
          ["progress", { worker_id: "owner", progress: 101 }],
          ["progress", { worker_id: "owner", progress: -1 }],
          ["progress", { worker_id: "owner", progress: 1.5 }],
          ["progress", { worker_id: "owner" }],
          ["complete", { worker_id: "owner" }],
          ["complete", { worker_id: "owner", success: "yes" }],
          ["complete", { success: true }],
          ["complete", { worker_id: "owner", success: true, result: { blob: "x".repeat(70_000) } }],
        ];
        for (const [path, body] of cases) {
          const r = await tm.post(`/tasks/${taskId}/${path}`, body);
          assert.equal(r.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}`);
        }
        const t = (await tm.get(`/tasks/${taskId}`)).json.data.items[0];
        assert.equal(t.status, "claimed");
        assert.equal(t.progress, 0);
        const bad = await tm.get("/tasks/abc/history");
        assert.equal(bad.status, 400);
        assert.equal((await tm.get("/tasks/999999999/history")).status, 404);
      });
    });
  });
}
