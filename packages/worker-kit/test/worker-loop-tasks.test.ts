// WorkerLoop with a per-task handler (batches of 1, as the client's former
// TaskWorker ran) against our own TaskManager server (SQLite in a temp dir):
// the claim -> handle -> complete/fail loop, concurrency, idle backoff,
// retries, heartbeats, graceful stop and a worker process killed mid-task.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { startServer, type RunningServer } from "@prismq/taskmanager-server";
import { ConflictError, NonRetryableError, TaskManagerClient, type ClaimedTask, type Json, type WorkerCallOptions } from "@prismq/taskmanager-client";
import { SHUTDOWN_MESSAGE, WorkerLoop, type WorkerLoopOptions } from "../src/index.js";

const KEY = "worker-test-key-0123456789abcdef";
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const HANGING_WORKER = join(PACKAGE_DIR, "test", "fixtures", "hanging-worker.ts");
const TEST_TIMEOUT = { timeout: 15_000 };

const uid = () => randomBytes(6).toString("hex");

const SCHEMA = {
  type: "object",
  properties: { n: { type: "integer" }, mode: { type: "string" } },
  additionalProperties: false,
};

type Params = Record<string, Json>;
type Task = ClaimedTask<Params>;

/** Polls `cond` every 10 ms; throws when it is still false after `ms`. */
async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}

/** Resolves when the signal aborts (at once if it already has). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Never settles: a handler that ignores its signal and hangs. */
const forever = () => new Promise<never>(() => undefined);

/** A client that records when progress (the heartbeat) is reported. */
class RecordingClient extends TaskManagerClient {
  readonly progressAt: number[] = [];
  override async reportProgress(id: number, percent: number, message?: string, options?: WorkerCallOptions): Promise<void> {
    this.progressAt.push(Date.now());
    return super.reportProgress(id, percent, message, options);
  }
}

/**
 * One server on a fresh SQLite file, a client, and every worker made through
 * it, so `close()` can stop them all before the server goes away.
 */
class Fixture {
  server!: RunningServer;
  client!: TaskManagerClient;
  private dir = "";
  private readonly workers: WorkerLoop<Task>[] = [];
  private readonly clients: TaskManagerClient[] = [];

