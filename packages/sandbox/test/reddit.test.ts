import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { createRedditClient, RedditAuthError, type Snoowrap } from "@prismq/reddit-source";
import { request } from "undici";
import { hotRank } from "../src/reddit-data.js";
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "../src/reddit.js";
import { World, videoId } from "../src/world.js";

const UA = "node:prismq-sandbox-test:0.1.0 (by /u/prismq)";
const CLIENT = { clientId: "sandbox-client", clientSecret: "sandbox-secret" };
const YOUTUBE_URL = /https:\/\/(?:www\.youtube\.com\/watch\?v=|youtu\.be\/|www\.youtube\.com\/shorts\/)([A-Za-z0-9_-]{11})/g;

/** The t3 fields the tests read from snoowrap's Submission objects and raw answers. */
interface Post {
  id: string;
  name: string;
  title: string;
  selftext: string;
  url: string;
  domain: string;
  is_self: boolean;
  score: number;
  num_comments: number;
  created_utc: number;
  removed_by_category: string | null;
  author: string | { name: string };
  subreddit: string | { display_name: string };
}
interface Comment {
  id: string;
  name: string;
  parent_id: string;
  depth: number;
  body: string;
  score: number;
  created_utc: number;
  replies: Comment[];
}
interface RawListing<T> {
  kind: string;
  data: { after: string | null; before: string | null; dist: number | null; modhash: string; geo_filter: string; children: Array<{ kind: string; data: T }> };
}
interface RawComment {
  id: string;
  name: string;
  depth: number;
  score: number;
  created_utc: number;
  body: string;
  replies: "" | RawListing<RawComment & { count?: number; children?: string[] }>;
}
interface ListingLike<T> extends Array<T> {
  isFinished: boolean;
  fetchAll(): Promise<ListingLike<T>>;
  fetchMore(options: { amount: number }): Promise<ListingLike<T>>;
}

/** Waits for the start of a clock-aligned rate-limit window, so a short sequence of calls stays inside one window. */
async function windowStart(windowMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 10));
}

/** A calm sandbox (`strict: false`): these tests are about Reddit's shapes and contracts; the strict behaviours have reddit-strict.test.ts. */
async function sandbox(t: TestContext, options: RedditSandboxOptions = {}): Promise<RedditSandbox> {
  const sb = await startRedditSandbox({ strict: false, ...options });
  t.after(() => sb.close());
  return sb;
}

function client(sb: RedditSandbox, extra: Partial<Parameters<typeof createRedditClient>[0]> = {}): Promise<Snoowrap> {
  return createRedditClient({ userAgent: UA, ...CLIENT, baseUrl: sb.url, ...extra });
}

async function raw(sb: RedditSandbox, path: string, init: { token?: string; ua?: string | null; method?: "GET" | "POST"; body?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.ua !== null) headers["user-agent"] = init.ua ?? UA;
  if (init.token) headers.authorization = `bearer ${init.token}`;
  const res = await request(`${sb.url}${path}`, { method: init.method ?? "GET", headers, body: init.body });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.statusCode, headers: res.headers, body };
}

async function token(sb: RedditSandbox, form: string, id = CLIENT.clientId, secret = CLIENT.clientSecret) {
  return raw(sb, "/api/v1/access_token", {
    method: "POST",
    body: form,
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
  });
}

async function appToken(sb: RedditSandbox): Promise<string> {
  const res = await token(sb, "grant_type=client_credentials");
  return (res.body as { access_token: string }).access_token;
}

/** snoowrap answers with Bluebird promises wrapped in method-chaining proxies: make a plain async function for assert.rejects. */
const settle = (thenable: unknown) => async (): Promise<void> => {
  await (thenable as Promise<unknown>);
};
/** Listing is an Array subclass: map into a plain array for deepEqual. */
const idsOf = (list: ArrayLike<{ id: string }>): string[] => Array.from(list, (x) => x.id);
const nameOf = (x: string | { name: string }): string => (typeof x === "string" ? x : x.name);
const subOf = (x: string | { display_name: string }): string => (typeof x === "string" ? x : x.display_name);
const countTree = (list: readonly Comment[]): number => list.reduce((n, c) => n + 1 + countTree(c.replies), 0);
const flatten = (list: readonly Comment[]): Comment[] => list.flatMap((c) => [c, ...flatten(c.replies)]);

// ---- OAuth -------------------------------------------------------------------

test("snoowrap gets a token with each OAuth flow (app-only, refresh token, password) and reads a listing", async (t) => {
  const sb = await sandbox(t);
  const appOnly = await client(sb);
  const refresh = await client(sb, { refreshToken: "sandbox-refresh" });
  const password = await client(sb, { username: "sandbox", password: "sandbox-password" });
  for (const r of [appOnly, refresh, password]) {
    const posts = (await r.getNew("technology", { limit: 3 })) as unknown as Post[];
    assert.equal(posts.length, 3);
    assert.equal(subOf(posts[0]!.subreddit), "technology");
    assert.deepEqual(r.scope, ["*"]);
  }
  const me = (await (password.getMe() as unknown as Promise<{ name: string }>)).name;
  assert.equal(me, "sandbox");
  await assert.rejects(settle(appOnly.getMe()), { statusCode: 403 });
  assert.equal(sb.stats().requests.byEndpoint.token, 3);
});

