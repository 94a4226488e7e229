import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "@prismq/sandbox";
import type { ClaimedTask, Task, TaskManagerClient, TaskSummary } from "@prismq/taskmanager-client";
import { Reddit, registerAll, type RedditPostParams } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { DirectOutbox, WorkerLoop, WorkerMetrics, createLogger, type Logger } from "@prismq/worker-kit";
import { RedditApi, createRedditClient, type RedditApiOptions } from "@prismq/reddit-source";
import { RedditProcessor, type PostTask, type ProcessorDeps } from "../src/processor.js";

export const UA = "node:prismq-reddit-processor-test:0.1.0 (by /u/prismq)";
/** The sandbox's default OAuth app. */
export const CLIENT = { clientId: "sandbox-client", clientSecret: "sandbox-secret", refreshToken: "sandbox-refresh" };
export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "reddit-processor-test", level: "silent" });

export interface RigOptions {
  processor?: Partial<Omit<ProcessorDeps, "api" | "ideas" | "outbox" | "logger">>;
  api?: Partial<RedditApiOptions>;
  sandbox?: RedditSandboxOptions;
}

/** A comment the processor reads (one of a post's top comments). */
export interface ExpectedComment {
  id: string;
  body: string;
  /** The YouTube video it links to, if any (the sandbox's own record). */
  videoId: string | null;
}

/**
 * A real TaskManager server (own temp SQLite file and key, catalog registered),
 * a Reddit sandbox, real snoowrap through `createRedditClient`, an idea store on
 * a temp dir, a DirectOutbox, and the processor wired to them; all torn down
 * when the test ends.
 */
export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), "rdp-"));
  readonly workerId = `rdp-${uid()}`;
  tm!: TestTaskManager;
  client!: TaskManagerClient;
  sandbox!: RedditSandbox;
  store!: IdeaStore;
  outbox!: DirectOutbox;
  api!: RedditApi;
  metrics!: WorkerMetrics;
  processor!: RedditProcessor;
  /** Every batch `handle` was given, as post ids. */
  readonly handled: string[][] = [];

  static async start(t: TestContext, options: RigOptions = {}): Promise<Rig> {
    const rig = new Rig();
    t.after(() => rig.stop());
    await rig.init(options);
    return rig;
  }

  private async init(options: RigOptions): Promise<void> {
    this.tm = await startTestTaskManager({ workerId: this.workerId, retry: false, register: registerAll });
    this.client = this.tm.client;
    // A generous server limit: a batch of 100 with comments is 101 requests.
    // These tests compare ideas with the sandbox's data field by field and count requests, so the random glitches, the
    // AutoModerator stickies and the hostile posts are off unless a test asks for them; strict.test.ts runs them all.
    this.sandbox = await startRedditSandbox({
      world: { seed: "processor-tests" },
      rateLimit: { requests: 100_000, windowMs: 60_000 },
      strict: { garbageRate: 0, badItemRate: 0, automodSticky: false, hostilePosts: false },
      ...options.sandbox,
    });
    this.store = await openIdeaStore({ dataDir: join(this.dir, "ideas") });
    this.outbox = new DirectOutbox({ client: this.client, logger: silent });
    const reddit = await createRedditClient({ userAgent: UA, ...CLIENT, baseUrl: this.sandbox.url });
    this.metrics = new WorkerMetrics("reddit-processor-test", { defaultMetrics: false });
    this.api = new RedditApi({ client: reddit, metrics: this.metrics, logger: silent, baseDelayMs: 10, ...options.api });
    this.processor = new RedditProcessor({
      api: this.api,
      ideas: this.store,
      outbox: this.outbox,
      logger: silent,
      // The sandbox's world clock, so post ages are what the sandbox's counts mean.
      now: () => this.sandbox.world.clock.now(),
      ...options.processor,
    });
  }

  /** A WorkerLoop as the app builds it: claim with the typed helper, handle with the processor. */
  worker(batchSize = 100): WorkerLoop<PostTask> {
    return new WorkerLoop<PostTask>({
      name: Reddit.Post.name,
      client: this.client,
      batchSize,
      outbox: this.outbox,
      workerId: this.workerId,
      logger: silent,
      claim: (signal) => Reddit.Post.claim(this.client, { workerId: this.workerId, signal }),
      handle: (batch, signal) => {
        this.handled.push(batch.map((task) => task.params.post_id));
        return this.processor.handle(batch, signal);
      },
    });
  }

  /** Creates one Post task per id; answers the task id of each. */
  async createPosts(ids: readonly string[], hops?: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const post_id of ids) {
      const created = await Reddit.Post.create(this.client, hops === undefined ? { post_id } : { post_id, hops });
      if (created.deduplicated) throw new Error(`task for ${post_id} already existed`);
      out.set(post_id, created.id);
    }
    return out;
  }

  tasks(type: string, status?: Task["status"]): Promise<TaskSummary[]> {
    return this.tm.tasks(type, status);
  }

  task(id: number): Promise<Task> {
    return this.tm.task(id);
  }

  /** The params of every task of a type. */
  params<P>(type: string): Promise<P[]> {
    return this.tm.params<P>(type);
  }

  /** Post tasks as if claimed, to hand to `processor.handle` directly. */
  fakeClaims(ids: readonly string[], firstId = 1_000_000, hops?: number): Array<ClaimedTask<RedditPostParams>> {
    return ids.map((post_id, k) => ({ id: firstId + k, type: Reddit.Post.name, params: hops === undefined ? { post_id } : { post_id, hops }, attempts: 1, priority: 0 }));
  }

  /** The sandbox's index of a post id. */
  index(id: string): number {
    const i = this.sandbox.data.postIndex(id);
    if (i === undefined) throw new Error(`unknown post ${id}`);
    return i;
  }

  /**
   * The comments the processor should read for a post: the sandbox's tree cut
   * as the processor asks for it (top sort, depth, limit), walked depth first.
   */
  topComments(id: string, limit = 10, depth = 2): ExpectedComment[] {
    const i = this.index(id);
    const data = this.sandbox.data;
    const out: ExpectedComment[] = [];
    type Thing = { kind: string; data: { id: string; body?: string; replies?: "" | { data: { children: Thing[] } } } };
    const walk = (things: Thing[]): void => {
      for (const th of things) {
        if (th.kind !== "t1") continue;
        const ref = data.commentIndex(th.data.id);
        out.push({ id: th.data.id, body: th.data.body ?? "", videoId: ref ? (data.commentYouTube(ref[0], ref[1])?.videoId ?? null) : null });
        if (th.data.replies) walk(th.data.replies.data.children);
      }
    };
    walk((data.commentTree(i, { limit, depth, sort: "top" })?.data.children ?? []) as unknown as Thing[]);
    return out;
  }

  /** Distinct YouTube videos of a post and its top comments, in order (post first), by the sandbox's own records. */
  expectedVideos(id: string, commentsPerPost = 10): string[] {
    const fromPost = this.sandbox.data.postYouTube(this.index(id))?.videoId;
    const fromComments = commentsPerPost > 0 ? this.topComments(id, commentsPerPost).map((c) => c.videoId) : [];
    return [...new Set([fromPost, ...fromComments].filter((v): v is string => typeof v === "string"))];
  }

  async stop(): Promise<void> {
    await this.tm?.close();
    await this.store?.close();
    await this.sandbox?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
