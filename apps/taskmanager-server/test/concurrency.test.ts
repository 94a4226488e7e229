import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { api, backends, newType, pool, start } from "./helpers.js";

const TASKS = 2000;
const CLAIMERS = 32;

/** Claims until the queue answers 404, completing each task; returns the ids this worker completed. */
async function drain(base: string, typeId: number, workerId: string): Promise<number[]> {
  const tm = api(base);
  const done: number[] = [];
  for (;;) {
    const c = await tm.post("/tasks/claim", { worker_id: workerId, task_type_id: typeId });
    if (c.status === 404) return done;
    assert.equal(c.status, 200, c.text);
    const id = c.json.data.id as number;
    const r = await tm.post(`/tasks/${id}/complete`, { worker_id: workerId, success: true, result: { by: workerId } });
    assert.equal(r.status, 200, r.text);
    done.push(id);
  }
}

for (const backend of backends()) {
  describe(`concurrency on ${backend.name}`, () => {
    const servers: RunningServer[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await backend.cleanup();
    });

    it(`claims each of ${TASKS} tasks exactly once with ${CLAIMERS} concurrent workers${backend.name === "postgres" ? " across two server nodes" : ""}`, async () => {
      const storage = backend.storage();
      servers.push(await start(storage));
      // On PostgreSQL a second node shares the database, as a multi-node deployment does.
      if (backend.name === "postgres") servers.push(await start(storage));
      const urls = servers.map((s) => s.url);
      const base = urls[0] as string;
      const { name, id } = await newType(base);
      const created = await pool(
        Array.from({ length: TASKS }, (_, i) => i),
        32,
        async (n) => (await api(base).post("/tasks", { type: name, params: { n } })).json.data.id as number,
      );
      assert.equal(new Set(created).size, TASKS);

      const perWorker = await Promise.all(
        Array.from({ length: CLAIMERS }, (_, w) => drain(urls[w % urls.length] as string, id, `worker-${w}`)),
      );
      const all = perWorker.flat();
      assert.equal(all.length, TASKS, "every task completed once");
      assert.deepEqual([...new Set(all)].sort((a, b) => a - b), [...created].sort((a, b) => a - b));

      const tm = api(base);
      for (const status of ["pending", "claimed", "failed"]) {
        assert.equal((await tm.get(`/tasks?type=${name}&status=${status}`)).json.data.count, 0, status);
      }
      // Every task was claimed once: attempts 1 and one "claimed" history row.
      const sample = created.slice(0, 20);
      for (const taskId of sample) {
        const h = (await tm.get(`/tasks/${taskId}/history`)).json.data.items as Array<{ status_change: string }>;
        assert.deepEqual(h.map((x) => x.status_change), ["created", "claimed", "completed"]);
      }
    });

    it("answers many concurrent identical creates with one task", async () => {
      const storage = backend.storage();
      const server = await start(storage);
      servers.push(server);
      const { name } = await newType(server.url);
      const answers = await Promise.all(
        Array.from({ length: 64 }, () => api(server.url).post("/tasks", { type: name, params: { n: 42 } })),
      );
      assert.ok(answers.every((a) => a.status === 200), answers.map((a) => a.status).join(","));
      const ids = new Set(answers.map((a) => a.json.data.id));
      assert.equal(ids.size, 1);
      assert.equal(answers.filter((a) => a.json.data.deduplicated !== true).length, 1, "exactly one create was new");
      assert.equal((await api(server.url).get(`/tasks?type=${name}`)).json.data.count, 1);
    });
  });
}
