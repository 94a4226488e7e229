// What an operator sees of youtube-processor: start-up against missing or
// refusing dependencies, readiness, the per-batch log lines, --help and the
// README's table of variables.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startYouTubeSandbox, type YouTubeSandbox } from "@prismq/sandbox";
import { startServer } from "@prismq/taskmanager-server";
import { registerAll, YouTube } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { freePort, itDocumentsItsVariables, startAppProcess, until, type AppProcess } from "@prismq/worker-kit/testing";
import { shape } from "../src/config.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Redis of this test alone, to stop and start again. */
class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), "ytp-redis-"));
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  private cli(...args: string[]): number {
    return spawnSync("redis-cli", ["-p", String(this.port), ...args], { stdio: "ignore" }).status ?? -1;
  }
  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile", join(this.dir, "redis.pid")];
    assert.equal(spawnSync("redis-server", args, { stdio: "ignore" }).status, 0, "redis-server starts");
    for (let i = 0; i < 100 && this.cli("ping") !== 0; i++) await sleep(50);
  }
  async stop(): Promise<void> {
    this.cli("shutdown", "nosave");
    for (let i = 0; i < 100 && this.cli("ping") === 0; i++) await sleep(50);
  }
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const health = async (app: AppProcess): Promise<string> => {
  let url = "";
  await until(() => (url = String(app.lines.find((l) => typeof l.health === "string")?.health ?? "")) !== "" || app.ended, 30_000, "the app to serve health");
  assert.ok(url, `the app runs:\n${app.stderr()}${app.stdout()}`);
  return url;
};