test("wrong client secret, unknown refresh token and wrong password fail with RedditAuthError", async (t) => {
  const sb = await sandbox(t);
  await assert.rejects(client(sb, { clientSecret: "nope" }), (err: unknown) => {
    assert.ok(err instanceof RedditAuthError, "err instanceof RedditAuthError");
    assert.equal(err.statusCode, 401);
    assert.match(err.message, /app-only .*sandbox-client.*401/);
    return true;
  });
  await assert.rejects(client(sb, { refreshToken: "stolen" }), (err: unknown) => err instanceof RedditAuthError && /refresh token.*Invalid grant/i.test(err.message));
  await assert.rejects(client(sb, { username: "sandbox", password: "wrong" }), (err: unknown) => err instanceof RedditAuthError && /password.*Invalid grant/i.test(err.message));
  await assert.rejects(client(sb, { clientId: "someone-else", refreshToken: "sandbox-refresh" }), { name: "RedditAuthError", statusCode: 401 });

  const bad = await token(sb, "grant_type=client_credentials", "sandbox-client", "nope");
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.body, { message: "Unauthorized", error: 401 });
  const grant = await token(sb, "grant_type=refresh_token&refresh_token=stolen");
  assert.equal(grant.status, 200);
  assert.deepEqual(grant.body, { error: "invalid_grant" });
  const ok = await token(sb, "grant_type=password&username=sandbox&password=sandbox-password");
  assert.equal(ok.status, 200);
  const body = ok.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_in", "scope", "token_type"]);
  assert.equal(body.token_type, "bearer");
  assert.equal(body.expires_in, 86_400);
  assert.equal(body.scope, "*");
});

test("an installed app with an empty secret gets an app-only token through the installed_client grant", async (t) => {
  const sb = await sandbox(t, { clients: [{ clientId: "installed-app", clientSecret: "" }] });
  const r = await createRedditClient({ userAgent: UA, clientId: "installed-app", baseUrl: sb.url });
  const posts = (await r.getHot("gaming", { limit: 2 })) as unknown as Post[];
  assert.equal(posts.length, 2);
  assert.deepEqual(sb.stats().requests.byClient, { "installed-app": 2 });
  const missingDevice = await token(sb, "grant_type=https%3A%2F%2Foauth.reddit.com%2Fgrants%2Finstalled_client", "installed-app", "");
  assert.deepEqual(missingDevice.body, { error: "invalid_request" });
});

test("expired tokens answer 401 and snoowrap renews them transparently in every flow", async (t) => {
  const sb = await sandbox(t, { tokenTtlSeconds: 1 });
  const refresh = await client(sb, { refreshToken: "sandbox-refresh" });
  const appOnly = await client(sb);
  const stale = await appToken(sb);
  await new Promise((resolve) => setTimeout(resolve, 1_150));
  const expired = await raw(sb, "/r/technology/new", { token: stale });
  assert.equal(expired.status, 401);
  assert.deepEqual(expired.body, { message: "Unauthorized", error: 401 });
  for (const r of [refresh, appOnly]) assert.equal(((await r.getNew("technology", { limit: 1 })) as unknown as Post[]).length, 1);
  assert.equal(sb.stats().requests.byEndpoint.token, 5);
});

test("API paths need a bearer token (401) and a User-Agent (403)", async (t) => {
  const sb = await sandbox(t);
  const none = await raw(sb, "/r/technology/new");
  assert.equal(none.status, 401);
  assert.deepEqual(none.body, { message: "Unauthorized", error: 401 });
  assert.match(String(none.headers["www-authenticate"]), /Bearer realm="reddit"/);
  assert.equal((await raw(sb, "/r/technology/new", { token: "made-up" })).status, 401);
  const tok = await appToken(sb);
  const noUa = await raw(sb, "/r/technology/new", { token: tok, ua: null });
  assert.equal(noUa.status, 403);
  assert.deepEqual(noUa.body, { message: "Forbidden", error: 403 });
  assert.equal((await raw(sb, "/r/technology/new", { token: tok })).status, 200);
});

// ---- listings -------------------------------------------------------------------

