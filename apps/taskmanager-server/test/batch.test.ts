import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { anySchema, api, backends, newType, readTask, start } from "./helpers.js";

/**
 * The additive batch calls: `POST /tasks/claim` with `limit` and `POST /tasks/settle`, advertised
 * in `/health`. Each claimed task is claimed once; each settled item is settled as the single
 * complete would settle it, refusals included.
 */
for (const backend of backends()) {
  describe(`batch claim and settle on ${backend.name}`, () => {
    const servers: RunningServer[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await backend.cleanup();
    });

    async function open(options: { maxAttempts?: number } = {}) {
      const server = await start(backend.storage(), options);
      servers.push(server);
      const type = await newType(server.url, anySchema);
      const tm = api(server.url);
      const create = async (n: number, from = 0): Promise<number[]> => {
        const ids: number[] = [];
        for (let i = from; i < from + n; i++) ids.push((await tm.post("/tasks", { type: type.name, params: { n: i } })).json.data.id as number);
        return ids;
      };
      return { server, tm, type, create };
    }

    it("advertises both calls in /health", async () => {
      const { tm } = await open();
      const r = await tm.get("/health");
      assert.deepEqual(r.json.data.capabilities, ["claim-batch", "settle-batch"]);
    });

    it("claims up to limit tasks in claim order as {items, count}, then an empty list; without limit the single answer is unchanged", async () => {
      const { server, tm, type, create } = await open();
      const ids = await create(5);
      const single = await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: type.id });
      assert.equal(single.status, 200);
      assert.deepEqual(Object.keys(single.json.data).sort(), ["attempts", "id", "message", "params", "priority", "type"]);
      assert.equal(single.json.data.id, ids[0]);
      const batch = await tm.post("/tasks/claim", { worker_id: "w2", task_type_id: type.id, limit: 3 });
      assert.equal(batch.status, 200);
      assert.equal(batch.json.data.count, 3);
      assert.deepEqual(batch.json.data.items, ids.slice(1, 4).map((id, i) => ({ id, type: type.name, params: { n: i + 1 }, attempts: 1, priority: 0 })));
      const rest = await tm.post("/tasks/claim", { worker_id: "w2", task_type_id: type.id, limit: 100, sort_order: "desc" });
      assert.deepEqual(rest.json.data.items.map((t: { id: number }) => t.id), [ids[4]]);
      const none = await tm.post("/tasks/claim", { worker_id: "w2", task_type_id: type.id, limit: 10 });
      assert.equal(none.status, 200);
      assert.deepEqual(none.json.data, { items: [], count: 0 });
      const { task, history } = await readTask(server.url, ids[2] as number);
      assert.equal(task.claimed_by, "w2");
      assert.deepEqual(history.map((h: { status_change: string }) => h.status_change), ["created", "claimed"]);
    });

    it("newest first with sort_order DESC, and an unknown type is still a 404", async () => {
      const { tm, type, create } = await open();
      const ids = await create(4);
      const r = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: type.id, limit: 2, sort_by: "id", sort_order: "DESC" });
      assert.deepEqual(r.json.data.items.map((t: { id: number }) => t.id), [ids[3], ids[2]]);
      const unknown = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: 999_999, limit: 2 });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error, "Task type not found");
    });

    it("refuses a limit outside 1..100 or not a whole number with a clear 400, claiming nothing", async () => {
      const { tm, type, create } = await open();
      await create(1);
      for (const limit of [0, 101, -1, 1.5, "5", null, true, [2]]) {
        const r = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: type.id, limit });
        assert.equal(r.status, 400, `limit ${JSON.stringify(limit)}`);
        assert.deepEqual(r.json.details, ["limit: must be a whole number from 1 to 100"]);
      }
      const still = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: type.id, limit: 1 });
      assert.equal(still.json.data.count, 1);
    });

    it("settles each item on its own with the single complete's answer: ok, retry, not found, not claimed, other worker", async () => {
      const { server, tm, type, create } = await open({ maxAttempts: 3 });
      const ids = (await create(5)) as [number, number, number, number, number];
      await tm.post("/tasks/claim", { worker_id: "w1", task_type_id: type.id, limit: 4 });
      await tm.post("/tasks/claim", { worker_id: "w2", task_type_id: type.id, limit: 1 });
      const r = await tm.post("/tasks/settle", {
        worker_id: "w1",
        items: [
          { id: ids[0], status: "completed", result: { b: 2, a: 1 } },
          { id: ids[1], status: "failed", error: "flaky" },
          { id: ids[2], status: "failed", error: "bad input", retryable: false },
          { id: 999_999, status: "completed" },
          { id: ids[4], status: "completed" },
          { id: ids[3], status: "completed" },
        ],
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.data, {
        count: 6,
        items: [
          { id: ids[0], ok: true, status: "completed" },
          { id: ids[1], ok: true, status: "pending (retry)" },
          { id: ids[2], ok: true, status: "failed" },
          { id: 999_999, ok: false, http_status: 404, error: "Task not found" },
          { id: ids[4], ok: false, http_status: 403, error: "Task is claimed by another worker" },
          { id: ids[3], ok: true, status: "completed" },
        ],
      });
      const again = await tm.post("/tasks/settle", { worker_id: "w1", items: [{ id: ids[0], status: "completed" }] });
      assert.deepEqual(again.json.data.items, [{ id: ids[0], ok: false, http_status: 400, error: "Task is not in claimed state" }]);
      const done = await readTask(server.url, ids[0]);
      assert.equal(done.task.status, "completed");
      assert.deepEqual(done.task.result, { a: 1, b: 2 });
      assert.deepEqual(done.history.map((h: { status_change: string; worker_id: string }) => [h.status_change, h.worker_id]), [
        ["created", null],
        ["claimed", "w1"],
        ["completed", "w1"],
      ]);
      const retried = await readTask(server.url, ids[1]);
      assert.equal(retried.task.status, "pending");
      assert.equal(retried.task.claimed_by, null);
      assert.equal(retried.history.at(-1).status_change, "pending (retry)");
      assert.equal(retried.history.at(-1).message, "Task failed: flaky");
      const failed = await readTask(server.url, ids[2]);
      assert.equal(failed.task.status, "failed");
      assert.equal(failed.task.error_message, "bad input");
    });

    it("refuses a malformed batch whole (400, nothing settled): no items, over 100, a repeated id, a bad status, a reserved worker id", async () => {
      const { tm, type, create } = await open();
      const [id] = (await create(1)) as [number];
      await tm.post("/tasks/claim", { worker_id: "w", task_type_id: type.id, limit: 1 });
      const bodies: Array<[unknown, string]> = [
        [{ worker_id: "w", items: [] }, "items: must hold 1 to 100 items"],
        [{ worker_id: "w", items: Array.from({ length: 101 }, (_, i) => ({ id: i + 1, status: "completed" })) }, "items: must hold 1 to 100 items"],
        [{ worker_id: "w", items: [{ id, status: "completed" }, { id, status: "failed" }] }, `items.1.id: task ${id} is listed more than once`],
        [{ worker_id: "w", items: [{ id, status: "done" }] }, "items.0.status"],
        [{ worker_id: "w", items: [{ id, status: "completed" }], extra: 1 }, ""],
        [{ worker_id: "operator", items: [{ id, status: "completed" }] }, "worker_id: is reserved"],
      ];
      for (const [body, detail] of bodies) {
        const r = await tm.post("/tasks/settle", body);
        if (detail === "") {
          // Unknown fields are ignored, as everywhere: this one settles.
          assert.equal(r.status, 200);
          continue;
        }
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
        assert.ok((r.json.details as string[]).some((d) => d.startsWith(detail)), `${JSON.stringify(r.json.details)} has ${detail}`);
      }
    });

    it("claims each task once when batch claimers race (4 workers x limit 7 over 50 tasks)", async () => {
      const { tm, type, create } = await open();
      const ids = await create(50);
      const seen: number[] = [];
      await Promise.all(
        ["a", "b", "c", "d"].map(async (w) => {
          for (;;) {
            const r = await tm.post("/tasks/claim", { worker_id: w, task_type_id: type.id, limit: 7 });
            assert.equal(r.status, 200);
            if (r.json.data.count === 0) return;
            for (const t of r.json.data.items as Array<{ id: number }>) seen.push(t.id);
            const settled = await tm.post("/tasks/settle", { worker_id: w, items: r.json.data.items.map((t: { id: number }) => ({ id: t.id, status: "completed" })) });
            assert.ok(settled.json.data.items.every((i: { ok: boolean }) => i.ok));
          }
        }),
      );
      assert.deepEqual([...seen].sort((a, b) => a - b), ids);
      const done = await tm.get(`/tasks?type=${type.name}&status=completed&limit=100`);
      assert.equal(done.json.data.count, 50);
    });
  });
}
