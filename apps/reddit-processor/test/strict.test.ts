import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Rig } from "./helpers.js";

/** The processor on the strict sandbox: one bad item or sub-request fails only its own task, with a reason that names it. */

/** Strict, but without random glitches: each test stages the one it is about. */
const STRICT = { strict: { garbageRate: 0, badItemRate: 0 } };

/** Listed posts with comments, newest first. */
function withComments(rig: Rig, n: number): string[] {
  return rig.sandbox.data
    .postIds()
    .filter((id) => rig.sandbox.data.commentCountOf(rig.index(id)) > 2)
    .slice(0, n);
}

describe("reddit-processor on the strict sandbox", () => {
  test("one post's comments answering 403 leave that idea without comments; one answering 503 fails only its own task, retryable, naming its comments", async (t) => {
    const rig = await Rig.start(t, { sandbox: STRICT, api: { attempts: 2 } });
    const ids = withComments(rig, 6);
    const [refused, flaky] = [ids[1]!, ids[4]!];
    rig.sandbox.stage({ kind: "status", status: 403, path: `/comments/${refused}` });
    rig.sandbox.stage({ kind: "status", status: 503, path: `/comments/${flaky}`, count: 2 });
    const outcomes = await rig.processor.handle(rig.fakeClaims(ids));
    for (const o of outcomes) {
      const id = o.task.params.post_id;
      if (id === flaky) {
        assert.ok(!o.ok && o.retryable, "back for a retry");
        assert.match(o.ok ? "" : o.error, new RegExp(`Reddit post ${flaky}: reading its comments failed: .*HTTP 503`));
      } else assert.equal(o.ok, true, id);
    }
    const idea = await rig.store.get("reddit", refused);
    assert.ok(idea, "stored without comments");
    assert.equal(idea.metadata.commentsFetched, 0);
    assert.match(String(idea.metadata.commentsError), /RD_ERR_FORBIDDEN/);
  });

  test("an HTML page instead of /api/info's JSON is retried, and the batch completes: never 'not found'", async (t) => {
    const rig = await Rig.start(t, { sandbox: STRICT });
    const ids = rig.sandbox.data.postIds().slice(0, 5);
    rig.sandbox.stage({ kind: "html", path: "/api/info" });
    const taskIds = await rig.createTasks(ids);
    assert.equal(await rig.worker().drain(), 5);
    for (const id of ids) assert.equal((await rig.tm.task(taskIds.get(id)!)).status, "completed", id);
  });

  test("one entry of /api/info with a wrong type (title: 12345) fails only its task, retryable, naming the field", async (t) => {
    const rig = await Rig.start(t, { sandbox: STRICT, processor: { commentsPerPost: 0 } });
    const ids = rig.sandbox.data.postIds().slice(0, 8);
    rig.sandbox.stage({ kind: "bad-item", path: "/api/info" });
    const outcomes = await rig.processor.handle(rig.fakeClaims(ids));
    const failed = outcomes.filter((o) => !o.ok);
    assert.equal(failed.length, 1, "only the garbled one");
    const bad = failed[0]!;
    assert.ok(!bad.ok && bad.retryable, "retryable: Reddit's glitch, not the post's state");
    assert.match(bad.ok ? "" : bad.error, /field title is number/);
  });

  test("a stickied AutoModerator comment never reaches an idea's content", async (t) => {
    const rig = await Rig.start(t, { sandbox: STRICT });
    const ids = withComments(rig, 40).filter((id) => rig.sandbox.data.automodCommentId(rig.index(id)) !== null).slice(0, 5);
    assert.equal(ids.length, 5);
    await rig.createTasks(ids);
    await rig.worker().drain();
    for (const id of ids) {
      const idea = await rig.store.get("reddit", id);
      assert.ok(idea, id);
      assert.ok(!idea.content.includes("I am a bot"), `${id}: no AutoModerator boilerplate`);
    }
  });

  test("every removed_by_category fails its task for good, naming the category", async (t) => {
    const rig = await Rig.start(t, { sandbox: STRICT });
    const kinds = ["author", "automod_filtered", "reddit", "anti_evil_ops", "community_ops", "legal_operations", "copyright_takedown", "content_takedown"] as const;
    const ids = rig.sandbox.data.postIds().slice(0, kinds.length);
    for (const [k, id] of ids.entries()) assert.ok(rig.sandbox.removePost(id, kinds[k]));
    const taskIds = await rig.createTasks(ids);
    await rig.worker().drain();
    for (const [k, id] of ids.entries()) {
      const task = await rig.tm.task(taskIds.get(id)!);
      assert.equal(task.status, "failed");
      assert.ok((task.errorMessage ?? "").includes(`removed_by_category: ${kinds[k]}`), task.errorMessage ?? undefined);
    }
  });

  test("hostile posts (1 MiB selftext, score 1e308, unparseable date) are stored bounded and finite, not failed", async (t) => {
    const rig = await Rig.start(t, { sandbox: { ...STRICT, world: { seed: "processor-tests", visibleFraction: 1 } }, processor: { commentsPerPost: 0 } });
    const ids = [777, 778, 779].map((i) => rig.sandbox.data.postId(i)).filter((id) => rig.sandbox.data.removalOf(rig.index(id)) === null);
    assert.ok(ids.length >= 2);
    const taskIds = await rig.createTasks(ids);
    await rig.worker().drain();
    for (const id of ids) {
      assert.equal((await rig.tm.task(taskIds.get(id)!)).status, "completed", id);
      const idea = (await rig.store.get("reddit", id))!;
      assert.ok(idea.description.length <= 2_000 && idea.content.length <= 100_000, `${id}: text bounded`);
      assert.ok(Number.isFinite(idea.score));
      if (rig.index(id) % 1000 === 779) assert.equal(idea.sourceCreatedAt, null);
    }
  });

  test("a subreddit that goes private between discovery and processing fails its posts' tasks for good, saying so", async (t) => {
    const rig = await Rig.start(t, { sandbox: STRICT });
    const id = rig.sandbox.data.postIds()[0]!;
    const sub = rig.sandbox.data.subredditName(rig.sandbox.data.subredditOf(rig.index(id)));
    const taskIds = await rig.createTasks([id]);
    rig.sandbox.setSubredditState(sub, "private");
    await rig.worker().drain();
    const task = await rig.tm.task(taskIds.get(id)!);
    assert.equal(task.status, "failed");
    assert.match(task.errorMessage ?? "", /private/);
  });
});