test("a listing has Reddit's Listing and t3 shape, with .json, raw_json and 404 for unknown subreddits", async (t) => {
  const sb = await sandbox(t);
  const tok = await appToken(sb);
  const res = await raw(sb, "/r/Cooking/new.json?limit=30&raw_json=1", { token: tok });
  assert.equal(res.status, 200);
  const listing = res.body as RawListing<Post & Record<string, unknown>>;
  assert.equal(listing.kind, "Listing");
  assert.deepEqual(Object.keys(listing.data).sort(), ["after", "before", "children", "dist", "geo_filter", "modhash"]);
  assert.equal(listing.data.dist, 30);
  assert.equal(listing.data.before, null);
  assert.equal(listing.data.after, listing.data.children[29]!.data.name);
  for (const { kind, data } of listing.data.children) {
    assert.equal(kind, "t3");
    assert.match(data.id, /^[0-9a-z]{7}$/);
    assert.equal(data.name, `t3_${data.id}`);
    assert.equal(data.subreddit, "Cooking");
    assert.equal(data.subreddit_name_prefixed, "r/Cooking");
    assert.match(String(data.subreddit_id), /^t5_[0-9a-z]+$/);
    assert.match(String(data.permalink), new RegExp(`^/r/Cooking/comments/${data.id}/[a-z0-9_]+/$`));
    assert.ok(Number.isInteger(data.created_utc) && data.created_utc > 1_767_225_600, "Number.isInteger(data.created_utc) && data.created_utc > 1_767_225_600");
    assert.equal(data.created, data.created_utc);
    assert.ok(data.upvote_ratio as number >= 0.5 && (data.upvote_ratio as number) <= 1, "data.upvote_ratio as number >= 0.5 && (data.upvote_ratio as number) <= 1");
    assert.equal(data.ups, data.score);
    assert.equal(data.downs, 0);
    assert.equal(data.over_18, false);
    assert.equal(data.is_video, false);
    if (data.is_self) {
      assert.equal(data.domain, "self.Cooking");
      assert.match(String(data.selftext_html), /^<!-- SC_OFF --><div class="md">/);
    } else {
      assert.equal(data.selftext_html, null);
      assert.match(data.domain, /^(youtube\.com|youtu\.be|([a-z]+\.)?example\.(com|org|net))$/);
    }
  }
  const ids = listing.data.children.map((c) => c.data.id);
  assert.deepEqual(ids, [...ids].sort().reverse(), "ids are base36 increasing with time, newest first");

  const legacy = (await raw(sb, "/r/Cooking/new?limit=30", { token: tok })).body as RawListing<Post & { selftext_html: string | null }>;
  const self = legacy.data.children.find((c) => c.data.is_self)!;
  assert.match(String(self.data.selftext_html), /^&lt;!-- SC_OFF --&gt;&lt;div class="md"&gt;/, "without raw_json=1, HTML is escaped like Reddit's legacy answers");

  const unknown = await raw(sb, "/r/NoSuchSubreddit/new", { token: tok });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { message: "Not Found", error: 404 });
  assert.equal((await raw(sb, "/r/cooking/new/", { token: tok })).status, 200, "subreddit names are case-insensitive and a trailing slash is fine");
});

test("paging new with after walks a whole subreddit newest first, without repeats, and before pages back", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  const expected = sb.data.postIds("gaming");
  assert.ok(expected.length > 200, "a subreddit large enough to need several pages");
  const first = (await r.getNew("gaming", { limit: 100 })) as unknown as ListingLike<Post>;
  assert.equal(first.length, 100);
  assert.equal(first.isFinished, false);
  const all = await first.fetchAll();
  const ids = idsOf(all);
  assert.equal(ids.length, expected.length);
  assert.equal(new Set(ids).size, ids.length, "no repeats");
  assert.deepEqual(ids, expected);
  for (let k = 1; k < all.length; k++) assert.ok(all[k - 1]!.created_utc >= all[k]!.created_utc, "newest first");
  assert.equal(sb.stats().requests.byEndpoint.listing, Math.ceil(expected.length / 100));

  // explicit cursors, as an app would page
  const page2 = (await r.getNew("gaming", { limit: 25, after: `t3_${expected[24]}` })) as unknown as Post[];
  assert.deepEqual(idsOf(page2), expected.slice(25, 50));
  const back = (await r.getNew("gaming", { limit: 10, before: `t3_${expected[25]}` })) as unknown as Post[];
  assert.deepEqual(idsOf(back), expected.slice(15, 25));
});

test("top honours t relative to the world clock and sorts by score; hot follows Reddit's hot rank; rising is recent", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  const now = sb.world.clock.now() / 1000;
  const week = (await r.getTop("technology", { time: "week", limit: 100 })) as unknown as Post[];
  assert.ok(week.length > 20, "week.length > 20");
  for (const p of week) assert.ok(p.created_utc >= now - 7 * 86_400 - 1, "within the week");
  for (let k = 1; k < week.length; k++) assert.ok(week[k - 1]!.score >= week[k]!.score, "score descending");
  const hour = (await r.getTop("technology", { time: "hour", limit: 100 })) as unknown as Post[];
  for (const p of hour) assert.ok(p.created_utc >= now - 3_600 - 1, "p.created_utc >= now - 3_600 - 1");
  assert.ok(hour.length < week.length, "hour.length < week.length");
  const all = (await r.getTop("technology", { time: "all", limit: 100 })) as unknown as Post[];
  assert.ok(all.some((p) => p.created_utc < now - 7 * 86_400), "t=all reaches older posts");
  assert.ok(all[0]!.score >= week[0]!.score, "all[0]!.score >= week[0]!.score");

  const hot = (await r.getHot("technology", { limit: 100 })) as unknown as Post[];
  const ranks = hot.map((p) => hotRank(p.score, p.created_utc));
  for (let k = 1; k < ranks.length; k++) assert.ok(ranks[k - 1]! >= ranks[k]!, "hot rank descending");
  const rising = (await r.getRising("technology", { limit: 100 })) as unknown as Post[];
  assert.ok(rising.length > 0, "rising.length > 0");
  for (const p of rising) assert.ok(p.created_utc >= now - 86_400 - 1, "rising is from the last day");
});

