import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NetworkError, ValidationError, type TaskManagerClient } from "@prismq/taskmanager-client";
import { DirectOutbox, QueuedOutbox, WorkerMetrics, bullmqConnection } from "../src/index.js";
import { REDIS_URL, TestServer, dropPrefix, silent, testPrefix, uid, waitFor } from "./helpers.js";

const connection = bullmqConnection(REDIS_URL);
const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" }, tag: { type: "string" } }, additionalProperties: false };

describe("Outbox", () => {
  const server = new TestServer();
  let admin: TaskManagerClient;
  const prefixes: string[] = [];

  before(async () => {
    await server.start();
    admin = server.client("admin");
  });
  after(async () => {
    await admin.close();
    await server.destroy();
    for (const p of prefixes) await dropPrefix(p);
  });

  const newType = async () => {
    const name = `Kit.Outbox_${uid()}`;
    await admin.registerTaskType({ name, version: "1.0.0", paramSchema: schema });
    return name;
  };
  const tasksOf = async (type: string) => {
    const all = [];
    for await (const t of admin.listTasks({ type })) all.push(t);
    return all;
  };
  const queued = (client: TaskManagerClient, metrics?: WorkerMetrics, extra: { maxDelayMs?: number; attempts?: number } = {}) => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    return new QueuedOutbox({ client, logger: silent, metrics }, { connection, prefix, baseDelayMs: 50, maxDelayMs: extra.maxDelayMs ?? 300, attempts: extra.attempts });
  };

  describe("direct mode", () => {
    it("creates at once and answers with the task; a repeat with keys in another order is the same task", async () => {
      const type = await newType();
      const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
      const outbox = new DirectOutbox({ client: admin, metrics });
      const a = await outbox.create(type, { n: 1, tag: "x" });
      const b = await outbox.create(type, { tag: "x", n: 1 });
      assert.ok(!a.queued && !b.queued);
      assert.equal(a.task.id, b.task.id);
      assert.equal(b.task.deduplicated, true);
      assert.equal(await outbox.depth(), 0);
      const text = await metrics.registry.metrics();
      assert.match(text, new RegExp(`prismq_tasks_created_total\\{type="${type}",service="svc"\\} 1`));
      assert.match(text, new RegExp(`prismq_tasks_deduplicated_total\\{type="${type}",service="svc"\\} 1`));
    });

    it("creates at the priority asked for, and at the server's 0 without one", async () => {
      const type = await newType();
      const outbox = new DirectOutbox({ client: admin });
      const high = await outbox.create(type, { n: 1 }, { priority: 7 });
      const low = await outbox.create(type, { n: 2 }, { priority: -10 });
      const none = await outbox.create(type, { n: 3 });
      assert.ok(!high.queued && !low.queued && !none.queued);
      assert.equal((await admin.getTask(high.task.id))?.priority, 7);
      assert.equal((await admin.getTask(low.task.id))?.priority, -10);
      assert.equal((await admin.getTask(none.task.id))?.priority, 0);
      await assert.rejects(outbox.create(type, { n: 4 }, { priority: 1.5 }), RangeError);
    });

    it("throws the client's error when the TaskManager refuses, and creates nothing", async () => {
      const type = await newType();
      const outbox = new DirectOutbox({ client: admin });
      await assert.rejects(outbox.create(type, { n: "one" }), ValidationError);
      assert.equal((await tasksOf(type)).length, 0);
    });

    it("completes and fails claimed tasks, and a repeated complete ends quietly", async () => {
      const type = await newType();
      const worker = server.client("direct-worker");
      const outbox = new DirectOutbox({ client: worker, logger: silent });
      await admin.createTask(type, { n: 1 });
      await admin.createTask(type, { n: 2 });
      const t1 = await worker.claimTask({ taskType: type });
      const t2 = await worker.claimTask({ taskType: type });
      assert.ok(t1 && t2);
      await outbox.complete(t1, { ok: true });
      await outbox.complete(t1, { ok: true });
      await outbox.fail(t2, "video removed", { retryable: false });
      assert.equal((await admin.getTask(t1.id))?.status, "completed");
      const failed = await admin.getTask(t2.id);
      assert.equal(failed?.status, "failed");
      assert.equal(failed?.errorMessage, "video removed");
      await worker.close();
    });
  });

  describe("queued mode (BullMQ on real Redis)", () => {
    it("holds creates while the TaskManager is stopped and delivers each exactly once when it is back", async () => {
      const type = await newType();
      const client = server.client("outbox-a", 500);
      const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
      const outbox = queued(client, metrics);
      await server.stop();
      for (let n = 0; n < 40; n++) assert.deepEqual(await outbox.create(type, { n }), { queued: true });
      await waitFor(async () => (await metrics.registry.getSingleMetricAsString("prismq_outbox_deliveries_total")).includes('outcome="retry"'), 10_000, "failed deliveries");
      assert.equal(await outbox.depth(), 40, "nothing delivered, nothing lost");
      await server.start();
      await outbox.drained(20_000);
      const tasks = await tasksOf(type);
      assert.equal(tasks.length, 40);
      assert.deepEqual(new Set(tasks.map((t) => t.status)), new Set(["pending"]));
      const text = await metrics.registry.metrics();
      assert.match(text, new RegExp(`prismq_tasks_created_total\\{type="${type}",service="svc"\\} 40`));
      assert.doesNotMatch(text, new RegExp(`prismq_tasks_deduplicated_total\\{type="${type}"`));
      assert.match(text, /prismq_outbox_deliveries_total\{kind="create",outcome="delivered",service="svc"\} 40/);
      await outbox.close();
      await client.close();
    });

    it("carries a create's priority through Redis to the stored task", async () => {
      const type = await newType();
      const client = server.client("outbox-p");
      const outbox = queued(client);
      await outbox.create(type, { n: 1 }, { priority: 25 });
      await outbox.create(type, { n: 2 });
      await outbox.drained(10_000);
      const byN = new Map((await Promise.all((await tasksOf(type)).map((t) => admin.getTask<{ n: number }>(t.id)))).map((t) => [t?.params.n, t?.priority]));
      assert.deepEqual([...byN].sort(), [[1, 25], [2, 0]]);
      await outbox.close();
      await client.close();
    });

    it("makes a create queued twice before delivery one job", async () => {
      const type = await newType();
      const client = server.client("outbox-b");
      const prefix = testPrefix();
      prefixes.push(prefix);
      const producer = new QueuedOutbox({ client }, { connection, prefix, deliver: false });
      await producer.create(type, { n: 7, tag: "a" });
      await producer.create(type, { tag: "a", n: 7 });
      await producer.create(type, { n: 8 });
      assert.equal(await producer.depth(), 2);
      const deliverer = new QueuedOutbox({ client, logger: silent }, { connection, prefix });
      await deliverer.drained(10_000);
      assert.equal((await tasksOf(type)).length, 2);
      await deliverer.close();
      await producer.close();
      await client.close();
    });

    it("keeps a create the TaskManager refuses as failed, without retrying it in vain", async () => {
      const type = await newType();
      const client = server.client("outbox-c");
      const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
      const outbox = queued(client, metrics);
      await outbox.create(type, { n: "not a number" });
      await outbox.create(`Kit.Missing_${uid()}`, { n: 1 });
      await outbox.create(type, { n: 1 });
      await outbox.drained(10_000);
      const failed = await outbox.queue.getFailed();
      assert.equal(failed.length, 2);
      for (const job of failed) assert.equal(job.attemptsMade, 1, `${job.failedReason} was tried once`);
      assert.match(failed.map((j) => j.failedReason).join("\n"), /Parameter validation failed/);
      assert.equal((await tasksOf(type)).length, 1);
      assert.match(await metrics.registry.metrics(), /prismq_outbox_deliveries_total\{kind="create",outcome="dropped",service="svc"\} 2/);
      await outbox.close();
      await client.close();
    });

    it("delivers completes and fails after an outage, under the claimer's worker id", async () => {
      const type = await newType();
      const claimer = server.client("claimer-1");
      await admin.createTask(type, { n: 1 });
      await admin.createTask(type, { n: 2 });
      const t1 = await claimer.claimTask({ taskType: type });
      const t2 = await claimer.claimTask({ taskType: type });
      assert.ok(t1 && t2);
      // Another process (its own client and worker id) delivers the outbox.
      const deliveryClient = server.client("outbox-process", 500);
      const outbox = queued(deliveryClient);
      await server.stop();
      await outbox.complete(t1, { summary: "done" }, { workerId: "claimer-1" });
      await outbox.fail(t2, "transient", { workerId: "claimer-1", retryable: true });
      await server.start();
      await outbox.drained(20_000);
      const done = await admin.getTask(t1.id);
      assert.equal(done?.status, "completed");
      assert.deepEqual(done?.result, { summary: "done" });
      assert.equal((await admin.getTask(t2.id))?.status, "pending", "a retryable failure returns the task to pending");
      await outbox.close();
      await deliveryClient.close();
      await claimer.close();
    });

    it("treats a settle whose claim was lost, or that was already applied, as delivered", async () => {
      const type = await newType();
      const w1 = server.client("w1");
      await admin.createTask(type, { n: 1 });
      const t = await w1.claimTask({ taskType: type });
      assert.ok(t);
      await w1.completeTask(t.id, { first: true });
      const outbox = queued(w1);
      // The same complete again (its first answer was "lost"), and a complete from a worker that never held the task.
      await outbox.complete(t, { first: true });
      await outbox.complete({ ...t, attempts: 9 }, { other: true }, { workerId: "w2" });
      await outbox.drained(10_000);
      assert.equal((await outbox.queue.getFailed()).length, 0);
      assert.deepEqual((await admin.getTask(t.id))?.result, { first: true });
      await outbox.close();
      await w1.close();
    });

    it("leaves undelivered messages in Redis at close, for the next process", async () => {
      const type = await newType();
      const client = server.client("outbox-d", 300);
      const prefix = testPrefix();
      prefixes.push(prefix);
      await server.stop();
      const first = new QueuedOutbox({ client, logger: silent }, { connection, prefix, baseDelayMs: 50, maxDelayMs: 200, closeDrainMs: 300 });
      for (let n = 0; n < 5; n++) await first.create(type, { n });
      await first.close();
      await server.start();
      const second = new QueuedOutbox({ client, logger: silent }, { connection, prefix, baseDelayMs: 50, maxDelayMs: 200 });
      await second.drained(15_000);
      assert.equal((await tasksOf(type)).length, 5);
      await second.close();
      await client.close();
    });
  });

  it("keeps delivering at close until the queue is empty, when the TaskManager answers again", async () => {
    const type = await newType();
    const client = server.client("outbox-e", 300);
    const prefix = testPrefix();
    prefixes.push(prefix);
    await server.stop();
    const outbox = new QueuedOutbox({ client, logger: silent }, { connection, prefix, baseDelayMs: 50, maxDelayMs: 200 });
    for (let n = 0; n < 5; n++) await outbox.create(type, { n });
    await server.start();
    await outbox.close();
    assert.equal((await tasksOf(type)).length, 5, "every queued create was delivered before the close ended");
    await client.close();
  });

  it("a NetworkError is what a stopped TaskManager gives (the outbox retries it)", async () => {
    const client = server.client("probe", 300);
    await server.stop();
    await assert.rejects(client.health(), NetworkError);
    await server.start();
    await client.close();
  });
});
