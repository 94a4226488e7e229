import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "@prismq/sandbox";
import type { Task, TaskManagerClient } from "@prismq/taskmanager-client";
import { Reddit, registerAll, type RedditPostParams } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { DirectOutbox, FileState, WorkerMetrics, createLogger, type AppState, type Logger } from "@prismq/worker-kit";
import { startRig } from "@prismq/worker-kit/testing";
import { RedditApi, createRedditClient, type RedditApiOptions } from "@prismq/reddit-source";
import { RedditDiscovery } from "../src/discovery.js";

export const UA = "node:prismq-reddit-discovery-test:0.1.0 (by /u/prismq)";
/** The sandbox's default OAuth app. */
export const CLIENT = { clientId: "sandbox-client", clientSecret: "sandbox-secret", refreshToken: "sandbox-refresh" };
export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "test", level: "silent" });

export interface RigOptions {
  sandbox?: RedditSandboxOptions;
  api?: Partial<RedditApiOptions>;
}

/** A Reddit API over real snoowrap (through `createRedditClient`), with metrics and a logger kept in memory. */
export interface Connected {
  api: RedditApi;
  metrics: WorkerMetrics;
  /** Every JSON log line, in order. */
  lines: Array<Record<string, unknown>>;
  logger: Logger;
}

/**
 * A real TaskManager (temp SQLite), a Reddit sandbox of its own, and a
 * RedditDiscovery wired to them (real snoowrap, DirectOutbox, FileState on a
 * temp dir); all torn down when the test ends.
 */
export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), "rdd-"));
  tm!: TestTaskManager;
  sandbox!: RedditSandbox;
  client!: TaskManagerClient;
  api!: RedditApi;
  metrics!: WorkerMetrics;
  lines!: Array<Record<string, unknown>>;
  logger!: Logger;
  state!: AppState;
  discovery!: RedditDiscovery;

  static start(t: TestContext, options: RigOptions = {}): Promise<Rig> {
    const rig = new Rig();
    return startRig(t, rig, () => rig.init(options));
  }

  private async init(options: RigOptions): Promise<void> {
    this.tm = await startTestTaskManager({ workerId: `rdd-${uid()}`, retry: false, register: registerAll });
    this.client = this.tm.client;
    // A generous server limit unless the test is about rate limits. These tests count pages and requests exactly, so the
    // random glitches, the late approvals and the hostile posts (an unparseable date) are off unless a test asks for them; strict.test.ts runs the full strict sandbox.
    this.sandbox = await startRedditSandbox({ rateLimit: { requests: 100_000, windowMs: 60_000 }, strict: { garbageRate: 0, badItemRate: 0, lateApprovalRate: 0, hostilePosts: false }, ...options.sandbox });
    ({ api: this.api, metrics: this.metrics, lines: this.lines, logger: this.logger } = await this.connect(options.api));
    this.state = new FileState(this.dir, `app-${uid()}`);
    this.discovery = this.discoveryOf(this.api, this.state);
  }

  /** Another authenticated client of the same OAuth app (as another process would have). */
  async connect(api: Partial<RedditApiOptions> = {}): Promise<Connected> {
    const reddit = await createRedditClient({ userAgent: UA, ...CLIENT, baseUrl: this.sandbox.url });
    const metrics = new WorkerMetrics("reddit-discovery-test", { defaultMetrics: false });
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ service: "reddit-discovery-test", level: "debug", destination: { write: (msg: string) => void lines.push(JSON.parse(msg) as Record<string, unknown>) } });
    return { api: new RedditApi({ client: reddit, metrics, logger, baseDelayMs: 10, ...api }), metrics, lines, logger };
  }

  discoveryOf(api: RedditApi, state: AppState = this.state, logger: Logger = silent): RedditDiscovery {
    return new RedditDiscovery({ api, outbox: new DirectOutbox({ client: this.client, logger: silent }), state, logger });
  }

  /** Every Post task in the TaskManager, with its params. */
  async postTasks(): Promise<Array<Task<RedditPostParams>>> {
    return Promise.all((await this.tm.tasks(Reddit.Post.name)).map(async (s) => (await this.tm.task(s.id)) as unknown as Task<RedditPostParams>));
  }

  /** The post ids of every Post task. */
  async postIds(): Promise<string[]> {
    return (await this.postTasks()).map((t) => t.params.post_id);
  }

  /** The sandbox's subreddit holding the most posts among those with fewer than `max` listed posts. */
  subredditWith(min: number, max: number): string {
    const found = this.sandbox.data
      .subreddits()
      .map((s) => ({ name: s.name, n: this.sandbox.data.postIds(s.name).length }))
      .filter((s) => s.n >= min && s.n <= max)
      .sort((a, b) => b.n - a.n)[0];
    if (!found) throw new Error(`no subreddit with ${min}..${max} posts`);
    return found.name;
  }

  /** Listed posts of a subreddit (name, or all when undefined) created in the last `seconds` by the world's clock, newest first. */
  postsWithin(seconds: number, sub?: string): string[] {
    const since = this.sandbox.world.clock.now() / 1000 - seconds;
    return this.sandbox.data.postIds(sub).filter((id) => Number(this.sandbox.data.post(this.sandbox.data.postIndex(id) as number).created_utc) >= since);
  }

  /** Listed posts whose title holds `word` (as the search tokenizes it), in one subreddit or all, newest first. */
  postsTitled(word: string, sub?: string): string[] {
    return this.sandbox.data.postIds(sub).filter((id) => this.titleWords(id).includes(word));
  }

  titleWords(id: string): string[] {
    return this.sandbox.data
      .post(this.sandbox.data.postIndex(id) as number)
      .title.toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
  }

  async stop(): Promise<void> {
    await this.tm?.close();
    await this.sandbox?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sums a counter's values whose labels match. */
export async function count(metrics: WorkerMetrics, labels: Record<string, string>): Promise<number> {
  const { values } = await metrics.apiCalls.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k as keyof typeof v.labels]) === want)).reduce((n, v) => n + v.value, 0);
}
