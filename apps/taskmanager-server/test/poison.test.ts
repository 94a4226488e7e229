import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { anySchema, api, backends, newType, readTask, start } from "./helpers.js";

/**
 * Poison tasks: a task whose worker dies or hangs on it every time. Each claim counts as an
 * attempt, a timed-out claim included; a timed-out claim that was the last one allowed fails the
 * task for good at the next claim of its type, atomically with that claim. The clock is the app's
 * `now` option, moved by hand: nothing sleeps.
 */
for (const backend of backends()) {
  describe(`poison tasks on ${backend.name}`, () => {
    const servers: RunningServer[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await backend.cleanup();
    });

    /** A server with a 1 s claim timeout on a clock that only moves when told. */
    async function open(maxAttempts: number) {
      const clock = { ms: Date.UTC(2033, 2, 4, 5, 6, 7) };
      const server = await start(backend.storage(), { now: () => clock.ms, claimTimeoutSeconds: 1, maxAttempts });
      servers.push(server);
      const type = await newType(server.url, anySchema);
      return { server, tm: api(server.url), type, clock };
    }

    it("claims a task whose worker never completes 3 times (MAX_ATTEMPTS=3), then fails it for good with the reason and a history row", async () => {
      const { server, tm, type, clock } = await open(3);
      const id = (await tm.post("/tasks", { type: type.name, params: { poison: true } })).json.data.id as number;
      const answers: number[] = [];
      const attempts: number[] = [];
      for (let i = 1; i <= 6; i++) {
        const r = await tm.post("/tasks/claim", { worker_id: `w${i}`, task_type_id: type.id });
        answers.push(r.status);
        if (r.status === 200) {
          assert.equal(r.json.data.id, id);
          attempts.push(r.json.data.attempts);
        } else assert.equal(r.json.error, "No available tasks");
        clock.ms += 2000; // past the 1 s claim timeout: the worker did not complete
      }
      assert.deepEqual(answers, [200, 200, 200, 404, 404, 404]);
      assert.deepEqual(attempts, [1, 2, 3]);
      const failedAt = Date.UTC(2033, 2, 4, 5, 6, 7) + 3 * 2000;
      const stamp = new Date(failedAt).toISOString().slice(0, 19).replace("T", " ");
      const { task, history } = await readTask(server.url, id);
      assert.equal(task.status, "failed");
      assert.equal(task.attempts, 3);
      assert.equal(task.error_message, "claim timed out 3 times (worker w3 did not complete)");
      assert.equal(task.completed_at, stamp);
      assert.equal(task.claimed_by, "w3");
      assert.deepEqual(
        history.map((h: { status_change: string; worker_id: string | null; message: string }) => [h.status_change, h.worker_id, h.message]),
        [
          ["created", null, "Task created"],
          ["claimed", "w1", "Task claimed by worker"],
          ["claimed", "w2", "Task claimed by worker"],
          ["claimed", "w3", "Task claimed by worker"],
          ["failed", null, "claim timed out 3 times (worker w3 did not complete)"],
        ],
      );
      assert.equal(history[4].created_at, stamp);
      // The late worker finds its task settled; the stats count it as a final failure.
      const late = await tm.post(`/tasks/${id}/complete`, { worker_id: "w3", success: true });
      assert.equal(late.status, 400);
      assert.equal(late.json.error, "Task is not in claimed state");
      const stats = (await tm.get("/stats")).json.data;
      assert.deepEqual(stats.recentFailures.map((f: { id: number; error_message: string }) => [f.id, f.error_message]), [[id, task.error_message]]);
      assert.equal(stats.failuresTotal, 1);
      assert.deepEqual(stats.workers, []);
    });

    it("fails the poison task and hands out the next pending one in the same claim", async () => {
      const { server, tm, type, clock } = await open(1);
      const poison = (await tm.post("/tasks", { type: type.name, params: { n: 1 } })).json.data.id as number;
      assert.equal((await tm.post("/tasks/claim", { worker_id: "hangs", task_type_id: type.id })).json.data.id, poison);
      clock.ms += 1500;
      const healthy = (await tm.post("/tasks", { type: type.name, params: { n: 2 } })).json.data.id as number;
      const r = await tm.post("/tasks/claim", { worker_id: "next", task_type_id: type.id });
      assert.equal(r.status, 200);
      assert.equal(r.json.data.id, healthy);
      const { task } = await readTask(server.url, poison);
      assert.equal(task.status, "failed");
      assert.equal(task.error_message, "claim timed out once (worker hangs did not complete)");
    });

    it("counts only the timeouts in the reason when a reported failure came first", async () => {
      const { server, tm, type, clock } = await open(3);
      const id = (await tm.post("/tasks", { type: type.name, params: { n: 1 } })).json.data.id as number;
      await tm.post("/tasks/claim", { worker_id: "a", task_type_id: type.id });
      const retry = await tm.post(`/tasks/${id}/complete`, { worker_id: "a", success: false, error: "flaky" });
      assert.equal(retry.json.data.status, "pending (retry)");
      for (const w of ["b", "c"]) {
        assert.equal((await tm.post("/tasks/claim", { worker_id: w, task_type_id: type.id })).status, 200);
        clock.ms += 1001;
      }
      assert.equal((await tm.post("/tasks/claim", { worker_id: "d", task_type_id: type.id })).status, 404);
      const { task } = await readTask(server.url, id);
      assert.equal(task.status, "failed");
      assert.equal(task.attempts, 3);
      assert.equal(task.error_message, "claim timed out 2 times (worker c did not complete)");
    });

    it("still hands a timed-out claim that was not the last one to the next worker, and leaves other types alone", async () => {
      const { server, tm, type, clock } = await open(2);
      const otherType = await newType(server.url, anySchema);
      const id = (await tm.post("/tasks", { type: type.name, params: { n: 1 } })).json.data.id as number;
      const otherId = (await tm.post("/tasks", { type: otherType.name, params: { n: 1 } })).json.data.id as number;
      await tm.post("/tasks/claim", { worker_id: "x", task_type_id: otherType.id });
      await tm.post("/tasks/claim", { worker_id: "x", task_type_id: otherType.id }); // nothing: the one task is held
      await tm.post("/tasks/claim", { worker_id: "x", task_type_id: type.id });
      clock.ms += 1001;
      await tm.post("/tasks/claim", { worker_id: "x", task_type_id: type.id }); // takes it over: attempt 2 of 2
      clock.ms += 1001;
      // A claim of this type fails its poison task; the other type's timed-out last claim waits for a claim of its own type.
      assert.equal((await tm.post("/tasks/claim", { worker_id: "y", task_type_id: type.id })).status, 404);
      assert.equal((await readTask(server.url, id)).task.status, "failed");
      const other = (await readTask(server.url, otherId)).task;
      assert.equal(other.status, "claimed");
      const taken = await tm.post("/tasks/claim", { worker_id: "y", task_type_id: otherType.id });
      assert.equal(taken.json.data.id, otherId, "attempt 1 of 2 timed out: taken over, not failed");
      assert.equal(taken.json.data.attempts, 2);
    });

    it("fails each of many poison tasks exactly once while claims race for them", async () => {
      const { server, tm, type, clock } = await open(1);
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) ids.push((await tm.post("/tasks", { type: type.name, params: { i } })).json.data.id);
      for (let i = 0; i < 12; i++) assert.equal((await tm.post("/tasks/claim", { worker_id: `h${i}`, task_type_id: type.id })).status, 200);
      clock.ms += 5000;
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => tm.post("/tasks/claim", { worker_id: `r${i}`, task_type_id: type.id })));
      assert.deepEqual(answers.map((a) => a.status), Array(8).fill(404));
      for (const [i, id] of ids.entries()) {
        const { task, history } = await readTask(server.url, id);
        assert.equal(task.status, "failed");
        assert.equal(task.error_message, `claim timed out once (worker h${i} did not complete)`);
        assert.equal(history.filter((h: { status_change: string }) => h.status_change === "failed").length, 1, `task ${id}`);
      }
    });

    it("gives a requeued poison task one more claim, and counts every timeout in the next reason", async () => {
      const { server, tm, type, clock } = await open(1);
      const id = (await tm.post("/tasks", { type: type.name, params: { n: 1 } })).json.data.id as number;
      await tm.post("/tasks/claim", { worker_id: "p", task_type_id: type.id });
      clock.ms += 1001;
      await tm.post("/tasks/claim", { worker_id: "q", task_type_id: type.id });
      assert.equal((await readTask(server.url, id)).task.status, "failed");
      assert.equal((await tm.post(`/tasks/${id}/requeue`, { reason: "fixed the worker" })).status, 200);
      const again = await tm.post("/tasks/claim", { worker_id: "q", task_type_id: type.id });
      assert.equal(again.json.data.id, id);
      assert.equal(again.json.data.attempts, 2);
      clock.ms += 1001;
      assert.equal((await tm.post("/tasks/claim", { worker_id: "r", task_type_id: type.id })).status, 404);
      const { task } = await readTask(server.url, id);
      assert.equal(task.error_message, "claim timed out 2 times (worker q did not complete)");
    });
  });
}
