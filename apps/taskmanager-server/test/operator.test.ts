import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { API_KEY, anySchema, api, backends, call, newType, readTask, start, taskIn, type StartState } from "./helpers.js";

type Action = "requeue" | "fail";

interface Row {
  action: Action;
  from: StartState;
  status: number;
  /** The task's status afterwards (unchanged when refused). */
  after: string;
  error?: string;
}

/** The operator state machine: every action from every state. */
const table: Row[] = [
  { action: "requeue", from: "claimed", status: 200, after: "pending" },
  { action: "requeue", from: "failed", status: 200, after: "pending" },
  { action: "requeue", from: "pending", status: 400, after: "pending", error: "Task is not in a state that can be requeued" },
  { action: "requeue", from: "retry", status: 400, after: "pending", error: "Task is not in a state that can be requeued" },
  { action: "requeue", from: "completed", status: 400, after: "completed", error: "Task is completed" },
  { action: "fail", from: "pending", status: 200, after: "failed" },
  { action: "fail", from: "retry", status: 200, after: "failed" },
  { action: "fail", from: "claimed", status: 200, after: "failed" },
  { action: "fail", from: "completed", status: 400, after: "completed", error: "Task is completed" },
  { action: "fail", from: "failed", status: 400, after: "failed", error: "Task is already failed" },
];

