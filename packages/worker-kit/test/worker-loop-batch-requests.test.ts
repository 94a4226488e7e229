import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MockAgent } from "undici";
import { TaskManagerClient, type ClaimedTask, type RequestTiming } from "@prismq/taskmanager-client";
import { WorkerLoop, type BatchOutcome, type WorkerLoopOptions } from "../src/index.js";
import { KEY, TestServer, silent, uid } from "./helpers.js";

type Job = ClaimedTask<{ n: number }>;
const ok = (task: Job): BatchOutcome<Job> => ({ task, ok: true, result: { n: task.params.n } });
const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" } } };

/** POSTs by route, as the client's `onRequest` saw them. */
function counter() {
  const seen: RequestTiming[] = [];
  return {
    onRequest: (r: RequestTiming) => seen.push(r),
    posts: (route: string) => seen.filter((r) => r.method === "POST" && r.route === route).length,
    reset: () => seen.splice(0),
  };
}

describe("WorkerLoop batches of 50 on our server: one claim request and one settle request each", () => {
  const server = new TestServer();
  let admin: TaskManagerClient;
  before(async () => {
    await server.start();
    admin = server.client("admin");
  });
  after(async () => {
    await admin.close();
    await server.destroy();
  });

  const newType = async (count: number) => {
    const type = `Kit.BatchRequests_${uid()}`;
    await admin.registerTaskType({ name: type, version: "1.0.0", paramSchema: schema });
    const ids: number[] = [];
    for (let n = 0; n < count; n++) ids.push((await admin.createTask(type, { n })).id);
    return { type, ids };
  };

  const cases: Array<[string, (client: TaskManagerClient, type: string) => Partial<WorkerLoopOptions<Job>>]> = [
    ["taskTypes", (_client, type) => ({ taskTypes: type })],
    ["claimBatch", (client, type) => ({ claimBatch: (limit, signal) => client.claimTasks<{ n: number }>({ taskType: type, limit, signal, workerId: client.workerId }) })],
  ];
  for (const [name, claimWith] of cases) {
    it(`claims with ${name}: 100 tasks in 2 batches of 50, each one claim and one settle request; every task completed once`, async () => {
      const { type, ids } = await newType(100);
      const requests = counter();
      const client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: `wk-${uid()}`, retry: false, onRequest: requests.onRequest });
      try {
        const sizes: number[] = [];
        const loop = new WorkerLoop<Job>({
          name: "batch-requests",
          client,
          workerId: client.workerId,
          logger: silent,
          batchSize: 50,
          handle: async (batch) => {
            sizes.push(batch.length);
            return batch.map(ok);
          },
          ...claimWith(client, type),
        });
        assert.equal(await loop.drain(), 100);
        assert.deepEqual(sizes, [50, 50]);
        // Two full batches, then the claim that finds none left.
        assert.equal(requests.posts("/tasks/claim"), 3);
        assert.equal(requests.posts("/tasks/settle"), 2);
        assert.equal(requests.posts("/tasks/:id/complete"), 0);
        for (const id of ids) {
          const t = await admin.getTask(id);
          assert.equal(t?.status, "completed");
          assert.equal(t?.attempts, 1);
          assert.equal(t?.claimedBy, client.workerId);
        }
      } finally {
        await client.close();
      }
    });
  }

  it("a batch's completes and fails (one retried, one for good) go in one settle request; a lone settle uses the single call", async () => {
    const { type, ids } = await newType(3);
    const requests = counter();
    const client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: `wk-${uid()}`, retry: false, onRequest: requests.onRequest });
    try {
      const loop = new WorkerLoop<Job>({
        name: "batch-requests",
        client,
        taskTypes: type,
        logger: silent,
        // n = 1 fails once (retryable), n = 2 fails for good, the rest complete.
        handle: async (batch) =>
          batch.map((task): BatchOutcome<Job> => {
            if (task.params.n === 1 && task.attempts === 1) return { task, ok: false, error: "flaky", retryable: true };
            if (task.params.n === 2) return { task, ok: false, error: "bad", retryable: false };
            return ok(task);
          }),
      });
      assert.equal(await loop.drain(), 4, "3 tasks, then the retried one");
      assert.equal(requests.posts("/tasks/settle"), 1, "the first batch of 3 settled in one request");
      assert.equal(requests.posts("/tasks/:id/complete"), 1, "the retried task, alone in its batch, with the single call");
      const [a, b, c] = await Promise.all(ids.map((id) => admin.getTask(id)));
      assert.equal(a?.status, "completed");
      assert.equal(b?.status, "completed");
      assert.equal(b?.attempts, 2);
      assert.deepEqual((await admin.getTaskHistory(b?.id as number)).map((h) => h.statusChange), ["created", "claimed", "pending (retry)", "claimed", "completed"]);
      assert.equal(c?.status, "failed");
      assert.equal(c?.errorMessage, "bad");
    } finally {
      await client.close();
    }
  });
});

