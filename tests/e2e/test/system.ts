/**
 * The whole system for the fault tests, each part its own process as deployed,
 * started by `@prismq/system` from the platform descriptors: the TaskManager
 * server (SQLite), the sandbox of both APIs, and the four apps.
 * A test can stop, kill and restart any part, change the sandbox's faults, and
 * at the end check what must hold after any fault: every expected idea stored
 * once, no task left open, no task failed for a reason a retry would fix, no
 * secret in any log.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { platform as reddit } from "@prismq/reddit-source";
import { RedditData, World, YouTubeData } from "@prismq/sandbox";
import { System as Orchestrator, demoEnv, type ManagedProcess, type SandboxOptions } from "@prismq/system";
import { TaskManagerClient, type Task, type TaskSummary } from "@prismq/taskmanager-client";
import { Reddit, YouTube } from "@prismq/task-types";
import { readMetric, type AnyPlatformDescriptor } from "@prismq/worker-kit";
import { until } from "@prismq/worker-kit/testing";
import { platform as youtube } from "@prismq/youtube-source";

export const root = fileURLToPath(new URL("../../..", import.meta.url));
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** The platforms of the system under test. */
export const PLATFORMS: readonly AnyPlatformDescriptor[] = [youtube, reddit];
export const APPS = ["youtube-discovery", "youtube-processor", "reddit-discovery", "reddit-processor"] as const;
export type App = (typeof APPS)[number];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to its end; answers its exit code (-1 when it cannot start) and stdout. */
export function exec(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.on("error", () => resolve({ code: -1, stdout }));
    p.on("close", (code) => resolve({ code, stdout }));
  });
}

/** A free TCP port on loopback (so a restarted server comes back where the apps look for it). */
export { freePort } from "@prismq/worker-kit/testing";

/** What `pnpm start` writes: a channel and a subreddit, scheduled every `every`. */
export interface Scope {
  channel: { handle: string; index: number; max: number };
  subreddit: { name: string; limit: number };
}
export const SCOPE: Scope = { channel: { handle: "@tech0", index: 0, max: 60 }, subreddit: { name: "technology", limit: 60 } };

export interface SystemOptions {
  /** hybrid: BullMQ on `redisUrl`; direct: no Redis. */
  mode: "hybrid" | "direct";
  redisUrl?: string;
  /** Sandbox faults, e.g. `{ latencyMs: 200, errorRate: 0.2 }`. */
  sandbox?: Pick<SandboxOptions, "latencyMs" | "errorRate">;
  /** Extra server variables, e.g. `CLAIM_TIMEOUT_SECONDS`. */
  serverEnv?: Record<string, string>;
  /** Extra variables for every app, and per app. */
  appEnv?: Record<string, string>;
  perApp?: Partial<Record<App, Record<string, string>>>;
  /** How often discovery runs its sources. Default 20s. */
  every?: string;
  scope?: Scope;
}

