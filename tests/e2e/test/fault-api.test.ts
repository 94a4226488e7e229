import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { System } from "./system.js";

describe("fault: the APIs answer 20% of calls with a 503 and every answer takes 200 ms", () => {
  it("completes everything, stores every expected idea once, and counts the retries in the metrics", { timeout: 240_000 }, async () => {
    const sys = await System.start({ mode: "hybrid", sandbox: { latencyMs: 200, errorRate: 0.2 } });
    try {
      await sys.settled(200_000);
      const retries = { youtube: 0, reddit: 0 };
      for (const app of sys.apps.keys()) {
        retries.youtube += await sys.metric(app, "prismq_api_calls_total", { api: "youtube", outcome: "retry" });
        retries.reddit += await sys.metric(app, "prismq_api_calls_total", { api: "reddit", outcome: "retry" });
      }
      assert.ok(retries.youtube > 0 && retries.reddit > 0, `retries counted: ${JSON.stringify(retries)}`);
      await sys.verify();
    } finally {
      await sys.close();
    }
  });
});