  async open(claimTimeoutSeconds?: number): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), "tm-worker-test-"));
    this.server = await startServer({
      storage: { kind: "sqlite", path: join(this.dir, "tasks.sqlite") },
      apiKeys: [KEY],
      ...(claimTimeoutSeconds === undefined ? {} : { claimTimeoutSeconds }),
    });
    this.client = this.newClient();
  }

  newClient(workerName = "test"): RecordingClient {
    const c = new RecordingClient({ baseUrl: this.server.url, apiKey: KEY, workerId: `${workerName}-${uid()}` });
    this.clients.push(c);
    return c;
  }

  /**
   * A loop as the former TaskWorker ran: one task per batch, each handed to
   * `handler`, signals aborted at `stop()`; short idle waits and a short
   * shutdown deadline unless told otherwise.
   */
  worker(options: Omit<WorkerLoopOptions<Task>, "client" | "name"> & { client?: TaskManagerClient }): WorkerLoop<Task> {
    const w = new WorkerLoop<Task>({
      name: "test",
      batchSize: 1,
      onStop: "abort",
      idleMinMs: 20,
      idleMaxMs: 100,
      shutdownDeadlineMs: 500,
      ...options,
      client: options.client ?? this.client,
    });
    this.workers.push(w);
    return w;
  }

  /** Registers a task type with a unique name. */
  async newType(label: string): Promise<string> {
    const name = `WorkerTest.${label}_${uid()}`;
    await this.client.registerTaskType({ name, version: "1.0.0", paramSchema: SCHEMA });
    return name;
  }

  async createTasks(type: string, params: Params[]): Promise<number[]> {
    const ids: number[] = [];
    for (const p of params) {
      const t = await this.client.createTask(type, p);
      assert.equal(t.deduplicated, false);
      ids.push(t.id);
    }
    return ids;
  }

  async history(id: number): Promise<string[]> {
    return (await this.client.getTaskHistory(id)).map((h) => h.statusChange);
  }

  async claimedOfType(type: string): Promise<number[]> {
    const ids: number[] = [];
    for await (const t of this.client.listTasks({ type, status: "claimed" })) ids.push(t.id);
    return ids;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await Promise.all(this.clients.map((c) => c.close()));
    await this.server?.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

const byNumber = (a: number, b: number) => a - b;

describe("WorkerLoop with a task handler against the TaskManager server", () => {
  const f = new Fixture();
  before(() => f.open());
  after(() => f.close());

  it("never runs more handlers at once than its concurrency, and completes each task exactly once", TEST_TIMEOUT, async () => {
    const type = await f.newType("Concurrency");
    const ids = await f.createTasks(type, Array.from({ length: 12 }, (_, n) => ({ n })));
    let running = 0;
    let maxRunning = 0;
    const calls = new Map<number, number>();
    const completed: number[] = [];
    const worker = f.worker({
      taskTypes: type,
      concurrency: 4,
      handler: async (task) => {
        calls.set(task.id, (calls.get(task.id) ?? 0) + 1);
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          await delay(100);
        } finally {
          running--;
        }
        return { doubled: (task.params.n as number) * 2 };
      },
      hooks: { onCompleted: (e) => completed.push(e.task.id) },
    });
    worker.start();
    try {
      await waitFor(() => completed.length >= ids.length, 5_000, "12 completions");
    } finally {
      await worker.stop();
    }

    assert.ok(maxRunning <= 4, `at most 4 handlers at once, saw ${maxRunning}`);
    assert.ok(maxRunning >= 3, `at least 3 handlers at once at some point, saw ${maxRunning}`);
    assert.deepEqual([...completed].sort(byNumber), [...ids].sort(byNumber));
    for (const [i, id] of ids.entries()) {
      assert.equal(calls.get(id), 1, `task ${id} handled once`);
      const t = await f.client.getTask(id);
      assert.equal(t?.status, "completed");
      assert.equal(t?.attempts, 1);
      assert.deepEqual(t?.result, { doubled: i * 2 });
      assert.deepEqual(await f.history(id), ["created", "claimed", "completed"]);
    }
  });

  it("backs off while idle, growing the wait up to idleMaxMs, and resets it after a claim", TEST_TIMEOUT, async () => {
    const type = await f.newType("Idle");
    const log: Array<{ kind: "idle"; waitMs: number } | { kind: "claimed" }> = [];
    const idleWaits = () => log.flatMap((e) => (e.kind === "idle" ? [e.waitMs] : []));
    const worker = f.worker({
      taskTypes: type,
      idleMinMs: 20,
      idleMaxMs: 200,
      handler: async () => ({}),
      hooks: {
        onIdle: (e) => {
          assert.equal(e.taskType, type);
          log.push({ kind: "idle", waitMs: e.waitMs });
        },
        onClaimed: () => log.push({ kind: "claimed" }),
      },
    });
    worker.start();
    try {
      await waitFor(() => idleWaits().length >= 7, 5_000, "7 idle waits");
      const waits = idleWaits();
      const [first] = waits as [number];
      assert.ok(first <= 20, `first wait within idleMinMs: ${first}`);
      for (const w of waits) assert.ok(w <= 200, `wait capped by idleMaxMs: ${w} (${waits.join(", ")})`);
      for (const w of waits.slice(3)) assert.ok(w > first, `later waits are larger than the first: ${waits.join(", ")}`);
      assert.ok(Math.max(...waits.slice(4)) >= 100, `the wait reaches the cap's range: ${waits.join(", ")}`);
      const lastBefore = waits.at(-1) as number;

      await f.createTasks(type, [{ n: 1 }]);
      await waitFor(() => log.some((e) => e.kind === "claimed"), 2_000, "the claim");
      const claimedAt = log.findIndex((e) => e.kind === "claimed");
      await waitFor(() => log.slice(claimedAt).some((e) => e.kind === "idle"), 2_000, "an idle wait after the claim");
      const next = log.slice(claimedAt).find((e) => e.kind === "idle") as { waitMs: number };
      assert.ok(next.waitMs <= 20, `the wait is back at idleMinMs after a claim: ${next.waitMs}`);
      assert.ok(next.waitMs < lastBefore);
    } finally {
      await worker.stop();
    }
  });

  it("fails a task whose handler throws; the server retries it until its 3 attempts are spent", TEST_TIMEOUT, async () => {
    const type = await f.newType("Retry");
    const [id] = (await f.createTasks(type, [{ n: 1 }])) as [number];
    const attemptsSeen: number[] = [];
    const failed: Array<{ status: string; retryable: boolean; message: string }> = [];
    const worker = f.worker({
      taskTypes: type,
      handler: async (task) => {
        attemptsSeen.push(task.attempts);
        throw new Error("boom");
      },
      hooks: { onFailed: (e) => failed.push({ status: e.status, retryable: e.retryable, message: e.error.message }) },
    });
    worker.start();
    try {
      await waitFor(() => failed.some((e) => e.status === "failed"), 5_000, "the final failure");
      await delay(150); // a spent task is not claimed again
    } finally {
      await worker.stop();
    }

    assert.deepEqual(attemptsSeen, [1, 2, 3]);
    assert.deepEqual(
      failed.map((e) => e.status),
      ["pending (retry)", "pending (retry)", "failed"],
    );
    assert.ok(failed.every((e) => e.retryable && e.message === "boom"));
    const t = await f.client.getTask(id);
    assert.equal(t?.status, "failed");
    assert.equal(t?.attempts, 3);
    assert.equal(t?.errorMessage, "boom");
    assert.equal(t?.claimedBy, worker.workerId);
    assert.deepEqual(await f.history(id), [
      "created",
      "claimed",
      "pending (retry)",
      "claimed",
      "pending (retry)",
      "claimed",
      "failed",
    ]);
  });

  it("fails a task at once, after one attempt, when its handler throws NonRetryableError", TEST_TIMEOUT, async () => {
    const type = await f.newType("NonRetryable");
    const [id] = (await f.createTasks(type, [{ n: 1 }])) as [number];
    let calls = 0;
    const failed: Array<{ status: string; retryable: boolean }> = [];
    const worker = f.worker({
      taskTypes: type,
      handler: async () => {
        calls++;
        throw new NonRetryableError("video deleted");
      },
      hooks: { onFailed: (e) => failed.push({ status: e.status, retryable: e.retryable }) },
    });
    worker.start();
    try {
      await waitFor(() => failed.length > 0, 5_000, "the failure");
      await delay(200); // and it is not claimed again
    } finally {
      await worker.stop();
    }

    assert.equal(calls, 1);
    assert.deepEqual(failed, [{ status: "failed", retryable: false }]);
    const t = await f.client.getTask(id);
    assert.equal(t?.status, "failed");
    assert.equal(t?.attempts, 1);
    assert.equal(t?.errorMessage, "video deleted");
    assert.deepEqual(await f.history(id), ["created", "claimed", "failed"]);
  });

  it("stop() hands back tasks whose handlers hang past shutdownDeadlineMs, then claims and heartbeats no more", TEST_TIMEOUT, async () => {
    const type = await f.newType("StopHang");
    const ids = await f.createTasks(type, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const claimed: number[] = [];
    const errors: Array<{ phase: string; message: string }> = [];
    const client = f.newClient("stop-hang");
    const worker = f.worker({
      client,
      taskTypes: type,
      concurrency: 3,
      heartbeatMs: 100,
      shutdownDeadlineMs: 300,
      handler: async (task) => {
        claimed.push(task.id);
        return forever(); // ignores ctx.signal
      },
      hooks: { onError: (e) => errors.push({ phase: e.phase, message: e.error.message }) },
    });
    worker.start();
    await waitFor(() => claimed.length === 3, 5_000, "3 claims");

    const t0 = performance.now();
    await worker.stop();
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 250, `stop() waited for the deadline: ${elapsed} ms`);
    assert.ok(elapsed < 2_000, `stop() resolved in well under 2 s: ${elapsed} ms`);

    assert.deepEqual(await f.claimedOfType(type), []);
    for (const id of ids) {
      const t = await f.client.getTask(id);
      assert.equal(t?.status, "pending", `task ${id} is back in the queue`);
      assert.equal(t?.claimedBy, null);
      assert.equal(t?.errorMessage, SHUTDOWN_MESSAGE);
      assert.equal(t?.attempts, 1);
      assert.deepEqual(await f.history(id), ["created", "claimed", "pending (retry)"]);
    }

    // The hung handlers' heartbeats end with the stop, and nothing new is claimed.
    const progressAtStop = client.progressAt.length;
    const [late] = (await f.createTasks(type, [{ n: 4 }])) as [number];
    await delay(400);
    assert.equal(client.progressAt.length, progressAtStop, "no heartbeat after stop()");
    assert.deepEqual(errors, []);
    const t = await f.client.getTask(late);
    assert.equal(t?.status, "pending");
    assert.equal(t?.attempts, 0);
  });

  it("stop() returns tasks whose handlers throw on abort, and completes those that finish before the deadline", TEST_TIMEOUT, async () => {
    const type = await f.newType("StopMixed");
    const [hang, honour, finish] = (await f.createTasks(type, [
      { n: 1, mode: "hang" },
      { n: 2, mode: "honour" },
      { n: 3, mode: "finish" },
    ])) as [number, number, number];
    const claimed: number[] = [];
    const completed: number[] = [];
    const failed: Array<{ id: number; status: string; retryable: boolean; message: string }> = [];
    const worker = f.worker({
      taskTypes: type,
      concurrency: 3,
      shutdownDeadlineMs: 300,
      handler: async (task, ctx) => {
        claimed.push(task.id);
        if (task.params.mode === "hang") return forever();
        await aborted(ctx.signal);
        if (task.params.mode === "honour") throw new Error("aborted by the signal");
        await delay(100); // finishes after the abort, before the deadline
        return { finished: true };
      },
      hooks: {
        onCompleted: (e) => completed.push(e.task.id),
        onFailed: (e) => failed.push({ id: e.task.id, status: e.status, retryable: e.retryable, message: e.error.message }),
      },
    });
    worker.start();
    await waitFor(() => claimed.length === 3, 5_000, "3 claims");

    const t0 = performance.now();
    await worker.stop();
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 2_000, `stop() resolved in well under 2 s: ${elapsed} ms`);

    assert.deepEqual(completed, [finish]);
    assert.deepEqual(
      [...failed].sort((a, b) => a.id - b.id),
      [
        { id: hang, status: "pending (retry)", retryable: true, message: SHUTDOWN_MESSAGE },
        { id: honour, status: "pending (retry)", retryable: true, message: SHUTDOWN_MESSAGE },
      ],
    );
    assert.deepEqual(await f.claimedOfType(type), []);
    for (const id of [hang, honour]) {
      const t = await f.client.getTask(id);
      assert.equal(t?.status, "pending", `task ${id} is back in the queue`);
      assert.equal(t?.errorMessage, SHUTDOWN_MESSAGE);
      assert.equal(t?.attempts, 1);
    }
    const done = await f.client.getTask(finish);
    assert.equal(done?.status, "completed");
    assert.deepEqual(done?.result, { finished: true });
    assert.equal(done?.attempts, 1);
  });

  it("calls onClaimed with the task and worker id, and onCompleted/onFailed with durations", TEST_TIMEOUT, async () => {
    const type = await f.newType("Hooks");
    const [okId, badId] = (await f.createTasks(type, [
      { n: 1, mode: "ok" },
      { n: 2, mode: "bad" },
    ])) as [number, number];
    const onClaimed: Array<{ task: ClaimedTask<unknown>; workerId: string }> = [];
    const onCompleted: Array<{ task: ClaimedTask<unknown>; durationMs: number }> = [];
    const onFailed: Array<{ task: ClaimedTask<unknown>; durationMs: number; error: Error; retryable: boolean; status: string }> = [];
    const onError: Error[] = [];
    const worker = f.worker({
      taskTypes: type,
      handler: async (task) => {
        if (task.params.mode === "ok") {
          await delay(80);
          return { ok: true };
        }
        await delay(40);
        throw new NonRetryableError("bad input");
      },
      hooks: {
        onClaimed: (e) => onClaimed.push(e),
        onCompleted: (e) => onCompleted.push(e),
        onFailed: (e) => onFailed.push(e),
        onError: (e) => onError.push(e.error),
      },
    });
    worker.start();
    try {
      await waitFor(() => onCompleted.length + onFailed.length >= 2, 5_000, "both tasks settled");
    } finally {
      await worker.stop();
    }

    assert.deepEqual(
      onClaimed.map((e) => [e.task.id, e.task.type, e.task.attempts, e.workerId]),
      [
        [okId, type, 1, worker.workerId],
        [badId, type, 1, worker.workerId],
      ],
    );
    assert.deepEqual(onClaimed[0]?.task.params, { n: 1, mode: "ok" });

    assert.equal(onCompleted.length, 1);
    const c = onCompleted[0] as (typeof onCompleted)[number];
    assert.equal(c.task.id, okId);
    assert.ok(c.durationMs >= 75 && c.durationMs < 2_000, `completion duration: ${c.durationMs}`);

    assert.equal(onFailed.length, 1);
    const fl = onFailed[0] as (typeof onFailed)[number];
    assert.equal(fl.task.id, badId);
    assert.ok(fl.durationMs >= 35 && fl.durationMs < 2_000, `failure duration: ${fl.durationMs}`);
    assert.ok(fl.error instanceof NonRetryableError);
    assert.equal(fl.error.message, "bad input");
    assert.equal(fl.retryable, false);
    assert.equal(fl.status, "failed");
    assert.deepEqual(onError, []);
  });
});

