import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { RunningServer, StorageOptions } from "../src/server.js";
import { api, backends, newType, pool, postgresBackend, readTask, start } from "./helpers.js";

const TASKS = 2000;
const CLAIMERS = 32;

type Claimed = { id: number; attempts: number };

/**
 * Claims until the queue answers 404, handing each task to `settle`; returns the ids `settle`
 * reports as completed (it answers false for a task it sent back to the queue).
 */
async function claimLoop(base: string, typeId: number, workerId: string, settle: (task: Claimed) => Promise<boolean>): Promise<number[]> {
  const done: number[] = [];
  for (;;) {
    const c = await api(base).post("/tasks/claim", { worker_id: workerId, task_type_id: typeId });
    if (c.status === 404) return done;
    assert.equal(c.status, 200, c.text);
    const task = c.json.data as Claimed;
    if (await settle(task)) done.push(task.id);
  }
}

/** Claims until the queue answers 404, completing each task; returns the ids this worker completed. */
function drain(base: string, typeId: number, workerId: string): Promise<number[]> {
  return claimLoop(base, typeId, workerId, async ({ id }) => {
    const r = await api(base).post(`/tasks/${id}/complete`, { worker_id: workerId, success: true, result: { by: workerId } });
    assert.equal(r.status, 200, r.text);
    return true;
  });
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

/**
 * Group commit on PostgreSQL: two nodes on one schema, each with a batch window, so that the
 * concurrent claims, creates, progress reports and settles below share statements. Each caller
 * must still get its own answer: duplicate creates one task, each task claimed by one worker at a
 * time, a failure with attempts left retried once, and a second settle of a task refused.
 */
describe("concurrency on postgres with batched statements", () => {
  const backend = postgresBackend();
  const servers: RunningServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await backend.cleanup();
  });

  it(`settles each of ${TASKS} tasks exactly once with ${2 * CLAIMERS} workers on two nodes`, async () => {
    const storage = { ...(backend.storage() as Extract<StorageOptions, { kind: "postgres" }>), batchWindowMs: 5, batchMax: 50 };
    servers.push(await start(storage), await start(storage));
    const urls = servers.map((s) => s.url);
    const { name, id: typeId } = await newType(urls[0] as string);

    // Every create is sent twice at once, to both nodes: one task, one new answer, per pair.
    const pairs = await pool(Array.from({ length: TASKS }, (_, n) => n), 64, (n) =>
      Promise.all(urls.map((u) => api(u).post("/tasks", { type: name, params: { n } }))),
    );
    for (const pair of pairs) {
      assert.ok(pair.every((a) => a.status === 200), pair.map((a) => a.text).join(" "));
      assert.equal(pair[0]?.json.data.id, pair[1]?.json.data.id);
      assert.equal(pair.filter((a) => a.json.data.deduplicated !== true).length, 1);
    }
    const created = pairs.map((p) => p[0]?.json.data.id as number);
    assert.equal(new Set(created).size, TASKS);
    // Tasks whose first attempt fails (retryable): they come back once.
    const failFirst = new Set(created.filter((_, n) => n % 7 === 0));

    const work = (base: string, workerId: string) => {
      const tm = api(base);
      return claimLoop(base, typeId, workerId, async ({ id, attempts }) => {
        const p = await tm.post(`/tasks/${id}/progress`, { worker_id: workerId, progress: 50 });
        assert.equal(p.status, 200, p.text);
        if (failFirst.has(id) && attempts === 1) {
          const f = await tm.post(`/tasks/${id}/complete`, { worker_id: workerId, success: false, error: "first try" });
          assert.equal(f.json.data?.status, "pending (retry)", f.text);
          return false;
        }
        // The holder's complete, a stranger's and a repeat, all at once: only the holder's applies.
        const [mine, stranger] = await Promise.all([
          tm.post(`/tasks/${id}/complete`, { worker_id: workerId, success: true, result: { by: workerId } }),
          tm.post(`/tasks/${id}/complete`, { worker_id: `${workerId}-stranger`, success: true }),
        ]);
        assert.equal(mine.status, 200, mine.text);
        assert.equal(mine.json.data.status, "completed");
        assert.ok(stranger.status === 403 || stranger.status === 400, stranger.text);
        const again = await tm.post(`/tasks/${id}/complete`, { worker_id: workerId, success: true });
        assert.equal(again.status, 400, again.text);
        return true;
      });
    };
    const perWorker = await Promise.all(
      Array.from({ length: 2 * CLAIMERS }, (_, w) => work(urls[w % urls.length] as string, `worker-${w}`)),
    );
    const all = perWorker.flat();
    assert.equal(all.length, TASKS, "every task completed once");
    assert.deepEqual([...new Set(all)].sort((a, b) => a - b), [...created].sort((a, b) => a - b));

    const tm = api(urls[1] as string);
    for (const status of ["pending", "claimed", "failed"]) {
      assert.equal((await tm.get(`/tasks?type=${name}&status=${status}`)).json.data.count, 0, status);
    }
    const retried = [...failFirst].slice(0, 10);
    const once = created.filter((id) => !failFirst.has(id)).slice(0, 10);
    for (const taskId of [...retried, ...once]) {
      const { task, history } = await readTask(urls[0] as string, taskId);
      const changes = (history as Array<{ status_change: string }>).map((h) => h.status_change);
      const expected = failFirst.has(taskId)
        ? ["created", "claimed", "pending (retry)", "claimed", "completed"]
        : ["created", "claimed", "completed"];
      assert.deepEqual(changes, expected, `task ${taskId}`);
      assert.equal(task.attempts, failFirst.has(taskId) ? 2 : 1);
    }
  });
});
