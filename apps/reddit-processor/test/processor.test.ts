import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IdeaInspiration } from "@prismq/idea-store";
import { HOP_PRIORITY_STEP, MAX_HOPS, Reddit, YouTube, type YouTubeVideoParams } from "@prismq/task-types";
import { Rig } from "./helpers.js";
import { assertCompletedWithIdeas, assertSameIdeasAgain, assertTwoTasksShareOneIdea, resultOf, type IdeaResult } from "@prismq/worker-kit/testing";

const DAY = 86_400_000;
const GONE = new Set(["[removed]", "[deleted]"]);

type Result = IdeaResult & { youtube_videos: number };

/** How many of these posts have comments (only those need a comments request). */
const withComments = (rig: Rig, ids: readonly string[]) => ids.filter((id) => rig.sandbox.data.post(rig.index(id)).num_comments > 0).length;

/** Listed posts of the sandbox (newest first) that link YouTube videos from the post or its top comments, with a video linked twice among them. */
function postsWithVideos(rig: Rig, n: number, from = 0): string[] {
  const picked: string[] = [];
  for (const id of rig.sandbox.data.postIds().slice(from)) {
    if (rig.expectedVideos(id).length > 0) picked.push(id);
    if (picked.length === n) break;
  }
  return picked;
}

describe("RedditProcessor with a WorkerLoop, the TaskManager, the sandbox and the idea store", () => {
  test("a batch of 100 Post tasks is one /api/info request plus one comments request per post with comments; each post is stored once and its task completed with idea id, score and category", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.postIds().slice(0, 120);
    const commented = withComments(rig, ids);
    assert.ok(commented > 0 && commented < 120, "posts with and without comments");
    const taskIds = await rig.createTasks(ids);
    const worker = rig.worker(100);

    assert.equal(await worker.drain(), 120);
    assert.equal(worker.batches, 2);
    assert.deepEqual(
      rig.handled.map((b) => b.length),
      [100, 20],
    );
    const stats = rig.sandbox.stats().requests.byEndpoint;
    assert.equal(stats.info, 2, "one /api/info request a batch");
    assert.equal(stats.comments, commented, "one comments request per post that has comments");
    assert.equal(stats.listing + stats.search + stats.morechildren, 0, "nothing else");

    assert.equal(await rig.store.count(), 120);
    const stored = await rig.store.query({ platform: "reddit", limit: 1000 });
    assert.deepEqual(stored.map((i) => i.sourceId).sort(), [...ids].sort(), "one idea per post");

    await assertCompletedWithIdeas(rig, taskIds);
    for (const id of taskIds.keys()) {
      const row = await rig.idea(id);
      assert.ok(typeof row.category === "string" && row.category.length > 0);
    }
    assert.equal((await rig.tm.tasks(Reddit.Post.name, "completed")).length, 120);

    // The stored idea is the sandbox's post.
    const sample = ids.find((id) => rig.sandbox.data.post(rig.index(id)).is_self && rig.topComments(id).some((c) => !GONE.has(c.body))) as string;
    const post = rig.sandbox.data.post(rig.index(sample));
    const row = await rig.idea(sample);
    assert.equal(row.title, post.title);
    assert.equal(row.sourceUrl, `https://www.reddit.com${post.permalink}`);
    assert.equal(row.sourcePlatform, "reddit");
    assert.equal(row.sourceCreatedBy, post.author);
    assert.equal(row.sourceCreatedAt, new Date(Number(post.created_utc) * 1000).toISOString());
    assert.equal(row.metadata.subreddit, post.subreddit);
    assert.equal(row.metadata.numComments, post.num_comments);
    assert.equal(row.metadata.score, post.score);
    const bodies = rig
      .topComments(sample)
      .map((c) => c.body.trim())
      .filter((b) => b && !GONE.has(b));
    assert.equal(row.metadata.commentsFetched, bodies.length);
    assert.equal(row.content, [post.selftext, ...bodies].join("\n\n"), "the text and its top comments");
  });

  test("processing the same posts again keeps one idea per post and updates its counts", async (t) => {
    const rig = await Rig.start(t);
    // Posts over an hour old (younger ones count as one hour old).
    const hourAgo = rig.sandbox.world.clock.now() / 1000 - 3600;
    const ids = rig.sandbox.data
      .postIds()
      .filter((id) => Number(rig.sandbox.data.post(rig.index(id)).created_utc) < hourAgo)
      .slice(0, 10);
    await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), 10);
    const before = new Map<string, IdeaInspiration>();
    for (const id of ids) before.set(id, await rig.idea(id));

    // New tasks for the same posts would be deduplicated, so hand the processor claims directly.
    await assertSameIdeasAgain(rig, ids, before, (p) => p.post_id);

    rig.sandbox.advance(DAY);
    const later = await rig.processor.handle(rig.fakeClaims(ids, 2_000_000));
    assert.ok(later.every((o) => resultOf<Result>(o).created === false));
    assert.equal(await rig.store.count(), 10, "still one row per post");
    let changed = 0;
    for (const id of ids) {
      const old = before.get(id) as IdeaInspiration;
      const now = await rig.idea(id);
      assert.equal(now.id, old.id);
      assert.equal(now.createdAt, old.createdAt);
      assert.equal(now.metadata.score, rig.sandbox.data.post(rig.index(id)).score, "the score as the sandbox counts it now");
      const age = (now.metadata.metrics as { ageHours: number }).ageHours - (old.metadata.metrics as { ageHours: number }).ageHours;
      assert.ok(Math.abs(age - 24) < 0.01, `a day older (${age} h)`);
      if (now.metadata.score !== old.metadata.score || now.metadata.numComments !== old.metadata.numComments) changed++;
    }
    assert.ok(changed > 0, "counts moved with the clock");
    assert.equal(rig.sandbox.stats().requests.byEndpoint.info, 3);
  });

  test("a removed or deleted post fails its task for good with a message saying so, while the rest of its batch completes", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.postIds().slice(0, 10);
    const taskIds = await rig.createTasks(ids);
    const removed = ids[3] as string;
    const deleted = ids[6] as string;
    const standing = ids.filter((id) => id !== removed && id !== deleted);
    assert.ok(rig.sandbox.removePost(removed, "moderator"));
    assert.ok(rig.sandbox.removePost(deleted, "deleted"));

    assert.equal(await rig.worker().drain(), 10);
    assert.equal(rig.handled.length, 1, "one batch");
    for (const [id, how] of [
      [removed, "removed (removed_by_category: moderator)"],
      [deleted, "deleted by its author (removed_by_category: deleted)"],
    ] as const) {
      const failed = await rig.tm.task(taskIds.get(id) as number);
      assert.equal(failed.status, "failed", "not put back for a retry");
      assert.equal(failed.attempts, 1);
      assert.equal(failed.errorMessage, `Reddit post ${id} was ${how}: nothing to process`);
      assert.equal(await rig.store.get("reddit", id), null);
    }
    for (const id of standing) assert.equal((await rig.tm.task(taskIds.get(id) as number)).status, "completed", id);
    assert.equal(await rig.store.count(), 8);
    const stats = rig.sandbox.stats().requests.byEndpoint;
    assert.equal(stats.info, 1);
    assert.equal(stats.comments, withComments(rig, standing), "no comments are read for a post that is gone");
  });

  test("a post Reddit does not know fails its task for good, naming the id", async (t) => {
    const rig = await Rig.start(t);
    const data = rig.sandbox.data;
    const future = data.postId(data.postCount - 1); // not created yet by the world's clock
    const [known] = data.postIds().slice(0, 1) as [string];
    const taskIds = await rig.createTasks([known, future]);
    assert.equal(await rig.worker().drain(), 2);
    const failed = await rig.tm.task(taskIds.get(future) as number);
    assert.equal(failed.status, "failed");
    assert.equal(failed.attempts, 1);
    assert.equal(failed.errorMessage, `Reddit post ${future} not found: deleted, in a private or banned subreddit, or never existed`);
    assert.equal((await rig.tm.task(taskIds.get(known) as number)).status, "completed");
  });

  test("YouTube videos linked from posts and their top comments become Video tasks one hop further, each video once", async (t) => {
    const rig = await Rig.start(t);
    const ids = postsWithVideos(rig, 40);
    const perPost = new Map(ids.map((id) => [id, rig.expectedVideos(id)]));
    const all = [...perPost.values()].flat();
    const union = new Set(all);
    assert.ok(all.length > union.size, "some video is linked more than once");
    assert.ok(
      ids.some((id) => rig.sandbox.data.postYouTube(rig.index(id)) !== null),
      "some posts link a video themselves",
    );
    assert.ok(
      ids.some((id) => rig.sandbox.data.postYouTube(rig.index(id)) === null),
      "some only through their comments",
    );

    const taskIds = await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), ids.length);

    const videos = await rig.tm.params<YouTubeVideoParams>(YouTube.Video.name);
    assert.equal(videos.length, union.size, "one Video task per video");
    assert.deepEqual(new Set(videos.map((v) => v.video_id)), union);
    assert.ok(
      videos.every((v) => v.hops === 1),
      "one hop from a discovered post",
    );
    for (const [id, taskId] of taskIds) {
      const want = perPost.get(id) as string[];
      assert.equal(((await rig.tm.task(taskId)).result as Result).youtube_videos, want.length, id);
      assert.deepEqual((await rig.idea(id)).metadata.youtubeVideoIds, want, id);
    }

    // Processing again creates no new Video task.
    await rig.processor.handle(rig.fakeClaims(ids));
    assert.equal((await rig.tm.tasks(YouTube.Video.name)).length, union.size, "no duplicates");
  });

  test("each YouTube Video task is created one priority step below its Post task's priority", async (t) => {
    const rig = await Rig.start(t);
    const [id] = postsWithVideos(rig, 1, 300) as [string];
    await Reddit.Post.create(rig.client, { post_id: id }, { priority: 12 });
    assert.equal(await rig.worker().drain(), 1);
    const videos = await rig.tm.tasks(YouTube.Video.name);
    assert.ok(videos.length > 0, "the post links videos");
    for (const v of videos) assert.equal((await rig.tm.task(v.id)).priority, 12 - HOP_PRIORITY_STEP);
  });

  test("a Post task at the hop limit creates no Video task; one hop below creates them at the limit", async (t) => {
    const rig = await Rig.start(t);
    const [atLimit, below] = postsWithVideos(rig, 2) as [string, string];
    const limitTask = (await rig.createTasks([atLimit], MAX_HOPS)).get(atLimit) as number;
    assert.equal(await rig.worker().drain(), 1);
    const result = (await rig.tm.task(limitTask)).result as Result;
    assert.equal(result.youtube_videos, 0);
    assert.ok(result.idea_id > 0, "the post is still stored");
    assert.equal((await rig.tm.tasks(YouTube.Video.name)).length, 0);

    await rig.createTasks([below], MAX_HOPS - 1);
    assert.equal(await rig.worker().drain(), 1);
    const videos = await rig.tm.params<YouTubeVideoParams>(YouTube.Video.name);
    assert.deepEqual(new Set(videos.map((v) => v.video_id)), new Set(rig.expectedVideos(below)));
    assert.ok(videos.every((v) => v.hops === MAX_HOPS));
  });

  test("with comments off, no comments request is made and only the posts' own links become Video tasks", async (t) => {
    const rig = await Rig.start(t, { processor: { commentsPerPost: 0 } });
    const ids = postsWithVideos(rig, 20);
    const fromPosts = new Set(ids.flatMap((id) => rig.expectedVideos(id, 0)));
    assert.ok(fromPosts.size > 0 && fromPosts.size < new Set(ids.flatMap((id) => rig.expectedVideos(id))).size, "comments would have added videos");
    await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), ids.length);
    const stats = rig.sandbox.stats().requests.byEndpoint;
    assert.equal(stats.comments, 0);
    assert.equal(stats.info, 1);
    assert.equal((await rig.tm.tasks(Reddit.Post.name, "completed")).length, ids.length);
    for (const id of ids) assert.equal((await rig.idea(id)).metadata.commentsFetched, 0);
    const videos = await rig.tm.params<YouTubeVideoParams>(YouTube.Video.name);
    assert.deepEqual(new Set(videos.map((v) => v.video_id)), fromPosts);
  });

  test("with cross-module off, posts are stored and no Video task is created", async (t) => {
    const rig = await Rig.start(t, { processor: { crossModule: false } });
    const ids = postsWithVideos(rig, 5);
    await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), 5);
    assert.equal((await rig.tm.tasks(Reddit.Post.name, "completed")).length, 5);
    assert.equal(await rig.store.count(), 5);
    assert.equal((await rig.tm.tasks(YouTube.Video.name)).length, 0);
  });

  test("two tasks of one post in a batch make one /api/info entry and one comments request, and share one idea", async (t) => {
    const rig = await Rig.start(t);
    const post = postsWithVideos(rig, 20).find((id) => withComments(rig, [id]) === 1) as string;
    await assertTwoTasksShareOneIdea(rig, post);
    const stats = rig.sandbox.stats().requests.byEndpoint;
    assert.equal(stats.info, 1);
    assert.equal(stats.comments, 1);
    const hops = (await rig.tm.params<YouTubeVideoParams>(YouTube.Video.name)).map((v) => v.hops);
    const n = rig.expectedVideos(post).length;
    assert.deepEqual(
      hops.sort(),
      [...Array<number>(n).fill(1), ...Array<number>(n).fill(2)],
      "each task spawns its own hop",
    );
  });

  test("when Reddit fails the batch's lookup, its tasks go back to pending and nothing is stored", async (t) => {
    const rig = await Rig.start(t, { api: { attempts: 1 } });
    const taskIds = await rig.createTasks(rig.sandbox.data.postIds().slice(0, 3));
    rig.sandbox.faults.errorRate = 1;
    assert.equal(await rig.worker().drain(), 3);
    for (const id of taskIds.values()) {
      const task = await rig.tm.task(id);
      assert.equal(task.status, "pending", "back in the queue for a later attempt");
      assert.match(task.errorMessage ?? "", /Reddit info \/api\/info failed \(HTTP 503\)/);
    }
    assert.equal(await rig.store.count(), 0);
    assert.equal((await rig.tm.tasks(YouTube.Video.name)).length, 0);
  });
});
