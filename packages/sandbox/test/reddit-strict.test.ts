import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { startRedditSandbox, type RedditSandbox, type RedditSandboxOptions } from "../src/reddit.js";

/** The Reddit sandbox's strict behaviours (on by default), each seen on the wire, and the control API that stages them. */

const UA = "node:prismq-sandbox-test:0.1.0 (by /u/prismq)";

async function sandbox(t: TestContext, options: RedditSandboxOptions = {}): Promise<{ sb: RedditSandbox; get: (path: string) => Promise<Response> }> {
  const sb = await startRedditSandbox(options);
  t.after(() => sb.close());
  const res = await fetch(`${sb.url}/api/v1/access_token`, {
    method: "POST",
    headers: { "user-agent": UA, authorization: `Basic ${Buffer.from("sandbox-client:sandbox-secret").toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  const token = ((await res.json()) as { access_token: string }).access_token;
  return { sb, get: (path) => fetch(`${sb.url}${path}`, { redirect: "manual", headers: { "user-agent": UA, authorization: `bearer ${token}` } }) };
}

interface ListingBody {
  data: { after: string | null; children: Array<{ kind: string; data: Record<string, unknown> }> };
}

const control = (sb: RedditSandbox, path: string, body: unknown) => fetch(`${sb.url}/_sandbox/${path}`, { method: "POST", body: JSON.stringify(body) });

test("strict by default: a listing and a search end after 1,000 items; strict: false pages to the end", async (t) => {
  const world = { seed: "cap", subreddits: 1, posts: 3_000 };
  const { get } = await sandbox(t, { world, strict: { garbageRate: 0, badItemRate: 0 } });
  const walk = async (path: string): Promise<number> => {
    let after: string | null = null;
    let n = 0;
    do {
      const body = (await (await get(`${path}${path.includes("?") ? "&" : "?"}limit=100${after ? `&after=${after}` : ""}`)).json()) as ListingBody;
      n += body.data.children.length;
      after = body.data.after;
    } while (after);
    return n;
  };
  assert.equal(await walk("/r/technology/new"), 1000);
  assert.equal(await walk("/r/technology/top?t=all"), 1000);
  const calm = await sandbox(t, { world, strict: false });
  const total = calm.sb.data.postIds().length;
  assert.ok(total > 2000);
  let after: string | null = null;
  let n = 0;
  do {
    const body = (await (await calm.get(`/r/technology/new?limit=100${after ? `&after=${after}` : ""}`)).json()) as ListingBody;
    n += body.data.children.length;
    after = body.data.after;
  } while (after);
  assert.equal(n, total);
});

test("the OAuth budget is 1,000 requests per 600 s; X-Ratelimit-Reset is rounded down to 0 in a window's last second; a 429 has an empty body", async (t) => {
  // The clock stands still 300 ms before a window's end: a slow machine cannot carry it into the next window.
  const frozen = Math.ceil(Date.now() / 600_000) * 600_000 - 300;
  const { sb, get } = await sandbox(t, { now: () => frozen, strict: { garbageRate: 0 } });
  const ok = await get("/r/technology/new?limit=1");
  assert.equal(ok.headers.get("x-ratelimit-remaining"), "999.0");
  assert.equal(ok.headers.get("x-ratelimit-reset"), "0");
  sb.setRateLimit("sandbox-client", { used: 1000 });
  const limited = await get("/r/technology/new?limit=1");
  assert.equal(limited.status, 429);
  assert.equal(await limited.text(), "");
});

test("private, quarantined, gated and banned subreddits answer with Reddit's reason; an unknown name redirects to the subreddit search; any subreddit's state changes through the control API", async (t) => {
  const { sb, get } = await sandbox(t);
  for (const [name, status, reason] of [
    ["private_lounge", 403, "private"],
    ["quarantined_zone", 403, "quarantined"],
    ["gated_topics", 403, "gated"],
    ["banned_place", 404, "banned"],
  ] as const) {
    const res = await get(`/r/${name}/new`);
    assert.equal(res.status, status, name);
    assert.equal(((await res.json()) as { reason: string }).reason, reason);
  }
  const unknown = await get("/r/nosuchsubhere/new.json");
  assert.equal(unknown.status, 302);
  const search = (await (await get(unknown.headers.get("location")!)).json()) as ListingBody;
  assert.deepEqual(search.data.children, []);
  assert.equal((await control(sb, "subreddits/technology/state", { state: "private" })).status, 200);
  assert.equal((await get("/r/technology/new")).status, 403);
  assert.equal((await control(sb, "subreddits/technology/state", { state: "weird" })).status, 400);
  sb.setSubredditState("technology", "public");
  assert.equal((await get("/r/technology/new")).status, 200);
});

test("removals use all ten removed_by_category values, a removed link post keeps selftext \"\", and every other subreddit pins an AutoModerator comment", async (t) => {
  const { sb, get } = await sandbox(t, { strict: { garbageRate: 0, badItemRate: 0 } });
  const kinds = new Set<string>();
  for (let i = 0; i < sb.data.postCount; i++) {
    const k = sb.data.removalOf(i);
    if (k) kinds.add(k);
  }
  assert.ok(kinds.size >= 8, `generated removals spread over the categories: ${[...kinds].join(", ")}`);
  const link = sb.data.postIds().map((id) => sb.data.postIndex(id)!).find((i) => !sb.data.post(i).is_self)!;
  assert.equal((await control(sb, `posts/${sb.data.postId(link)}/remove`, { by: "copyright_takedown" })).status, 200);
  assert.equal((await control(sb, `posts/${sb.data.postId(link)}/remove`, { by: "nonsense" })).status, 400);
  const info = (await (await get(`/api/info?id=t3_${sb.data.postId(link)}`)).json()) as ListingBody;
  assert.equal(info.data.children[0]!.data.removed_by_category, "copyright_takedown");
  assert.equal(info.data.children[0]!.data.selftext, "");
  const withSticky = sb.data.postIds().map((id) => sb.data.postIndex(id)!).find((i) => sb.data.automodCommentId(i) !== null)!;
  const tree = (await (await get(`/comments/${sb.data.postId(withSticky)}`)).json()) as ListingBody[];
  const first = tree[1]!.data.children[0]!.data;
  assert.deepEqual([first.author, first.stickied, first.distinguished], ["AutoModerator", true, "moderator"]);
});

test("about 1% of posts wait 30 minutes for approval before they are listed; hold and approve stage it for one post", async (t) => {
  const { sb, get } = await sandbox(t, { world: { posts: 20_000 }, strict: { garbageRate: 0, badItemRate: 0 } });
  const late: number[] = [];
  for (let i = 0; i < sb.data.postCount; i++) if (sb.data.isHeld(i) || (sb.data.isVisible(i) && sb.data.removalOf(i) === null && !sb.data.isListed(i))) late.push(i);
  const now = sb.world.clock.now();
  for (const i of late) assert.ok(sb.data.postTime(i) > now - 30 * 60_000, "held only for 30 minutes");
  const id = sb.data.postIds()[0]!;
  assert.equal((await control(sb, `posts/${id}/hold`, {})).status, 200);
  let listing = (await (await get("/new?limit=5")).json()) as ListingBody;
  assert.ok(!listing.data.children.some((c) => c.data.id === id));
  assert.equal((await control(sb, `posts/${id}/approve`, {})).status, 200);
  listing = (await (await get("/new?limit=5")).json()) as ListingBody;
  assert.ok(listing.data.children.some((c) => c.data.id === id));
});

test("hostile posts: one in 1,000 has a 1 MiB selftext, a score of 1e308, or an unparseable created_utc", async (t) => {
  const { sb } = await sandbox(t, { world: { visibleFraction: 1 } });
  const standing = (i: number) => sb.data.removalOf(i) === null;
  if (standing(777)) assert.ok((sb.data.post(777).selftext as string).length > 1_000_000);
  if (standing(778)) assert.equal(sb.data.post(778).score, 1e308);
  if (standing(779)) assert.equal(typeof sb.data.post(779).created_utc, "string");
  assert.ok([777, 778, 779].some(standing));
  sb.strictness.hostilePosts = false;
  assert.equal(typeof sb.data.post(779).created_utc, "number");
});

test("glitches: by default about 1% of answers are an HTML page or {} and 1% of listings carry one post with title 12345; staged ones come first; strictness changes live", async (t) => {
  const { sb, get } = await sandbox(t);
  let garbage = 0;
  let bad = 0;
  for (let k = 0; k < 400; k++) {
    const res = await get("/r/technology/new?limit=10");
    const text = await res.text();
    if (text.startsWith("<!doctype html>") || text === "{}") garbage++;
    else if ((JSON.parse(text) as ListingBody).data.children.some((c) => typeof c.data.title !== "string")) bad++;
  }
  assert.ok(garbage >= 1 && garbage <= 15, `${garbage} garbage answers of 400`);
  assert.ok(bad >= 1 && bad <= 15, `${bad} answers with a bad item of 400`);
  assert.equal((await control(sb, "strictness", { garbageRate: 0, badItemRate: 0 })).status, 200);
  assert.equal((await control(sb, "strictness", { garbageRate: "lots" })).status, 400);
  assert.equal((await control(sb, "glitches", { kind: "html", path: "/r/technology/new", count: 2 })).status, 200);
  assert.equal((await control(sb, "glitches", { kind: "nope" })).status, 400);
  assert.match(await (await get("/r/technology/new")).text(), /^<!doctype html>/);
  assert.match(await (await get("/r/technology/new")).text(), /^<!doctype html>/);
  assert.equal((await get("/r/technology/new")).headers.get("content-type"), "application/json; charset=UTF-8");
  sb.stage({ kind: "gzip-bomb", inflatedBytes: 4 * 1024 * 1024 });
  const bomb = await fetch(`${sb.url}/r/technology/new`, { headers: { "user-agent": UA } });
  assert.equal(bomb.status, 401, "a staged glitch only answers authenticated API calls");
  const res = await get("/r/technology/new");
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.ok(sb.stats().glitches >= garbage + bad + 3);
});

test("a revoked client loses its tokens and the token endpoint refuses it", async (t) => {
  const { sb, get } = await sandbox(t);
  assert.equal((await get("/r/technology/new")).status === 401, false);
  assert.equal((await control(sb, "clients/sandbox-client/revoke", {})).status, 200);
  assert.equal((await get("/r/technology/new")).status, 401);
  sb.reset();
  assert.equal((await get("/r/technology/new")).status === 401, false, "reset restores it");
});
