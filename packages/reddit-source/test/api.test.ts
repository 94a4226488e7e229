import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Agent, type Dispatcher } from "undici";
import { LocalBudget, WorkerMetrics, createLogger, type Logger } from "@prismq/worker-kit";
import { RecordingBudget } from "@prismq/worker-kit/testing";
// The sandbox devDepends on this package, so it is imported by path (tsx runs its source).
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "../../sandbox/src/index.js";
import { thrown } from "../../sandbox/src/testing.js";
import { RedditApi, RedditError, createRedditClient, isRemoved, type RedditApiOptions, type RedditPost, type Snoowrap } from "../src/index.js";

const UA = "node:prismq-reddit-source-test:0.1.0 (by /u/prismq)";
const CLIENT = { clientId: "sandbox-client", clientSecret: "sandbox-secret", refreshToken: "sandbox-refresh" };

interface Setup {
  sb: RedditSandbox;
  client: Snoowrap;
  api: RedditApi;
  metrics: WorkerMetrics;
  lines: Array<Record<string, unknown>>;
}

/** A Reddit sandbox of its own (closed after the test), a snoowrap client over the adapter, and a RedditApi with metrics and a logger kept in memory. */
async function setup(
  t: TestContext,
  options: { sandbox?: RedditSandboxOptions; api?: Partial<RedditApiOptions>; dispatcher?: Dispatcher; onLine?: (line: Record<string, unknown>) => void } = {},
): Promise<Setup> {
  const sb = await startRedditSandbox(options.sandbox);
  t.after(() => sb.close());
  const client = await createRedditClient({ userAgent: UA, ...CLIENT, baseUrl: sb.url, dispatcher: options.dispatcher });
  const metrics = new WorkerMetrics("reddit-source-test", { defaultMetrics: false });
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = createLogger({
    service: "reddit-source-test",
    level: "debug",
    destination: {
      write(msg: string) {
        const line = JSON.parse(msg) as Record<string, unknown>;
        lines.push(line);
        options.onLine?.(line);
      },
    },
  });
  const api = new RedditApi({ client, metrics, logger, baseDelayMs: 10, ...options.api });
  return { sb, client, api, metrics, lines };
}

async function count(metrics: WorkerMetrics, labels: Record<string, string>): Promise<number> {
  const { values } = await metrics.apiCalls.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k as keyof typeof v.labels]) === want)).reduce((n, v) => n + v.value, 0);
}

/** An undici Agent that counts the API requests it sends (token requests left out). */
class CountingAgent extends Agent {
  api = 0;
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (!String(options.path).startsWith("/api/v1/access_token")) this.api++;
    return super.dispatch(options, handler);
  }
}

const SUB = 2; // Cooking in the default world

test("paging a subreddit's new with after reaches every listed post once, in order, as plain posts", async (t) => {
  const { sb, api } = await setup(t);
  const sub = sb.data.subredditName(SUB);
  const seen: RedditPost[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page = await api.listing(sub, "new", { limit: 100, after: after ?? undefined });
    seen.push(...page.items);
    after = page.after;
    pages++;
  } while (after !== null && pages < 50);
  const expected = sb.data.postIds(sub);
  assert.ok(pages >= 2, "the subreddit has more than one page");
  assert.deepEqual(
    seen.map((p) => p.id),
    expected,
  );
  assert.equal(api.requests, pages);
  assert.equal(sb.stats().requests.byEndpoint.listing, pages);

  const first = seen[0]!;
  const raw = sb.data.post(sb.data.postIndex(first.id)!);
  assert.deepEqual(first, {
    id: raw.id,
    name: `t3_${raw.id}`,
    subreddit: sub,
    title: raw.title,
    selftext: raw.selftext,
    url: raw.url,
    permalink: `https://www.reddit.com${raw.permalink}`,
    domain: raw.domain,
    author: raw.author,
    createdUtc: raw.created_utc,
    score: raw.score,
    upvoteRatio: raw.upvote_ratio,
    numComments: raw.num_comments,
    flair: raw.link_flair_text,
    isSelf: raw.is_self,
    over18: false,
    totalAwards: raw.total_awards_received,
    removedByCategory: null,
  });
});

