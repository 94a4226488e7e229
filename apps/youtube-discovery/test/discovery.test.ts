import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { YouTube } from "@prismq/task-types";
import { DirectOutbox, FileState, LocalBudget } from "@prismq/worker-kit";
import { QuotaExhaustedError, YouTubeApi } from "@prismq/youtube-source";
import { YouTubeDiscovery } from "../src/discovery.js";
import { QuotaGate, runSource } from "../src/run.js";
import { Rig, silent, uid } from "./helpers.js";

const VIDEO = YouTube.Video.name;

describe("YouTubeDiscovery against the sandbox", () => {
  // These tests are about walking, dedupe, quota and hops: search matches any word, indexes at once and
  // answers no garbage here (real-world.test.ts runs discovery on the strict sandbox).
  const rig = new Rig();
  before(() => rig.start({ strict: { allTermsMatch: false, indexingLagMs: 0, garbageRate: 0 } }));
  after(() => rig.stop());

  const make = (budgetLimit = 10_000, searchOverlapMs?: number) => {
    const key = `k-${uid()}`;
    const budget = new LocalBudget({ name: "youtube-quota", limit: budgetLimit, window: { kind: "daily", timeZone: "America/Los_Angeles" } });
    const api = new YouTubeApi({ apiKey: key, rootUrl: rig.sandbox.rootUrl, budget, attempts: 1 });
    const state = new FileState(rig.dir, `app-${uid()}`);
    const discovery = new YouTubeDiscovery({ api, outbox: new DirectOutbox({ client: rig.client }), state, logger: silent, ...(searchOverlapMs !== undefined ? { searchOverlapMs } : {}) });
    return { key, budget, api, state, discovery };
  };
  const videoTaskIds = async () => new Set((await rig.tasks(VIDEO)).map((t) => t.id));

  it("walks a channel's uploads once, page by page, then finds only the new uploads on the next run", async () => {
    const { key, discovery } = make();
    const channel = rig.sandbox.data.channel(0);
    const uploads = rig.sandbox.data.uploads(0);
    assert.ok(uploads.length > 100, `channel 0 has ${uploads.length} uploads: more than two pages`);
    const before = (await videoTaskIds()).size;

    const first = await discovery.channel({ channel_id: channel.handle, max_videos: 500 });
    assert.equal(first.listed, uploads.length);
    assert.equal(first.sent, uploads.length);
    assert.equal(first.pages, Math.ceil(uploads.length / 50) + (uploads.length % 50 === 0 ? 1 : 0) || 1);
    assert.equal((await videoTaskIds()).size, before + uploads.length, "one Video task per upload");
    const usage = rig.sandbox.quota(key);
    assert.equal(usage.calls["channels.list"], 1);
    assert.equal(usage.calls["playlistItems.list"], first.pages);

    // Nothing new: one page, stops at the newest known video.
    const second = await discovery.channel({ channel_id: channel.handle, max_videos: 500 });
    assert.deepEqual(second, { listed: 0, sent: 0, pages: 1, stoppedAtKnown: true });
    assert.equal(rig.sandbox.quota(key).calls["channels.list"], 1, "the channel was resolved once and cached");

    // Time passes: new uploads appear, newest first, and only they are sent.
    rig.sandbox.advance(5 * 86_400_000);
    const now = rig.sandbox.data.uploads(0);
    const fresh = now.slice(0, now.length - uploads.length);
    assert.ok(fresh.length > 0, "the channel uploaded something new");
    const third = await discovery.channel({ channel_id: channel.id, max_videos: 500 });
    assert.equal(third.sent, fresh.length);
    assert.equal(third.stoppedAtKnown, true);
    const tasks = await rig.tasks(VIDEO);
    const params = await Promise.all(tasks.slice(0, fresh.length).map((t) => rig.client.getTask(t.id)));
    assert.deepEqual(new Set(params.map((t) => (t?.params as { video_id: string }).video_id)), new Set(fresh));
  });

  it("stops a channel walk at max_videos", async () => {
    const { discovery } = make();
    const r = await discovery.channel({ channel_id: rig.sandbox.data.channel(1).handle, max_videos: 70 });
    assert.equal(r.listed, 70);
    assert.equal(r.pages, 2);
  });

  it("sends a video found by two sources once", async () => {
    const { discovery, state } = make();
    const ch = rig.sandbox.data.channel(2);
    await discovery.channel({ channel_id: ch.handle, max_videos: 20 });
    const title = rig.sandbox.data.title(rig.sandbox.data.videoIndex(rig.sandbox.data.uploads(2)[0] as string) as number);
    const r = await discovery.search({ query: title, max_results: 50 });
    assert.ok(r.listed >= 1);
    assert.ok(r.sent < r.listed, "the channel's video found again by search is not sent again");
    assert.equal(await state.seenCount("videos"), 20 + r.sent);
  });

  it("pages a search newest first and moves publishedAfter forward between runs", async () => {
    // No overlap window here: this is about the cursor moving (the overlap has its own test).
    const { key, discovery, state } = make(10_000, 0);
    const query = "sourdough ramen curry pasta";
    const first = await discovery.search({ query, max_results: 120 });
    assert.equal(first.pages, 3);
    assert.equal(first.listed, 120);
    assert.equal(rig.sandbox.quota(key).byMethod["search.list"], 300, "100 units a page");
    const cursor = await state.getCursor(`search:${Buffer.from(query).toString("base64url")}`);
    assert.match(cursor ?? "", /^\d{4}-\d\d-\d\dT/);
    // The first run stopped at its limit: the next runs walk the rest of that window (older videos) before
    // anything else, so every match is sent once; only then does a run look after the cursor alone.
    const matching = rig.sandbox.data.search({ terms: query.split(" "), excluded: [], order: "date" }).length;
    assert.ok(matching > 120, `more matches (${matching}) than one run takes`);
    let sent = first.sent;
    for (let run = 0; run < 10; run++) {
      const r = await discovery.search({ query, max_results: 120 });
      if (r.sent === 0) break;
      sent += r.sent;
    }
    assert.equal(sent, matching, "the backlog was walked: every match sent once");
    const again = await discovery.search({ query, max_results: 120 });
    assert.equal(again.sent, 0, "nothing newer than the cursor");
    assert.ok(again.listed <= 1, `only videos published after the cursor are listed (got ${again.listed})`);
  });

  it("finds the most popular videos of a region and category", async () => {
    const { key, discovery } = make();
    const r = await discovery.mostPopular({ region_code: "US", max_results: 60 });
    assert.equal(r.listed, 60);
    assert.equal(r.pages, 2);
    assert.equal(rig.sandbox.quota(key).byMethod["videos.list"], 2);
  });

  it("creates the Video tasks at the source's priority", async () => {
    const { discovery } = make();
    const ch = rig.sandbox.data.channel(4);
    const r = await discovery.channel({ channel_id: ch.handle, max_videos: 3 }, undefined, 25);
    assert.equal(r.sent, 3);
    for (const id of rig.sandbox.data.uploads(4).slice(0, 3)) {
      const t = await YouTube.Video.create(rig.client, { video_id: id });
      assert.equal(t.deduplicated, true);
      assert.equal((await rig.client.getTask(t.id))?.priority, 25, id);
    }
  });

  it("carries the discovery task's hop count to the Video tasks it creates", async () => {
    const { discovery } = make();
    const ch = rig.sandbox.data.channel(3);
    await discovery.channel({ channel_id: ch.handle, max_videos: 3, hops: 1 });
    const created = [];
    for (const id of rig.sandbox.data.uploads(3).slice(0, 3)) {
      const t = await YouTube.Video.create(rig.client, { video_id: id, hops: 1 });
      created.push(t.deduplicated);
    }
    assert.deepEqual(created, [true, true, true], "the same params at hop 1 were already there");
  });

  it("stops before the API's 403 when our budget is spent, and pauses cleanly", async () => {
    const { key, discovery } = make(250);
    const gate = new QuotaGate(silent);
    const outcome = await runSource(discovery, gate, { kind: "search", params: { query: "guitar synth drums", max_results: 300 } }, silent);
    assert.equal(outcome.ok, false);
    assert.equal(rig.sandbox.quota(key).spent, 200, "the third page (100 more units) was never asked for");
    assert.equal(rig.sandbox.quota(key).rejected, 0, "the API never had to refuse");
    assert.equal(await gate.paused(), true);
    const skipped = await runSource(discovery, gate, { kind: "channel", params: { channel_id: rig.sandbox.data.channel(4).handle } }, silent);
    assert.deepEqual(skipped, { ok: false, error: "YouTube quota spent for today", retryable: true });
    assert.equal(rig.sandbox.quota(key).spent, 200, "paused: no call at all");
  });

  it("treats the API's own 403 quotaExceeded the same way", async () => {
    const { key, discovery, budget } = make();
    rig.sandbox.setQuota(key, { spent: 10_000 });
    const gate = new QuotaGate(silent);
    const outcome = await runSource(discovery, gate, { kind: "most_popular", params: { region_code: "US" } }, silent);
    assert.equal(outcome.ok, false);
    assert.equal(await gate.paused(), true);
    assert.equal((await budget.state()).remaining, 0, "our budget is marked spent for the day");
    await assert.rejects(discovery.mostPopular({ region_code: "US" }), QuotaExhaustedError);
  });

  it("resumes when the quota day turns over", async () => {
    let now = Date.parse("2026-11-28T07:59:00Z");
    const gate = new QuotaGate(silent, undefined, () => now);
    gate.pause(new QuotaExhaustedError("budget", Date.parse("2026-11-28T08:00:00Z"), "search.list"));
    assert.equal(await gate.paused(), true);
    now = Date.parse("2026-11-28T08:00:00Z");
    assert.equal(await gate.paused(), false);
  });

  it("resumes when the shared budget has units again before the day ends, and stays paused while it has none", async () => {
    const { key, discovery, budget } = make();
    rig.sandbox.setQuota(key, { spent: 10_000 });
    const gate = new QuotaGate(silent, budget);
    assert.equal((await runSource(discovery, gate, { kind: "most_popular", params: { region_code: "US" } }, silent)).ok, false);
    assert.equal(await gate.paused(), true, "the API said the quota is spent: our budget is spent too");
    assert.equal(await gate.paused(), true, "still paused while the budget has nothing");
    const raised = { state: async () => ({ spent: 10_000, remaining: 500, resetAt: Date.now() + 3_600_000 }) };
    const follows = new QuotaGate(silent, raised);
    follows.pause(new QuotaExhaustedError("api", Date.now() + 3_600_000, "videos.list"));
    assert.equal(await follows.paused(), false, "units are back (the daily quota was raised): discovery resumes");
  });

  it("fails a task for a channel that does not exist without retrying it", async () => {
    const { discovery } = make();
    const outcome = await runSource(discovery, new QuotaGate(silent), { kind: "channel", params: { channel_id: "@nosuchchannel" } }, silent);
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.retryable, false);
    assert.match(!outcome.ok ? outcome.error : "", /not found: @nosuchchannel/);
  });
});
