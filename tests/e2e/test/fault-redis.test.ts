import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { APPS, System, exec, freePort, sleep } from "./system.js";

/** A Redis of this test alone, persisting to an append-only file as a production Redis under BullMQ does. */
class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), "prismq-redis-"));
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "yes", "--pidfile", join(this.dir, "redis.pid"), "--logfile", join(this.dir, "redis.log")];
    assert.equal(await run("redis-server", args), 0, "redis-server starts");
    for (let i = 0; i < 100 && (await run("redis-cli", ["-p", String(this.port), "ping"])) !== 0; i++) await sleep(100);
  }
  /** SHUTDOWN: Redis writes its append-only file and exits, as on a restart. */
  async stop(): Promise<void> {
    await run("redis-cli", ["-p", String(this.port), "shutdown"]);
    for (let i = 0; i < 100 && (await run("redis-cli", ["-p", String(this.port), "ping"])) === 0; i++) await sleep(100);
  }
  async close(): Promise<void> {
    await run("redis-cli", ["-p", String(this.port), "shutdown", "nosave"]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const run = async (cmd: string, args: string[]) => (await exec(cmd, args)).code;

describe("fault: Redis is restarted in the middle of a run (hybrid mode)", () => {
  it("BullMQ reconnects: the schedules fire again, the outboxes deliver, nothing is lost", { timeout: 300_000 }, async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const sys = await System.start({ mode: "hybrid", redisUrl: redis.url, sandbox: { latencyMs: 100 }, every: "10s" });
    try {
      await sys.midRun();
      const ticks = async () => (await sys.metric("youtube-discovery", "prismq_schedule_runs_total")) + (await sys.metric("reddit-discovery", "prismq_schedule_runs_total"));
      const delivered = async () => {
        let n = 0;
        for (const app of APPS) n += await sys.metric(app, "prismq_outbox_deliveries_total", { outcome: "delivered" });
        return n;
      };
      await redis.stop();
      const before = { ticks: await ticks(), delivered: await delivered() };
      await sleep(5_000);
      await redis.start();

      await sys.settled(200_000);
      for (const app of APPS) assert.ok(sys.app(app).running, `${app} still runs\n${sys.app(app).current.slice(-2000)}`);
      assert.ok((await delivered()) > before.delivered, "the outboxes delivered after the restart");
      // Both schedules (every 10 s) fire again on the restarted Redis.
      await sys.until(async () => (await ticks()) >= before.ticks + 2, "the schedules to fire again after the restart", 30_000, 500);
      await sys.verify();
    } finally {
      await sys.close();
      await redis.close();
    }
  });
});
