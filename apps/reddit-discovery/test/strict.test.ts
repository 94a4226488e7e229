import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DirectOutbox, readMetric } from "@prismq/worker-kit";
import { RedditDiscovery, type RedditRunReport } from "../src/discovery.js";
import { runSource } from "../src/run.js";
import { CLIENT, Rig, silent } from "./helpers.js";

/** Discovery on the strict sandbox (random glitches on): no post is lost between runs, and what the caps hide is said. */

/** One subreddit, 333 posts a day, so a known number of new posts can be made to appear. */
const WORLD = { seed: "strict-discovery", subreddits: 1, posts: 10_000 };

/** Moves the world's clock until exactly `n` more posts are listed (the ~2% generated removals never are). */
function makePostsAppear(rig: Rig, n: number): void {
  const data = rig.sandbox.data;
  let i = rig.sandbox.world.visiblePosts();
  for (let listed = 0; ; i++) {
    if (data.removalOf(i) === null) listed++;
    if (listed === n) break;
  }
  rig.sandbox.world.clock.advance(rig.sandbox.world.postTime(i) - rig.sandbox.world.clock.now());
}

function discoveryWithMetrics(rig: Rig): RedditDiscovery {
  return new RedditDiscovery({ api: rig.api, outbox: new DirectOutbox({ client: rig.client, logger: silent }), state: rig.state, logger: rig.logger, metrics: rig.metrics });
}

