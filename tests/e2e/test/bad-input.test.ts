// Bad input to the four worker apps, run as they are deployed: each app is its own process
// (`node apps/<name>/dist/index.js`, with exactly the env given here plus PATH), against a real
// TaskManager (in-process, its database file in a temp dir), the offline YouTube and Reddit sandbox (in-process)
// and, for hybrid mode, the local queue store under a prefix of its own per test.
//
// One table per kind of bad input:
//   1. task params that break the catalog schema, for every task type an app claims;
//   2. tasks naming a channel, video, subreddit or post that does not exist;
//   3. sources files the discovery apps must refuse at start (exit 2, naming the problem);
//   4. secrets: nothing any process (or the server) writes, at LOG_LEVEL=trace, holds one.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, it, type TestContext } from "node:test";
import { Redis } from "ioredis";
import { World, startRedditSandbox, startYouTubeSandbox, type RedditClientConfig, type RedditSandbox, type YouTubeSandbox } from "@prismq/sandbox";
import { TaskManagerClient, type HistoryEntry, type Task } from "@prismq/taskmanager-client";
import { startServer, type RunningServer } from "@prismq/taskmanager-server";
import { Reddit, YouTube, registerAll, type AnyTaskTypeDef } from "@prismq/task-types";
import { createLogger } from "@prismq/worker-kit";
import { startAppProcess, until, type AppProcess } from "@prismq/worker-kit/testing";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const USER_AGENT = "node:prismq-e2e-bad-input:0.1.0 (by /u/prismq)";
/** How long a task has to settle once its app runs. */
const SETTLE_MS = 30_000;
/**
 * Waited after every task settled, with the app still running, before the final read: a task
 * failed as retryable goes back to pending at once and the app's claim loop (idle backoff at most
 * 5 s, a few hundred ms right after a batch) would have claimed it again well within this.
 */
const RETRY_WAIT_MS = 3_000;
/** A process that ignores SIGTERM this long is killed. */
const STOP_MS = 8_000;

type AppName = "youtube-discovery" | "youtube-processor" | "reddit-discovery" | "reddit-processor";
const entryOf = (app: AppName): string => join(root, "apps", app, "dist", "index.js");

const uid = (): string => randomBytes(5).toString("hex");
/** A long value no other string in the run shares: a leak of it cannot be a coincidence. */
const secret = (what: string): string => `${what}-${randomBytes(24).toString("hex")}`;

/** `PrismQ.IdeaInspiration.YouTube.Channel` -> `YouTube.Channel`. */
const short = (def: AnyTaskTypeDef): string => def.name.split(".").slice(-2).join(".");

// ---- output kept for the secrets check ----------------------------------------------------

/** Every text a process or the server wrote in this file, with the secrets it must not hold. */
const transcripts: Array<{ what: string; text: () => string; secrets: () => Array<[string, string]> }> = [];

/** The first secret (name, value) found in `text`, or undefined. */
function leakIn(text: string, secrets: Array<[string, string]>): string | undefined {
  return secrets.find(([, value]) => text.includes(value))?.[0];
}

// ---- apps as processes --------------------------------------------------------------------

/** Resolves with the exit code, or rejects (after stopping it) when it runs longer than `ms`. */
async function exitWithin(run: AppProcess, app: AppName, ms: number): Promise<number | null> {
  await until(() => run.ended, ms, `${app} to exit`, 50).catch(async () => {
    await run.stop("SIGTERM", STOP_MS);
    throw new Error(`${app} was still running after ${ms} ms; stderr:\n${run.stderr()}\nstdout (end):\n${run.stdout().slice(-2000)}`);
  });
  return run.exited;
}

// ---- one rig per test ---------------------------------------------------------------------

/**
 * What one test runs against, all its own: a temp dir, a TaskManager with its database in it (its log
 * kept, at trace), a YouTube and a Reddit sandbox sharing one small world, a queue prefix, and
 * secrets of its own. `stop()` (registered with the test, so it runs even when the test fails)
 * stops every process it started, closes the servers, deletes the prefix's keys and the dir.
 */
