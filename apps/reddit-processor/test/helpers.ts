import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "@prismq/sandbox";
import { Reddit, registerAll, type RedditPostParams } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { WorkerMetrics, createLogger, type Logger } from "@prismq/worker-kit";
import { ItemRig, startRig, type ItemType } from "@prismq/worker-kit/testing";
import { RedditApi, createRedditClient, type RedditApiOptions } from "@prismq/reddit-source";
import { RedditProcessor, type ProcessorDeps } from "../src/processor.js";

export const UA = "node:prismq-reddit-processor-test:0.1.0 (by /u/prismq)";
/** The sandbox's default OAuth app. */
export const CLIENT = { clientId: "sandbox-client", clientSecret: "sandbox-secret", refreshToken: "sandbox-refresh" };
export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "reddit-processor-test", level: "silent" });

const POST: ItemType<RedditPostParams> = { type: Reddit.Post, params: (post_id, hops) => (hops === undefined ? { post_id } : { post_id, hops }), idOf: (p) => p.post_id };

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
export class Rig extends ItemRig<RedditPostParams, TestTaskManager> {
  sandbox!: RedditSandbox;
  api!: RedditApi;
  metrics!: WorkerMetrics;
  processor!: RedditProcessor;

  constructor() {
    super({ item: POST, batchSize: 100, prefix: "rdp-", startTaskManager: (workerId) => startTestTaskManager({ workerId, retry: false, register: registerAll }) });
  }

  static start = (t: TestContext, options: RigOptions = {}): Promise<Rig> => startRig(t, new Rig(), (rig) => rig.init(options));

  private async init(options: RigOptions): Promise<void> {
    await this.startBase();
    // A generous server limit: a batch of 100 with comments is 101 requests.
    // These tests compare ideas with the sandbox's data field by field and count requests, so the random glitches, the
    // AutoModerator stickies and the hostile posts are off unless a test asks for them; strict.test.ts runs them all.
    this.sandbox = await startRedditSandbox({
      world: { seed: "processor-tests" },
      rateLimit: { requests: 100_000, windowMs: 60_000 },
      strict: { garbageRate: 0, badItemRate: 0, automodSticky: false, hostilePosts: false },
      ...options.sandbox,
    });
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
}
