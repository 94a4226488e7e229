/**
 * Reddit requests per 100 posts and throughput, ours beside the original
 * one-post-at-a-time approach, on the same sandbox world in one run:
 *
 * - ours: `new` listings 100 posts a request (stopping at the first known post),
 *   Post tasks, then the processor's batches of 100 through one /api/info
 *   request each, plus the top comments of each post that has any;
 * - original: listings of 25 (the client's default page), then for each post
 *   its own /api/info request and its own comments request, one at a time.
 *
 * The sandbox is the strict one (its default): listing caps, 1% garbage answers
 * and garbled entries, AutoModerator stickies, hostile posts. Retries of its
 * glitches are requests too, counted as Reddit would.
 *
 * Requests are counted by the sandbox. The throughput part runs the whole loop
 * with the sandbox answering after 50 ms and no rate limit; "posts/min at 100
 * rpm" is what Reddit's limit allows at the measured requests per post.
 *
 *   pnpm bench:reddit        (BENCH_POSTS=3000 BENCH_LATENCY_MS=50 BENCH_SPEED_SUBREDDITS=2 by default)
 */
import { RedditApi, createRedditClient, postToIdea } from "@prismq/reddit-source";
import { startRedditSandbox } from "@prismq/sandbox";
import { Reddit } from "@prismq/task-types";
import { DirectOutbox, FileState } from "@prismq/worker-kit";
import { RedditDiscovery } from "../apps/reddit-discovery/src/discovery.js";
import { RedditProcessor } from "../apps/reddit-processor/src/processor.js";
import { benchWorker, logger, openRig } from "./rig.js";

const POSTS = Number(process.env.BENCH_POSTS ?? 3_000);
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50);
const SPEED_SUBS = Number(process.env.BENCH_SPEED_SUBREDDITS ?? 2);
const UA = "node:prismq-bench:0.1.0 (by /u/prismq)";

interface Run {
  name: string;
  posts: number;
  requests: number;
  seconds: number;
}

async function rig(latencyMs: number) {
  const base = await openRig("bench-rd-", () =>
    startRedditSandbox({ world: { seed: "bench", subreddits: 12, posts: POSTS }, rateLimit: { requests: 1_000_000 }, faults: { latencyMs } }),
  );
  const reddit = await createRedditClient({ userAgent: UA, clientId: "sandbox-client", clientSecret: "sandbox-secret", baseUrl: base.sandbox.url });
  const api = new RedditApi({ client: reddit });
  const before = base.sandbox.stats().requests.total;
  return { ...base, api, requests: () => base.sandbox.stats().requests.total - before };
}

type Rig = Awaited<ReturnType<typeof rig>>;
const subsOf = (r: Rig, n: number) => r.sandbox.data.subreddits().slice(0, n).map((s) => s.name);

async function ours(latencyMs: number, subCount: number): Promise<Run> {
  const r = await rig(latencyMs);
  const outbox = new DirectOutbox({ client: r.client });
  const discovery = new RedditDiscovery({ api: r.api, outbox, state: new FileState(r.dir, "bench"), logger });
  const processor = new RedditProcessor({ api: r.api, ideas: r.ideas, outbox, logger, crossModule: false, now: () => r.sandbox.world.clock.now() });
  const worker = benchWorker(r, {
    outbox,
    batchSize: 100,
    claim: (signal) => Reddit.Post.claim(r.client, { workerId: "bench", signal }),
    handle: (batch, signal) => processor.handle(batch, signal),
  });
  const t0 = performance.now();
  for (const sub of subsOf(r, subCount)) await discovery.subreddit({ subreddit: sub, sort: "new", limit: 1000 });
  await worker.drain();
  const run = { name: "ours: listings of 100, one /api/info per 100, comments where there are any", posts: await r.ideas.count(), requests: r.requests(), seconds: (performance.now() - t0) / 1000 };
  await r.close();
  return run;
}

async function original(latencyMs: number, subCount: number): Promise<Run> {
  const r = await rig(latencyMs);
  const t0 = performance.now();
  for (const sub of subsOf(r, subCount)) {
    let after: string | undefined;
    let taken = 0;
    do {
      const page = await r.api.listing(sub, "new", { limit: 25, after });
      for (const item of page.items) {
        const [post] = await r.api.info([item.id]);
        if (!post) continue;
        const { comments } = await r.api.comments(post.id, { depth: 2, limit: 10, sort: "top" });
        await r.ideas.upsert(postToIdea(post, comments, r.sandbox.world.clock.now()));
      }
      taken += page.items.length;
      after = page.after ?? undefined;
    } while (after && taken < 1000);
  }
  const run = { name: "original: listings of 25, then each post's own info and comments requests", posts: await r.ideas.count(), requests: r.requests(), seconds: (performance.now() - t0) / 1000 };
  await r.close();
  return run;
}

const f = (n: number, d = 1) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const all = 12;
const [q1, q2] = [await ours(0, all), await original(0, all)];
const [s1, s2] = [await ours(LATENCY, SPEED_SUBS), await original(LATENCY, SPEED_SUBS)];

console.log(`\n## Reddit: requests per 100 posts and throughput (${POSTS} posts in the world, 12 subreddits)\n`);
console.log(`| approach | posts stored | requests | requests per 100 posts | posts/min at 100 rpm | posts/s at ${LATENCY} ms latency (${SPEED_SUBS} subreddits) |`);
console.log("|---|---|---|---|---|---|");
for (const [q, s] of [
  [q1, s1],
  [q2, s2],
] as const) {
  const per100 = (100 * q.requests) / q.posts;
  console.log(`| ${q.name} | ${q.posts} | ${q.requests} | ${f(per100)} | ${f((100 * 100) / per100)} | ${f(s.posts / s.seconds)} |`);
}
console.log(`\nRequests: ours makes ${f(q2.requests / q2.posts / (q1.requests / q1.posts))}x fewer per post. Throughput at ${LATENCY} ms: ${f(s1.posts / s1.seconds / (s2.posts / s2.seconds))}x.`);