test("search matches title words in one subreddit (restrict_sr) or everywhere, sorts, filters by t and pages", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  const inSub = (await r.search({ query: "Sourdough", subreddit: "Cooking", sort: "new", limit: 100 })) as unknown as ListingLike<Post>;
  assert.ok(inSub.length > 5, "inSub.length > 5");
  for (const p of inSub) {
    assert.match(p.title, /\bsourdough\b/i);
    assert.equal(subOf(p.subreddit), "Cooking");
  }
  for (let k = 1; k < inSub.length; k++) assert.ok(inSub[k - 1]!.created_utc >= inSub[k]!.created_utc, "inSub[k - 1]!.created_utc >= inSub[k]!.created_utc");

  const everywhere = (await r.search({ query: "the guide", sort: "top", time: "all", limit: 100 })) as unknown as ListingLike<Post>;
  const all = await everywhere.fetchAll();
  assert.ok(new Set(Array.from(all, (p) => subOf(p.subreddit))).size > 3, "matches from several subreddits");
  for (const p of all) assert.match(p.title, /\bthe\b.*\bguide\b|\bguide\b.*\bthe\b/i);
  assert.equal(new Set(idsOf(all)).size, all.length);
  for (let k = 1; k < all.length; k++) assert.ok(all[k - 1]!.score >= all[k]!.score, "top: score descending");

  const now = sb.world.clock.now() / 1000;
  const day = (await r.search({ query: "guide", time: "day", sort: "new", limit: 100 })) as unknown as Post[];
  for (const p of day) assert.ok(p.created_utc >= now - 86_400 - 1, "p.created_utc >= now - 86_400 - 1");
  const none = (await r.search({ query: "sourdough zeppelin", limit: 10 })) as unknown as Post[];
  assert.equal(none.length, 0, "every word must match");

  const tok = await appToken(sb);
  const rawAll = (await raw(sb, "/r/Cooking/search?q=rocket&restrict_sr=false&limit=5", { token: tok })).body as RawListing<Post>;
  assert.ok(rawAll.data.children.length > 0, "restrict_sr off searches everywhere");
  assert.ok(rawAll.data.children.every((c) => c.data.subreddit === "space"), "rawAll.data.children.every((c) => c.data.subreddit === \"space\")");
  assert.equal(sb.stats().requests.byEndpoint.search, 4 + Math.ceil(all.length / 100));
});

// ---- comments ----------------------------------------------------------------------

test("comments come as [t3 Listing, t1 tree] honouring limit, depth and sort, with more stubs where cut", async (t) => {
  const sb = await sandbox(t);
  const tok = await appToken(sb);
  const id = sb.data.postIds().find((pid) => sb.data.treeSize(sb.data.postIndex(pid)!) >= 80)!;
  const res = await raw(sb, `/comments/${id}?limit=12&depth=2&raw_json=1`, { token: tok });
  assert.equal(res.status, 200);
  const [postListing, tree] = res.body as [RawListing<Post>, RawListing<RawComment & { count?: number; children?: string[] }>];
  assert.equal(postListing.data.children[0]!.kind, "t3");
  assert.equal(postListing.data.children[0]!.data.id, id);
  let comments = 0;
  let stubs = 0;
  let continueThread = 0;
  const walk = (children: RawListing<RawComment & { count?: number; children?: string[] }>["data"]["children"], depth: number): void => {
    for (const c of children) {
      if (c.kind === "more") {
        if (c.data.name === "t1__") continueThread++;
        else {
          stubs++;
          assert.ok((c.data.children ?? []).length > 0 && (c.data.count ?? 0) >= (c.data.children ?? []).length, "(c.data.children ?? []).length > 0 && (c.data.count ?? 0) >= (c.data.children ?? []).length");
        }
        continue;
      }
      assert.equal(c.kind, "t1");
      assert.equal(c.data.depth, depth);
      assert.ok(depth < 2, "depth=2 keeps two levels");
      comments++;
      if (c.data.replies !== "") walk(c.data.replies.data.children, depth + 1);
    }
  };
  walk(tree.data.children, 0);
  assert.equal(comments, 12, "limit=12 comments in total");
  assert.ok(stubs >= 1, "the cut comments are listed in a more stub");
  assert.equal(tree.data.children.at(-1)!.kind, "more", "the top level ends with a more stub");
  assert.ok(continueThread >= 1, "a second-level comment with replies ends in a continue-this-thread stub");

  const bySort = async (sort: string) =>
    ((await raw(sb, `/r/${sb.data.post(sb.data.postIndex(id)!).subreddit}/comments/${id}?sort=${sort}&depth=1&raw_json=1`, { token: tok })).body as [unknown, RawListing<RawComment>])[1].data.children
      .filter((c) => c.kind === "t1")
      .map((c) => c.data);
  const newest = await bySort("new");
  for (let k = 1; k < newest.length; k++) assert.ok(newest[k - 1]!.created_utc >= newest[k]!.created_utc, "newest[k - 1]!.created_utc >= newest[k]!.created_utc");
  const oldest = await bySort("old");
  assert.deepEqual(oldest.map((c) => c.id), [...newest].reverse().map((c) => c.id));
  const top = await bySort("top");
  for (let k = 1; k < top.length; k++) assert.ok(top[k - 1]!.score >= top[k]!.score, "top[k - 1]!.score >= top[k]!.score");

  assert.equal((await raw(sb, "/comments/zzzzzzz", { token: tok })).status, 404);
});

