import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { API_KEY, backends, call, readTask, simpleSchema, start, taskIn, uid, type Answer } from "./helpers.js";

const READ = "read-key-0123456789abcdef";
const WORKER = "worker-key-0123456789abcdef";
const OPERATOR = "operator-key-0123456789abcdef";

const as = (base: string, key: string) => ({
  get: (path: string) => call(base, "GET", path, undefined, { "X-API-Key": key }),
  post: (path: string, body: unknown) => call(base, "POST", path, body, { "X-API-Key": key }),
});

function assertForbidden(r: Answer, need: string): void {
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.success, false);
  assert.match(r.json.error, /^Forbidden: this API key's scope \((read|worker)\) does not allow this call$/);
  assert.ok(Array.isArray(r.json.details) && r.json.details.some((d: string) => d.includes(`the ${need} scope`)), r.text);
  assert.equal(typeof r.json.timestamp, "number");
}

const reorderedSimpleSchema = {
  additionalProperties: false,
  properties: { tag: { maxLength: 50, type: "string" }, n: { minimum: 0, type: "integer" } },
  required: ["n"],
  type: "object",
};
const changedSchema = { ...simpleSchema, required: ["n", "tag"] };

for (const backend of backends()) {
  describe(`scoped API keys (${backend.name})`, () => {
    let server: RunningServer;
    let base: string;
    before(async () => {
      server = await start(backend.storage(), { readApiKeys: [READ], workerApiKeys: [WORKER], operatorApiKeys: [OPERATOR] });
      base = server.url;
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    const register = (key: string, name: string, version: string, schema: object) =>
      as(base, key).post("/task-types/register", { name, version, param_schema: schema });
    const storedType = async (name: string) => (await as(base, READ).get(`/task-types/${name}`)).json.data.items[0];

    it("a read key reads everything and is refused every write with 403 in the envelope, changing nothing", async () => {
      const name = `Scope.Read_${uid()}`;
      assert.equal((await register(API_KEY, name, "1.0.0", simpleSchema)).status, 200);
      const type = { name, id: (await storedType(name)).id as number };
      const pending = await taskIn(base, type, "pending");
      const claimed = await taskIn(base, type, "claimed");
      const reader = as(base, READ);
      for (const path of ["/tasks", `/tasks/${pending}`, `/tasks/${pending}/history`, "/task-types", `/task-types/${name}`, "/stats"]) {
        assert.equal((await reader.get(path)).status, 200, path);
      }
      const before = [await readTask(base, pending), await readTask(base, claimed)];
      const typeBefore = await storedType(name);
      assertForbidden(await reader.post("/task-types/register", { name: `Scope.New_${uid()}`, version: "1", param_schema: simpleSchema }), "worker");
      assertForbidden(await reader.post("/tasks", { type: name, params: { n: 1 } }), "worker");
      assertForbidden(await reader.post("/tasks/claim", { worker_id: "reader", task_type_id: type.id }), "worker");
      assertForbidden(await reader.post(`/tasks/${claimed}/progress`, { worker_id: "worker-1", progress: 50 }), "worker");
      assertForbidden(await reader.post(`/tasks/${claimed}/complete`, { worker_id: "worker-1", success: true }), "worker");
      assertForbidden(await reader.post(`/tasks/${claimed}/requeue`, {}), "operator");
      assertForbidden(await reader.post(`/tasks/${pending}/fail`, { error: "no" }), "operator");
      assert.deepEqual([await readTask(base, pending), await readTask(base, claimed)], before);
      assert.deepEqual(await storedType(name), typeBefore);
      assert.equal((await as(base, READ).get(`/tasks?type=${name}`)).json.data.count, 2, "no task was created");
    });

    it("a worker key registers new types and versions, re-registers the same schema, and runs the worker calls", async () => {
      const worker = as(base, WORKER);
      const name = `Scope.Worker_${uid()}`;
      const first = await register(WORKER, name, "1.0.0", simpleSchema);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.json.data.created, true);
      // The same schema again, keys in another order: not a change.
      assert.equal((await register(WORKER, name, "1.0.0", reorderedSimpleSchema)).status, 200);
      // A new version may change the schema.
      const v2 = await register(WORKER, name, "2.0.0", changedSchema);
      assert.equal(v2.status, 200, v2.text);
      assert.equal((await storedType(name)).version, "2.0.0");
      const id = first.json.data.id as number;
      const created = await worker.post("/tasks", { type: name, params: { n: 1, tag: "t" } });
      assert.equal(created.status, 200, created.text);
      const claim = await worker.post("/tasks/claim", { worker_id: "w-1", task_type_id: id });
      assert.equal(claim.status, 200, claim.text);
      assert.equal((await worker.post(`/tasks/${claim.json.data.id}/progress`, { worker_id: "w-1", progress: 40 })).status, 200);
      assert.equal((await worker.post(`/tasks/${claim.json.data.id}/complete`, { worker_id: "w-1", success: true, result: {} })).status, 200);
      assert.equal((await worker.get(`/tasks/${claim.json.data.id}`)).json.data.items[0].status, "completed");
    });

    it("a worker key cannot change a type's schema at the same version, nor requeue or fail: 403, nothing changes", async () => {
      const name = `Scope.Change_${uid()}`;
      assert.equal((await register(WORKER, name, "1.0.0", simpleSchema)).status, 200);
      const typeBefore = await storedType(name);
      assertForbidden(await register(WORKER, name, "1.0.0", changedSchema), "operator");
      assertForbidden(await register(WORKER, name, " 1.0.0 ", changedSchema), "operator");
      assert.deepEqual(await storedType(name), typeBefore);

      const type = { name, id: typeBefore.id as number };
      const claimed = await taskIn(base, type, "claimed");
      const failed = await taskIn(base, type, "failed");
      const pending = await taskIn(base, type, "pending");
      const before = await Promise.all([claimed, failed, pending].map((id) => readTask(base, id)));
      const worker = as(base, WORKER);
      assertForbidden(await worker.post(`/tasks/${claimed}/requeue`, { reason: "mine now" }), "operator");
      assertForbidden(await worker.post(`/tasks/${failed}/requeue`, {}), "operator");
      assertForbidden(await worker.post(`/tasks/${pending}/fail`, { error: "gone" }), "operator");
      assertForbidden(await worker.post(`/tasks/${claimed}/fail`, { error: "gone" }), "operator");
      assert.deepEqual(await Promise.all([claimed, failed, pending].map((id) => readTask(base, id))), before);
    });

    it("an operator key and an API_KEYS key may change a schema at the same version, requeue and fail", async () => {
      for (const key of [OPERATOR, API_KEY]) {
        const name = `Scope.Op_${uid()}`;
        assert.equal((await register(WORKER, name, "1.0.0", simpleSchema)).status, 200);
        const changed = await register(key, name, "1.0.0", changedSchema);
        assert.equal(changed.status, 200, changed.text);
        assert.deepEqual((await storedType(name)).param_schema, changedSchema);
        const type = { name, id: changed.json.data.id as number };
        const claimed = await taskIn(base, type, "claimed");
        const pending = await taskIn(base, type, "pending");
        assert.equal((await as(base, key).post(`/tasks/${claimed}/requeue`, {})).status, 200);
        assert.equal((await as(base, key).post(`/tasks/${pending}/fail`, { error: "by hand" })).status, 200);
      }
    });

    it("an unknown key still gets the plain 401, whatever the route", async () => {
      for (const [method, path] of [["GET", "/tasks"], ["POST", "/tasks/1/fail"], ["GET", "/no-such-route"]] as const) {
        const r = await call(base, method, path, method === "POST" ? { error: "x" } : undefined, { "X-API-Key": "unknown-key-0123456789" });
        assert.equal(r.status, 401);
        assert.equal(r.json.error, "Unauthorized");
      }
    });
  });

  describe(`reserved worker ids (${backend.name})`, () => {
    let server: RunningServer;
    let base: string;
    before(async () => {
      server = await start(backend.storage());
      base = server.url;
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    const reserved = ["operator", "OPERATOR", "  Operator ", "\uff4f\uff50\uff45\uff52\uff41\uff54\uff4f\uff52", "system", "Server", "taskmanager"];

    it("refuses a claim as a reserved worker id with 400, even with a full key, and the task stays pending", async () => {
      const name = `Scope.Reserved_${uid()}`;
      const reg = await registerFull(base, name);
      const type = { name, id: reg };
      const pending = await taskIn(base, type, "pending");
      const before = await readTask(base, pending);
      for (const workerId of reserved) {
        const r = await call(base, "POST", "/tasks/claim", { worker_id: workerId, task_type_id: type.id }, { "X-API-Key": API_KEY });
        assert.equal(r.status, 400, `${workerId}: ${r.text}`);
        assert.equal(r.json.error, "Validation failed");
        assert.match(r.json.details[0], /^worker_id: is reserved/);
      }
      assert.deepEqual(await readTask(base, pending), before);
      // An ordinary id that merely contains a reserved word is fine.
      const ok = await call(base, "POST", "/tasks/claim", { worker_id: "operator-assistant-1", task_type_id: type.id }, { "X-API-Key": API_KEY });
      assert.equal(ok.status, 200, ok.text);
    });

    it("refuses progress and complete as a reserved worker id with 400, and the claimed task is unchanged", async () => {
      const name = `Scope.Reserved_${uid()}`;
      const type = { name, id: await registerFull(base, name) };
      const claimed = await taskIn(base, type, "claimed", "operator-helper");
      const before = await readTask(base, claimed);
      for (const workerId of reserved) {
        const p = await call(base, "POST", `/tasks/${claimed}/progress`, { worker_id: workerId, progress: 10 }, { "X-API-Key": API_KEY });
        assert.equal(p.status, 400, p.text);
        const c = await call(base, "POST", `/tasks/${claimed}/complete`, { worker_id: workerId, success: true }, { "X-API-Key": API_KEY });
        assert.equal(c.status, 400, c.text);
        assert.match(c.json.details[0], /^worker_id: is reserved/);
      }
      assert.deepEqual(await readTask(base, claimed), before);
    });
  });
}

async function registerFull(base: string, name: string): Promise<number> {
  const r = await call(base, "POST", "/task-types/register", { name, version: "1.0.0", param_schema: simpleSchema }, { "X-API-Key": API_KEY });
  assert.equal(r.status, 200, r.text);
  return r.json.data.id as number;
}