test("top with t keeps to posts created within the window, highest score first", async (t) => {
  const { sb, api } = await setup(t);
  const sub = sb.data.subredditName(SUB);
  const now = sb.world.clock.now() / 1000;
  const day = await api.listing(sub, "top", { t: "day", limit: 100 });
  const week = await api.listing(sub, "top", { t: "week", limit: 100 });
  assert.ok(day.items.length > 0, "posts today");
  assert.ok(week.items.length > day.items.length, "a week holds more posts than a day");
  for (const p of day.items) assert.ok(p.createdUtc >= now - 86_400, `${p.id} is from the last day`);
  assert.ok(week.items.some((p) => p.createdUtc < now - 86_400), "the week reaches past the last day");
  const scores = day.items.map((p) => p.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
});

test("search in one subreddit stays in it; search in all spans subreddits; pages follow after", async (t) => {
  const { sb, api } = await setup(t);
  const sub = sb.data.subredditName(SUB);
  // A title word found in several subreddits, this one included.
  const subsByWord = new Map<string, Set<string>>();
  for (const id of sb.data.postIds()) {
    const p = sb.data.post(sb.data.postIndex(id)!);
    for (const w of p.title.toLowerCase().match(/[a-z]{5,}/g) ?? []) {
      let s = subsByWord.get(w);
      if (!s) subsByWord.set(w, (s = new Set()));
      s.add(p.subreddit);
    }
  }
  const word = [...subsByWord].find(([, subs]) => subs.has(sub) && subs.size >= 3)?.[0];
  assert.ok(word, "a shared title word");

  const inSub = await api.search({ query: word, subreddit: sub, sort: "new", limit: 100 });
  assert.ok(inSub.items.length > 0);
  for (const p of inSub.items) {
    assert.equal(p.subreddit, sub);
    assert.match(p.title.toLowerCase(), new RegExp(word));
  }
  const everywhere = await api.search({ query: word, sort: "new", t: "all", limit: 100 });
  assert.ok(new Set(everywhere.items.map((p) => p.subreddit)).size >= 2, "results from several subreddits");
  for (const p of everywhere.items) assert.match(p.title.toLowerCase(), new RegExp(word));

  const small = await api.search({ query: word, limit: 2 });
  assert.equal(small.items.length, 2);
  assert.ok(small.after, "a cursor to the next page");
  const next = await api.search({ query: word, limit: 2, after: small.after });
  assert.equal(next.items.filter((p) => small.items.some((q) => q.id === p.id)).length, 0, "the next page holds other posts");
  assert.equal(sb.stats().requests.byEndpoint.search, 4);
});

test("info of 100 ids is one request (with or without t3_), unknown ids are left out, and 101 ids is a RangeError before any request", async (t) => {
  const { sb, api } = await setup(t);
  const ids = sb.data.postIds().slice(0, 100);
  const asked = ids.map((id, k) => (k % 2 ? `t3_${id}` : id));
  const posts = await api.info(asked);
  assert.equal(sb.stats().requests.byEndpoint.info, 1);
  assert.equal(api.requests, 1);
  assert.deepEqual(
    posts.map((p) => p.id),
    ids,
  );
  const some = await api.info([ids[0]!, "zzzzzzz", ids[1]!]);
  assert.deepEqual(
    some.map((p) => p.id),
    [ids[0], ids[1]],
  );
  assert.deepEqual(await api.info([]), [], "no ids, no request");
  await assert.rejects(api.info([...ids, "1h00000"]), RangeError);
  await assert.rejects(api.info(["not an id"]), RangeError);
  assert.equal(sb.stats().requests.byEndpoint.info, 2);
});

test("a removed post comes back from info with isRemoved true, and leaves the listing", async (t) => {
  // Calm removals: this test pins "[removed]" on any removed post; reddit-strict.test.ts covers link posts keeping "".
  const { sb, api } = await setup(t, { sandbox: { strict: { removalCategories: false } } });
  const sub = sb.data.subredditName(SUB);
  const [modId, delId] = sb.data.postIds(sub);
  const before = await api.info([modId!, delId!]);
  assert.deepEqual(
    before.map((p) => isRemoved(p)),
    [false, false],
  );
  assert.ok(sb.removePost(modId!, "moderator"));
  assert.ok(sb.removePost(delId!, "deleted"));
  const [mod, del] = await api.info([modId!, delId!]);
  assert.equal(mod!.removedByCategory, "moderator");
  assert.equal(mod!.selftext, "[removed]");
  assert.equal(isRemoved(mod!), true);
  assert.equal(del!.author, "[deleted]");
  assert.equal(isRemoved(del!), true);
  const page = await api.listing(sub, "new", { limit: 5 });
  assert.ok(!page.items.some((p) => p.id === modId || p.id === delId), "removed posts are no longer listed");
  // By the text alone, as Reddit sometimes answers.
  const standing = { ...before[0]!, removedByCategory: null };
  assert.equal(isRemoved({ ...standing, selftext: "[deleted]" }), true);
  assert.equal(isRemoved({ ...standing, selftext: "[removed]" }), true);
  assert.equal(isRemoved({ ...standing, author: "[deleted]" }), false, "a deleted account alone leaves the post standing");
});

test("comments come back flattened depth first, shallower than depth, at most limit, more stubs skipped", async (t) => {
  const { sb, api } = await setup(t);
  const i = sb.data.postIds().map((id) => sb.data.postIndex(id)!).find((k) => sb.data.treeSize(k) >= 60)!;
  assert.ok(i !== undefined, "a post with a big thread");
  const id = sb.data.postId(i);

  // What Reddit's tree holds for these parameters, walked depth first by hand.
  const expected: Array<{ id: string; depth: number; body: string }> = [];
  const walk = (things: Array<{ kind: string; data: Record<string, unknown> }>): void => {
    for (const th of things) {
      if (th.kind !== "t1") continue;
      expected.push({ id: th.data.id as string, depth: th.data.depth as number, body: th.data.body as string });
      const replies = th.data.replies as "" | { data: { children: Array<{ kind: string; data: Record<string, unknown> }> } };
      if (replies) walk(replies.data.children);
    }
  };
  walk(sb.data.commentTree(i, { limit: 15, depth: 2, sort: "top" })!.data.children as unknown as Array<{ kind: string; data: Record<string, unknown> }>);

  const res = await api.comments(id, { depth: 2, limit: 15, sort: "top" });
  assert.equal(res.post?.id, id);
  assert.equal(res.post?.numComments, sb.data.commentCountOf(i));
  assert.deepEqual(
    res.comments.map((c) => ({ id: c.id, depth: c.depth, body: c.body })),
    expected,
  );
  assert.equal(res.comments.length, 15);
  assert.ok(res.comments.some((c) => c.depth === 1), "replies are included");
  assert.ok(res.comments.every((c) => c.depth < 2));
  const first = res.comments[0]!;
  const [pi, j] = sb.data.commentIndex(first.id)!;
  assert.equal(pi, i);
  const raw = sb.data.comment(i, j);
  assert.deepEqual(first, { id: raw.id, author: raw.author, body: raw.body, score: raw.score, createdUtc: raw.created_utc, depth: 0 });

  const top = await api.comments(id, { depth: 1, limit: 500 });
  assert.ok(top.comments.length > 15 && top.comments.every((c) => c.depth === 0), "depth 1: top level only");
  const scores = top.comments.map((c) => c.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), "sort top");
  const defaults = await api.comments(`t3_${id}`);
  assert.equal(defaults.comments.length, 20, "default limit 20");
  assert.ok(defaults.comments.every((c) => c.depth < 2), "default depth 2");
  assert.equal(sb.stats().requests.byEndpoint.comments, 3);
  assert.equal(sb.stats().requests.byEndpoint.morechildren, 0, "more stubs are not fetched");
});

