import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Reddit, YouTube } from "@prismq/task-types";
import { APPS, System } from "./system.js";

const SHUTDOWN_TIMEOUT_MS = 10_000;

for (const mode of ["hybrid", "direct"] as const) {
  describe(`fault: every app gets SIGTERM in the middle of a run, ${mode} mode`, () => {
    it(`each exits 0 within its ${SHUTDOWN_TIMEOUT_MS / 1000} s deadline and leaves no task claimed; started again, they finish the work`, { timeout: 240_000 }, async () => {
      const sys = await System.start({ mode, sandbox: { latencyMs: 300 }, appEnv: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } });
      try {
        // Mid-batch: both processors hold claimed tasks.
        await sys.until(async () => {
          const claimed = (await sys.tasks()).filter((t) => t.status === "claimed");
          return claimed.some((t) => t.type === YouTube.Video.name) && claimed.some((t) => t.type === Reddit.Post.name);
        }, "both processors to hold claimed tasks", 60_000, 50);
        const stops = await Promise.all(APPS.map((app) => sys.app(app).stop("SIGTERM", SHUTDOWN_TIMEOUT_MS + 5_000)));
        for (const [i, app] of APPS.entries()) {
          const { code, ms } = stops[i] as { code: number | null; ms: number };
          assert.equal(code, 0, `${app} stopped gracefully, before its deadline (took ${ms} ms)\n${sys.app(app).current.slice(-2000)}`);
        }
        const left = (await sys.tasks()).filter((t) => t.status === "claimed");
        assert.deepEqual(left.map((t) => `${t.type} ${t.id} by ${t.claimedBy}`), [], "no task left claimed");

        for (const app of APPS) await sys.startApp(app);
        await sys.settled(180_000);
        await sys.verify();
      } finally {
        await sys.close();
      }
    });
  });
}
