import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { LocalBudget, RedisBudget, WorkerMetrics, windowAt, type Budget, type BudgetWindow } from "../src/index.js";
import { REDIS_URL, dropPrefix, testPrefix, uid } from "./helpers.js";

const PACIFIC: BudgetWindow = { kind: "daily", timeZone: "America/Los_Angeles" };
const at = (iso: string) => Date.parse(iso);

describe("budget windows", () => {
  it("a daily Pacific window resets at local midnight, 08:00 UTC in winter", () => {
    assert.deepEqual(windowAt(PACIFIC, at("2026-11-28T10:00:00Z")), { id: "2026-11-28", resetAt: at("2026-11-29T08:00:00Z") });
    assert.deepEqual(windowAt(PACIFIC, at("2026-11-28T07:59:59Z")), { id: "2026-11-27", resetAt: at("2026-11-28T08:00:00Z") });
  });
  it("a daily Pacific window follows daylight saving: 07:00 UTC in summer, and the switch days", () => {
    assert.deepEqual(windowAt(PACIFIC, at("2026-07-01T06:59:00Z")), { id: "2026-06-30", resetAt: at("2026-07-01T07:00:00Z") });
    // Spring forward on 2026-03-08: that day's midnight is still PST, the next one PDT.
    assert.deepEqual(windowAt(PACIFIC, at("2026-03-08T09:00:00Z")), { id: "2026-03-08", resetAt: at("2026-03-09T07:00:00Z") });
    // Fall back on 2026-11-01.
    assert.deepEqual(windowAt(PACIFIC, at("2026-11-01T08:00:00Z")), { id: "2026-11-01", resetAt: at("2026-11-02T08:00:00Z") });
  });
  it("fixed windows are consecutive spans since the epoch", () => {
    assert.deepEqual(windowAt({ kind: "fixed", ms: 60_000 }, 120_000), { id: "60000-2", resetAt: 180_000 });
    assert.deepEqual(windowAt({ kind: "fixed", ms: 60_000 }, 179_999), { id: "60000-2", resetAt: 180_000 });
  });
});

/** The same behaviour on both kinds of budget, with a movable clock. */
function behaves(kind: string, make: (name: string, limit: number, window: BudgetWindow, now: () => number, metrics?: WorkerMetrics) => Budget) {
  describe(`${kind}: spending`, () => {
    it("spends while units fit, refuses what does not fit without spending it", async () => {
      let now = at("2026-11-28T12:00:00Z");
      const b = make(`b-${uid()}`, 10, PACIFIC, () => now);
      assert.equal((await b.trySpend(4)).ok, true);
      const r = await b.trySpend(5);
      assert.deepEqual(r, { ok: true, spent: 9, remaining: 1, resetAt: at("2026-11-29T08:00:00Z") });
      assert.equal((await b.trySpend(2)).ok, false);
      assert.equal((await b.state()).spent, 9, "a refused spend spends nothing");
      assert.equal((await b.trySpend(1)).ok, true);
      assert.equal((await b.trySpend(1)).ok, false);
      now = at("2026-11-29T08:00:00Z");
      assert.deepEqual(await b.state(), { spent: 0, remaining: 10, resetAt: at("2026-11-30T08:00:00Z") }, "the next day starts full");
      assert.equal((await b.trySpend(10)).ok, true);
    });
    it("exhaust() uses up the window (the API said the quota is spent) until it resets", async () => {
      let now = 1_000_000;
      const b = make(`b-${uid()}`, 100, { kind: "fixed", ms: 60_000 }, () => now);
      await b.trySpend(3);
      assert.deepEqual(await b.exhaust(), { spent: 100, remaining: 0, resetAt: 1_020_000 });
      assert.equal((await b.trySpend(1)).ok, false);
      now = 1_020_000;
      assert.equal((await b.trySpend(1)).ok, true);
    });
    it("reports remaining units and refusals in the metrics", async () => {
      const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
      const name = `b-${uid()}`;
      const b = make(name, 5, { kind: "fixed", ms: 60_000 }, () => 0, metrics);
      await b.trySpend(2);
      await b.trySpend(9);
      const text = await metrics.registry.metrics();
      assert.match(text, new RegExp(`prismq_budget_remaining\\{budget="${name}",service="svc"\\} 3`));
      assert.match(text, new RegExp(`prismq_budget_exhausted_total\\{budget="${name}",service="svc"\\} 1`));
    });
    it("rejects bad units, names, limits and windows with a clear error", async () => {
      const b = make(`b-${uid()}`, 5, { kind: "fixed", ms: 60_000 }, () => 0);
      await assert.rejects(b.trySpend(0), /units must be a whole number >= 1/);
      await assert.rejects(b.trySpend(1.5), /units must be a whole number >= 1/);
      assert.throws(() => make("bad name!", 5, PACIFIC, () => 0), /budget name/);
      assert.throws(() => make("x", -1, PACIFIC, () => 0), /budget limit/);
      assert.throws(() => make("x", 5, { kind: "fixed", ms: 10 }, () => 0), /at least 1000 ms/);
      assert.throws(() => make("x", 5, { kind: "daily", timeZone: "Mars/Olympus" }, () => 0), RangeError);
      assert.equal((await b.state()).spent, 0);
    });
  });
}

behaves("LocalBudget", (name, limit, window, now, metrics) => new LocalBudget({ name, limit, window, now, metrics }));

const redis = new Redis(REDIS_URL);
const prefix = testPrefix();
after(async () => {
  await dropPrefix(prefix);
  await redis.quit();
});
behaves("RedisBudget", (name, limit, window, now, metrics) => new RedisBudget(redis, prefix, { name, limit, window, now, metrics }));

describe("RedisBudget across processes", () => {
  it("is never overspent by concurrent processes: 4 processes racing for 150 units get exactly 150", async () => {
    const name = `race-${uid()}`;
    const runs = Array.from({ length: 4 }, () =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/budget-spender.ts", REDIS_URL, prefix, name, "150"], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("exit", (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`spender exited ${code}`))));
      }),
    );
    const got = await Promise.all(runs);
    assert.equal(got.reduce((a, b) => a + b, 0), 150, `each got ${got.join(", ")}`);
    const shared = new RedisBudget(redis, prefix, { name, limit: 150, window: { kind: "fixed", ms: 3_600_000 } });
    assert.equal((await shared.state()).spent, 150);
  });

  it("shares one window between budgets of the same name and prefix, and keeps names apart", async () => {
    const name = `shared-${uid()}`;
    const window: BudgetWindow = { kind: "fixed", ms: 60_000 };
    const a = new RedisBudget(redis, prefix, { name, limit: 10, window });
    const b = new RedisBudget(redis, prefix, { name, limit: 10, window });
    const other = new RedisBudget(redis, prefix, { name: `${name}-other`, limit: 10, window });
    await a.trySpend(7);
    assert.equal((await b.trySpend(4)).ok, false);
    assert.equal((await b.trySpend(3)).ok, true);
    assert.equal((await other.trySpend(10)).ok, true);
  });

  it("lets its Redis key expire shortly after the window ends", async () => {
    const name = `ttl-${uid()}`;
    const b = new RedisBudget(redis, prefix, { name, limit: 10, window: { kind: "fixed", ms: 60_000 } });
    await b.trySpend(1);
    const [key] = await redis.keys(`${prefix}:budget:${name}:*`);
    assert.ok(key);
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 120_000, `ttl ${ttl}`);
  });
});
