import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Reddit } from "@prismq/task-types";
import { DirectOutbox, FileState, LocalBudget } from "@prismq/worker-kit";
import { RecordingBudget } from "@prismq/worker-kit/testing";
import { RedditDiscovery } from "../src/discovery.js";
import { runSource } from "../src/run.js";
import { CLIENT, Rig, count, silent, uid } from "./helpers.js";

const DAY = 86_400_000;
const WEEK_S = 604_800;

/** Pages a newest-first walk reads to find `fresh` new posts and then the first known one, 100 a page. */
const pagesToKnown = (fresh: number) => Math.floor(fresh / 100) + 1;

describe("RedditDiscovery against the sandbox, the TaskManager and a file state", () => {
  test("walks a subreddit's new listing 100 posts a page with after, creating one Post task per listed post; later runs send only the new posts and stop at the first known one", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    const listed = rig.sandbox.data.postIds(sub);

    const first = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 1000 });
    assert.equal(first.listed, listed.length);
    assert.equal(first.sent, listed.length);
    assert.equal(first.pages, Math.ceil(listed.length / 100), "100 posts a page: only a full page asks for more");
    assert.equal(first.stoppedAtKnown, false);
    assert.equal(rig.sandbox.stats().requests.byEndpoint.listing, first.pages, "one request per page");
    const tasks = await rig.postTasks();
    assert.equal(tasks.length, listed.length, "one Post task per listed post");
    assert.deepEqual(new Set(tasks.map((x) => x.params.post_id)), new Set(listed));
    assert.ok(
      tasks.every((x) => x.status === "pending" && x.params.hops === undefined),
      "pending, hop 0",
    );

    // Nothing new: one page, stopped at the newest post.
    const again = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 1000 });
    assert.deepEqual(again, { listed: 0, sent: 0, pages: 1, stoppedAtKnown: true });

    // A day passes: a few new posts, all on the first page.
    rig.sandbox.advance(DAY);
    const day = rig.sandbox.data.postIds(sub);
    const freshDay = day.slice(0, day.length - listed.length);
    assert.ok(freshDay.length > 0 && freshDay.length < 100, `${freshDay.length} new posts in a day`);
    assert.deepEqual(day.slice(freshDay.length), listed, "the known posts follow the new ones");
    const third = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 1000 });
    assert.deepEqual(third, { listed: freshDay.length, sent: freshDay.length, pages: 1, stoppedAtKnown: true });

    // Four more days: more than a page of new posts; the walk follows `after` and stops on the second page.
    rig.sandbox.advance(4 * DAY);
    const later = rig.sandbox.data.postIds(sub);
    const freshLater = later.slice(0, later.length - day.length);
    assert.ok(freshLater.length > 100, `${freshLater.length} new posts: more than a page`);
    const listingsBefore = rig.sandbox.stats().requests.byEndpoint.listing;
    const fourth = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 1000 });
    assert.deepEqual(fourth, { listed: freshLater.length, sent: freshLater.length, pages: pagesToKnown(freshLater.length), stoppedAtKnown: true });
    assert.equal(rig.sandbox.stats().requests.byEndpoint.listing - listingsBefore, fourth.pages);

    const all = await rig.postIds();
    assert.equal(all.length, later.length, "every post once, nothing twice");
    assert.deepEqual(new Set(all), new Set(later));
  });

  test("stops a walk at its limit, and a limit under 100 asks for just that many", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    const r = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 250 });
    assert.deepEqual(r, { listed: 250, sent: 250, pages: 3, stoppedAtKnown: false });
    assert.deepEqual(new Set(await rig.postIds()), new Set(rig.sandbox.data.postIds(sub).slice(0, 250)), "the newest 250");

    const other = rig.subredditWith(150, 300);
    const small = await rig.discovery.subreddit({ subreddit: other, sort: "new", limit: 7 });
    assert.deepEqual(small, { listed: 7, sent: 7, pages: 1, stoppedAtKnown: false });

    // No limit in the params: the app's default limit.
    const withDefault = new RedditDiscovery({ api: rig.api, outbox: new DirectOutbox({ client: rig.client, logger: silent }), state: new FileState(rig.dir, `default-${uid()}`), logger: silent, defaultLimit: 130 });
    const byDefault = await withDefault.subreddit({ subreddit: sub, sort: "new" });
    assert.deepEqual(byDefault, { listed: 130, sent: 130, pages: 2, stoppedAtKnown: false }, "new to this state");
    assert.equal((await rig.postIds()).length, 257, "the newest 130 had tasks already: the TaskManager deduplicated them");
  });

  test("walks top with its time filter: only posts of the window, every one once, and a second run sends nothing", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    const week = rig.postsWithin(WEEK_S, sub);
    const day = rig.postsWithin(DAY / 1000, sub);
    assert.ok(week.length > day.length && week.length > 100, `${week.length} posts this week, ${day.length} today: the filter matters and takes two pages`);

    const r = await rig.discovery.subreddit({ subreddit: sub, sort: "top", time_filter: "week", limit: 1000 });
    assert.equal(r.listed, week.length);
    assert.equal(r.sent, week.length);
    assert.equal(r.pages, Math.ceil(week.length / 100));
    assert.equal(r.stoppedAtKnown, false);
    assert.deepEqual(new Set(await rig.postIds()), new Set(week));

    // Top is not newest first: it walks the whole window again and skips what it sent.
    const again = await rig.discovery.subreddit({ subreddit: sub, sort: "top", time_filter: "week", limit: 1000 });
    assert.deepEqual(again, { listed: week.length, sent: 0, pages: r.pages, stoppedAtKnown: false });
    assert.equal((await rig.postIds()).length, week.length);
  });

  test("searches one subreddit, staying in it, and all of Reddit, spanning subreddits, paging with after", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    // A title word of this subreddit that other subreddits use too, with more than a page of matches overall.
    const words = new Map<string, number>();
    for (const id of rig.sandbox.data.postIds(sub)) for (const w of new Set(rig.titleWords(id))) if (w.length >= 5) words.set(w, (words.get(w) ?? 0) + 1);
    const word = [...words.keys()].find((w) => {
      const everywhere = rig.postsTitled(w);
      return new Set(everywhere.map((id) => rig.sandbox.data.post(rig.sandbox.data.postIndex(id) as number).subreddit)).size >= 3 && everywhere.length > 100 && everywhere.length < 1000;
    });
    assert.ok(word, "a shared title word");
    const inSub = rig.postsTitled(word, sub);
    const everywhere = rig.postsTitled(word);
    assert.ok(inSub.length < everywhere.length);

    const local = await rig.discovery.search({ query: word, subreddit: sub, sort: "new", limit: 1000 });
    assert.equal(local.listed, inSub.length);
    assert.equal(local.sent, inSub.length);
    assert.equal(local.pages, Math.ceil(inSub.length / 100) || 1);
    assert.deepEqual(new Set(await rig.postIds()), new Set(inSub), "only posts of that subreddit");

    const global = await rig.discovery.search({ query: word, sort: "new", limit: 1000 });
    assert.equal(global.listed, everywhere.length);
    assert.equal(global.sent, everywhere.length - inSub.length, "the subreddit's posts were sent already");
    assert.equal(global.pages, Math.ceil(everywhere.length / 100));
    assert.equal(rig.sandbox.stats().requests.byEndpoint.search, local.pages + global.pages);
    const ids = await rig.postIds();
    assert.equal(ids.length, everywhere.length);
    assert.deepEqual(new Set(ids), new Set(everywhere));
  });

  test(
    "a search sorted by new stops at the first post it already knows, as a new listing does",
        async (t) => {
      const rig = await Rig.start(t);
      const sub = rig.subredditWith(301, 999);
      const word = rig.titleWords(rig.sandbox.data.postIds(sub)[0] as string).find((w) => rig.postsTitled(w).length > 100) as string;
      assert.ok(word, "a title word with more than a page of matches");
      const first = await rig.discovery.search({ query: word, sort: "new", limit: 1000 });
      assert.ok(first.pages >= 2);
      const again = await rig.discovery.search({ query: word, sort: "new", limit: 1000 });
      assert.deepEqual(again, { listed: 0, sent: 0, pages: 1, stoppedAtKnown: true });
    },
  );

  test("sends a post found by two sources once", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    const week = rig.postsWithin(WEEK_S, sub);
    const newest = rig.sandbox.data.postIds(sub).slice(0, 150);

    const top = await rig.discovery.subreddit({ subreddit: sub, sort: "top", time_filter: "week", limit: 1000 });
    assert.equal(top.sent, week.length);
    const listing = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 150 });
    const overlap = newest.filter((id) => week.includes(id)).length;
    assert.ok(overlap > 0, "the newest posts are also this week's top");
    assert.equal(listing.listed, 150);
    assert.equal(listing.sent, 150 - overlap, "posts the top walk sent are not sent again");
    const union = new Set([...week, ...newest]);
    const ids = await rig.postIds();
    assert.equal(ids.length, union.size, "one task per post");
    assert.deepEqual(new Set(ids), union);
    assert.equal(await rig.state.seenCount("posts"), union.size);

    // Another process with the same state (the file) sends nothing again either.
    const { api } = await rig.connect();
    const other = rig.discoveryOf(api);
    const again = await other.search({ query: rig.titleWords(newest[0] as string).join(" "), subreddit: sub, sort: "new", limit: 1 });
    assert.equal(again.listed, 1);
    assert.equal(again.sent, 0, "the newest post, sent by the first process");
  });

  test("carries the hop count of a discovery task to the Post tasks it creates", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    const newest = rig.sandbox.data.postIds(sub).slice(0, 5);
    const r = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 5, hops: 1 });
    assert.equal(r.sent, 5);
    const word = rig.titleWords(newest[0] as string).join(" ");
    const fresh = new FileState(rig.dir, `hop2-${uid()}`);
    const s = await rig.discoveryOf(rig.api, fresh).search({ query: word, subreddit: sub, sort: "new", limit: 1, hops: 2 });
    assert.equal(s.sent, 1);
    const tasks = await rig.postTasks();
    const hopsOf = new Map(tasks.map((x) => [`${x.params.post_id}@${x.params.hops ?? 0}`, x]));
    for (const id of newest) assert.ok(hopsOf.has(`${id}@1`), `${id} at hop 1`);
    assert.ok(hopsOf.has(`${newest[0]}@2`), "the search's post at hop 2");
    assert.ok(
      tasks.every((x) => (x.params.hops ?? 0) > 0),
      "no task at hop 0",
    );
    // The same params again are deduplicated: the task exists exactly so.
    const dup = await Reddit.Post.create(rig.client, { post_id: newest[1] as string, hops: 1 });
    assert.equal(dup.deduplicated, true);
  });

  test("creates the Post tasks at the priority of the source that found them (runSource), and at 0 without one", async (t) => {
    const rig = await Rig.start(t);
    const sub = rig.subredditWith(301, 999);
    const ok = await runSource(rig.discovery, { kind: "subreddit", params: { subreddit: sub, sort: "new", limit: 3 }, priority: 40 }, silent);
    assert.ok(ok.ok);
    const word = rig.titleWords(rig.sandbox.data.postIds(sub)[5] as string).join(" ");
    const plain = await rig.discoveryOf(rig.api, new FileState(rig.dir, `prio-${uid()}`)).search({ query: word, subreddit: sub, sort: "new", limit: 1 });
    assert.equal(plain.sent, 1);
    const tasks = await rig.postTasks();
    assert.deepEqual(tasks.map((x) => x.priority).sort((a, b) => a - b), [0, 40, 40, 40]);
  });

  test("a shared requests budget of 3 a second makes two concurrent runs wait for its next window, before any 429, and both complete", async (t) => {
    // Server: 6 requests a second. Our budget: 3 a second, shared by two clients of the app.
    const rig = await Rig.start(t, { sandbox: { rateLimit: { requests: 6, windowMs: 1000 } } });
    const budget = new RecordingBudget(new LocalBudget({ name: "reddit-requests.test", limit: 3, window: { kind: "fixed", ms: 1000 } }));
    const one = await rig.connect({ budget });
    const two = await rig.connect({ budget });
    const state = new FileState(rig.dir, `budget-${uid()}`);
    const a = rig.discoveryOf(one.api, state, one.logger);
    const b = rig.discoveryOf(two.api, state, two.logger);
    const sub = rig.subredditWith(301, 999);
    const [newest, all] = await Promise.all([
      runSource(a, { kind: "subreddit", params: { subreddit: sub, sort: "new", limit: 300 } }, silent),
      runSource(b, { kind: "subreddit", params: { subreddit: "all", sort: "new", limit: 400 } }, silent),
    ]);
    assert.ok(newest.ok && all.ok, "both runs complete");
    assert.equal(newest.report.listed, 300);
    assert.equal(all.report.listed, 400);
    const requests = newest.report.pages + all.report.pages;
    assert.equal(requests, 7);

    const stats = rig.sandbox.stats();
    assert.equal(stats.rateLimited, 0, "the server never had to refuse");
    assert.equal(stats.requests.byEndpoint.listing, requests);
    assert.ok(budget.refused >= 1, "the budget made a call wait");
    for (const [, spent] of budget.granted) assert.ok(spent <= 3, `at most 3 requests a window, got ${spent}`);
    assert.ok(budget.granted.size >= 3, `7 requests over at least 3 windows, got ${budget.granted.size}`);
    const waits = [...one.lines, ...two.lines].filter((l) => l.msg === "Reddit request budget spent: waiting for the next window");
    assert.equal(waits.length, budget.refused, "each wait is logged");
    assert.equal(await count(one.metrics, { outcome: "rate_limited" }), 0);
    assert.equal(await count(two.metrics, { outcome: "rate_limited" }), 0);
  });

  test("a 429 from Reddit is waited out until its reset and the run completes", async (t) => {
    const rig = await Rig.start(t, { sandbox: { rateLimit: { requests: 100, windowMs: 2000 } } });
    const sub = rig.subredditWith(301, 999);
    // Not at the very end of a window, so the exhausted window is still the current one at the first request.
    const into = Date.now() % 2000;
    if (into > 1500) await new Promise((r) => setTimeout(r, 2000 - into + 10));
    rig.sandbox.setRateLimit(CLIENT.clientId, { used: 100 });
    const outcome = await runSource(rig.discovery, { kind: "subreddit", params: { subreddit: sub, sort: "new", limit: 150 } }, silent);
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
    assert.deepEqual(outcome.report, { listed: 150, sent: 150, pages: 2, stoppedAtKnown: false });
    assert.equal(rig.sandbox.stats().rateLimited, 1);
    assert.equal(rig.sandbox.stats().requests.byEndpoint.listing, 3, "the refused request and two pages");
    assert.equal(await count(rig.metrics, { method: "listing", outcome: "rate_limited" }), 1);
    assert.equal(await count(rig.metrics, { method: "listing", outcome: "ok" }), 2);
    assert.ok(rig.lines.some((l) => l.msg === "Reddit answered 429: waiting for the rate-limit reset"));
    assert.equal((await rig.postIds()).length, 150);
  });

  test("a subreddit that does not exist fails through runSource without a retry and creates nothing", async (t) => {
    const rig = await Rig.start(t);
    const outcome = await runSource(rig.discovery, { kind: "subreddit", params: { subreddit: "nosuchsubreddit", sort: "new" } }, silent);
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.retryable, false);
    assert.match(!outcome.ok ? outcome.error : "", /HTTP 404|not found/i);
    assert.match(!outcome.ok ? outcome.error : "", /nosuchsubreddit/, "the error names the subreddit");
    const search = await runSource(rig.discovery, { kind: "search", params: { query: "soup", subreddit: "nosuchsubreddit" } }, silent);
    assert.equal(!search.ok && search.retryable, false);
    assert.equal(rig.sandbox.stats().requests.byEndpoint.listing + rig.sandbox.stats().requests.byEndpoint.search, 2, "one request each, no retry");
    assert.equal((await rig.postTasks()).length, 0);
  });

  test(
    "a source the API refuses before any request (a blank search) fails without a retry",
        async (t) => {
      const rig = await Rig.start(t);
      const outcome = await runSource(rig.discovery, { kind: "search", params: Reddit.Search.params({ query: "   " }) }, silent);
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.retryable, false);
      assert.equal(rig.sandbox.stats().requests.byEndpoint.search, 0);
    },
  );
});