test("an unknown subreddit or post is RD_ERR_NOT_FOUND, not retried; bad arguments are RangeErrors before any request", async (t) => {
  const { sb, api } = await setup(t);
  const err = await thrown(() => api.listing("nosuchsubreddit", "new"));
  assert.ok(err instanceof RedditError, "err instanceof RedditError");
  assert.equal(err.code, "RD_ERR_NOT_FOUND");
  assert.equal(err.status, 404);
  assert.equal(err.retryable, false);
  assert.equal((await thrown(() => api.search({ query: "soup", subreddit: "nosuchsubreddit" })) as RedditError).code, "RD_ERR_NOT_FOUND");
  assert.equal((await thrown(() => api.comments("zzzzzzz")) as RedditError).code, "RD_ERR_NOT_FOUND");
  assert.equal(api.requests, 3);

  const sub = sb.data.subredditName(SUB);
  await assert.rejects(api.listing(sub, "new", { limit: 0 }), RangeError);
  await assert.rejects(api.listing(sub, "new", { limit: 101 }), RangeError);
  await assert.rejects(api.listing("../api", "new"), RangeError);
  await assert.rejects(api.listing(sub, "best" as "hot"), RangeError);
  await assert.rejects(api.search({ query: "  " }), RangeError);
  await assert.rejects(api.comments("1h00000", { depth: 0 }), RangeError);
  assert.equal(api.requests, 3);
  assert.equal(sb.stats().rateLimited, 0);
});

