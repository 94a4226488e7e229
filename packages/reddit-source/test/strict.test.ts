import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { WorkerMetrics } from "@prismq/worker-kit";
// The sandbox devDepends on this package, so it is imported by path (tsx runs its source).
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "../../sandbox/src/index.js";
import { thrown } from "../../sandbox/src/testing.js";
import { RedditApi, RedditError, createRedditClient, isRemoved, mapPost, postToIdea, sendRawRequest, type RedditApiOptions } from "../src/index.js";

/** The Reddit adapter against the strict sandbox (the default): each real-world behaviour of Reddit, one test each. */

const UA = "node:prismq-reddit-source-test:0.1.0 (by /u/prismq)";
const CLIENT = { clientId: "sandbox-client", clientSecret: "sandbox-secret", refreshToken: "sandbox-refresh" };

/** The strict sandbox with the random glitches off, so each test stages exactly the glitch it is about. */
async function setup(t: TestContext, sandbox: RedditSandboxOptions = {}, api: Partial<RedditApiOptions> = {}) {
  const sb = await startRedditSandbox({ strict: { garbageRate: 0, badItemRate: 0 }, ...sandbox });
  t.after(() => sb.close());
  const client = await createRedditClient({ userAgent: UA, ...CLIENT, baseUrl: sb.url });
  const metrics = new WorkerMetrics("reddit-strict-test", { defaultMetrics: false });
  return { sb, client, api: new RedditApi({ client, metrics, baseDelayMs: 10, ...api }) };
}

/** The first world subreddit with at least `n` posts listed. */
function busySub(sb: RedditSandbox, n = 5): string {
  const found = sb.data.subreddits().find((s) => sb.data.postIds(s.index).length >= n);
  assert.ok(found, "a subreddit with posts");
  return found.name;
}

test("private, quarantined and gated subreddits answer 403 with their reason, banned 404: each its own code, not retryable, never auth", async (t) => {
  const { api } = await setup(t);
  const want = { private_lounge: "RD_ERR_PRIVATE", quarantined_zone: "RD_ERR_QUARANTINED", gated_topics: "RD_ERR_GATED", banned_place: "RD_ERR_BANNED" } as const;
  for (const [sub, code] of Object.entries(want)) {
    const err = await thrown(() => api.listing(sub, "new", { limit: 5 }));
    assert.ok(err instanceof RedditError, sub);
    assert.equal(err.code, code, `${sub}: ${err.message}`);
    assert.equal(err.retryable, false);
    assert.notEqual(err.code, "RD_ERR_AUTH");
  }
});

test("a world subreddit turned private through the control API refuses its listing and the comments of its posts", async (t) => {
  const { sb, api } = await setup(t);
  const sub = busySub(sb);
  const id = sb.data.postIds(sub)[0]!;
  assert.ok((await api.listing(sub, "new", { limit: 2 })).items.length > 0);
  const res = await fetch(`${sb.url}/_sandbox/subreddits/${sub}/state`, { method: "POST", body: JSON.stringify({ state: "private" }) });
  assert.equal(res.status, 200);
  assert.equal(((await thrown(() => api.listing(sub, "new"))) as RedditError).code, "RD_ERR_PRIVATE");
  assert.equal(((await thrown(() => api.comments(id))) as RedditError).code, "RD_ERR_PRIVATE");
  assert.deepEqual(await api.info([id]), [], "/api/info leaves out the posts of a private subreddit");
});

test("an unknown subreddit redirects (302) to the subreddit search, and the adapter reports it as not found instead of an empty listing", async (t) => {
  const { sb, api } = await setup(t);
  const raw = await fetch(`${sb.url}/r/nosuchsubhere/new.json`, { redirect: "manual", headers: { "user-agent": UA, authorization: `bearer ${await tokenOf(sb)}` } });
  assert.equal(raw.status, 302);
  assert.match(raw.headers.get("location") ?? "", /^\/subreddits\/search\.json\?q=nosuchsubhere$/);
  const err = await thrown(() => api.listing("nosuchsubhere", "new"));
  assert.ok(err instanceof RedditError);
  assert.equal(err.code, "RD_ERR_NOT_FOUND");
  assert.match(err.message, /subreddits\/search/);
});

