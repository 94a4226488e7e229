import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Queue } from "bullmq";
import { Schedules, WorkerMetrics, checkSchedule, bullmqConnection, type ScheduleSpec } from "../src/index.js";
import { REDIS_URL, dropPrefix, silent, sleep, testPrefix, uid, waitFor } from "./helpers.js";

const connection = bullmqConnection(REDIS_URL);
const prefixes: string[] = [];
after(async () => {
  for (const p of prefixes) await dropPrefix(p);
});

describe("Schedules in hybrid mode (BullMQ job schedulers on real Redis)", () => {
  it("runs each tick once across three replicas of an app", async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const name = `app-${uid()}`;
    const ticks: Array<{ replica: number; id: string; firedAt: number; tickId: string }> = [];
    const specs: ScheduleSpec[] = [{ id: "every-300", everyMs: 300 }];
    const replicas = [0, 1, 2].map(
      (replica) =>
        new Schedules(specs, {
          name,
          logger: silent,
          bullmq: { connection, prefix },
          handler: async (id, { firedAt, tickId }) => {
            ticks.push({ replica, id, firedAt, tickId });
            await sleep(20);
          },
        }),
    );
    await Promise.all(replicas.map((r) => r.start()));
    await sleep(2_000);
    await Promise.all(replicas.map((r) => r.close()));
    const ids = ticks.map((t) => t.tickId);
    assert.equal(new Set(ids).size, ids.length, "no tick ran twice");
    // ~2 s at one tick per 300 ms: one immediate tick and about six more, whichever replica got them
    // (a loaded machine may run fewer; never more).
    assert.ok(ticks.length >= 3 && ticks.length <= 8, `ran ${ticks.length} ticks`);
    // Each tick's id carries the time it was scheduled for: consecutive ticks are one interval apart, never closer.
    const planned = ids.map((id) => Number(id.split(":").pop())).sort((a, b) => a - b);
    for (let i = 1; i < planned.length; i++) {
      const gap = (planned[i] as number) - (planned[i - 1] as number);
      assert.ok(gap >= 300 && gap % 300 === 0, `ticks planned ${gap} ms apart`);
    }
  });

  it("removes schedulers that are no longer configured, and updates changed ones", async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const name = `app-${uid()}`;
    const first = new Schedules(
      [
        { id: "keep", everyMs: 60_000 },
        { id: "drop", everyMs: 60_000 },
      ],
      { name, logger: silent, bullmq: { connection, prefix }, handler: async () => {} },
    );
    await first.start();
    await first.close();
    const second = new Schedules([{ id: "keep", pattern: "*/5 * * * *", timeZone: "America/Los_Angeles" }], {
      name,
      logger: silent,
      bullmq: { connection, prefix },
      handler: async () => {},
    });
    await second.start();
    await second.close();
    const q = new Queue(`schedules-${name}`, { connection, prefix });
    const left = await q.getJobSchedulers();
    await q.close();
    assert.deepEqual(
      left.map((s) => [s.key, s.pattern, s.tz]),
      [["keep", "*/5 * * * *", "America/Los_Angeles"]],
    );
  });

  it("counts ticks and failed ticks in the metrics, and a failed tick does not stop the schedule", async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
    let n = 0;
    const s = new Schedules([{ id: "flaky", everyMs: 200 }], {
      name: `app-${uid()}`,
      logger: silent,
      metrics,
      bullmq: { connection, prefix },
      handler: async () => {
        n++;
        if (n === 1) throw new Error("source down");
      },
    });
    await s.start();
    await waitFor(() => n >= 3, 5_000, "three ticks");
    await s.close();
    const text = await metrics.registry.metrics();
    assert.match(text, /prismq_schedule_runs_total\{schedule="flaky",outcome="error",service="svc"\} 1/);
    assert.match(text, /prismq_schedule_runs_total\{schedule="flaky",outcome="ok",service="svc"\} [2-9]/);
  });
});

describe("Schedules in direct mode (timers)", () => {
  it("fires at once, then every interval, and never overlaps a slow tick", async () => {
    let active = 0;
    let maxActive = 0;
    const starts: number[] = [];
    const s = new Schedules([{ id: "slow", everyMs: 100 }], {
      name: "direct",
      logger: silent,
      handler: async () => {
        starts.push(Date.now());
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(150);
        active--;
      },
    });
    const t0 = Date.now();
    await s.start();
    await waitFor(() => starts.length >= 3, 5_000, "three ticks");
    await s.close();
    assert.equal(active, 0, "close waits for the tick in flight");
    assert.equal(maxActive, 1);
    assert.ok((starts[0] as number) - t0 < 500, "the first tick comes at once");
    assert.ok((starts[1] as number) - (starts[0] as number) >= 240, "the next tick waits for the slow one, then the interval");
    const after = starts.length;
    await sleep(300);
    assert.equal(starts.length, after, "no tick after close");
  });

  it("fires on a cron pattern", async () => {
    let n = 0;
    // Six fields: every second.
    const s = new Schedules([{ id: "cron", pattern: "* * * * * *" }], { name: "direct", logger: silent, handler: async () => void n++ });
    await s.start();
    await waitFor(() => n >= 2, 4_000, "two cron ticks");
    await s.close();
  });
});

describe("schedule specs", () => {
  it("refuses bad specs with a message naming the problem", () => {
    assert.throws(() => checkSchedule({ id: "x" }), /exactly one of everyMs or pattern/);
    assert.throws(() => checkSchedule({ id: "x", everyMs: 10, pattern: "* * * * *" }), /exactly one/);
    assert.throws(() => checkSchedule({ id: "x", everyMs: 50 }), /everyMs must be a whole number >= 100/);
    assert.throws(() => checkSchedule({ id: "x", pattern: "61 * * * *" }), /bad cron pattern "61 \* \* \* \*"/);
    assert.throws(() => checkSchedule({ id: "bad id!", everyMs: 1000 }), /schedule id/);
    assert.throws(() => checkSchedule({ id: "x", pattern: "0 * * * *", timeZone: "Mars/Olympus_Mons" }), /schedule x: unknown time zone "Mars\/Olympus_Mons"/);
    assert.throws(() => new Schedules([{ id: "a", everyMs: 1000 }, { id: "a", everyMs: 2000 }], { name: "n", handler: async () => {} }), /used twice/);
    assert.deepEqual(checkSchedule({ id: "channel:@sandbox", everyMs: 1000 }), { id: "channel:@sandbox", everyMs: 1000 });
  });
});
