import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APPS, System, sleep } from "./system.js";

const OUTAGE_MS = 30_000;

for (const mode of ["hybrid", "direct"] as const) {
  describe(`fault: the TaskManager is stopped for 30 s in the middle of a run, ${mode} mode`, () => {
    const after = mode === "hybrid" ? "the outboxes deliver every create and completion afterwards" : "the apps back off and recover";
    it(`keeps every app running, ${after}, and loses nothing`, { timeout: 300_000 }, async () => {
      // Claims held across the outage in direct mode come back after 10 s; completions lost with the server are redone.
      const sys = await System.start({ mode, sandbox: { latencyMs: 100 }, serverEnv: { CLAIM_TIMEOUT_SECONDS: "10" } });
      try {
        await sys.midRun();
        const stop = await sys.server.stop("SIGTERM");
        assert.equal(stop.code, 0, "the server stops gracefully");

        let queued = 0;
        const outageEnd = Date.now() + OUTAGE_MS;
        while (Date.now() < outageEnd) {
          for (const app of APPS) queued = Math.max(queued, await sys.metric(app, "prismq_outbox_depth"));
          await sleep(1_000);
        }
        for (const app of APPS) assert.ok(sys.app(app).running, `${app} still runs after the outage\n${sys.app(app).current.slice(-2000)}`);
        if (mode === "hybrid") assert.ok(queued > 0, "creates and completions waited in the outbox during the outage");

        await sys.startServer();
        await sys.settled(200_000);
        await sys.verify();
        if (mode === "hybrid") {
          let delivered = 0;
          for (const app of APPS) delivered += await sys.metric(app, "prismq_outbox_deliveries_total", { outcome: "delivered" });
          assert.ok(delivered > 0, "the outboxes delivered after the outage");
        }
      } finally {
        await sys.close();
      }
    });
  });
}