test("snoowrap expands a whole comment tree through more stubs, morechildren and continue-this-thread", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  // A post whose tree is deeper than the default depth of 10, so snoowrap must follow "continue this thread".
  const id = sb.data.postIds().find((pid) => {
    const i = sb.data.postIndex(pid)!;
    return sb.data.treeSize(i) >= 60 && sb.data.comments(i).some((c) => c.depth >= 11);
  });
  assert.ok(id, "the default world has a post with a deep thread");
  const i = sb.data.postIndex(id)!;
  const expected = sb.data.comments(i).map((c) => c.id).sort();

  const expanded = (await (r.getSubmission(id).expandReplies({ limit: Infinity, depth: Infinity }) as unknown as Promise<{ comments: Comment[] }>)).comments;
  const got = flatten(expanded);
  assert.deepEqual(idsOf(got).sort(), expected, "every comment exactly once");
  for (const c of got) for (const child of c.replies) assert.equal(child.parent_id, c.name);
  assert.ok(sb.stats().requests.byEndpoint.comments >= 2, "deep threads were fetched with ?comment=");

  // A cut first page (limit=5): the Listing's more stub is expanded with /api/morechildren.
  const cut = (await r.oauthRequest({ uri: `comments/${id}`, qs: { limit: 5 } })) as { comments: ListingLike<Comment> };
  assert.ok(cut.comments.length <= 5, "cut.comments.length <= 5");
  assert.equal(cut.comments.isFinished, false);
  const topLevel = await cut.comments.fetchAll();
  assert.equal(topLevel.length, sb.data.comments(i).filter((c) => c.depth === 0).length);
  const all = sb.data.comments(i);
  const subtree = (name: string): number => 1 + all.filter((c) => c.parent_id === name).reduce((n, c) => n + subtree(c.name), 0);
  for (const c of topLevel.slice(cut.comments.length)) assert.equal(1 + countTree(c.replies), subtree(c.name), "morechildren answers whole subtrees, threaded by snoowrap");
  assert.ok(sb.stats().requests.byEndpoint.morechildren >= 1, "sb.stats().requests.byEndpoint.morechildren >= 1");
});

// ---- /api/info and removals -------------------------------------------------------------

test("/api/info answers up to 100 posts and comments in one call, omits unknown ids and rejects 101", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  const postIds = sb.data.postIds().slice(0, 90).map((id) => `t3_${id}`);
  const i = sb.data.postIndex(postIds[0]!)!;
  const withComments = sb.data.postIds().map((id) => sb.data.postIndex(id)!).find((k) => sb.data.treeSize(k) >= 10)!;
  const commentIds = sb.data.comments(withComments).slice(0, 10).map((c) => c.name);
  const things = (await r.getContentByIds([...postIds, ...commentIds])) as unknown as Array<{ name: string }>;
  assert.equal(things.length, 100);
  assert.deepEqual(Array.from(things, (x) => x.name), [...postIds, ...commentIds]);
  assert.equal(sb.stats().requests.byEndpoint.info, 1, "one call for 100 things");

  const tok = await appToken(sb);
  const notYet = `t3_${sb.data.postId(sb.data.postCount - 1)}`;
  const mixed = (await raw(sb, `/api/info?id=t3_${sb.data.postId(i)},t3_zzzzzzz,t1_zzzzzzz,${notYet}`, { token: tok })).body as RawListing<Post>;
  assert.deepEqual(mixed.data.children.map((c) => c.data.id), [sb.data.postId(i)], "unknown and not-yet-created ids are omitted");
  const tooMany = Array.from({ length: 101 }, (_, k) => `t3_${sb.data.postId(k)}`).join(",");
  const rejected = await raw(sb, `/api/info?id=${tooMany}`, { token: tok });
  assert.equal(rejected.status, 400);
  assert.deepEqual(rejected.body, { message: "Bad Request", error: 400 });
});