class Rig {
  readonly id = uid();
  readonly dir = mkdtempSync(join(tmpdir(), "e2e-bad-input-"));
  readonly prefix = `e2e-bad-input-${this.id}`;
  readonly world = new World({ seed: `bad-input-${this.id}`, channels: 6, videos: 600, subreddits: 6, posts: 600 });
  readonly secrets = {
    TASKMANAGER_API_KEY: secret("tm-key"),
    YOUTUBE_API_KEY_DISCOVERY: secret("yt-discovery-key"),
    YOUTUBE_API_KEY_PROCESSOR: secret("yt-processor-key"),
    REDDIT_CLIENT_SECRET_DISCOVERY: secret("rd-discovery-secret"),
    REDDIT_REFRESH_TOKEN: secret("rd-refresh-token"),
    REDDIT_CLIENT_SECRET_PROCESSOR: secret("rd-processor-secret"),
    REDDIT_PASSWORD: secret("rd-password"),
  };
  /** The discovery app's OAuth app (refresh-token grant) and the processor's (password grant). */
  readonly discoveryClient: RedditClientConfig = {
    clientId: `e2e-rdd-${this.id}`,
    clientSecret: this.secrets.REDDIT_CLIENT_SECRET_DISCOVERY,
    refreshTokens: [this.secrets.REDDIT_REFRESH_TOKEN],
  };
  readonly processorClient: RedditClientConfig = {
    clientId: `e2e-rdp-${this.id}`,
    clientSecret: this.secrets.REDDIT_CLIENT_SECRET_PROCESSOR,
    users: [{ username: `e2e_user_${this.id}`, password: this.secrets.REDDIT_PASSWORD }],
  };
  readonly serverLog: string[] = [];
  readonly runs: Array<{ app: AppName; run: AppProcess }> = [];
  server?: RunningServer;
  youtube?: YouTubeSandbox;
  reddit?: RedditSandbox;
  client?: TaskManagerClient;

  static async start(t: TestContext): Promise<Rig> {
    const rig = new Rig();
    t.after(() => rig.stop());
    await rig.init();
    return rig;
  }

  private async init(): Promise<void> {
    const secrets = this.secretForms();
    transcripts.push({ what: `TaskManager server log (${this.id})`, text: () => this.serverLog.join(""), secrets: () => secrets });
    this.server = await startServer({
      storage: { kind: "sqlite", path: join(this.dir, "taskmanager.sqlite") },
      apiKeys: [this.secrets.TASKMANAGER_API_KEY],
      logger: createLogger({ service: "taskmanager-server", level: "trace", destination: { write: (line: string) => void this.serverLog.push(line) } }),
    });
    this.youtube = await startYouTubeSandbox({ world: this.world });
    this.reddit = await startRedditSandbox({ world: this.world, clients: [this.discoveryClient, this.processorClient] });
    this.client = new TaskManagerClient({ baseUrl: this.server.url, apiKey: this.secrets.TASKMANAGER_API_KEY, workerId: `e2e-bad-input-${this.id}` });
    await registerAll(this.client);
  }

  get tm(): TaskManagerClient {
    assert.ok(this.client, "rig started");
    return this.client;
  }
  get yt(): YouTubeSandbox {
    assert.ok(this.youtube, "rig started");
    return this.youtube;
  }
  get rd(): RedditSandbox {
    assert.ok(this.reddit, "rig started");
    return this.reddit;
  }

  /** Each secret, and the forms it travels in (HTTP Basic credentials), by name. */
  secretForms(): Array<[string, string]> {
    const basic = (c: RedditClientConfig) => Buffer.from(`${c.clientId}:${c.clientSecret}`).toString("base64");
    return [
      ...Object.entries(this.secrets),
      ["REDDIT_CLIENT_SECRET_DISCOVERY (as Basic credentials)", basic(this.discoveryClient)],
      ["REDDIT_CLIENT_SECRET_PROCESSOR (as Basic credentials)", basic(this.processorClient)],
    ];
  }

  /** The env of `app` against this rig, hybrid mode, logging everything. */
  env(app: AppName, extra: Record<string, string> = {}): Record<string, string> {
    assert.ok(this.server && this.youtube && this.reddit, "rig started");
    const common = {
      TASKMANAGER_API_URL: this.server.url,
      TASKMANAGER_API_KEY: this.secrets.TASKMANAGER_API_KEY,
      REDIS_URL,
      QUEUE_PREFIX: this.prefix,
      LOG_LEVEL: "trace",
      HEALTH_HOST: "127.0.0.1",
      HEALTH_PORT: "0",
      SHUTDOWN_TIMEOUT_MS: "5000",
      DATA_DIR: join(this.dir, `data-${app}`),
    };
    const reddit = (c: RedditClientConfig) => ({ REDDIT_CLIENT_ID: c.clientId, REDDIT_CLIENT_SECRET: c.clientSecret, REDDIT_USER_AGENT: USER_AGENT, REDDIT_API_URL: this.rd.url });
    switch (app) {
      case "youtube-discovery":
        return { ...common, YOUTUBE_API_KEY: this.secrets.YOUTUBE_API_KEY_DISCOVERY, YOUTUBE_API_ROOT_URL: this.yt.rootUrl, ...extra };
      case "youtube-processor":
        // One task per batch: every batch that reaches the API costs one call, so the call count names the tasks that reached it.
        return { ...common, YOUTUBE_API_KEY: this.secrets.YOUTUBE_API_KEY_PROCESSOR, YOUTUBE_API_ROOT_URL: this.yt.rootUrl, BATCH_SIZE: "1", CROSS_MODULE: "false", ...extra };
      case "reddit-discovery":
        return { ...common, ...reddit(this.discoveryClient), REDDIT_REFRESH_TOKEN: this.secrets.REDDIT_REFRESH_TOKEN, ...extra };
      case "reddit-processor":
        return {
          ...common,
          ...reddit(this.processorClient),
          REDDIT_USERNAME: this.processorClient.users?.[0]?.username ?? "",
          REDDIT_PASSWORD: this.secrets.REDDIT_PASSWORD,
          BATCH_SIZE: "1",
          REDDIT_COMMENTS_PER_POST: "0",
          CROSS_MODULE: "false",
          ...extra,
        };
    }
  }