describe("WorkerLoop with a task handler against a server with a 1 s claim timeout", () => {
  const f = new Fixture();
  before(() => f.open(1));
  after(() => f.close());

  it("keeps a long task's claim alive with heartbeats: no other worker can claim it", TEST_TIMEOUT, async () => {
    const type = await f.newType("KeepAlive");
    const [id] = (await f.createTasks(type, [{ n: 1 }])) as [number];
    let calls = 0;
    let done = false;
    const completed: number[] = [];
    const worker = f.worker({
      taskTypes: type,
      claimTimeoutMs: 1000,
      heartbeatMs: 300,
      handler: async () => {
        calls++;
        await delay(2_500);
        done = true;
        return { long: true };
      },
      hooks: { onCompleted: (e) => completed.push(e.task.id) },
    });
    const thief = f.newClient("thief");
    worker.start();
    try {
      await waitFor(() => calls === 1, 3_000, "the claim");
      const started = Date.now();
      let tries = 0;
      while (!done) {
        const stolen = await thief.claimTask({ taskType: type });
        assert.equal(stolen, null, `claim ${tries} by another worker got the task ${Date.now() - started} ms in`);
        tries++;
        await delay(100);
      }
      assert.ok(tries >= 10, `another worker tried throughout the task: ${tries} claims`);
      await waitFor(() => completed.length === 1, 3_000, "the completion");
    } finally {
      await worker.stop();
    }

    assert.equal(calls, 1);
    const t = await f.client.getTask(id);
    assert.equal(t?.status, "completed");
    assert.equal(t?.attempts, 1);
    assert.equal(t?.claimedBy, worker.workerId);
    assert.deepEqual(await f.history(id), ["created", "claimed", "completed"]);
  });

  it("heartbeats every third of claimTimeoutMs by default", TEST_TIMEOUT, async () => {
    const type = await f.newType("DefaultHeartbeat");
    await f.createTasks(type, [{ n: 1 }]);
    const client = f.newClient("heartbeat");
    const completed: number[] = [];
    const worker = f.worker({
      client,
      taskTypes: type,
      claimTimeoutMs: 900,
      handler: async () => {
        await delay(1_000);
        return {};
      },
      hooks: { onCompleted: (e) => completed.push(e.task.id) },
    });
    worker.start();
    try {
      await waitFor(() => completed.length === 1, 4_000, "the completion");
    } finally {
      await worker.stop();
    }
    assert.ok(client.progressAt.length >= 2, `heartbeats in a 1 s task with a 0.9 s claim timeout: ${client.progressAt.length}`);
  });

  it("aborts the handler's signal when a heartbeat finds the claim taken by another worker", TEST_TIMEOUT, async () => {
    const type = await f.newType("LostClaim");
    const [id] = (await f.createTasks(type, [{ n: 1 }])) as [number];
    let claimed = false;
    let abortedAfterMs = -1;
    const progressErrors: Error[] = [];
    const worker = f.worker({
      taskTypes: type,
      claimTimeoutMs: 1000,
      heartbeatMs: 1_500, // too slow for the server's 1 s timeout: the claim lapses
      handler: async (_task, ctx) => {
        claimed = true;
        const t0 = Date.now();
        await aborted(ctx.signal);
        abortedAfterMs = Date.now() - t0;
        throw ctx.signal.reason;
      },
      hooks: { onError: (e) => e.phase === "progress" && progressErrors.push(e.error) },
    });
    const thief = f.newClient("thief");
    worker.start();
    try {
      await waitFor(() => claimed, 3_000, "the claim");
      let stolen: ClaimedTask | null = null;
      await waitFor(
        async () => (stolen = await thief.claimTask({ taskType: type })) !== null,
        3_000,
        "the lapsed claim to be taken over",
      );
      assert.equal((stolen as ClaimedTask | null)?.id, id);
      await waitFor(() => abortedAfterMs >= 0, 3_000, "the handler's signal to abort");
      assert.ok(progressErrors.some((e) => e instanceof ConflictError));
      await delay(100);
      // The worker settles nothing: the task is the thief's to finish.
      assert.deepEqual(await f.history(id), ["created", "claimed", "claimed"]);
      await thief.completeTask(id, { by: "thief" });
    } finally {
      await worker.stop();
    }
    const t = await f.client.getTask(id);
    assert.equal(t?.status, "completed");
    assert.equal(t?.attempts, 2);
  });

  it("a task held by a SIGKILLed worker process is claimed again after the claim timeout and completed", TEST_TIMEOUT, async () => {
    const type = await f.newType("Sigkill");
    const [id] = (await f.createTasks(type, [{ n: 1 }])) as [number];
    const child = spawn(process.execPath, ["--import", "tsx", HANGING_WORKER], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, TM_URL: f.server.url, TM_KEY: KEY, TM_TYPE: type, TM_CLAIM_TIMEOUT_MS: "1000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const seen: ClaimedTask<Params>[] = [];
    const completed: number[] = [];
    try {
      await waitFor(() => /claimed \d+/.test(stdout) || child.exitCode !== null, 10_000, "the child's claim");
      assert.match(stdout, new RegExp(`claimed ${id}\\b`), `child stdout: ${stdout} stderr: ${stderr}`);
      assert.equal(child.kill("SIGKILL"), true);
      assert.equal(await exited, "SIGKILL");

      const worker = f.worker({
        taskTypes: type,
        idleMinMs: 50,
        idleMaxMs: 200,
        handler: async (task) => {
          seen.push(task);
          return { recovered: true };
        },
        hooks: { onCompleted: (e) => completed.push(e.task.id) },
      });
      worker.start();
      await waitFor(() => completed.length === 1, 5_000, "the second worker's completion");
      await worker.stop();

      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.id, id);
      assert.equal(seen[0]?.attempts, 2);
      const t = await f.client.getTask(id);
      assert.equal(t?.status, "completed");
      assert.equal(t?.attempts, 2);
      assert.equal(t?.claimedBy, worker.workerId);
      assert.deepEqual(t?.result, { recovered: true });
      const history = await f.client.getTaskHistory(id);
      assert.deepEqual(
        history.map((h) => h.statusChange),
        ["created", "claimed", "claimed", "completed"],
      );
      assert.match(history[1]?.workerId ?? "", /^hanging-/);
      assert.equal(history[2]?.workerId, worker.workerId);
      assert.equal(history[3]?.workerId, worker.workerId);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
  });
});