test("a removed post leaves listings and search but /api/info and /comments show Reddit's removed fields", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  const [newest, second] = sb.data.postIds("science");
  assert.ok(sb.removePost(newest!), "sb.removePost(newest!)");
  const tok = await appToken(sb);
  const viaHttp = await raw(sb, `/_sandbox/posts/t3_${second}/remove`, { method: "POST", body: '{"by":"deleted"}' });
  assert.deepEqual(viaHttp.body, { id: second, removed_by_category: "deleted" });
  assert.equal((await raw(sb, "/_sandbox/posts/zzzzzzz/remove", { method: "POST" })).status, 404);

  const listed = idsOf((await r.getNew("science", { limit: 100 })) as unknown as Post[]);
  assert.ok(!listed.includes(newest!) && !listed.includes(second!), "!listed.includes(newest!) && !listed.includes(second!)");
  const title = sb.data.post(sb.data.postIndex(newest!)!).title;
  const found = idsOf((await r.search({ query: title, subreddit: "science", limit: 100 })) as unknown as Post[]);
  assert.ok(!found.includes(newest!), "!found.includes(newest!)");

  const info = ((await raw(sb, `/api/info?id=t3_${newest},t3_${second}&raw_json=1`, { token: tok })).body as RawListing<Post & { author_fullname?: string }>).data.children.map((c) => c.data);
  assert.equal(info[0]!.removed_by_category, "moderator");
  assert.equal(info[0]!.selftext, "[removed]");
  assert.equal(info[1]!.removed_by_category, "deleted");
  assert.equal(info[1]!.selftext, "[deleted]");
  assert.equal(info[1]!.author, "[deleted]");
  assert.equal(info[1]!.author_fullname, undefined);
  const thread = await raw(sb, `/comments/${newest}`, { token: tok });
  assert.equal(thread.status, 200);

  // The world also has ~2% generated removals, never listed.
  const generated = Array.from({ length: sb.data.visiblePostCount() }, (_, k) => k).filter((k) => sb.data.post(k).removed_by_category !== null);
  assert.ok(generated.length > 10, "generated.length > 10");
  const share = generated.length / sb.data.visiblePostCount();
  assert.ok(share > 0.01 && share < 0.035, `about 2% removed, got ${share}`);
  for (const k of generated.slice(0, 5)) {
    const p = sb.data.post(k);
    assert.equal(p.selftext, p.removed_by_category === "moderator" ? "[removed]" : "[deleted]");
  }
  sb.reset();
  assert.equal(((await r.getNew("science", { limit: 1 })) as unknown as Post[])[0]!.id, newest, "reset restores runtime removals");
});

// ---- rate limits and faults ----------------------------------------------------------------

test("every API answer carries X-Ratelimit headers; a spent budget answers 429 and snoowrap waits for the window", async (t) => {
  const sb = await sandbox(t, { rateLimit: { windowMs: 2_000, requests: 5 } });
  const tok = await appToken(sb);
  await windowStart(2_000);
  const first = await raw(sb, "/r/space/new?limit=1", { token: tok });
  assert.equal(first.headers["x-ratelimit-used"], "1");
  assert.equal(first.headers["x-ratelimit-remaining"], "4.0");
  const reset = Number(first.headers["x-ratelimit-reset"]);
  assert.ok(Number.isInteger(reset) && reset >= 1 && reset <= 2, "Number.isInteger(reset) && reset >= 1 && reset <= 2");
  const notFound = await raw(sb, "/r/space/comments/zzzzzzz", { token: tok });
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers["x-ratelimit-used"], "2");

  sb.setRateLimit(CLIENT.clientId, { used: 5 });
  const limited = await raw(sb, "/r/space/new?limit=1", { token: tok });
  assert.equal(limited.status, 429);
  assert.deepEqual(limited.body, { message: "Too Many Requests", error: 429 });
  assert.equal(limited.headers["x-ratelimit-used"], "6");
  assert.equal(limited.headers["x-ratelimit-remaining"], "0.0");
  assert.ok(Number(limited.headers["x-ratelimit-reset"]) >= 1, "Number(limited.headers[\"x-ratelimit-reset\"]) >= 1");
  assert.equal(sb.stats().rateLimited, 1);

  // snoowrap: a fresh client of the same app shares the budget.
  const reset429 = await raw(sb, "/_sandbox/ratelimit", { method: "POST", body: JSON.stringify({ clientId: CLIENT.clientId, used: 0 }) });
  assert.equal((reset429.body as { remaining: number }).remaining, 5);
  const r = await client(sb);
  await windowStart(2_000);
  await r.getNew("space", { limit: 1 });
  assert.equal(r.ratelimitRemaining, 4, "snoowrap reads X-Ratelimit-Remaining");
  sb.setRateLimit(CLIENT.clientId, { used: 5 });
  await assert.rejects(settle(r.getNew("space", { limit: 1 })), { statusCode: 429 });
  assert.equal(r.ratelimitRemaining, 0, "snoowrap read the headers of the 429 answer too");
  const waitUntil = r.ratelimitExpiration;
  const posts = (await r.getNew("space", { limit: 1 })) as unknown as Post[];
  assert.equal(posts.length, 1, "continueAfterRatelimitError: the call waited for the next window instead of failing");
  assert.ok(Date.now() >= waitUntil - 5, "Date.now() >= waitUntil - 5");
  assert.ok(r.ratelimitRemaining >= 3, "r.ratelimitRemaining >= 3");
});

