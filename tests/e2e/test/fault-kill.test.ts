import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Reddit, YouTube } from "@prismq/task-types";
import { System, type App } from "./system.js";

const CLAIM_TIMEOUT_SECONDS = 8;

describe("fault: both processors are killed with SIGKILL in the middle of a batch", () => {
  it(`their claimed tasks come back after the claim timeout (${CLAIM_TIMEOUT_SECONDS} s) and are processed once, by another worker`, { timeout: 240_000 }, async () => {
    const sys = await System.start({ mode: "hybrid", sandbox: { latencyMs: 300 }, serverEnv: { CLAIM_TIMEOUT_SECONDS: String(CLAIM_TIMEOUT_SECONDS) } });
    try {
      const held = new Map<App, number[]>();
      const victims: Array<[App, string]> = [
        ["youtube-processor", YouTube.Video.name],
        ["reddit-processor", Reddit.Post.name],
      ];
      // Wait until each processor holds claimed tasks of its type, then kill it at once.
      for (const [app, type] of victims) {
        const claimedByApp = async () => (await sys.tasks()).filter((t) => t.type === type && t.status === "claimed" && t.claimedBy?.startsWith(`${app}-`)).map((t) => t.id);
        await sys.until(async () => (await claimedByApp()).length > 0, `${app} to hold claimed tasks`, 60_000, 50);
        await sys.app(app).stop("SIGKILL");
        // Read after the kill: a task the processor settled between the read above and the signal is not held.
        const mine = await claimedByApp();
        assert.ok(mine.length > 0, `${app} held claimed tasks when it was killed`);
        held.set(app, mine);
      }
      // The killed processors' claims are still held: nobody settles them until the claim times out.
      for (const ids of held.values()) for (const id of ids) assert.equal((await sys.client.getTask(id))?.status, "claimed", `task ${id} stays claimed`);

      // A supervisor restarts them, as it would in any deployment.
      for (const [app] of victims) await sys.startApp(app);
      await sys.settled(180_000);
      await sys.verify();

      for (const [app, ids] of held) {
        for (const id of ids) {
          // verify() has checked that a failed task failed only because its item does not exist.
          const task = await sys.client.getTask(id);
          assert.ok(task?.status === "completed" || task?.status === "failed", `task ${id} held by the killed ${app} settled`);
          const history = await sys.client.getTaskHistory(id);
          const claims = history.filter((h) => h.statusChange === "claimed");
          assert.ok(claims.length >= 2, `task ${id} was claimed again after the kill`);
          assert.notEqual(claims.at(-1)?.workerId, claims[0]?.workerId, `task ${id}: another worker took it over`);
          assert.equal(history.filter((h) => h.statusChange === "completed" || h.statusChange === "failed").length, 1, `task ${id} settled once`);
        }
      }
    } finally {
      await sys.close();
    }
  });
});