  spawn(app: AppName, env: Record<string, string>): AppProcess {
    const run = startAppProcess(env, entryOf(app), { cwd: this.dir });
    this.runs.push({ app, run });
    const secrets = this.secretForms();
    transcripts.push({ what: `${app} (${this.id}) stdout and stderr`, text: () => run.stdout() + run.stderr(), secrets: () => secrets });
    return run;
  }

  /** Any secret found in what this rig's processes and server wrote, as "where: which". */
  leaks(): string[] {
    const secrets = this.secretForms();
    const found: string[] = [];
    for (const { app, run } of this.runs) {
      const which = leakIn(run.stdout() + run.stderr(), secrets);
      if (which) found.push(`${app}: ${which}`);
    }
    const which = leakIn(this.serverLog.join(""), secrets);
    if (which) found.push(`TaskManager server: ${which}`);
    return found;
  }

  async stop(): Promise<void> {
    await Promise.all(this.runs.map(({ run }) => run.stop("SIGTERM", STOP_MS)));
    await this.client?.close().catch(() => {});
    await this.server?.close().catch(() => {});
    await this.youtube?.close().catch(() => {});
    await this.reddit?.close().catch(() => {});
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`${this.prefix}:*`);
      if (keys.length) await redis.del(...keys);
    } catch {
      // nothing was written there
    } finally {
      redis.disconnect();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- table 1 and 2: tasks ------------------------------------------------------------------

/** Params that break the catalog schema; `expect` matches the part of the failure message naming the field. */
interface BadParamsRow {
  type: AnyTaskTypeDef;
  what: string;
  params: Record<string, unknown>;
  expect: RegExp;
}

/** A task naming something the API does not have; each of `expect` must match its failure message. */
interface MissingRow {
  type: AnyTaskTypeDef;
  what: string;
  params: Record<string, unknown>;
  expect: RegExp[];
}

/** A valid task created among the bad ones: it must complete. */
interface ValidRow {
  type: AnyTaskTypeDef;
  what: string;
  params: Record<string, unknown>;
}

interface TaskCases {
  bad: BadParamsRow[];
  missing: MissingRow[];
  valid: ValidRow[];
  /** API calls the valid and missing-thing tasks need, exactly: any more were spent on a bad task. */
  calls: Record<string, number>;
}

interface TaskApp {
  app: AppName;
  /** The types the app claims. */
  types: AnyTaskTypeDef[];
  cases: (rig: Rig) => TaskCases;
  /** The calls the sandbox counted for this app's key or OAuth app, by method or endpoint (zeros left out). */
  spent: (rig: Rig) => Record<string, number>;
  /** Answers the sandbox replaced by a glitch (its default 1% of garbage): each may cost one retry, of a valid task's call. */
  glitches: (rig: Rig) => number;
}

const nonZero = (counts: Record<string, number | undefined>): Record<string, number> => Object.fromEntries(Object.entries(counts).filter((e): e is [string, number] => (e[1] ?? 0) > 0));

function redditSpent(rig: Rig): Record<string, number> {
  const { listing, search, info, comments, morechildren, subreddit, other } = rig.rd.stats().requests.byEndpoint;
  return nonZero({ listing, search, info, comments, morechildren, subreddit, other });
}

const TASK_APPS: TaskApp[] = [
  {
    app: "youtube-discovery",
    types: [YouTube.Channel, YouTube.Search, YouTube.MostPopular],
    spent: (rig) => nonZero(rig.yt.quota(rig.secrets.YOUTUBE_API_KEY_DISCOVERY).calls),
    glitches: (rig) => rig.yt.stats().glitches,
    cases: (rig) => {
      const handle = rig.yt.data.channel(0).handle;
      const word = rig.yt.data.title(0).split(" ")[0] ?? "laptop";
      return {
        bad: [
          { type: YouTube.Channel, what: "a channel_id that is a number", params: { channel_id: 12345 }, expect: /channel_id must be string/ },
          { type: YouTube.Channel, what: "no channel_id", params: { max_videos: 5 }, expect: /channel_id is required/ },
          { type: YouTube.Channel, what: "max_videos above 500", params: { channel_id: handle, max_videos: 501 }, expect: /max_videos must be <= 500/ },
          { type: YouTube.Channel, what: "an injection-looking channel_id", params: { channel_id: "UC'; DROP TABLE tasks; --" }, expect: /channel_id must match pattern/ },
          { type: YouTube.Channel, what: "a field the schema does not know", params: { channel_id: handle, shell: "$(rm -rf /)" }, expect: /shell is not an allowed field/ },
          { type: YouTube.Channel, what: "hops past the limit", params: { channel_id: handle, hops: 3 }, expect: /hops must be <= 2/ },
          { type: YouTube.Search, what: "an empty query", params: { query: "" }, expect: /query must NOT have fewer than 1 characters/ },
          { type: YouTube.Search, what: "a query that is a list", params: { query: ["a", "b"] }, expect: /query must be string/ },
          { type: YouTube.Search, what: "max_results of 0", params: { query: word, max_results: 0 }, expect: /max_results must be >= 1/ },
          { type: YouTube.Search, what: "published_after that is not an ISO instant", params: { query: word, published_after: "yesterday" }, expect: /published_after must match pattern/ },
          { type: YouTube.MostPopular, what: "no region_code", params: { category_id: "10" }, expect: /region_code is required/ },
          { type: YouTube.MostPopular, what: "a lower-case three-letter region_code", params: { region_code: "usa" }, expect: /region_code must match pattern/ },
          { type: YouTube.MostPopular, what: "a fractional max_results", params: { region_code: "US", max_results: 2.5 }, expect: /max_results must be integer/ },
          { type: YouTube.MostPopular, what: "an injection-looking category_id", params: { region_code: "US", category_id: "10 OR 1=1" }, expect: /category_id must match pattern/ },
        ],
        missing: [
          { type: YouTube.Channel, what: "a handle no channel has", params: { channel_id: "@nosuchchannel" }, expect: [/YouTube channel not found/, /@nosuchchannel/] },
          { type: YouTube.Channel, what: "a channel id no channel has", params: { channel_id: "UCNoSuchChannel000000000" }, expect: [/YouTube channel not found/, /UCNoSuchChannel000000000/] },
        ],
        valid: [
          { type: YouTube.Channel, what: `${handle}, 5 videos`, params: { channel_id: handle, max_videos: 5 } },
          { type: YouTube.Search, what: `"${word}", 5 results`, params: { query: word, max_results: 5 } },
          { type: YouTube.MostPopular, what: "US, 5 results", params: { region_code: "US", max_results: 5 } },
        ],
        // channels.list: the valid channel, the missing id, and the missing handle twice (as a handle, then as a
        // legacy username, since a pasted /user/ URL becomes @name); one page each for the rest.
        calls: { "channels.list": 4, "playlistItems.list": 1, "search.list": 1, "videos.list": 1 },
      };
    },
  },
  {
    app: "youtube-processor",
    types: [YouTube.Video],
    spent: (rig) => nonZero(rig.yt.quota(rig.secrets.YOUTUBE_API_KEY_PROCESSOR).calls),
    glitches: (rig) => rig.yt.stats().glitches,
    cases: (rig) => {
      const ids = rig.yt.data.videoIds();
      const [a, b, c, gone] = [ids[10], ids[20], ids[30], ids[40]] as [string, string, string, string];
      assert.ok(rig.yt.deleteVideo(gone), "the sandbox deletes a video");
      assert.equal(rig.yt.data.videoIndex("NoSuchVid00"), undefined, "no such video in the world");
      return {
        bad: [
          { type: YouTube.Video, what: "a video_id that is too short", params: { video_id: "abc" }, expect: /video_id must match pattern/ },
          { type: YouTube.Video, what: "a video_id that is a number", params: { video_id: 42 }, expect: /video_id must be string/ },
          { type: YouTube.Video, what: "no video_id", params: { hops: 1 }, expect: /video_id is required/ },
          { type: YouTube.Video, what: "a script tag as video_id", params: { video_id: "<script>x</script>" }, expect: /video_id must match pattern/ },
          { type: YouTube.Video, what: "a path-traversal video_id of 11 characters", params: { video_id: "../../etc/p" }, expect: /video_id must match pattern/ },
          { type: YouTube.Video, what: "negative hops on a real video", params: { video_id: a, hops: -1 }, expect: /hops must be >= 0/ },
        ],
        missing: [
          { type: YouTube.Video, what: "a video id that never existed", params: { video_id: "NoSuchVid00" }, expect: [/YouTube video NoSuchVid00 not found/] },
          { type: YouTube.Video, what: "a deleted video", params: { video_id: gone }, expect: [new RegExp(`YouTube video ${gone} not found`), /deleted/] },
        ],
        valid: [a, b, c].map((id) => ({ type: YouTube.Video, what: id, params: { video_id: id } })),
        // One videos.list per batch of one: the three valid videos and the two missing ones.
        calls: { "videos.list": 5 },
      };
    },
  },
  {
    app: "reddit-discovery",
    types: [Reddit.Subreddit, Reddit.Search],
    spent: redditSpent,
    glitches: (rig) => rig.rd.stats().glitches,
    cases: (rig) => {
      const sub = rig.rd.data.subredditName(0);
      return {
        bad: [
          { type: Reddit.Subreddit, what: "a subreddit with the r/ prefix", params: { subreddit: `r/${sub}`, sort: "new" }, expect: /subreddit must match pattern/ },
          { type: Reddit.Subreddit, what: "an unknown sort", params: { subreddit: sub, sort: "best" }, expect: /sort must be one of/ },
          { type: Reddit.Subreddit, what: "no sort", params: { subreddit: sub }, expect: /sort is required/ },
          { type: Reddit.Subreddit, what: "limit above 1000", params: { subreddit: sub, sort: "top", limit: 5000 }, expect: /limit must be <= 1000/ },
          { type: Reddit.Subreddit, what: "limit as a string", params: { subreddit: sub, sort: "hot", limit: "10" }, expect: /limit must be integer/ },
          { type: Reddit.Subreddit, what: "an injection-looking subreddit", params: { subreddit: "x; rm -rf ~", sort: "new" }, expect: /subreddit must match pattern/ },
          { type: Reddit.Search, what: "an empty query", params: { query: "" }, expect: /query must NOT have fewer than 1 characters/ },
          { type: Reddit.Search, what: "a query of 513 characters", params: { query: "a".repeat(513) }, expect: /query must NOT have more than 512 characters/ },
          { type: Reddit.Search, what: "an unknown time_filter", params: { query: "soup", time_filter: "forever" }, expect: /time_filter must be one of/ },
          { type: Reddit.Search, what: "no query", params: { subreddit: sub }, expect: /query is required/ },
          { type: Reddit.Search, what: "a path-traversal subreddit", params: { query: "soup", subreddit: "../../api/v1/me" }, expect: /subreddit must match pattern/ },
        ],
        missing: [
          { type: Reddit.Subreddit, what: "a subreddit that does not exist", params: { subreddit: "nosuchsubreddit", sort: "new" }, expect: [/nosuchsubreddit/, /not found|does not exist|no subreddit|404/i] },
          { type: Reddit.Search, what: "a search in a subreddit that does not exist", params: { query: "soup", subreddit: "nosuchsubreddit2", sort: "new" }, expect: [/nosuchsubreddit2/, /not found|does not exist|no subreddit|404/i] },
        ],
        valid: [
          { type: Reddit.Subreddit, what: `${sub}, new, 5 posts`, params: { subreddit: sub, sort: "new", limit: 5 } },
          { type: Reddit.Search, what: `"soup" in ${sub}, new, 5 posts`, params: { query: "soup", subreddit: sub, sort: "new", limit: 5 } },
        ],
        // One page each: the valid listing and search, and the two that meet a missing subreddit.
        calls: { listing: 2, search: 2 },
      };
    },
  },
  {
    app: "reddit-processor",
    types: [Reddit.Post],
    spent: redditSpent,
    glitches: (rig) => rig.rd.stats().glitches,
    cases: (rig) => {
      const ids = rig.rd.data.postIds();
      const [a, b, c, removed] = [ids[10], ids[20], ids[30], ids[40]] as [string, string, string, string];
      assert.ok(rig.rd.removePost(removed), "the sandbox removes a post");
      assert.equal(rig.rd.data.postIndex("zzzzzzzz"), undefined, "no such post in the world");
      return {
        bad: [
          { type: Reddit.Post, what: "a post_id with the t3_ prefix", params: { post_id: `t3_${a}` }, expect: /post_id must match pattern/ },
          { type: Reddit.Post, what: "an upper-case post_id", params: { post_id: a.toUpperCase() }, expect: /post_id must match pattern/ },
          { type: Reddit.Post, what: "a post_id that is a number", params: { post_id: 1234 }, expect: /post_id must be string/ },
          { type: Reddit.Post, what: "the id under another name", params: { id: a }, expect: /post_id is required.*; id is not an allowed field/ },
          { type: Reddit.Post, what: "an injection-looking post_id", params: { post_id: "1 OR 1=1" }, expect: /post_id must match pattern/ },
          { type: Reddit.Post, what: "a post_id of 13 characters", params: { post_id: "abcdefghijklm" }, expect: /post_id must match pattern/ },
        ],
        missing: [
          { type: Reddit.Post, what: "a post id that never existed", params: { post_id: "zzzzzzzz" }, expect: [/Reddit post zzzzzzzz not found/] },
          { type: Reddit.Post, what: "a removed post", params: { post_id: removed }, expect: [new RegExp(`Reddit post ${removed}`), /removed/] },
        ],
        valid: [a, b, c].map((id) => ({ type: Reddit.Post, what: id, params: { post_id: id } })),
        // One /api/info per batch of one: the three valid posts and the two missing ones; comments are off.
        calls: { info: 5 },
      };
    },
  },
];

/** Bad first, then a valid or missing one, and so on: no kind of task waits behind another. */
function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i] as T);
    if (i < b.length) out.push(b[i] as T);
  }
  return out;
}

