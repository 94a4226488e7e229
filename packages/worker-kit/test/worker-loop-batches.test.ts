import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ClaimedTask, TaskManagerClient } from "@prismq/taskmanager-client";
import {
  WorkerLoop,
  DirectOutbox,
  QueuedOutbox,
  WorkerMetrics,
  bullmqConnection,
  createLogger,
  type BatchOutcome,
  type WorkerLoopOptions,
  type Outbox,
} from "../src/index.js";
import { REDIS_URL, TestServer, dropPrefix, silent, sleep, testPrefix, uid, waitFor } from "./helpers.js";

type Job = ClaimedTask<{ n: number }>;
type Handler = NonNullable<WorkerLoopOptions<Job>["handle"]>;

const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" } }, additionalProperties: false };
const ok = (task: Job, result: Record<string, unknown> = { n: task.params.n }): BatchOutcome<Job> => ({ task, ok: true, result });

describe("WorkerLoop with a batch handler", () => {
  const server = new TestServer();
  let admin: TaskManagerClient;
  const clients: TaskManagerClient[] = [];
  const prefixes: string[] = [];

  before(async () => {
    await server.start();
    admin = server.client("admin");
  });
  after(async () => {
    for (const c of clients) await c.close();
    await admin.close();
    await server.destroy();
    for (const p of prefixes) await dropPrefix(p);
  });

  const client = (workerId: string) => {
    const c = server.client(workerId);
    clients.push(c);
    return c;
  };
  const newType = async () => {
    const name = `Kit.Batch_${uid()}`;
    await admin.registerTaskType({ name, version: "1.0.0", paramSchema: schema });
    return name;
  };
  /** Creates tasks n = from .. from+count-1 and answers their ids in that order. */
  const createTasks = async (type: string, count: number, from = 0) => {
    const ids: number[] = [];
    for (let start = 0; start < count; start += 40) {
      const chunk = Array.from({ length: Math.min(40, count - start) }, (_, i) => admin.createTask(type, { n: from + start + i }));
      for (const t of await Promise.all(chunk)) ids.push(t.id);
    }
    return ids;
  };
  const task = async (id: number) => {
    const t = await admin.getTask(id);
    assert.ok(t, `task ${id} exists`);
    return t;
  };
  const statuses = async (ids: number[]) => Promise.all(ids.map(async (id) => (await task(id)).status));

  /**
   * A worker of its own type whose claims go under `workerId` (a client of
   * its own) while the outbox delivers through another client, whose worker
   * id is not the claimer's: only settles sent under `workerId` can succeed.
   */
  const setup = (
    type: string,
    handle: Handler,
    options: Partial<WorkerLoopOptions<Job>> & { maxClaims?: number; failClaim?: number } = {},
  ) => {
    const workerId = `claimer-${uid()}`;
    const claimer = client(workerId);
    const outbox: Outbox = options.outbox ?? new DirectOutbox({ client: client(`outbox-${uid()}`), logger: silent });
    const claimed: Job[] = [];
    let claimCalls = 0;
    const claim = async (signal: AbortSignal) => {
      claimCalls++;
      if (claimCalls === options.failClaim) throw new Error("claim: connection reset");
      if (options.maxClaims !== undefined && claimed.length >= options.maxClaims) return null;
      const t = await claimer.claimTask<{ n: number }>({ taskType: type, signal });
      if (t) claimed.push(t);
      return t;
    };
    const worker = new WorkerLoop<Job>({ name: "test", client: claimer, claim, handle, workerId, logger: silent, ...options, outbox });
    return { worker, workerId, outbox, claimed, claimCalls: () => claimCalls };
  };

  describe("drain()", () => {
    it("claims in batches of at most batchSize, hands each task to the handler once, and answers how many it handled", async () => {
      const type = await newType();
      const ids = await createTasks(type, 120);
      const batches: number[][] = [];
      const { worker } = setup(
        type,
        async (batch) => {
          batches.push(batch.map((t) => t.id));
          return batch.map((t) => ok(t));
        },
        { batchSize: 50 },
      );
      assert.equal(await worker.drain(), 120);
      assert.deepEqual(
        batches.map((b) => b.length),
        [50, 50, 20],
      );
      assert.deepEqual(batches.flat().sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
      assert.equal(worker.batches, 3);
      assert.deepEqual(new Set(await statuses(ids)), new Set(["completed"]));
      assert.equal(await worker.drain(), 0, "nothing is left");
    });

    it("uses batches of 50 by default", async () => {
      const type = await newType();
      await createTasks(type, 60);
      const sizes: number[] = [];
      const { worker } = setup(type, async (batch) => {
        sizes.push(batch.length);
        return batch.map((t) => ok(t));
      });
      assert.equal(await worker.drain(), 60);
      assert.deepEqual(sizes, [50, 10]);
    });

    it("settles each task as the handler says, and fails a task left out of the outcomes as retryable", async () => {
      const type = await newType();
      const [done, gone, later, leftOut] = await createTasks(type, 4);
      assert.ok(done && gone && later && leftOut);
      const { worker, workerId } = setup(
        type,
        async (batch) => {
          const out: Array<BatchOutcome<Job>> = [];
          for (const t of batch) {
            if (t.params.n === 0) out.push(ok(t, { summary: "done", n: 0 }));
            if (t.params.n === 1) out.push({ task: t, ok: false, error: "video removed", retryable: false });
            if (t.params.n === 2) out.push({ task: t, ok: false, error: "rate limited", retryable: true });
          }
          return out;
        },
        { maxClaims: 4 },
      );
      assert.equal(await worker.drain(), 4);

      const completed = await task(done);
      assert.equal(completed.status, "completed");
      assert.deepEqual(completed.result, { summary: "done", n: 0 });
      assert.equal(completed.claimedBy, workerId);

      const failed = await task(gone);
      assert.equal(failed.status, "failed", "a non-retryable failure is final");
      assert.equal(failed.errorMessage, "video removed");
      assert.equal(failed.attempts, 1);

      const retried = await task(later);
      assert.equal(retried.status, "pending", "a retryable failure goes back to pending");
      assert.equal(retried.errorMessage, "rate limited");

      const missing = await task(leftOut);
      assert.equal(missing.status, "pending", "a task left out is failed as retryable");
      assert.match(missing.errorMessage ?? "", /left out/);
    });

    it("logs one info line per batch (claimed, ok, failed, duration, what it spent) and each non-retryable failure at warn with task id and reason", async () => {
      const type = await newType();
      const ids = await createTasks(type, 5);
      const lines: Array<Record<string, unknown>> = [];
      const logger = createLogger({ service: "svc", destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
      let units = 0;
      const { worker } = setup(
        type,
        async (batch) => {
          units += 7;
          return batch.map((t) => (t.params.n % 2 === 1 ? { task: t, ok: false as const, error: `item ${t.params.n} was deleted`, retryable: false } : ok(t)));
        },
        { batchSize: 3, logger, spent: () => ({ quotaUnits: units }) },
      );
      assert.equal(await worker.drain(), 5);
      const batches = lines.filter((l) => l.msg === "batch done");
      assert.deepEqual(
        batches.map((l) => ({ level: l.level, loop: l.loop, claimed: l.claimed, ok: l.ok, failed: l.failed, quotaUnits: l.quotaUnits })),
        [
          { level: 30, loop: "test", claimed: 3, ok: 2, failed: 1, quotaUnits: 7 },
          { level: 30, loop: "test", claimed: 2, ok: 1, failed: 1, quotaUnits: 7 },
        ],
      );
      assert.ok(batches.every((l) => typeof l.durationMs === "number"));
      const gaveUp = lines.filter((l) => l.msg === "task failed for good (not retryable)");
      assert.deepEqual(
        gaveUp.map((l) => ({ level: l.level, taskId: l.taskId, taskType: l.taskType, reason: l.reason })),
        [
          { level: 40, taskId: ids[1], taskType: type, reason: "item 1 was deleted" },
          { level: 40, taskId: ids[3], taskType: type, reason: "item 3 was deleted" },
        ],
      );
    });

    it("fails the whole batch as retryable when the handler throws, storing its message", async () => {
      const type = await newType();
      const ids = await createTasks(type, 3);
      const { worker } = setup(
        type,
        async () => {
          throw new Error("YouTube API down");
        },
        { maxClaims: 3 },
      );
      assert.equal(await worker.drain(), 3, "a failed batch is handled, not thrown");
      for (const id of ids) {
        const t = await task(id);
        assert.equal(t.status, "pending");
        assert.equal(t.errorMessage, "YouTube API down");
        assert.equal(t.attempts, 1);
      }
    });

    it("does not claim again in the same run the tasks it just failed as retryable (their attempts are not spent at once)", async () => {
      const type = await newType();
      const ids = await createTasks(type, 3);
      let calls = 0;
      const { worker } = setup(type, async () => {
        calls++;
        throw new Error("YouTube API down");
      });
      await worker.drain();
      assert.equal(calls, 1, "the handler saw the batch once");
      for (const id of ids) {
        const t = await task(id);
        assert.equal(t.status, "pending", `task ${id} is left to be retried, not failed for good`);
        assert.equal(t.attempts, 1);
      }
    });

    it("handles and settles the tasks already claimed when a later claim of the batch fails", async () => {
      const type = await newType();
      await createTasks(type, 3);
      const handled: number[] = [];
      const { worker, claimed } = setup(
        type,
        async (batch) => {
          handled.push(...batch.map((t) => t.id));
          return batch.map((t) => ok(t));
        },
        { failClaim: 3 },
      );
      await worker.drain().catch(() => undefined);
      assert.ok(claimed.length >= 2);
      assert.deepEqual(
        [...handled].sort((a, b) => a - b),
        claimed.map((t) => t.id).sort((a, b) => a - b),
        "every claimed task reached the handler",
      );
      for (const t of claimed) assert.equal((await task(t.id)).status, "completed", `claimed task ${t.id} is settled, not stranded`);
    });

    it("counts claimed tasks and observes each task's handling time by type and outcome", async () => {
      const type = await newType();
      await createTasks(type, 3);
      const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
      const { worker } = setup(
        type,
        async (batch) => {
          await sleep(100);
          return batch.map((t) => (t.params.n === 2 ? { task: t, ok: false as const, error: "nope", retryable: false } : ok(t)));
        },
        { metrics },
      );
      assert.equal(await worker.drain(), 3);
      const claimedCount = (await metrics.tasksClaimed.get()).values.find((v) => v.labels.type === type)?.value;
      assert.equal(claimedCount, 3);
      const durations = (await metrics.taskDuration.get()).values;
      const count = (outcome: string, le?: number | "+Inf") => {
        const v = durations.find(
          (d) =>
            d.labels.type === type &&
            d.labels.outcome === outcome &&
            (le === undefined ? d.metricName === "prismq_task_duration_seconds_count" : d.metricName === "prismq_task_duration_seconds_bucket" && (d.labels as Record<string, unknown>).le === le),
        );
        assert.ok(v, `a ${outcome} ${le ?? "count"} series`);
        return v.value;
      };
      assert.equal(count("completed"), 2);
      assert.equal(count("failed"), 1);
      assert.equal(count("completed", 0.05), 0, "the handler's 100 ms are in the observed time");
      assert.equal(count("completed", "+Inf"), 2);
    });
  });

  describe("start() and stop()", () => {
    it("processes tasks created after the loop started", async () => {
      const type = await newType();
      const handled: number[] = [];
      const { worker, claimCalls } = setup(
        type,
        async (batch) => {
          handled.push(...batch.map((t) => t.id));
          return batch.map((t) => ok(t));
        },
        { idleMinMs: 20, idleMaxMs: 100 },
      );
      assert.equal(worker.start(), worker);
      try {
        await waitFor(() => claimCalls() >= 2, 5_000, "idle polls");
        const ids = await createTasks(type, 5);
        await waitFor(() => handled.length >= 5, 10_000, "the new tasks handled");
        await waitFor(async () => (await statuses(ids)).every((s) => s === "completed"), 5_000, "the new tasks completed");
        assert.deepEqual([...handled].sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
      } finally {
        await worker.stop();
      }
    });

    it("stop() waits for the batch in hand to be settled, then claims nothing more", async () => {
      const type = await newType();
      const ids = await createTasks(type, 3);
      let entered = false;
      let abortedInHandler: boolean | undefined;
      const { worker, claimCalls } = setup(
        type,
        async (batch, signal) => {
          entered = true;
          await sleep(300);
          abortedInHandler = signal.aborted;
          return batch.map((t) => ok(t));
        },
        { idleMinMs: 20, idleMaxMs: 50 },
      );
      worker.start();
      await waitFor(() => entered, 10_000, "the handler to start");
      await worker.stop();
      assert.equal(abortedInHandler, false, "stopping does not abort the handler");
      assert.deepEqual(await statuses(ids), ["completed", "completed", "completed"], "the batch in hand is settled when stop() resolves");
      const callsAtStop = claimCalls();
      const more = await createTasks(type, 3, 100);
      await sleep(300); // many idle polls' worth
      assert.equal(claimCalls(), callsAtStop, "no claim after stop()");
      assert.deepEqual(await statuses(more), ["pending", "pending", "pending"]);
      assert.equal(worker.batches, 1);
    });

    it("stop() lets a claim already in flight finish, and handles and settles its task instead of leaving it claimed", async () => {
      const type = await newType();
      const [id] = await createTasks(type, 1);
      const workerId = `claimer-${uid()}`;
      const claimer = client(workerId);
      let inFlight = false;
      const worker = new WorkerLoop<Job>({
        name: "test",
        client: claimer,
        workerId,
        logger: silent,
        outbox: new DirectOutbox({ client: claimer, logger: silent }),
        // The answer of this claim comes back only after stop() was called.
        claim: async (signal) => {
          inFlight = true;
          await sleep(300);
          return claimer.claimTask<{ n: number }>({ taskType: type, signal });
        },
        handle: async (batch) => batch.map((t) => ok(t)),
      }).start();
      await waitFor(() => inFlight, 5_000, "a claim in flight");
      await worker.stop();
      assert.deepEqual(await statuses([id as number]), ["completed"]);
    });

    it("stop() aborts a claim that is still in flight after claimGraceMs", async () => {
      let aborted = false;
      const worker = new WorkerLoop<Job>({
        name: "test",
        client: admin,
        workerId: "w",
        logger: silent,
        outbox: new DirectOutbox({ client: admin, logger: silent }),
        claimGraceMs: 100,
        claim: (signal) =>
          new Promise((_, reject) => {
            signal.addEventListener("abort", () => {
              aborted = true;
              reject(new Error("aborted"));
            });
          }),
        handle: async () => [],
      }).start();
      await sleep(50);
      const outcome = await Promise.race([worker.stop().then(() => "stopped"), sleep(5_000).then(() => "still waiting")]);
      assert.equal(outcome, "stopped");
      assert.equal(aborted, true);
    });

    it("stop() ends an idle wait at once", async () => {
      const type = await newType();
      const { worker, claimCalls } = setup(type, async (batch) => batch.map((t) => ok(t)), { idleMinMs: 20_000, idleMaxMs: 20_000 });
      worker.start();
      await waitFor(() => claimCalls() >= 1, 5_000, "a first poll");
      await sleep(50);
      const outcome = await Promise.race([worker.stop().then(() => "stopped"), sleep(5_000).then(() => "still waiting")]);
      assert.equal(outcome, "stopped");
    });

    it("backs off after a failed batch instead of claiming the same tasks again at once", async () => {
      const type = await newType();
      const ids = await createTasks(type, 2);
      let calls = 0;
      const { worker } = setup(
        type,
        async () => {
          calls++;
          throw new Error("YouTube API down");
        },
        { idleMinMs: 5_000, idleMaxMs: 5_000 },
      );
      worker.start();
      try {
        await waitFor(() => calls >= 1, 5_000, "the first batch");
        await waitFor(async () => (await statuses(ids)).every((s) => s !== "claimed"), 5_000, "the batch settled");
        await sleep(400);
      } finally {
        await worker.stop();
      }
      assert.equal(calls, 1, "the failed batch was not handed over again within 400 ms");
      for (const id of ids) {
        const t = await task(id);
        assert.equal(t.status, "pending", `task ${id} still has attempts left`);
        assert.equal(t.attempts, 1);
      }
    });
  });

  it("settles under the given workerId, not the outbox client's", async () => {
    const type = await newType();
    const ids = await createTasks(type, 2);
    const { worker, workerId } = setup(type, async (batch) => batch.map((t) => (t.params.n === 0 ? ok(t) : { task: t, ok: false as const, error: "bad", retryable: false })));
    assert.equal(await worker.drain(), 2);
    for (const id of ids) {
      const t = await task(id);
      assert.notEqual(t.status, "claimed", `task ${id} was settled`);
      assert.equal(t.claimedBy, workerId);
      const history = await admin.getTaskHistory(id);
      const settle = history.at(-1);
      assert.match(settle?.statusChange ?? "", /completed|failed/);
      assert.equal(settle?.workerId, workerId);
    }
  });

  it("sends settles through a QueuedOutbox: they arrive once the outbox is drained", async () => {
    const type = await newType();
    const ids = await createTasks(type, 3);
    const prefix = testPrefix();
    prefixes.push(prefix);
    const outbox = new QueuedOutbox({ client: client(`outbox-${uid()}`), logger: silent }, { connection: bullmqConnection(REDIS_URL), prefix, baseDelayMs: 50, maxDelayMs: 300 });
    try {
      const { worker, workerId } = setup(
        type,
        async (batch) => batch.map((t) => (t.params.n === 2 ? { task: t, ok: false as const, error: "removed", retryable: false } : ok(t, { queued: true }))),
        { outbox },
      );
      assert.equal(await worker.drain(), 3);
      await outbox.drained(15_000);
      const [a, b, c] = await Promise.all(ids.map(task));
      assert.equal(a?.status, "completed");
      assert.deepEqual(a?.result, { queued: true });
      assert.equal(b?.status, "completed");
      assert.equal(c?.status, "failed");
      assert.equal(c?.errorMessage, "removed");
      for (const t of [a, b, c]) assert.equal(t?.claimedBy, workerId);
      const jobs = await outbox.queue.getCompleted();
      assert.deepEqual(jobs.map((j) => j.name).sort(), ["complete", "complete", "fail"]);
      for (const j of jobs) assert.equal((j.data as { workerId: string }).workerId, workerId);
    } finally {
      await outbox.close();
    }
  });

  it("refuses a batchSize that is not a whole number >= 1", () => {
    const options: WorkerLoopOptions<Job> = {
      name: "bad",
      client: admin,
      claim: async () => null,
      handle: async () => [],
      outbox: new DirectOutbox({ client: admin }),
      workerId: "w",
    };
    for (const batchSize of [0, 1.5, -1, Number.NaN]) {
      assert.throws(() => new WorkerLoop({ ...options, batchSize }), (err: unknown) => err instanceof RangeError && /batchSize/.test(err.message), String(batchSize));
    }
    assert.ok(new WorkerLoop({ ...options, batchSize: 1 }));
  });
});
