// Claim renewal against our real server with a 1 s claim timeout: a batch that
// takes three times the claim timeout keeps every one of its claims, so no
// other worker gets its tasks, and each is completed once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ClaimedTask, TaskManagerClient } from "@prismq/taskmanager-client";
import { WorkerLoop } from "../src/index.js";
import { TestServer, silent, sleep, uid, waitFor } from "./helpers.js";

type Job = ClaimedTask<{ n: number }>;
const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" } }, additionalProperties: false };
const CLAIM_TIMEOUT_MS = 1_000;

describe("WorkerLoop claim renewal (server claim timeout 1 s)", () => {
  const server = new TestServer(CLAIM_TIMEOUT_MS / 1000);
  let admin: TaskManagerClient;
  let claimer: TaskManagerClient;
  let thief: TaskManagerClient;

  before(async () => {
    await server.start();
    admin = server.client("admin");
    claimer = server.client(`claimer-${uid()}`);
    thief = server.client(`thief-${uid()}`);
  });
  after(async () => {
    for (const c of [admin, claimer, thief]) await c.close();
    await server.destroy();
  });

  for (const batchClaim of [false, true]) {
    it(`a batch that runs 3x the claim timeout is completed once and never claimed by another worker (${batchClaim ? "one batch claim and settle" : "single claims"})`, { timeout: 30_000 }, async () => {
      const type = `Kit.Renewal_${uid()}`;
      await admin.registerTaskType({ name: type, version: "1.0.0", paramSchema: schema });
      const ids: number[] = [];
      for (let n = 0; n < 5; n++) ids.push((await admin.createTask(type, { n })).id);

      const handled: number[] = [];
      let done = false;
      const loop = new WorkerLoop<Job>({
        name: "renewal",
        client: claimer,
        workerId: claimer.workerId,
        ...(batchClaim ? { taskTypes: type } : { claim: (signal: AbortSignal) => claimer.claimTask<{ n: number }>({ taskType: type, signal }) }),
        claimTimeoutMs: CLAIM_TIMEOUT_MS,
        batchSize: 10,
        logger: silent,
        handle: async (batch) => {
          handled.push(...batch.map((t) => t.id));
          await sleep(3 * CLAIM_TIMEOUT_MS);
          done = true;
          return batch.map((task) => ({ task, ok: true as const, result: { n: task.params.n } }));
        },
      });
      const draining = loop.drain();

      await waitFor(() => handled.length > 0, 5_000, "the batch in hand");
      // Another worker tries to claim throughout the batch: every try must come back empty.
      let tries = 0;
      const stolen: number[] = [];
      while (!done) {
        const t = await thief.claimTask({ taskType: type });
        if (t) stolen.push(t.id);
        tries++;
        await sleep(100);
      }
      assert.equal(await draining, 5);
      assert.ok(tries >= 20, `another worker tried throughout the batch: ${tries} claims`);
      assert.deepEqual(stolen, [], "no task of the batch was claimed by another worker");
      assert.deepEqual([...handled].sort((a, b) => a - b), ids, "each task was handled once");
      for (const id of ids) {
        const t = await admin.getTask(id);
        assert.equal(t?.status, "completed");
        assert.equal(t?.attempts, 1, `task ${id} was claimed once`);
        assert.equal(t?.claimedBy, claimer.workerId);
        assert.deepEqual(
          (await admin.getTaskHistory(id)).map((h) => h.statusChange),
          ["created", "claimed", "completed"],
        );
      }
    });
  }
});