interface Settled {
  task: Task;
  history: HistoryEntry[];
}

describe("bad input to the four apps, each run as its own process", () => {
  describe("bad task params and tasks naming things that do not exist fail once for good; valid tasks beside them complete", () => {
    for (const spec of TASK_APPS) {
      it(`${spec.app}: ${spec.types.map(short).join(", ")} tasks`, { timeout: 75_000 }, async (t) => {
        const rig = await Rig.start(t);
        const cases = spec.cases(rig);

        // A looser schema registered elsewhere lets the server take the bad params; the catalog schema is back before the app starts.
        for (const type of spec.types) await rig.tm.registerTaskType({ name: type.name, version: "0.0.1-loose", paramSchema: { type: "object" } });
        type Created = { id: number; row: BadParamsRow | MissingRow | ValidRow; kind: "bad" | "missing" | "valid" };
        const rows = interleave<Omit<Created, "id">>(
          cases.bad.map((row) => ({ row, kind: "bad" })),
          [...cases.valid.map((row) => ({ row, kind: "valid" as const })), ...cases.missing.map((row) => ({ row, kind: "missing" as const }))],
        );
        const created: Created[] = [];
        for (const r of rows) {
          if (r.kind === "bad") assert.equal(r.row.type.parse(r.row.params).ok, false, `${short(r.row.type)} with ${r.row.what} breaks the catalog schema`);
          const task = r.kind === "bad" ? await rig.tm.createTask(r.row.type.name, r.row.params) : await r.row.type.create(rig.tm, r.row.params);
          assert.equal(task.deduplicated, false, `${r.row.what}: a task of its own`);
          created.push({ ...r, id: task.id });
        }
        const restored = await registerAll(rig.tm);
        for (const type of spec.types) assert.ok(restored.registered.includes(type.name), `${short(type)}: the catalog schema is back`);

        const app = rig.spawn(spec.app, rig.env(spec.app));
        const settled = async (): Promise<boolean> => {
          if (app.ended) throw new Error(`${spec.app} exited (${String(await app.exited)}) before the tasks settled:\n${app.stderr()}\n${app.stdout().slice(-3000)}`);
          for (const c of created) {
            const task = await rig.tm.getTask(c.id);
            if (task?.status !== "completed" && task?.status !== "failed") return false;
          }
          return true;
        };
        await until(settled, SETTLE_MS, `every ${spec.app} task completed or failed`, 200);
        // A retry would have happened by now: the final state is read after it.
        await sleep(RETRY_WAIT_MS);
        const final = new Map<number, Settled>();
        for (const c of created) {
          const task = await rig.tm.getTask(c.id);
          assert.ok(task, `task ${c.id} exists`);
          final.set(c.id, { task, history: await rig.tm.getTaskHistory(c.id) });
        }
        const spent = spec.spent(rig);
        const glitches = spec.glitches(rig);

        for (const c of created) {
          const { task, history } = final.get(c.id) as Settled;
          const changes = history.map((h) => h.statusChange);
          const seen = `task ${c.id}: status ${task.status}, attempts ${task.attempts}, error ${JSON.stringify(task.errorMessage)}, history ${JSON.stringify(changes)}`;
          if (c.kind === "bad") {
            const row = c.row as BadParamsRow;
            await t.test(`a ${short(row.type)} task with ${row.what} is failed on its first claim, for good, naming the bad field`, () => {
              assert.equal(task.status, "failed", seen);
              assert.equal(task.attempts, 1, `claimed once, never retried: ${seen}`);
              assert.match(task.errorMessage ?? "", new RegExp(`^Invalid params for ${row.type.name.replace(/\./g, "\\.")}`), seen);
              assert.match(task.errorMessage ?? "", row.expect, seen);
              assert.deepEqual(changes, ["created", "claimed", "failed"], seen);
            });
          } else if (c.kind === "missing") {
            const row = c.row as MissingRow;
            await t.test(`a ${short(row.type)} task naming ${row.what} is failed once, with a message naming it, and not retried`, () => {
              assert.equal(task.status, "failed", seen);
              // Failed for good on the claim that found the thing missing; earlier claims only where the sandbox garbled an answer (its default 1% glitch rate).
              assert.ok(task.attempts >= 1 && task.attempts <= 1 + glitches, `claimed once, never retried for the missing thing: ${task.attempts} attempts with ${glitches} glitched answers: ${seen}`);
              for (const re of row.expect) assert.match(task.errorMessage ?? "", re, seen);
              assert.deepEqual(changes, ["created", ...Array.from({ length: task.attempts - 1 }, () => ["claimed", "pending (retry)"]).flat(), "claimed", "failed"], seen);
            });
          } else {
            const row = c.row as ValidRow;
            await t.test(`a valid ${short(row.type)} task (${row.what}) created among the bad ones completes`, () => {
              assert.equal(task.status, "completed", seen);
              // Once; or, when the sandbox garbled an answer (its default 1% glitch rate), retried once per garbled answer at most.
              assert.ok(task.attempts >= 1 && task.attempts <= 1 + glitches, `${task.attempts} attempts with ${glitches} glitched answers: ${seen}`);
              assert.deepEqual(changes, ["created", ...Array.from({ length: task.attempts - 1 }, () => ["claimed", "pending (retry)"]).flat(), "claimed", "completed"], seen);
            });
          }
        }

        await t.test("no API call is spent on a task with bad params: the sandbox counted only the calls of the valid and missing-thing tasks", () => {
          // Exactly those calls, plus at most one retry per answer the sandbox garbled (its default 1% glitch rate).
          assert.deepEqual(Object.keys(spent).sort(), Object.keys(cases.calls).sort(), `${JSON.stringify(spent)} against ${JSON.stringify(cases.calls)}`);
          let extra = 0;
          for (const [call, n] of Object.entries(cases.calls)) {
            const got = spent[call] ?? 0;
            assert.ok(got >= n, `${call}: ${got} calls, ${n} needed`);
            extra += got - n;
          }
          assert.ok(extra <= glitches, `${extra} calls beyond those needed, with ${glitches} glitched answers to retry: ${JSON.stringify(spent)} against ${JSON.stringify(cases.calls)}`);
        });

        const { code } = await app.stop("SIGTERM", STOP_MS);
        await t.test("the app ran in hybrid mode logging at trace, wrote no secret anywhere, and stops with exit 0 on SIGTERM", () => {
          const lines = app.lines;
          assert.ok(lines.some((l) => String(l.msg).startsWith("hybrid mode")), "says it runs in hybrid mode");
          assert.ok(
            lines.some((l) => typeof l.level === "number" && l.level <= 20),
            "trace and debug lines were on, so the check saw everything the app can log",
          );
          assert.deepEqual(rig.leaks(), [], "no secret in any output");
          assert.equal(code, 0, app.stderr());
        });
      });
    }
  });

  // ---- table 3: sources files ----------------------------------------------------------------

  type DiscoveryApp = "youtube-discovery" | "reddit-discovery";
  interface SourcesRow {
    app: DiscoveryApp;
    what: string;
    /** Writes the file (or not) in `dir` and returns the path the app is given. */
    file: (dir: string) => string;
    /** Each must match the app's stderr; `{path}` is replaced by the path, escaped. */
    expect: Array<RegExp | string>;
  }

  const YT_OK = { kind: "channel", channel: "@tech0", max_videos: 50, every: "1h" };
  const RD_OK = { kind: "subreddit", subreddit: "technology", sort: "new", limit: 100, every: "5m" };
  /** A JSON sources file whose entry 0 is valid and entry 1 is `bad`. */
  const secondEntry = (ok: object, bad: object) => (dir: string) => {
    const path = join(dir, "sources.json");
    writeFileSync(path, JSON.stringify({ sources: [ok, bad] }, null, 2));
    return path;
  };
  const text = (name: string, body: string) => (dir: string) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };

  const SOURCES_ROWS: SourcesRow[] = [
    // youtube-discovery
    {
      app: "youtube-discovery",
      what: "a YAML file that does not parse",
      file: text("sources.yaml", 'sources:\n  - kind: channel\n    channel: "@tech0"\n  - kind: search\n    query: [unclosed\n    every: 1h\n'),
      expect: ["{path} is not valid YAML", /at line 6/],
    },
    { app: "youtube-discovery", what: "a JSON file that does not parse", file: text("sources.json", '{"sources": [{"kind": "channel", "channel": "@tech0"},]}'), expect: ["{path} is not valid JSON"] },
    { app: "youtube-discovery", what: "a file that is a list, not an object with sources", file: text("sources.yaml", "- kind: channel\n  channel: '@tech0'\n"), expect: [/sources: the file must be an object with a `sources` list/] },
    { app: "youtube-discovery", what: "an unknown kind", file: secondEntry(YT_OK, { kind: "podcast", feed: "https://example.org/feed" }), expect: [/sources\[1\]\.kind: .*'channel' \| 'search' \| 'most_popular'.*\(got "podcast"\)/] },
    { app: "youtube-discovery", what: "a search without its query", file: secondEntry(YT_OK, { kind: "search", max_results: 5, every: "1h" }), expect: [/sources\[1\]\.query: /] },
    { app: "youtube-discovery", what: "a field no kind has", file: secondEntry(YT_OK, { kind: "most_popular", region: "US", colour: "red" }), expect: [/sources\[1\]: .*"colour"/] },
    { app: "youtube-discovery", what: "a value the task type refuses", file: secondEntry(YT_OK, { kind: "most_popular", region: "usa", every: "1h" }), expect: [/sources\[1\]: region_code must match pattern .*\(got "usa"\)/] },
    { app: "youtube-discovery", what: "an every shorter than a second", file: secondEntry(YT_OK, { kind: "search", query: "bread", every: "500ms" }), expect: [/sources\[1\]\.every: must be at least 1s/] },
    { app: "youtube-discovery", what: "both every and cron", file: secondEntry(YT_OK, { kind: "search", query: "bread", every: "1h", cron: "0 * * * *" }), expect: [/sources\[1\]: give every or cron, not both/] },
    { app: "youtube-discovery", what: "a cron in a time zone that does not exist", file: secondEntry(YT_OK, { kind: "search", query: "bread", cron: "0 * * * *", time_zone: "Mars/Olympus_Mons" }), expect: [/sources\[1\]/, /Mars\/Olympus_Mons/] },
    { app: "youtube-discovery", what: "two entries with one id", file: secondEntry(YT_OK, { ...YT_OK, every: "2h" }), expect: [/sources\[1\]: id "channel:@tech0" is used twice/] },
    { app: "youtube-discovery", what: "a path that does not exist", file: (dir) => join(dir, "no-such-sources.yaml"), expect: ["cannot read {path}", /ENOENT/] },
    // reddit-discovery
    { app: "reddit-discovery", what: "a YAML file that does not parse", file: text("sources.yml", "sources:\n  - kind: subreddit\n    subreddit: technology\n   sort: new\n"), expect: ["{path} is not valid YAML", /at line \d+/] },
    { app: "reddit-discovery", what: "a JSON file that does not parse", file: text("sources.json", "{sources: [{kind: 'subreddit', subreddit: 'technology'}]}"), expect: ["{path} is not valid JSON"] },
    { app: "reddit-discovery", what: "an empty file", file: text("sources.yaml", ""), expect: [/sources: the file must be an object with a `sources` list/] },
    { app: "reddit-discovery", what: "an unknown kind", file: secondEntry(RD_OK, { kind: "forum", url: "https://example.org/forum" }), expect: [/sources\[1\]\.kind: .*'subreddit' \| 'search'.*\(got "forum"\)/] },
    { app: "reddit-discovery", what: "a subreddit entry without its subreddit", file: secondEntry(RD_OK, { kind: "subreddit", sort: "top", every: "1h" }), expect: [/sources\[1\]\.subreddit: /] },
    { app: "reddit-discovery", what: "a time_filter the task type refuses", file: secondEntry(RD_OK, { kind: "search", query: "soup", time_filter: "forever" }), expect: [/sources\[1\]: time_filter must be one of .*\(got "forever"\)/] },
    { app: "reddit-discovery", what: "a negative every", file: secondEntry(RD_OK, { kind: "search", query: "soup", every: -5 }), expect: [/sources\[1\]\.every: must be like "90s"/] },
    { app: "reddit-discovery", what: "a cron pattern that does not parse", file: secondEntry(RD_OK, { kind: "search", query: "soup", cron: "61 * * * *" }), expect: [/sources\[1\]: .*bad cron pattern "61 \* \* \* \*"/] },
    { app: "reddit-discovery", what: "a cron in a time zone that does not exist", file: secondEntry(RD_OK, { kind: "search", query: "soup", cron: "0 * * * *", time_zone: "Mars/Olympus_Mons" }), expect: [/sources\[1\]/, /Mars\/Olympus_Mons/] },
    {
      app: "reddit-discovery",
      what: "a path that is a directory",
      file: (dir) => {
        const path = join(dir, "sources.d");
        mkdirSync(path);
        return path;
      },
      expect: ["cannot read {path}", /EISDIR/],
    },
  ];

  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  describe("a bad sources file stops a discovery app at start with exit 2 and a message naming the problem and the entry", { concurrency: 4 }, () => {
    for (const row of SOURCES_ROWS) {
      it(`${row.app}: ${row.what}`, { timeout: 30_000 }, async (t) => {
        const rig = await Rig.start(t);
        const path = row.file(rig.dir);
        const variable = row.app === "youtube-discovery" ? "YOUTUBE_SOURCES" : "REDDIT_SOURCES";
        const app = rig.spawn(row.app, rig.env(row.app, { [variable]: path }));
        const code = await exitWithin(app, row.app, 20_000);
        const seen = `exit ${String(code)}; stderr:\n${app.stderr()}`;
        assert.equal(code, 2, seen);
        assert.doesNotMatch(app.stderr(), /failed to start/, `refused as configuration, not a crash: ${seen}`);
        for (const e of row.expect) assert.match(app.stderr(), typeof e === "string" ? new RegExp(escape(e).replace(escape("{path}"), escape(path))) : e, seen);
        assert.equal(app.lines.length, 0, `nothing started, so nothing was logged: ${app.stdout()}`);
        assert.equal(rig.yt.stats().requests + rig.rd.stats().requests.total, 0, "no API was asked anything");
        assert.deepEqual(rig.leaks(), [], "no secret in the message");
      });
    }
  });

  // ---- table 4: secrets, across everything above ---------------------------------------------

  it("no secret (TaskManager key, YouTube keys, Reddit client secrets, refresh token, password) appears in anything the apps or the server wrote in this file", { timeout: 5_000 }, () => {
    assert.ok(transcripts.length > 0, "the tests above ran in this run and collected what the processes wrote");
    const leaks = transcripts.flatMap((tr) => {
      const which = leakIn(tr.text(), tr.secrets());
      return which ? [`${tr.what}: ${which}`] : [];
    });
    assert.deepEqual(leaks, []);
    assert.ok(transcripts.some((tr) => tr.text().length > 0), "some output was collected");
  });
});