describe("youtube-processor: start-up, readiness and logs", () => {
  const dir = mkdtempSync(join(tmpdir(), "ytp-ops-"));
  let tm: TestTaskManager;
  let sandbox: YouTubeSandbox;
  const apps: AppProcess[] = [];
  const start = (env: Record<string, string | undefined>, args: string[] = []) => {
    const app = startAppProcess(env, "src/index.ts", { args });
    apps.push(app);
    return app;
  };
  const baseEnv = (extra: Record<string, string | undefined> = {}) => ({
    TASKMANAGER_API_URL: tm.server.url,
    TASKMANAGER_API_KEY: tm.key,
    YOUTUBE_API_KEY: "ops-key",
    YOUTUBE_API_ROOT_URL: sandbox.rootUrl,
    DATA_DIR: join(dir, `data-${apps.length}`),
    LOG_LEVEL: "info",
    ...extra,
  });
  before(async () => {
    tm = await startTestTaskManager({ register: registerAll });
    sandbox = await startYouTubeSandbox({ world: { seed: "processor-ops" } });
  });
  after(async () => {
    for (const app of apps) await app.stop("SIGKILL", 5_000);
    await tm.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("waits for a TaskManager that is not up yet (one line), then starts once it is", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const app = start(baseEnv({ TASKMANAGER_API_URL: `http://127.0.0.1:${port}/api`, STARTUP_TIMEOUT_SECONDS: "30" }));
    await until(() => app.lines.some((l) => String(l.msg).startsWith("waiting for taskmanager")) || app.ended, 20_000, "the waiting line");
    assert.equal(app.ended, false, `still waiting, not crashed:\n${app.stderr()}`);
    await sleep(1_500);
    const server = await startServer({ storage: { kind: "sqlite", path: join(dir, "late.sqlite") }, apiKeys: [tm.key], port });
    try {
      await health(app);
      assert.equal(app.lines.filter((l) => String(l.msg).startsWith("waiting for taskmanager")).length, 1, "one waiting line, not one per try");
      assert.ok(app.lines.some((l) => l.dependency === "taskmanager" && String(l.msg).startsWith("taskmanager ready after")));
      assert.equal((await app.stop("SIGTERM")).code, 0);
    } finally {
      await server.close();
    }
  });

  it("gives up on an unreachable TaskManager after STARTUP_TIMEOUT_SECONDS with one line on stderr and exit 1 (no stack)", { timeout: 30_000 }, async () => {
    const port = await freePort();
    const app = start(baseEnv({ TASKMANAGER_API_URL: `http://127.0.0.1:${port}/api`, STARTUP_TIMEOUT_SECONDS: "2" }));
    assert.equal(await app.exited, 1);
    assert.match(app.stderr(), /^youtube-processor failed to start: taskmanager still unreachable after [\d.]+ s \(STARTUP_TIMEOUT_SECONDS\): .*ECONNREFUSED.*\n$/);
    assert.doesNotMatch(app.stderr(), /\n\s+at /, "no stack for an expected condition");
  });

  it("stops at once with a clear fatal line when the TaskManager refuses the key (401)", { timeout: 30_000 }, async () => {
    const started = Date.now();
    const app = start(baseEnv({ TASKMANAGER_API_KEY: "a-key-the-server-does-not-know", STARTUP_TIMEOUT_SECONDS: "60" }));
    assert.equal(await app.exited, 1);
    assert.ok(Date.now() - started < 20_000, "not after waiting out the deadline");
    assert.match(app.stderr(), /^youtube-processor failed to start: the TaskManager at \S+ refused TASKMANAGER_API_KEY \(401\): set the key it accepts\n$/);
    assert.doesNotMatch(app.stderr(), /a-key-the-server-does-not-know/);
  });

  it("refuses an IDEA_DATABASE_URL the idea store cannot open in the config check (exit 2), before anything starts", { timeout: 30_000 }, async () => {
    for (const url of ["mysql://x", "sqlite:", "postgres://[bad"]) {
      const app = start(baseEnv({ IDEA_DATABASE_URL: url }));
      assert.equal(await app.exited, 2, `${url}: ${app.stderr()}`);
      assert.match(app.stderr(), /^youtube-processor: invalid configuration:\n {2}- IDEA_DATABASE_URL: /, url);
      assert.equal(app.lines.length, 0, "nothing started");
    }
  });

  it("/readyz checks Redis in hybrid mode; a Redis outage is logged once, not per retry, and its end once", { timeout: 90_000 }, async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    try {
      const app = start(baseEnv({ REDIS_URL: redis.url, QUEUE_PREFIX: `ytp-ops-${Date.now()}` }));
      const url = await health(app);
      const ready = async () => {
        const res = await fetch(`${url}/readyz`);
        return { status: res.status, body: (await res.json()) as { failing: string[] } };
      };
      assert.deepEqual(await ready(), { status: 200, body: { status: "ready", failing: [] } });
      await redis.stop();
      await until(async () => (await ready()).status === 503, 10_000, "not ready without Redis");
      assert.deepEqual((await ready()).body.failing, ["redis"]);
      await sleep(8_000);
      const redisLines = () => app.lines.filter((l) => /redis/i.test(String(l.msg)) && Number(l.level) >= 40);
      assert.equal(redisLines().length, 1, `one line for the outage:\n${redisLines().map((l) => JSON.stringify(l)).join("\n")}`);
      await redis.start();
      await until(async () => (await ready()).status === 200, 30_000, "ready again with Redis back");
      assert.ok(app.lines.some((l) => l.msg === "redis reachable again"));
      assert.equal(redisLines().length, 1);
      assert.equal((await app.stop("SIGTERM", 20_000)).code, 0);
    } finally {
      await redis.close();
    }
  });

  it("logs one info line per batch (claimed, ok, failed, duration, quota units) and each non-retryable failure at warn", { timeout: 60_000 }, async () => {
    const ids = sandbox.data.videoIds().slice(300, 370);
    for (const video_id of ids) await YouTube.Video.create(tm.client, { video_id });
    const gone = await YouTube.Video.create(tm.client, { video_id: "zzzzzzzzzz0" });
    const app = start(baseEnv({ BATCH_SIZE: "50", CROSS_MODULE: "false" }));
    await health(app);
    await until(async () => (await tm.task(gone.id)).status === "failed" && (await tm.tasks(YouTube.Video.name, "completed")).length >= ids.length, 30_000, "every task settled");
    await until(() => app.lines.filter((l) => l.msg === "batch done").reduce((n, l) => n + Number(l.claimed), 0) >= ids.length + 1, 10_000, "the batch lines");
    const batches = app.lines.filter((l) => l.msg === "batch done");
    assert.equal(batches.length, 2, "71 tasks in batches of 50: two lines");
    // FIFO claims: the first 50 videos, then the other 20 and the one that does not exist; one videos.list (1 unit) each.
    assert.deepEqual(
      batches.map((l) => ({ level: l.level, loop: l.loop, claimed: l.claimed, ok: l.ok, failed: l.failed, quotaUnits: l.quotaUnits })),
      [
        { level: 30, loop: YouTube.Video.name, claimed: 50, ok: 50, failed: 0, quotaUnits: 1 },
        { level: 30, loop: YouTube.Video.name, claimed: 21, ok: 20, failed: 1, quotaUnits: 1 },
      ],
    );
    assert.ok(batches.every((l) => typeof l.durationMs === "number"));
    const warned = app.lines.filter((l) => l.msg === "task failed for good (not retryable)");
    assert.deepEqual(
      warned.map((l) => ({ level: l.level, taskId: l.taskId, reason: l.reason })),
      [{ level: 40, taskId: gone.id, reason: "YouTube video zzzzzzzzzz0 not found: deleted, private or never existed" }],
    );
    assert.equal((await app.stop("SIGTERM")).code, 0);
  });
});

describe("youtube-processor --help and README", () => {
  itDocumentsItsVariables({ shape, summaryStart: "youtube-processor: claims YouTube Video tasks", readme: new URL("../README.md", import.meta.url) });
});