test("a spent budget makes calls wait for its next window instead of failing: 8 calls at 5 per window", async (t) => {
  const budget = new RecordingBudget(new LocalBudget({ name: "reddit-test", limit: 5, window: { kind: "fixed", ms: 1000 } }));
  const { sb, api, lines } = await setup(t, { api: { budget } });
  const sub = sb.data.subredditName(SUB);
  for (let k = 0; k < 8; k++) {
    const page = await api.listing(sub, "new", { limit: 1 });
    assert.equal(page.items.length, 1);
  }
  assert.equal(sb.stats().requests.byEndpoint.listing, 8, "one request per call, none while refused");
  assert.equal(sb.stats().rateLimited, 0);
  assert.ok(budget.refused >= 1, "the budget refused at least once");
  assert.ok(budget.granted.size >= 2, "the calls spread over at least two windows");
  for (const [, spent] of budget.granted) assert.ok(spent <= 5, `at most 5 in a window, got ${spent}`);
  assert.equal([...budget.granted.values()].reduce((a, b) => a + b, 0), 8);
  const waits = lines.filter((l) => l.msg === "Reddit request budget spent: waiting for the next window");
  assert.equal(waits.length, budget.refused, "one info line per wait");
  assert.ok(waits.every((l) => l.level === 30 && l.budget === "reddit-test"));
});

test("waiting for the budget stops when the signal aborts", async (t) => {
  const budget = new LocalBudget({ name: "reddit-abort", limit: 1, window: { kind: "fixed", ms: 3_600_000 } });
  const { sb, api } = await setup(t, { api: { budget } });
  const sub = sb.data.subredditName(SUB);
  await api.listing(sub, "new", { limit: 1 });
  const controller = new AbortController();
  const call = api.listing(sub, "new", { limit: 1 }, controller.signal);
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(call, { name: "AbortError" });
  assert.equal(sb.stats().requests.byEndpoint.listing, 1);
});