describe("reddit-discovery on the strict sandbox", () => {
  test("1,000 new posts appear between two runs with a limit of 300: the next runs continue the backlog and discover all 1,000", async (t) => {
    const rig = await Rig.start(t, { sandbox: { world: WORLD, strict: { lateApprovalRate: 0 } } });
    const sub = rig.sandbox.data.subredditName(0);
    const discovery = discoveryWithMetrics(rig);
    const params = { subreddit: sub, sort: "new" as const, limit: 300 };
    const first = await discovery.subreddit(params);
    assert.equal(first.sent, 300);
    const before = new Set(rig.sandbox.data.postIds(sub));

    makePostsAppear(rig, 1000);
    const fresh = rig.sandbox.data.postIds(sub).filter((id) => !before.has(id));
    assert.equal(fresh.length, 1000);

    const reports: RedditRunReport[] = [];
    for (let run = 0; run < 5; run++) reports.push(await discovery.subreddit(params));
    assert.deepEqual(
      reports.map((r) => r.backlog ?? false),
      [true, true, true, false, false],
      "three runs stop at their limit with a backlog, the fourth finishes it",
    );
    const tasks = new Set(await rig.postIds());
    const missing = fresh.filter((id) => !tasks.has(id));
    assert.deepEqual(missing, [], "every one of the 1,000 new posts has a task");
    assert.equal(reports.reduce((n, r) => n + r.sent, 0), 1000, "each once");
  });

  test("when more new posts appeared than Reddit's listing keeps (about 1,000), the run report and the metrics say how many could not be reached", async (t) => {
    const rig = await Rig.start(t, { sandbox: { world: WORLD, strict: { lateApprovalRate: 0 } } });
    const sub = rig.sandbox.data.subredditName(0);
    const discovery = discoveryWithMetrics(rig);
    await discovery.subreddit({ subreddit: sub, sort: "new", limit: 100 });
    makePostsAppear(rig, 1500);
    const r = await discovery.subreddit({ subreddit: sub, sort: "new", limit: 2000 });
    assert.equal(r.sent, 1000, "the listing ends after 1,000 posts");
    assert.equal(r.capReached, true);
    assert.ok(r.unreachable !== undefined && r.unreachable >= 400 && r.unreachable <= 600, `about 500 unreachable, estimated ${r.unreachable}`);
    const text = await rig.metrics.registry.metrics();
    assert.equal(readMetric(text, "prismq_listing_cap_hits_total").find((m) => m.labels.api === "reddit")?.value, 1);
    assert.equal(readMetric(text, "prismq_listing_unreachable_total").find((m) => m.labels.api === "reddit")?.value, r.unreachable);
    assert.ok(rig.lines.some((l) => l.level === 40 && String(l.msg).includes("listing cap")), "one warning line");
  });

  test("a post a moderator approves late (it appears below posts already seen) is found by the next run's overlap", async (t) => {
    const rig = await Rig.start(t, { sandbox: { world: WORLD, strict: { lateApprovalRate: 0 } } });
    const sub = rig.sandbox.data.subredditName(0);
    const params = { subreddit: sub, sort: "new" as const, limit: 100 };
    await rig.discovery.subreddit(params);
    makePostsAppear(rig, 6);
    const fresh = rig.sandbox.data.postIds(sub).slice(0, 6);
    const late = fresh[4]!;
    // The world changes while the app runs: a moderator holds the post (the control API, as another process would).
    assert.equal((await fetch(`${rig.sandbox.url}/_sandbox/posts/${late}/hold`, { method: "POST", body: "{}" })).status, 200);
    const second = await rig.discovery.subreddit(params);
    assert.equal(second.sent, 5);
    assert.ok(!(await rig.postIds()).includes(late));
    makePostsAppear(rig, 2);
    assert.equal((await fetch(`${rig.sandbox.url}/_sandbox/posts/${late}/approve`, { method: "POST", body: "{}" })).status, 200);
    const third = await rig.discovery.subreddit(params);
    assert.equal(third.sent, 3, "the two new posts and the late one");
    assert.ok((await rig.postIds()).includes(late));
  });

  test("a listed entry with a wrong type (title: 12345) still gets its Post task; the run report counts it", async (t) => {
    const rig = await Rig.start(t, { sandbox: { world: WORLD } });
    const sub = rig.sandbox.data.subredditName(0);
    rig.sandbox.stage({ kind: "bad-item", path: `/r/${sub}/new` });
    const r = await rig.discovery.subreddit({ subreddit: sub, sort: "new", limit: 50 });
    assert.equal(r.invalid, 1);
    assert.equal(r.sent, 50);
    assert.deepEqual(new Set(await rig.postIds()), new Set(rig.sandbox.data.postIds(sub).slice(0, 50)));
  });

  test("a private subreddit fails its own source as private (not retryable, not auth); a revoked client stops discovery with one log line and no more requests", async (t) => {
    const rig = await Rig.start(t, { sandbox: { world: WORLD } });
    const sub = rig.sandbox.data.subredditName(0);
    const discovery = new RedditDiscovery({ api: rig.api, outbox: new DirectOutbox({ client: rig.client, logger: silent }), state: rig.state, logger: rig.logger });
    const priv = await runSource(discovery, { kind: "subreddit", params: { subreddit: "private_lounge", sort: "new" } }, silent);
    assert.equal(priv.ok, false);
    assert.ok(!priv.ok && priv.retryable === false && /private/.test(priv.error) && !/auth/i.test(priv.error), !priv.ok ? priv.error : "");
    const ok = await runSource(discovery, { kind: "subreddit", params: { subreddit: sub, sort: "new", limit: 5 } }, silent);
    assert.equal(ok.ok, true, "a refused subreddit does not stop the others");

    rig.sandbox.revokeClient(CLIENT.clientId);
    const failed = await runSource(discovery, { kind: "subreddit", params: { subreddit: sub, sort: "new", limit: 5 } }, silent);
    assert.equal(failed.ok, false);
    const requests = rig.sandbox.stats().requests.total;
    const again = await runSource(discovery, { kind: "search", params: { query: "guide", sort: "new" } }, silent);
    assert.equal(again.ok, false);
    assert.equal(rig.sandbox.stats().requests.total, requests, "no request after the auth failure");
    assert.equal(rig.lines.filter((l) => String(l.msg).startsWith("Reddit refused the credentials")).length, 1, "one clear log line");
  });
});