async function tokenOf(sb: RedditSandbox): Promise<string> {
  const res = await fetch(`${sb.url}/api/v1/access_token`, {
    method: "POST",
    headers: { "user-agent": UA, authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

test("a 429 whose X-Ratelimit-Reset says 0 (the window's last second, empty body) waits for the window instead of 0 ms, then succeeds", async (t) => {
  // The sandbox's clock stands still 400 ms before the end of a 600 s window (so a slow machine cannot
  // carry it into the next window before the checks), and moves into the next window 500 ms after the
  // client's first request reached it: a client that waits about a second then gets through, one that
  // retries at once keeps getting the 429 for those 500 ms.
  const windowMs = 600_000;
  const base = Math.ceil(Date.now() / windowMs) * windowMs - 400;
  let armed = false;
  let firstSeen: number | undefined;
  const now = () => {
    if (!armed) return base;
    firstSeen ??= Date.now();
    return Date.now() - firstSeen >= 500 ? base + 1_000 : base;
  };
  const { sb, api } = await setup(t, { now });
  const sub = busySub(sb);
  sb.setRateLimit(CLIENT.clientId, { used: 1000 });
  const raw = await fetch(`${sb.url}/r/${sub}/new`, { headers: { "user-agent": UA, authorization: `bearer ${await tokenOf(sb)}` } });
  assert.equal(raw.status, 429);
  assert.equal(raw.headers.get("x-ratelimit-reset"), "0");
  assert.equal(await raw.text(), "", "Reddit's 429 has an empty body");
  const started = Date.now();
  armed = true;
  const page = await api.listing(sub, "new", { limit: 3 });
  assert.equal(page.items.length, 3);
  assert.ok(Date.now() - started >= 900, "it waited about a second, not 0 ms");
});

test("a bare 429 (no rate-limit headers, empty body) waits for the next window boundary", async (t) => {
  const { sb, api } = await setup(t, {}, { rateLimitWindowMs: 1000, minRateLimitWaitMs: 200 });
  const sub = busySub(sb);
  sb.stage({ kind: "status", status: 429, count: 1 });
  const page = await api.listing(sub, "new", { limit: 2 });
  assert.equal(page.items.length, 2);
  assert.equal(api.requests, 2);
});

test("a 200 with an HTML page or {} is retried as a transient upstream fault, and never read as 'no such posts'", async (t) => {
  const { sb, api } = await setup(t);
  const sub = busySub(sb);
  const ids = sb.data.postIds(sub).slice(0, 3);
  sb.stage({ kind: "html", path: "/api/info" });
  assert.deepEqual((await api.info(ids)).map((p) => p.id).sort(), [...ids].sort(), "the HTML answer was retried");
  sb.stage({ kind: "empty-object", path: `/r/${sub}/new` });
  assert.equal((await api.listing(sub, "new", { limit: 2 })).items.length, 2);
  sb.stage({ kind: "empty-object", path: "/comments" });
  assert.equal((await api.comments(ids[0]!)).post?.id, ids[0]);
  sb.stage({ kind: "html", path: "/api/info", count: 4 });
  const err = await thrown(() => api.info(ids));
  assert.ok(err instanceof RedditError);
  assert.equal(err.code, "RD_ERR_BAD_ANSWER");
  assert.equal(err.retryable, true);
  assert.match(err.message, /HTML page/);
  assert.equal(sb.stats().glitches, 7);
});

test("one post of a listing with a wrong type (title: 12345) is reported with its id and reason; the others come through", async (t) => {
  const { sb, api } = await setup(t);
  const sub = busySub(sb, 10);
  sb.stage({ kind: "bad-item", path: `/r/${sub}/new` });
  const page = await api.listing(sub, "new", { limit: 10 });
  assert.equal(page.items.length, 9);
  assert.equal(page.invalid?.length, 1);
  const bad = page.invalid![0]!;
  assert.ok(bad.id && sb.data.postIds(sub).slice(0, 10).includes(bad.id));
  assert.match(bad.reason, /title is number/);
  sb.stage({ kind: "bad-item", path: "/api/info" });
  const ids = sb.data.postIds(sub).slice(0, 5);
  const found = await api.lookup(ids);
  assert.equal(found.posts.length, 4);
  assert.equal(found.invalid.size, 1);
  assert.match([...found.invalid.values()][0]!, /title is number/);
});

test("a redirect to another origin does not carry the Authorization header there", async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const other = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "Listing", data: { after: null, before: null, dist: 0, modhash: "", geo_filter: "", children: [] } }));
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => other.close(() => resolve())));
  const { sb, api } = await setup(t);
  const sub = busySub(sb);
  sb.stage({ kind: "redirect", path: `/r/${sub}/new`, location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/elsewhere.json` });
  await api.listing(sub, "new", { limit: 1 });
  assert.equal(seen.length, 1, "the redirect was followed");
  assert.equal(seen[0]!.authorization, undefined);
});

test("a gzip answer that inflates past the cap fails that attempt (retried), without inflating it", async (t) => {
  const { sb, api } = await setup(t);
  const sub = busySub(sb);
  sb.stage({ kind: "gzip-bomb", path: `/r/${sub}/new`, inflatedBytes: 48 * 1024 * 1024 });
  const page = await api.listing(sub, "new", { limit: 2 });
  assert.equal(page.items.length, 2, "the retry got the real listing");
  assert.equal(api.requests, 2);
  sb.stage({ kind: "gzip-bomb", path: "/r/", inflatedBytes: 2 * 1024 * 1024 });
  const token = await tokenOf(sb);
  const err = await thrown(() => sendRawRequest({ uri: `${sb.url}/r/${sub}/new`, headers: { "user-agent": UA, authorization: `bearer ${token}` }, json: true }, { maxInflatedBytes: 1024 * 1024 }));
  assert.equal((err as { code?: string }).code, "ETOOLARGE");
  const big = await thrown(() => sendRawRequest({ uri: `${sb.url}/r/${sub}/new`, headers: { "user-agent": UA }, json: true }, { maxResponseBytes: 10 }));
  assert.equal((big as { code?: string }).code, "ETOOLARGE");
});

test("a stickied AutoModerator comment comes first in the sandbox, and comments() leaves it out", async (t) => {
  const { sb, api } = await setup(t);
  const i = sb.data.postIds().map((id) => sb.data.postIndex(id)!).find((k) => sb.data.automodCommentId(k) !== null && sb.data.commentCountOf(k) > 3);
  assert.ok(i !== undefined);
  const id = sb.data.postId(i);
  const raw = (await (await fetch(`${sb.url}/comments/${id}.json`, { headers: { "user-agent": UA, authorization: `bearer ${await tokenOf(sb)}` } })).json()) as Array<{ data: { children: Array<{ data: { author: string; stickied: boolean; distinguished: string | null } }> } }>;
  const first = raw[1]!.data.children[0]!.data;
  assert.deepEqual([first.author, first.stickied, first.distinguished], ["AutoModerator", true, "moderator"]);
  const { comments } = await api.comments(id, { limit: 5 });
  assert.ok(comments.length > 0);
  assert.ok(comments.every((c) => c.author !== "AutoModerator"), "no AutoModerator boilerplate");
});

test("all ten removed_by_category values mark a post removed, and a removed link post keeps selftext \"\"", async (t) => {
  const { sb, api } = await setup(t);
  const ids = sb.data.postIds().slice(0, 60);
  const links = (await api.info(ids)).filter((p) => !p.isSelf).slice(0, 10);
  assert.equal(links.length, 10);
  const kinds = ["moderator", "deleted", "author", "automod_filtered", "reddit", "anti_evil_ops", "community_ops", "legal_operations", "copyright_takedown", "content_takedown"] as const;
  for (const [k, p] of links.entries()) assert.ok(sb.removePost(p.id, kinds[k]));
  const after = await api.info(links.map((p) => p.id));
  assert.deepEqual(after.map((p) => p.removedByCategory).sort(), [...kinds].sort());
  for (const p of after) {
    assert.equal(isRemoved(p), true, p.removedByCategory!);
    assert.equal(p.selftext, "", "a link post keeps its empty selftext");
  }
});

test("hostile posts: a 1 MiB selftext, a score of 1e308 and an unparseable created_utc map to a bounded, finite, storable idea", async (t) => {
  const { sb, api } = await setup(t, { world: { posts: 3_000, visibleFraction: 1 } });
  const ids = [777, 778, 779].map((i) => sb.data.postId(i));
  const posts = await api.info(ids);
  assert.equal(posts.length, 3);
  const byIndex = new Map(posts.map((p) => [sb.data.postIndex(p.id)! % 1000, p]));
  const huge = byIndex.get(777)!;
  assert.ok(huge.selftext.length > 1_000_000);
  assert.equal(byIndex.get(778)!.score, 1_000_000_000, "clamped");
  assert.equal(byIndex.get(779)!.createdUtc, 0, "unparseable date");
  const now = sb.world.clock.now();
  for (const p of posts) {
    const idea = postToIdea(p, [], now);
    assert.ok(Number.isFinite(idea.score), `score of ${p.id} is finite`);
    assert.ok((idea.description ?? "").length <= 2_000);
    assert.ok((idea.content ?? "").length <= 100_000);
  }
  assert.equal(postToIdea(byIndex.get(779)!, [], now).sourceCreatedAt, null);
  assert.ok("post" in mapPost({ id: "abc", name: "t3_abc", title: "x", score: 1e308, created_utc: "yesterday" }));
});