test("obeying X-Ratelimit-Remaining/Reset keeps 12 calls clear of 429 under a 5-per-2s server limit, without a budget", async (t) => {
  const { sb, client, api, lines } = await setup(t, { sandbox: { rateLimit: { requests: 5, windowMs: 2000 } } });
  const sub = sb.data.subredditName(SUB);
  for (let k = 0; k < 12; k++) {
    await api.listing(sub, "new", { limit: 1 });
    assert.ok(client.ratelimitRemaining >= 2, `never below minRemaining (2): ${client.ratelimitRemaining} after call ${k + 1}`);
  }
  const stats = sb.stats();
  assert.equal(stats.rateLimited, 0);
  assert.equal(stats.requests.byEndpoint.listing, 12);
  assert.ok(lines.some((l) => l.msg === "Reddit rate limit nearly used: waiting for the reset"), "it waited for a reset");
});

test("a 429 is waited out until X-Ratelimit-Reset and the call then succeeds, counted as rate_limited", async (t) => {
  const { sb, api, metrics } = await setup(t, { sandbox: { rateLimit: { requests: 100, windowMs: 2000 } } });
  sb.setRateLimit(CLIENT.clientId, { used: 100 });
  const page = await api.listing(sb.data.subredditName(SUB), "new", { limit: 3 });
  assert.equal(page.items.length, 3);
  assert.equal(sb.stats().rateLimited, 1);
  assert.equal(api.requests, 2);
  assert.equal(await count(metrics, { api: "reddit", method: "listing", outcome: "rate_limited" }), 1);
  assert.equal(await count(metrics, { api: "reddit", method: "listing", outcome: "ok" }), 1);
  const { values } = await metrics.redditRequestsSpent.get();
  assert.equal(values[0]?.value, 2, "both requests are spent");
  const durations = (await metrics.externalRequestDuration.get()).values.filter((v) => v.metricName === "prismq_external_request_duration_seconds_count");
  assert.deepEqual(
    durations.map((v) => `${v.labels.api} ${v.labels.method} ${v.labels.outcome} ${v.value}`).sort(),
    ["reddit listing error 1", "reddit listing ok 1"],
    "each attempt is timed, the 429 as an error",
  );
});

test("5xx on every attempt ends in RD_ERR_UNAVAILABLE, retryable, after `attempts` requests (RedditApi is the only retry layer)", async (t) => {
  const agent = new CountingAgent();
  t.after(() => agent.close());
  const { sb, api, metrics } = await setup(t, { dispatcher: agent, api: { attempts: 3 } });
  sb.faults.errorRate = 1;
  const err = await thrown(() => api.info([sb.data.postIds()[0]!]));
  assert.ok(err instanceof RedditError, "err instanceof RedditError");
  assert.equal(err.code, "RD_ERR_UNAVAILABLE");
  assert.equal(err.retryable, true);
  assert.equal(err.status, 503);
  assert.equal(agent.api, 3, "three HTTP requests: snoowrap did not retry on its own");
  assert.equal(api.requests, 3);
  assert.equal(await count(metrics, { method: "info", outcome: "retry" }), 2);
  assert.equal(await count(metrics, { method: "info", outcome: "error" }), 1);
});

test("a 5xx that clears between retries ends in success", async (t) => {
  const holder: { sb?: RedditSandbox } = {};
  const { sb, api, metrics } = await setup(t, {
    api: { attempts: 5 },
    onLine: (line) => {
      if (line.msg === "Reddit call failed: retrying" && holder.sb) holder.sb.faults.errorRate = 0;
    },
  });
  holder.sb = sb;
  sb.faults.errorRate = 1;
  const id = sb.data.postIds()[0]!;
  const posts = await api.info([id]);
  assert.deepEqual(
    posts.map((p) => p.id),
    [id],
  );
  assert.equal(api.requests, 2);
  assert.equal(await count(metrics, { method: "info", outcome: "retry" }), 1);
  assert.equal(await count(metrics, { method: "info", outcome: "ok" }), 1);
});
