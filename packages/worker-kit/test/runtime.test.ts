import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { DirectOutbox, LocalBudget, QueuedOutbox, RedisBudget, Runtime, redisReachable } from "../src/index.js";
import { REDIS_URL, TestServer, dropPrefix, testPrefix, uid, waitFor } from "./helpers.js";

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { lines, logger };
}

describe("Runtime", () => {
  const server = new TestServer();
  let client: TaskManagerClient;
  const prefix = testPrefix();
  before(async () => {
    await server.start();
    client = server.client("runtime");
  });
  after(async () => {
    await client.close();
    await server.destroy();
    await dropPrefix(prefix);
  });

  it("runs in hybrid mode when given a Redis URL: queued outbox, shared budgets, BullMQ schedules; says so once", async () => {
    const { lines, logger } = captured();
    const rt = new Runtime({ service: `svc-${uid()}`, client, logger, redisUrl: "redis://:s3cret@127.0.0.1:6379", prefix });
    assert.equal(rt.mode, "hybrid");
    assert.ok(rt.outbox instanceof QueuedOutbox);
    assert.ok(rt.budget({ name: "yt", limit: 10, window: { kind: "fixed", ms: 60_000 } }) instanceof RedisBudget);
    const ticks: string[] = [];
    await rt.startSchedules([{ id: "s", everyMs: 200 }], async (id) => void ticks.push(id));
    await waitFor(() => ticks.length >= 2, 5_000, "two ticks");
    await rt.close();
    const modeLines = lines.filter((l) => /mode/.test(String(l.msg)));
    assert.equal(modeLines.length, 1);
    assert.match(String(modeLines[0]?.msg), /^hybrid mode/);
    assert.doesNotMatch(JSON.stringify(lines), /s3cret/, "the Redis password is not logged");
  });

  it("runs in direct mode without a Redis URL: direct outbox, per-process budgets, timers; says so once", async () => {
    const { lines, logger } = captured();
    const rt = new Runtime({ service: "svc", client, logger });
    assert.equal(rt.mode, "direct");
    assert.equal(rt.redis, undefined);
    assert.ok(rt.outbox instanceof DirectOutbox);
    assert.ok(rt.budget({ name: "yt", limit: 10, window: { kind: "fixed", ms: 60_000 } }) instanceof LocalBudget);
    let n = 0;
    await rt.startSchedules([{ id: "s", everyMs: 100 }], async () => void n++);
    await waitFor(() => n >= 2, 5_000, "two ticks");
    await rt.close();
    const seen = n;
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(n, seen, "closing the runtime stops its schedules");
    assert.deepEqual(
      lines.filter((l) => /mode/.test(String(l.msg))).map((l) => String(l.msg).split(":")[0]),
      ["direct mode"],
    );
  });

  it("tells whether Redis is reachable, without throwing", async () => {
    assert.equal(await redisReachable(REDIS_URL), true);
    assert.equal(await redisReachable("redis://127.0.0.1:1", 300), false);
  });
});