/** The sum of a metric's samples in Prometheus text whose labels include every `labels` pair. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return readMetric(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export class System {
  readonly dir = mkdtempSync(join(tmpdir(), "prismq-fault-"));
  readonly key = `tm-${randomBytes(18).toString("hex")}`;
  readonly youtubeKey = `yt-${randomBytes(18).toString("hex")}`;
  readonly prefix = `fault-${randomBytes(4).toString("hex")}`;
  readonly scope: Scope;
  readonly system: Orchestrator;
  client!: TaskManagerClient;

  private constructor(readonly options: SystemOptions) {
    this.scope = options.scope ?? SCOPE;
    const every = options.every ?? "20s";
    const { channel, subreddit } = this.scope;
    this.system = new Orchestrator({
      platforms: PLATFORMS,
      root,
      dataDir: this.dir,
      apiKey: this.key,
      queuePrefix: this.prefix,
      serverEnv: options.serverEnv,
      sandbox: { rpm: 100_000, ...options.sandbox },
      sources: {
        youtube: `sources:\n  - kind: channel\n    channel: "${channel.handle}"\n    max_videos: ${channel.max}\n    every: ${every}\n`,
        reddit: `sources:\n  - kind: subreddit\n    subreddit: ${subreddit.name}\n    sort: new\n    limit: ${subreddit.limit}\n    every: ${every}\n`,
      },
      redisUrl: options.mode === "hybrid" ? (options.redisUrl ?? REDIS_URL) : undefined,
      // The sandboxes' request limits (from `rpm`) and the demo's variables come from the descriptors.
      env: { ...demoEnv(PLATFORMS, {}), YOUTUBE_API_KEY: this.youtubeKey, ...options.appEnv },
      perApp: options.perApp,
      readyTimeoutMs: 30_000,
    });
  }

  static async start(options: SystemOptions): Promise<System> {
    const sys = new System(options);
    try {
      await sys.system.start();
      sys.client = new TaskManagerClient({ baseUrl: sys.tmUrl, apiKey: sys.key, retry: { attempts: 10 } });
    } catch (err) {
      await sys.close();
      throw err;
    }
    return sys;
  }

  get server(): ManagedProcess {
    return this.system.server as ManagedProcess;
  }
  get sandbox(): ManagedProcess {
    return this.system.sandbox as ManagedProcess;
  }
  get apps(): ReadonlyMap<App, ManagedProcess> {
    return this.system.apps as ReadonlyMap<App, ManagedProcess>;
  }
  get tmUrl(): string {
    return this.system.taskManagerUrl;
  }

  /** Starts the server (again) on its port and the same database file. */
  startServer(): Promise<void> {
    return this.system.startServer();
  }

  app(name: App): ManagedProcess {
    return this.system.app(name);
  }

  /** Starts an app (again) and waits until it serves its health endpoint. */
  startApp(name: App): Promise<void> {
    return this.system.startApp(name);
  }

  /** An app's /metrics text; "" when it does not answer. */
  async metrics(name: App): Promise<string> {
    const url = this.system.health.get(name);
    if (!url || !this.app(name).running) return "";
    return fetch(`${url}/metrics`).then((r) => r.text(), () => "");
  }

  async metric(name: App, metric: string, labels: Record<string, string> = {}): Promise<number> {
    return metricSum(await this.metrics(name), metric, labels);
  }

  async tasks(): Promise<TaskSummary[]> {
    const all: TaskSummary[] = [];
    for await (const t of this.client.listTasks({ pageSize: 1000 })) all.push(t);
    return all;
  }

  /** Sandbox controls: the same `/_sandbox/...` endpoints an operator would call. */
  youtubeSandbox(path: string, body: object): Promise<unknown> {
    return this.system.sandboxControl("youtube", path, body);
  }
  redditSandbox(path: string, body: object): Promise<unknown> {
    return this.system.sandboxControl("reddit", path, body);
  }

  /**
   * Waits until the work is done: tasks exist, none is pending or claimed, no
   * outbox holds anything, and that held for `quiet` checks a second apart.
   */
  async settled(ms: number, quiet = 5): Promise<void> {
    const end = Date.now() + ms;
    let calm = 0;
    let last = "";
    while (calm < quiet) {
      if (Date.now() > end) throw new Error(`not settled after ${ms} ms: ${last}\n${this.tails()}`);
      await sleep(1_000);
      try {
        const tasks = await this.tasks();
        const open = tasks.filter((t) => t.status === "pending" || t.status === "claimed").length;
        let outbox = 0;
        for (const app of APPS) outbox += await this.metric(app, "prismq_outbox_depth");
        last = `${tasks.length} tasks, ${open} open, outbox ${outbox}`;
        calm = tasks.length > 0 && open === 0 && outbox === 0 ? calm + 1 : 0;
      } catch (err) {
        last = String(err);
        calm = 0;
      }
    }
  }

  /** worker-kit's `until`, with every process's last lines when it times out. */
  async until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000, everyMs = 100): Promise<void> {
    await until(check, ms, what, everyMs).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.tails()}`);
    });
  }

  /** Waits until the run is under way: at least `completed` tasks done and more still open. */
  async midRun(completed = 20): Promise<void> {
    let open = 0;
    await this.until(async () => {
      const tasks = await this.tasks();
      open = tasks.filter((t) => t.status === "pending" || t.status === "claimed").length;
      return tasks.filter((t) => t.status === "completed").length >= completed;
    }, `${completed} tasks completed`);
    assert.ok(open > 0, "the fault comes while work is open");
  }

  /** The last lines of every process, for a failure message. */
  tails(): string {
    return this.system.processes
      .map((p) => `--- ${p.name} (${p.running ? "running" : "stopped"}):\n${p.current.split("\n").slice(-8).join("\n")}`)
      .join("\n");
  }

  /** What the sources must find in the sandbox's world (same seed, same data). */
  expected(): { videos: string[]; posts: string[] } {
    const world = new World();
    return {
      videos: new YouTubeData(world).uploads(this.scope.channel.index).slice(0, this.scope.channel.max),
      posts: new RedditData(world).postIds(this.scope.subreddit.name).slice(0, this.scope.subreddit.limit),
    };
  }

  /**
   * What must hold once settled, whatever the fault was. Answers the tasks,
   * full, for the test's own checks.
   */
  async verify(): Promise<Task[]> {
    const summaries = await this.tasks();
    assert.deepEqual(summaries.filter((t) => t.status === "pending" || t.status === "claimed").map((t) => `${t.type} ${t.id} ${t.status}`), [], "no task left pending or claimed");
    const tasks: Task[] = [];
    for (const t of summaries) tasks.push((await this.client.getTask(t.id)) as Task);
    // A task may only fail for a reason no retry can fix: the thing it names does not exist.
    const failed = tasks.filter((t) => t.status === "failed");
    for (const t of failed) assert.match(t.errorMessage ?? "", /not found|was removed|was deleted/, `task ${t.id} (${t.type}) failed for a transient reason: ${t.errorMessage}`);

    const ideas = await this.ideas();
    try {
      const done = (type: string, field: string) =>
        new Set(tasks.filter((t) => t.type === type && t.status === "completed").map((t) => String((t.params as Record<string, unknown>)[field])));
      const stored = async (platform: string) => {
        const ids: string[] = [];
        for (let offset = 0; ; offset += 1000) {
          const page = await ideas.query({ platform, limit: 1000, offset });
          ids.push(...page.map((i) => i.sourceId));
          if (page.length < 1000) return ids;
        }
      };
      const videos = await stored("youtube");
      const posts = await stored("reddit");
      assert.equal(new Set(videos).size, videos.length, "no video stored twice");
      assert.equal(new Set(posts).size, posts.length, "no post stored twice");
      // Exactly the items of the completed tasks are stored: nothing lost, nothing extra.
      assert.deepEqual(new Set(videos), done(YouTube.Video.name, "video_id"), "stored videos = videos of completed Video tasks");
      assert.deepEqual(new Set(posts), done(Reddit.Post.name, "post_id"), "stored posts = posts of completed Post tasks");
      const want = this.expected();
      for (const id of want.videos) assert.ok(videos.includes(id), `expected video ${id} stored`);
      for (const id of want.posts) assert.ok(posts.includes(id), `expected post ${id} stored`);
      assert.ok(tasks.some((t) => t.type === Reddit.Search.name && t.status === "completed"), "cross-module Reddit searches ran");
    } finally {
      await ideas.close();
    }
    this.assertNoSecrets();
    return tasks;
  }

  ideas(): Promise<IdeaStore> {
    return openIdeaStore({ url: `sqlite:${join(this.dir, "ideas.sqlite")}` });
  }

  /** No process printed a key or secret, over all its runs. */
  assertNoSecrets(): void {
    for (const p of this.system.processes) {
      for (const secret of [this.key, this.youtubeKey]) assert.ok(!p.output.includes(secret), `${p.name} logged a secret`);
    }
  }

  /** Stops everything (apps first, SIGKILL after 20 s) and removes the data. */
  async close(): Promise<void> {
    await this.system.stop(20_000, 20_000);
    await this.client?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