for (const backend of backends()) {
  describe(`operator requeue and fail on ${backend.name}`, () => {
    let server: RunningServer;
    let tm: ReturnType<typeof api>;
    let offsetMs = 0;

    before(async () => {
      server = await start(backend.storage(), { now: () => Date.now() + offsetMs, maxAttempts: 3, bodyLimitBytes: 64 * 1024 });
      tm = api(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    for (const row of table) {
      it(`${row.action} on a ${row.from} task answers ${row.status}${row.error ? ` ${row.error}` : ""} and leaves it ${row.after}`, async () => {
        const type = await newType(server.url, anySchema);
        const id = await taskIn(server.url, type, row.from);
        const before = await readTask(server.url, id);
        const text = `operator says <b>${row.action}</b> ${id}`;
        const r = await tm.post(`/tasks/${id}/${row.action}`, row.action === "fail" ? { error: text } : { reason: text });
        assert.equal(r.status, row.status, r.text);
        const now = await readTask(server.url, id);
        if (row.status !== 200) {
          assert.equal(r.json.success, false);
          assert.equal(r.json.error, row.error);
          assert.deepEqual(now, before, "a refused action changes nothing");
          return;
        }
        assert.deepEqual(r.json.data, { id, status: row.after, message: row.action === "fail" ? "Task failed by operator" : "Task requeued" });
        const { task } = now;
        assert.equal(task.status, row.after);
        assert.equal(task.attempts, before.task.attempts, "attempts unchanged");
        assert.equal(task.dedupe_key, before.task.dedupe_key);
        if (row.action === "requeue") {
          assert.equal(task.claimed_by, null);
          assert.equal(task.claimed_at, null);
          assert.equal(task.completed_at, null);
          assert.equal(task.error_message, before.task.error_message, "the last error is kept");
        } else {
          assert.equal(task.error_message, text);
          assert.match(task.completed_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        }
        assert.equal(now.history.length, before.history.length + 1);
        assert.deepEqual(now.history.slice(0, -1), before.history, "earlier history kept");
        const last = now.history.at(-1);
        assert.equal(last.status_change, row.action === "fail" ? "failed" : "pending (requeued)");
        assert.equal(last.worker_id, "operator");
        assert.equal(last.message, text);
      });
    }

    it("answers 404 Task not found for a missing task and 400 for a bad id, for both actions", async () => {
      for (const [action, body] of [["requeue", {}], ["fail", { error: "x" }]] as const) {
        const missing = await tm.post(`/tasks/999999999/${action}`, body);
        assert.equal(missing.status, 404);
        assert.deepEqual({ ...missing.json, timestamp: 0 }, { success: false, error: "Task not found", timestamp: 0 });
        for (const bad of ["abc", "0", "-1", "1.5"]) {
          const r = await tm.post(`/tasks/${bad}/${action}`, body);
          assert.equal(r.status, 400, `${action} ${bad}`);
          assert.match(r.json.error, /Invalid task id/);
        }
      }
    });

    it("writes the default reason when none is given, and a requeued task can be claimed and completed again", async () => {
      const type = await newType(server.url, anySchema);
      const id = await taskIn(server.url, type, "claimed", "stuck-worker");
      const r = await tm.post(`/tasks/${id}/requeue`, {});
      assert.equal(r.status, 200);
      assert.equal((await readTask(server.url, id)).history.at(-1).message, "Requeued by operator");
      // The old worker has lost it.
      const late = await tm.post(`/tasks/${id}/complete`, { worker_id: "stuck-worker", success: true });
      assert.equal(late.status, 400);
      assert.equal(late.json.error, "Task is not in claimed state");
      const c = await tm.post("/tasks/claim", { worker_id: "fresh-worker", task_type_id: type.id });
      assert.equal(c.status, 200);
      assert.equal(c.json.data.id, id);
      assert.equal(c.json.data.attempts, 2, "a requeue does not reset attempts; the new claim counts");
      const stale = await tm.post(`/tasks/${id}/complete`, { worker_id: "stuck-worker", success: true });
      assert.equal(stale.status, 403);
      const done = await tm.post(`/tasks/${id}/complete`, { worker_id: "fresh-worker", success: true, result: { ok: 1 } });
      assert.equal(done.json.data.status, "completed");
      const { history } = await readTask(server.url, id);
      assert.deepEqual(history.map((h: { status_change: string }) => h.status_change), ["created", "claimed", "pending (requeued)", "claimed", "completed"]);
    });

    it("gives a task whose attempts are used up one more try after a requeue; its next failure is final", async () => {
      const type = await newType(server.url, anySchema);
      const id = await taskIn(server.url, type, "pending");
      for (let i = 0; i < 3; i++) {
        await tm.post("/tasks/claim", { worker_id: "w", task_type_id: type.id });
        await tm.post(`/tasks/${id}/complete`, { worker_id: "w", success: false, error: `boom ${i}` });
      }
      assert.equal((await readTask(server.url, id)).task.status, "failed");
      assert.equal((await tm.post(`/tasks/${id}/requeue`, { reason: "fixed the bug" })).status, 200);
      const c = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: type.id });
      assert.equal(c.json.data.attempts, 4);
      const r = await tm.post(`/tasks/${id}/complete`, { worker_id: "w", success: false, error: "still broken" });
      assert.equal(r.json.data.status, "failed");
    });

    it("fails a claimed task for good: the worker's complete is refused and no claim returns it", async () => {
      const type = await newType(server.url, anySchema);
      const id = await taskIn(server.url, type, "claimed", "slow-worker");
      assert.equal((await tm.post(`/tasks/${id}/fail`, { error: "poison message" })).status, 200);
      const late = await tm.post(`/tasks/${id}/complete`, { worker_id: "slow-worker", success: true });
      assert.equal(late.status, 400);
      const lateProgress = await tm.post(`/tasks/${id}/progress`, { worker_id: "slow-worker", progress: 50 });
      assert.equal(lateProgress.status, 400);
      offsetMs += 3600_000; // even after the claim timeout
      assert.equal((await tm.post("/tasks/claim", { worker_id: "other", task_type_id: type.id })).status, 404);
      const stats = (await tm.get("/stats")).json.data;
      const failure = stats.recentFailures.find((f: { id: number }) => f.id === id);
      assert.deepEqual({ ...failure, completed_at: "" }, { id, type: type.name, error_message: "poison message", attempts: 1, completed_at: "" });
      assert.ok(!stats.workers.some((w: { task_ids: number[] }) => w.task_ids.includes(id)));
    });

    it("settles a race between a requeue and the worker's complete one way only", async () => {
      const type = await newType(server.url, anySchema);
      const ids: number[] = [];
      for (let i = 0; i < 24; i++) ids.push(await taskIn(server.url, type, "claimed", `racer-${i}`));
      await Promise.all(
        ids.map(async (id, i) => {
          const [requeue, complete] = await Promise.all([
            tm.post(`/tasks/${id}/requeue`, { reason: "race" }),
            tm.post(`/tasks/${id}/complete`, { worker_id: `racer-${i}`, success: true }),
          ]);
          const { task, history } = await readTask(server.url, id);
          const changes = history.map((h: { status_change: string }) => h.status_change);
          if (requeue.status === 200) {
            assert.equal(complete.status, 400, `task ${id}: both won`);
            assert.equal(task.status, "pending");
            assert.deepEqual(changes, ["created", "claimed", "pending (requeued)"]);
          } else {
            assert.equal(complete.status, 200, `task ${id}: neither won`);
            assert.equal(requeue.json.error, "Task is completed");
            assert.equal(task.status, "completed");
            assert.deepEqual(changes, ["created", "claimed", "completed"]);
          }
        }),
      );
    });

    it("refuses bad bodies with a 4xx and changes nothing", async () => {
      const type = await newType(server.url, anySchema);
      const ids = { claimed: await taskIn(server.url, type, "claimed"), failed: await taskIn(server.url, type, "failed"), pending: await taskIn(server.url, type, "pending") };
      const snapshot = async () => Promise.all(Object.values(ids).map((id) => readTask(server.url, id)));
      const before = await snapshot();
      const cases: Array<[string, string, string | undefined, number, RegExp]> = [
        ["requeue", "not JSON", "{reason:", 400, /Invalid JSON in request body/],
        ["requeue", "empty body", "", 400, /Invalid JSON in request body/],
        ["requeue", "a JSON array", "[]", 400, /expected a JSON object/],
        ["requeue", "a reason that is a number", JSON.stringify({ reason: 5 }), 400, /Validation failed/],
        ["requeue", "a huge reason", JSON.stringify({ reason: "r".repeat(2001) }), 400, /Validation failed/],
        ["requeue", "a body over the limit", JSON.stringify({ reason: "r".repeat(70 * 1024) }), 413, /Payload Too Large/],
        ["fail", "not JSON", "error=x", 400, /Invalid JSON in request body/],
        ["fail", "no error", "{}", 400, /Validation failed/],
        ["fail", "an empty error", JSON.stringify({ error: "" }), 400, /Validation failed/],
        ["fail", "a blank error", JSON.stringify({ error: "   " }), 400, /Validation failed/],
        ["fail", "an error that is not a string", JSON.stringify({ error: { message: "x" } }), 400, /Validation failed/],
        ["fail", "a huge error", JSON.stringify({ error: "e".repeat(2001) }), 400, /Validation failed/],
        ["fail", "JSON null", "null", 400, /expected a JSON object/],
      ];
      for (const id of Object.values(ids)) {
        for (const [action, what, body, status, error] of cases) {
          const r = await call(server.url, "POST", `/tasks/${id}/${action}`, body, { "X-API-Key": API_KEY, "Content-Type": "application/json" });
          assert.equal(r.status, status, `${action} with ${what}: ${r.text.slice(0, 200)}`);
          assert.match(r.json?.error ?? "", error, `${action} with ${what}`);
        }
      }
      const missingError = await tm.post(`/tasks/${ids.claimed}/fail`, {});
      assert.deepEqual(missingError.json.details, ["error: is required"]);
      for (const key of [undefined, "wrong-key-wrong-key"]) {
        for (const [action, body] of [["requeue", "{}"], ["fail", JSON.stringify({ error: "x" })]]) {
          const headers: Record<string, string> = key ? { "X-API-Key": key } : {};
          const r = await call(server.url, "POST", `/tasks/${ids.claimed}/${action}`, body, headers);
          assert.equal(r.status, 401);
        }
      }
      assert.deepEqual(await snapshot(), before);
      // The largest accepted texts are fine.
      assert.equal((await tm.post(`/tasks/${ids.failed}/requeue`, { reason: "r".repeat(2000) })).status, 200);
      assert.equal((await tm.post(`/tasks/${ids.pending}/fail`, { error: "e".repeat(2000) })).status, 200);
    });
  });
}

describe("the OpenAPI document", () => {
  it("lists stats, requeue, fail and the dashboard; only the dashboard is open", async () => {
    const { openApiDocument } = await import("../src/openapi.js");
    const paths = openApiDocument.paths as unknown as Record<string, Record<string, { security?: unknown[]; summary?: string }>>;
    assert.ok(paths["/stats"]?.get);
    assert.ok(paths["/tasks/{id}/requeue"]?.post);
    assert.ok(paths["/tasks/{id}/fail"]?.post);
    assert.ok(paths["/dashboard"]?.get);
    assert.deepEqual(paths["/dashboard"]?.get?.security, []);
    for (const [path, method] of [["/stats", "get"], ["/tasks/{id}/requeue", "post"], ["/tasks/{id}/fail", "post"]] as const) {
      assert.equal(paths[path]?.[method]?.security, undefined, `${path} inherits the API key requirement`);
    }
    assert.match(paths["/tasks/{id}/requeue"]?.post?.summary ?? "", /this server only/);
  });

  it("is what the server serves, and /docs lists the new routes", async () => {
    const s = await start({ kind: "sqlite", path: ":memory:" });
    try {
      const doc = await call(s.url, "GET", "/openapi.json", undefined, {});
      for (const p of ["/stats", "/tasks/{id}/requeue", "/tasks/{id}/fail", "/dashboard"]) assert.ok(doc.json.paths[p], p);
      const docs = await call(s.url, "GET", "/docs", undefined, {});
      for (const p of ["/api/stats", "/api/tasks/{id}/requeue", "/api/tasks/{id}/fail", "/api/dashboard"]) assert.ok(docs.text.includes(p), p);
    } finally {
      await s.close();
    }
  });
});
