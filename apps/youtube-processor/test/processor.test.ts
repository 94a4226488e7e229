import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IdeaInspiration } from "@prismq/idea-store";
import { HOP_PRIORITY_STEP, MAX_HOPS, Reddit, YouTube, registerAll } from "@prismq/task-types";
import { LocalBudget } from "@prismq/worker-kit";
import { redditQuery } from "@prismq/youtube-source";
import { Rig } from "./helpers.js";
import { assertCompletedWithIdeas, assertSameIdeasAgain, assertTwoTasksShareOneIdea, resultOf, type IdeaResult } from "@prismq/worker-kit/testing";

const DAY = 86_400_000;

type Result = IdeaResult & { reddit_search: string | null };

describe("YouTubeProcessor with a WorkerLoop, the TaskManager, the sandbox and the idea store", () => {
  test("120 Video tasks are handled in 3 batches with 3 videos.list calls, stored once each and completed with idea id, score and category", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(0, 120);
    const taskIds = await rig.createTasks(ids);
    const worker = rig.worker();

    assert.equal(await worker.drain(), 120);
    assert.equal(worker.batches, 3);
    assert.deepEqual(
      rig.handled.map((b) => b.length),
      [50, 50, 20],
    );
    const quota = rig.sandbox.quota(rig.ytKey);
    assert.equal(quota.calls["videos.list"], 3);
    assert.equal(quota.spent, 3, "3 units: no other call was made");

    assert.equal(await rig.store.count(), 120);
    const stored = await rig.store.query({ platform: "youtube", limit: 1000 });
    assert.deepEqual(stored.map((i) => i.sourceId).sort(), [...ids].sort(), "one idea per video");

    await assertCompletedWithIdeas(rig, taskIds);
    assert.equal((await rig.tm.tasks(YouTube.Video.name, "completed")).length, 120);

    // The stored idea is the sandbox's video.
    const sample = ids[17] as string;
    const i = rig.index(sample);
    const row = await rig.idea(sample);
    assert.equal(row.title, rig.sandbox.data.title(i));
    assert.equal(row.sourceUrl, `https://www.youtube.com/watch?v=${sample}`);
    assert.equal(row.sourceType, "video");
    assert.equal((row.metadata.metrics as { views: number }).views, rig.sandbox.data.viewCount(i));
    assert.equal(row.metadata.durationSeconds, rig.sandbox.data.durationSeconds(i));
  });

  test("processing the same videos again keeps one idea per video and updates its metrics", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(300, 310);
    await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), 10);
    const before = new Map<string, IdeaInspiration>();
    for (const id of ids) before.set(id, await rig.idea(id));

    // New tasks for the same videos would be deduplicated, so hand the processor claims directly.
    await assertSameIdeasAgain(rig, ids, before, (p) => p.video_id);

    rig.sandbox.advance(3 * DAY);
    const later = await rig.processor.handle(rig.fakeClaims(ids, 2_000_000));
    assert.ok(later.every((o) => resultOf<Result>(o).created === false));
    assert.equal(await rig.store.count(), 10, "still one row per video");
    let changed = 0;
    for (const id of ids) {
      const old = before.get(id) as IdeaInspiration;
      const now = await rig.idea(id);
      const metrics = now.metadata.metrics as { views: number; ageDays: number };
      const oldMetrics = old.metadata.metrics as { views: number; ageDays: number };
      assert.equal(now.id, old.id);
      assert.equal(now.createdAt, old.createdAt);
      assert.ok(now.updatedAt >= old.updatedAt);
      assert.equal(metrics.views, rig.sandbox.data.viewCount(rig.index(id)), "views as the sandbox counts them now");
      assert.ok(Math.abs(metrics.ageDays - oldMetrics.ageDays - 3) < 0.01, "three days older");
      if (metrics.views !== oldMetrics.views) changed++;
    }
    assert.ok(changed > 0, "counts moved with the clock");
    assert.equal(rig.sandbox.quota(rig.ytKey).calls["videos.list"], 3);
  });

  test("a deleted video fails its task for good, naming the id, while the rest of its batch completes", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(400, 410);
    const taskIds = await rig.createTasks(ids);
    const gone = ids[3] as string;
    assert.ok(rig.sandbox.deleteVideo(gone));

    assert.equal(await rig.worker().drain(), 10);
    assert.equal(rig.handled.length, 1, "one batch");
    const failed = await rig.tm.task(taskIds.get(gone) as number);
    assert.equal(failed.status, "failed", "not put back for a retry");
    assert.match(failed.errorMessage ?? "", new RegExp(gone));
    assert.equal(failed.attempts, 1);
    for (const id of ids) if (id !== gone) assert.equal((await rig.tm.task(taskIds.get(id) as number)).status, "completed", id);
    assert.equal(await rig.store.count(), 9);
    assert.equal(await rig.store.get("youtube", gone), null);
    assert.equal(rig.sandbox.quota(rig.ytKey).calls["videos.list"], 1);
  });

  test("a video whose idea the store refuses fails only its own task, for good, and the rest of the batch is stored", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(420, 425);
    const odd = ids[2] as string;
    // The real API's answer, with a NUL character (which no database column takes) in one title.
    const lookup = rig.api.videos.bind(rig.api);
    rig.api.videos = async (wanted, signal) =>
      (await lookup(wanted, signal)).map((v) => (v.id === odd ? { ...v, snippet: { ...v.snippet, title: "bad\u0000title" } } : v));
    const taskIds = await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), 5);
    const failed = await rig.tm.task(taskIds.get(odd) as number);
    assert.equal(failed.status, "failed");
    assert.match(failed.errorMessage ?? "", new RegExp(`${odd} gives an idea the store refuses: title`));
    assert.equal(await rig.store.count(), 4);
    for (const id of ids) if (id !== odd) assert.equal((await rig.tm.task(taskIds.get(id) as number)).status, "completed", id);
  });

  test("each processed video creates its Reddit search task one hop further, and processing again creates none", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(500, 512);
    const taskIds = await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), 12);

    const queries = new Set<string>();
    for (const taskId of taskIds.values()) {
      const q = ((await rig.tm.task(taskId)).result as Result).reddit_search;
      assert.ok(q, "every video has a query");
      queries.add(q);
    }
    const reddit = await rig.tm.tasks(Reddit.Search.name);
    // Videos with the same strongest terms share one (deduplicated) search.
    assert.equal(reddit.length, queries.size);
    const seen = new Set<string>();
    for (const summary of reddit) {
      const task = await rig.tm.task(summary.id);
      assert.equal(task.status, "pending");
      assert.deepEqual(task.params, { hops: 1, limit: 25, query: task.params.query, sort: "relevance", time_filter: "month" });
      seen.add(String(task.params.query));
    }
    assert.deepEqual([...seen].sort(), [...queries].sort());

    // The query is the idea's two strongest single-word keywords (tags first): Reddit's search matches every term.
    const sample = ids[0] as string;
    const row = await rig.idea(sample);
    assert.equal(((await rig.tm.task(taskIds.get(sample) as number)).result as Result).reddit_search, redditQuery(row.keywords, 2));

    const again = await rig.processor.handle(rig.fakeClaims(ids));
    assert.ok(again.every((o) => resultOf<Result>(o).reddit_search !== null));
    assert.equal((await rig.tm.tasks(Reddit.Search.name)).length, queries.size, "no duplicates");
  });

  test("the Reddit search task is created one priority step below its Video task's priority", async (t) => {
    const rig = await Rig.start(t);
    const [id] = rig.sandbox.data.videoIds().slice(650, 651) as [string];
    await YouTube.Video.create(rig.client, { video_id: id }, { priority: 35 });
    assert.equal(await rig.worker().drain(), 1);
    const reddit = await rig.tm.tasks(Reddit.Search.name);
    assert.equal(reddit.length, 1);
    assert.equal((await rig.tm.task(reddit[0]?.id as number)).priority, 35 - HOP_PRIORITY_STEP);
  });

  test("a Video task at the hop limit creates no Reddit task; one hop below creates one at the limit", async (t) => {
    const rig = await Rig.start(t);
    const [atLimit, below] = rig.sandbox.data.videoIds().slice(600, 602) as [string, string];
    const limitTask = (await rig.createTasks([atLimit], MAX_HOPS)).get(atLimit) as number;
    assert.equal(await rig.worker().drain(), 1);
    const result = (await rig.tm.task(limitTask)).result as Result;
    assert.equal(result.reddit_search, null);
    assert.ok(result.idea_id > 0, "the video is still stored");
    assert.equal((await rig.tm.tasks(Reddit.Search.name)).length, 0);

    await rig.createTasks([below], MAX_HOPS - 1);
    assert.equal(await rig.worker().drain(), 1);
    const reddit = await rig.tm.tasks(Reddit.Search.name);
    assert.equal(reddit.length, 1);
    assert.equal((await rig.tm.task(reddit[0]?.id as number)).params.hops, MAX_HOPS);
  });

  test("with cross-module off, no Reddit task is created", async (t) => {
    const rig = await Rig.start(t, { processor: { crossModule: false } });
    await rig.createTasks(rig.sandbox.data.videoIds().slice(700, 705));
    assert.equal(await rig.worker().drain(), 5);
    assert.equal((await rig.tm.tasks(YouTube.Video.name, "completed")).length, 5);
    assert.equal((await rig.tm.tasks(Reddit.Search.name)).length, 0);
  });

  test("with comments on, each video's top comments go into its idea, one commentThreads.list call per video", async (t) => {
    const rig = await Rig.start(t, { processor: { commentsPerVideo: 5 } });
    const data = rig.sandbox.data;
    const all = data.videoIds();
    // Videos with many, few and (when there is one) no comment threads.
    const many = all.filter((id) => data.commentThreadCount(rig.index(id)) >= 8).slice(0, 4);
    const few = all.filter((id) => {
      const n = data.commentThreadCount(rig.index(id));
      return n > 0 && n < 5;
    });
    const none = all.filter((id) => data.commentThreadCount(rig.index(id)) === 0);
    const ids = [...many, ...few.slice(0, 2), ...none.slice(0, 1)];
    assert.ok(many.length === 4 && ids.length >= 5);
    await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), ids.length);

    const quota = rig.sandbox.quota(rig.ytKey);
    assert.equal(quota.calls["commentThreads.list"], ids.length);
    assert.equal(quota.calls["videos.list"], 1);
    let total = 0;
    for (const id of ids) {
      const i = rig.index(id);
      const texts = data
        .commentThreadOrder(i, "relevance")
        .slice(0, 5)
        .map((k) => data.commentThreadResource(i, k, { replies: false, textFormat: "plainText" }).snippet?.topLevelComment.snippet.textOriginal.trim() ?? "")
        .filter(Boolean);
      const row = await rig.idea(id);
      assert.equal(row.metadata.commentsFetched, texts.length, id);
      assert.equal(row.content, [data.description(i), ...texts].join("\n\n"), id);
      total += texts.length;
    }
    assert.ok(total >= 20, "the busy videos brought 5 comments each");
  });

  test("an invalid Video task is failed for good by the claim helper and never reaches handle", async (t) => {
    const rig = await Rig.start(t);
    // Registered elsewhere with a looser schema, so the server accepts the bad params.
    await rig.client.registerTaskType({
      name: YouTube.Video.name,
      version: "0.9.0",
      paramSchema: { type: "object", required: ["video_id"], properties: { video_id: { type: "string" } } },
    });
    const bad = await rig.client.createTask(YouTube.Video.name, { video_id: "bad" });
    assert.equal(bad.deduplicated, false);
    const registered = await registerAll(rig.client);
    assert.ok(registered.registered.includes(YouTube.Video.name), "the catalog schema is back");
    const good = rig.sandbox.data.videoIds().slice(800, 802);
    const goodTasks = await rig.createTasks(good);

    assert.equal(await rig.worker().drain(), 2, "only the valid tasks were handled");
    assert.deepEqual(rig.handled.flat().sort(), [...good].sort());
    const failed = await rig.tm.task(bad.id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.attempts, 1);
    assert.match(failed.errorMessage ?? "", /Invalid params/);
    assert.match(failed.errorMessage ?? "", /video_id/);
    assert.deepEqual(
      rig.invalid.map((e) => e.task.id),
      [bad.id],
    );
    for (const id of goodTasks.values()) assert.equal((await rig.tm.task(id)).status, "completed");
    assert.equal(await rig.store.count(), 2);
    assert.equal(rig.sandbox.quota(rig.ytKey).calls["videos.list"], 1);
  });

  test("two tasks of one video in a batch make one videos.list entry and share one idea", async (t) => {
    const rig = await Rig.start(t);
    const [video] = rig.sandbox.data.videoIds().slice(900, 901) as [string];
    await assertTwoTasksShareOneIdea(rig, video);
    assert.equal(rig.sandbox.quota(rig.ytKey).calls["videos.list"], 1);
    const hops = await Promise.all((await rig.tm.tasks(Reddit.Search.name)).map(async (s) => (await rig.tm.task(s.id)).params.hops));
    assert.deepEqual(hops.sort(), [1, 2], "each task spawns its own hop");
  });

  test("when the YouTube quota is spent the batch fails retryably: tasks go back to pending and nothing is stored", async (t) => {
    const budget = new LocalBudget({ name: "youtube-quota", limit: 0, window: { kind: "daily", timeZone: "America/Los_Angeles" } });
    const rig = await Rig.start(t, { api: { budget } });
    const taskIds = await rig.createTasks(rig.sandbox.data.videoIds().slice(0, 3));
    assert.equal(await rig.worker().drain(), 3);
    for (const id of taskIds.values()) {
      const task = await rig.tm.task(id);
      assert.equal(task.status, "pending", "back in the queue for a later attempt");
      assert.match(task.errorMessage ?? "", /quota/i);
    }
    assert.equal(await rig.store.count(), 0);
    assert.equal(rig.sandbox.stats().requests, 0, "no request reached the API");
  });
});