describe("WorkerLoop on the hosted service (no capabilities): single claims and settles", () => {
  it("claims one at a time without a limit and completes each task with its own request", async () => {
    const agent = new MockAgent({ enableCallHistory: true });
    agent.disableNetConnect();
    const pool = agent.get("https://hosted.example");
    const ok200 = (data: unknown) => ({ success: true, message: "Success", data, timestamp: 1_760_000_000 });
    const json = { headers: { "content-type": "application/json" } };
    pool.intercept({ path: "/api/health", method: "GET" }).reply(200, ok200({ status: "healthy", timestamp: 1_760_000_000, database: "connected" }), json);
    pool
      .intercept({ path: "/api/task-types/Kit.Hosted", method: "GET" })
      .reply(200, ok200({ items: [{ id: "4", name: "Kit.Hosted", version: "1.0.0", param_schema: schema, is_active: 1 }], count: 1 }), json);
    for (const id of ["31", "32", "33"]) {
      pool
        .intercept({ path: "/api/tasks/claim", method: "POST" })
        .reply(200, ok200({ id, type: "Kit.Hosted", params: `{"n":${id}}`, attempts: "1", priority: "0", message: "Task claimed successfully" }), json);
      pool.intercept({ path: `/api/tasks/${id}/complete`, method: "POST" }).reply(200, ok200({ id, status: "completed", message: "Task completed successfully" }), json);
    }
    pool.intercept({ path: "/api/tasks/claim", method: "POST" }).reply(500, { success: false, error: "There is no active transaction", timestamp: 1_760_000_000 }, json).times(2);
    const client = new TaskManagerClient({ baseUrl: "https://hosted.example/api", apiKey: "k", workerId: "hosted-worker", dispatcher: agent, retry: false });
    try {
      const handled: number[] = [];
      const loop = new WorkerLoop<Job>({
        name: "hosted",
        client,
        taskTypes: "Kit.Hosted",
        logger: silent,
        batchSize: 50,
        handle: async (batch) => {
          handled.push(...batch.map((t) => t.id));
          return batch.map(ok);
        },
      });
      assert.equal(await loop.drain(), 3);
      assert.deepEqual(handled, [31, 32, 33]);
      const calls = agent.getCallHistory()?.calls() ?? [];
      const claims = calls.filter((c) => c.path === "/api/tasks/claim");
      assert.equal(claims.length, 5, "3 tasks, then none left twice (the batch's end, then drain's)");
      for (const c of claims) assert.equal((JSON.parse(String(c.body)) as Record<string, unknown>).limit, undefined, "the hosted service never receives a limit");
      assert.equal(calls.filter((c) => c.path === "/api/tasks/settle").length, 0, "the hosted service never receives a batch settle");
      assert.equal(calls.filter((c) => /^\/api\/tasks\/\d+\/complete$/.test(c.path)).length, 3);
      agent.assertNoPendingInterceptors();
    } finally {
      await client.close();
      await agent.close();
    }
  });
});