test("errorRate 1 answers every API call 503 with Reddit's error body; sandbox endpoints are never faulted", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb, { maxRetryAttempts: 1 });
  const tok = await appToken(sb);
  const set = await raw(sb, "/_sandbox/faults", { method: "POST", body: '{"errorRate":1}' });
  assert.deepEqual(set.body, { latencyMs: 0, errorRate: 1 });
  const res = await raw(sb, "/r/funny/new", { token: tok });
  assert.equal(res.status, 503);
  assert.deepEqual(res.body, { message: "Service Unavailable", error: 503 });
  await assert.rejects(settle(r.getNew("funny", { limit: 1 })), { statusCode: 503 });
  assert.equal((await raw(sb, "/_sandbox/stats")).status, 200);
  sb.faults.errorRate = 0;
  sb.faults.latencyMs = 120;
  const started = Date.now();
  assert.equal((await raw(sb, "/r/funny/new?limit=1", { token: tok })).status, 200);
  assert.ok(Date.now() - started >= 100, "latency is added");
});

// ---- the world -----------------------------------------------------------------------------

test("posts and comments link YouTube videos of the same world, published before them, in all three URL forms", async (t) => {
  const world = new World();
  const sb = await sandbox(t, { world });
  const r = await client(sb);
  const published = new Map<string, number>();
  for (let k = 0; k < world.visibleVideos(); k++) published.set(videoId(world.config, k), k);
  const posts = (await ((await r.getNew("all", { limit: 100 })) as unknown as ListingLike<Post>).fetchAll()) as Post[];
  assert.equal(posts.length, sb.data.postIds().length);
  const forms = { link: new Set<string>(), text: new Set<string>() };
  let linking = 0;
  for (const p of posts) {
    const where = p.is_self ? "text" : "link";
    const urls = [...(p.is_self ? p.selftext : p.url).matchAll(YOUTUBE_URL)];
    if (urls.length === 0) continue;
    linking++;
    for (const m of urls) {
      const k = published.get(m[1]!);
      assert.ok(k !== undefined, `video ${m[1]} exists and is published`);
      assert.ok(world.videoTime(k) <= (p.created_utc + 1) * 1000, "the video was out before the post");
      forms[where].add(m[0].includes("watch?v=") ? "watch" : m[0].includes("youtu.be") ? "youtu.be" : "shorts");
    }
    if (!p.is_self) assert.equal(p.domain, p.url.startsWith("https://youtu.be/") ? "youtu.be" : "youtube.com");
  }
  assert.deepEqual([...forms.link].sort(), ["shorts", "watch", "youtu.be"]);
  assert.deepEqual([...forms.text].sort(), ["shorts", "watch", "youtu.be"]);
  const share = linking / posts.length;
  assert.ok(share > 0.18 && share < 0.32, `about 25% of posts link YouTube, got ${share}`);

  const busiest = [...posts].sort((a, b) => b.num_comments - a.num_comments).slice(0, 8);
  const commentForms = new Set<string>();
  for (const p of busiest) {
    const sub = (await (r.getSubmission(p.id).fetch() as unknown as Promise<{ comments: Comment[] }>)).comments;
    for (const c of flatten(sub)) {
      for (const m of c.body.matchAll(YOUTUBE_URL)) {
        const k = published.get(m[1]!);
        assert.ok(k !== undefined && world.videoTime(k) <= (c.created_utc + 1) * 1000, "k !== undefined && world.videoTime(k) <= (c.created_utc + 1) * 1000");
        commentForms.add(m[0].includes("watch?v=") ? "watch" : m[0].includes("youtu.be") ? "youtu.be" : "shorts");
      }
    }
  }
  assert.deepEqual([...commentForms].sort(), ["shorts", "watch", "youtu.be"]);
});

test("advancing the world clock brings new posts to the top of new, and more comments and score to recent posts", async (t) => {
  const sb = await sandbox(t);
  const r = await client(sb);
  const before = (await r.getNew("technology", { limit: 5 })) as unknown as Post[];
  const countBefore = sb.data.postIds(0).length;
  const recent = sb.data.postIndex(before[0]!.id)!;
  const postBefore = sb.data.post(recent);
  const advanced = await raw(sb, "/_sandbox/advance", { method: "POST", body: JSON.stringify({ ms: 2 * 86_400_000 }) });
  assert.equal((advanced.body as { now: number }).now, sb.world.clock.now());
  const after = (await r.getNew("technology", { limit: 100 })) as unknown as Post[];
  assert.ok(after[0]!.created_utc > before[0]!.created_utc, "a newer post comes first");
  const added = sb.data.postIds(0).length - countBefore;
  assert.ok(added > 0, "added > 0");
  assert.equal(after[added]!.id, before[0]!.id, "the previous newest follows the new ones");
  const postAfter = sb.data.post(recent);
  assert.ok(postAfter.score >= postBefore.score && postAfter.num_comments >= postBefore.num_comments, "postAfter.score >= postBefore.score && postAfter.num_comments >= postBefore.num_comments");
  assert.ok(postAfter.score > postBefore.score || postAfter.num_comments > postBefore.num_comments, "engagement grows with age");
});

test("the same seed gives the same answers and another seed different ones", async (t) => {
  const a = await sandbox(t, { world: { seed: "alpha" } });
  const b = await sandbox(t, { world: { seed: "alpha" } });
  const c = await sandbox(t, { world: { seed: "beta" } });
  const page = async (sb: RedditSandbox) => {
    const tok = await appToken(sb);
    const listing = (await raw(sb, "/r/all/hot?limit=50&raw_json=1", { token: tok })).body as RawListing<Post>;
    const first = listing.data.children[0]!.data.id;
    const thread = (await raw(sb, `/comments/${first}?raw_json=1`, { token: tok })).body;
    return JSON.stringify([listing, thread]);
  };
  const [pa, pb, pc] = await Promise.all([page(a), page(b), page(c)]);
  assert.equal(pa, pb);
  assert.notEqual(pa, pc);
  assert.notDeepEqual(a.data.post(0).title + a.data.post(1).title + a.data.post(2).title, c.data.post(0).title + c.data.post(1).title + c.data.post(2).title);
});

test("subreddits beyond the topics get a lap number; about, r/all and a+b listings work", async (t) => {
  const sb = await sandbox(t, { world: { subreddits: 30 } });
  const names = Array.from({ length: 30 }, (_, s) => sb.data.subredditName(s));
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 30);
  for (const n of names) assert.match(n, /^[A-Za-z0-9_]{2,21}$/);
  assert.equal(names[12], "technology1");
  assert.equal(names[27], "WeAreTheMusicMakers2");
  const r = await client(sb);
  const about = (await (r.getSubreddit("technology1").fetch() as unknown as Promise<{ display_name: string; name: string; subscribers: number }>));
  assert.equal(about.display_name, "technology1");
  assert.match(about.name, /^t5_/);
  assert.ok(about.subscribers > 0, "about.subscribers > 0");
  const multi = (await r.getNew("gaming+space", { limit: 100 })) as unknown as Post[];
  assert.deepEqual(new Set(Array.from(multi, (p) => subOf(p.subreddit))), new Set(["gaming", "space"]));
  const front = (await r.getNew(undefined, { limit: 10 })) as unknown as Post[];
  assert.deepEqual(idsOf(front), sb.data.postIds().slice(0, 10), "the front page is every subreddit");
  assert.equal(nameOf(front[0]!.author).length > 0, true);
});

test("/_sandbox/stats counts requests by endpoint and client, and reset clears them", async (t) => {
  const sb = await sandbox(t, { clients: [{ clientId: "one", clientSecret: "1" }, { clientId: "two", clientSecret: "2" }] });
  const one = await createRedditClient({ userAgent: UA, clientId: "one", clientSecret: "1", baseUrl: sb.url });
  const two = await createRedditClient({ userAgent: UA, clientId: "two", clientSecret: "2", baseUrl: sb.url });
  await one.getNew("DIY", { limit: 1 });
  await one.search({ query: "lamp", limit: 1 });
  await two.getContentByIds([`t3_${sb.data.postId(0)}`]);
  await raw(sb, "/r/DIY/new");
  const stats = (await raw(sb, "/_sandbox/stats")).body;
  assert.deepEqual(stats, {
    requests: { total: 6, byEndpoint: { token: 2, listing: 2, search: 1, comments: 0, morechildren: 0, info: 1, subreddit: 0, me: 0, other: 0 }, byClient: { one: 3, two: 2 } },
    rateLimited: 0,
    glitches: 0,
  });
  assert.deepEqual(sb.stats(), stats);
  assert.equal((await raw(sb, "/_sandbox/reset", { method: "POST" })).status, 200);
  assert.equal(sb.stats().requests.total, 0);
});

test("a 100,000-post world starts and answers a listing page (its speed is measured by pnpm bench:sandbox)", async (t) => {
  const sb = await sandbox(t, { world: { posts: 100_000, subreddits: 40 } });
  const r = await client(sb);
  const page = (await r.getNew("technology", { limit: 100 })) as unknown as Post[];
  assert.equal(page.length, 100);
  assert.ok(sb.data.visiblePostCount() >= 79_000, "sb.data.visiblePostCount() >= 79_000");
});
