import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TaskManagerClient, ValidationError, dedupeKey } from "@prismq/taskmanager-client";
import { MAX_HOPS, Reddit, TaskParamsError, YouTube, createCrossModule, registerAll, type InvalidTask } from "../src/index.js";
import { BAD } from "./fixtures.js";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";

async function tasksOf(client: TaskManagerClient, type: string) {
  const out = [];
  for await (const s of client.listTasks({ type })) out.push(await client.getTask(s.id));
  return out.map((x) => {
    assert.ok(x);
    return x;
  });
}

describe("create and claim against our server", () => {
  let t: TestTaskManager;
  before(async () => {
    t = await startTestTaskManager({ workerId: "task-types-test", retry: false, register: registerAll });
  });
  after(async () => {
    await t.close();
  });

  it("creating the same target twice gives one task, deduplicated", async () => {
    const first = await Reddit.Subreddit.create(t.client, { subreddit: "synthesizers", sort: "top", time_filter: "week", hops: 0 });
    const again = await Reddit.Subreddit.create(t.client, { time_filter: "week", limit: undefined, sort: "top", subreddit: "synthesizers" });
    assert.equal(first.deduplicated, false);
    assert.equal(again.deduplicated, true);
    assert.equal(again.id, first.id);
    assert.equal(first.dedupeKey, dedupeKey(Reddit.Subreddit.name, { sort: "top", subreddit: "synthesizers", time_filter: "week" }));
    assert.equal((await tasksOf(t.client, Reddit.Subreddit.name)).length, 1);
    assert.deepEqual((await t.client.getTask(first.id))?.params, { sort: "top", subreddit: "synthesizers", time_filter: "week" });
  });

  it("refuses bad params before any request reaches the server", async () => {
    let requests = 0;
    const create = t.client.createTask.bind(t.client);
    t.client.createTask = async (...args) => {
      requests++;
      return create(...args);
    };
    try {
      await assert.rejects(YouTube.MostPopular.create(t.client, { region_code: "cz" }), (err: unknown) => {
        assert.ok(err instanceof TaskParamsError);
        assert.deepEqual(err.fields, ["region_code"]);
        return true;
      });
      assert.equal(requests, 0);
      assert.equal((await tasksOf(t.client, YouTube.MostPopular.name)).length, 0);
    } finally {
      t.client.createTask = create;
    }
  });

  it("the server itself rejects raw params that break each registered schema", async () => {
    for (const { def, params, field } of BAD) {
      await assert.rejects(t.client.createTask(def.name, params), (err: unknown) => {
        assert.ok(err instanceof ValidationError, `${def.name} ${JSON.stringify(params)}: ${String(err)}`);
        // `{}` is refused before the schema is looked at: params must be a non-empty object.
        if (Object.keys(params).length === 0) return true;
        assert.match(err.message, /^Parameter validation failed/);
        assert.ok(err.message.includes(field), `${err.message} does not name ${field}`);
        return true;
      });
    }
  });

  it("claims a task with typed params, then null when none is left", async () => {
    const created = await Reddit.Post.create(t.client, { post_id: "1abc2d", hops: 1 });
    const claimed = await Reddit.Post.claim(t.client);
    assert.ok(claimed);
    const postId: string = claimed.params.post_id;
    assert.equal(postId, "1abc2d");
    assert.deepEqual(claimed, { id: created.id, type: Reddit.Post.name, params: { hops: 1, post_id: "1abc2d" }, attempts: 1, priority: 0 });
    assert.equal(await Reddit.Post.claim(t.client), null);
  });

  it("passes workerId and strategy through to the claim", async () => {
    const older = await YouTube.Channel.create(t.client, { channel_id: "@older_channel" });
    const newer = await YouTube.Channel.create(t.client, { channel_id: "@newer_channel" });
    const claimed = await YouTube.Channel.claim(t.client, { workerId: "youtube-discovery-1", strategy: "lifo" });
    assert.equal(claimed?.id, newer.id);
    assert.equal((await t.client.getTask(newer.id))?.claimedBy, "youtube-discovery-1");
    assert.equal((await YouTube.Channel.claim(t.client))?.id, older.id);
  });

  it("passes the abort signal through to the claim", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(YouTube.Search.claim(t.client, { signal: ac.signal }), { code: "TM_ERR_ABORTED" });
  });
});

describe("claiming tasks whose params break the schema", () => {
  let t: TestTaskManager;
  const looseVideo = { type: "object", required: ["video_id"], properties: { video_id: { type: "string" } } };
  before(async () => {
    t = await startTestTaskManager({ workerId: "task-types-test", retry: false, register: registerAll });
    // Registered elsewhere with a looser schema: the server lets bad params in.
    await t.client.registerTaskType({ name: YouTube.Video.name, version: "0.9.0", paramSchema: looseVideo });
  });
  after(async () => {
    await t.close();
  });

  it("fails the bad task for good with a message naming the bad fields, and returns the next good one", async () => {
    const bad = await t.client.createTask(YouTube.Video.name, { video_id: "not-a-video-id", extra: 1 });
    const good = await t.client.createTask(YouTube.Video.name, { video_id: "dQw4w9WgXcQ" });
    const invalid: InvalidTask[] = [];
    const claimed = await YouTube.Video.claim(t.client, { onInvalid: (e) => invalid.push(e) });
    assert.equal(claimed?.id, good.id);
    assert.deepEqual(claimed?.params, { video_id: "dQw4w9WgXcQ" });

    const failed = await t.client.getTask(bad.id);
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.attempts, 1);
    assert.match(failed?.errorMessage ?? "", /^Invalid params for PrismQ\.IdeaInspiration\.YouTube\.Video 1\.0\.0: /);
    assert.match(failed?.errorMessage ?? "", /extra is not an allowed field/);
    assert.match(failed?.errorMessage ?? "", /video_id must match pattern/);
    assert.equal(invalid.length, 1);
    assert.equal(invalid[0]?.task.id, bad.id);
    assert.equal(invalid[0]?.message, failed?.errorMessage);
    assert.equal(await YouTube.Video.claim(t.client), null);
  });

  it("returns null when only bad tasks are left, failing each of them", async () => {
    const ids = [
      (await t.client.createTask(YouTube.Video.name, { video_id: "short" })).id,
      (await t.client.createTask(YouTube.Video.name, { video_id: "dQw4w9WgXcQ", hops: 7 } as object)).id,
    ];
    assert.equal(await YouTube.Video.claim(t.client, { workerId: "youtube-processor-2" }), null);
    for (const id of ids) {
      const task = await t.client.getTask(id);
      assert.equal(task?.status, "failed");
      assert.equal(task?.claimedBy, "youtube-processor-2");
    }
    assert.match((await t.client.getTask(ids[1] as number))?.errorMessage ?? "", /hops must be <= 2/);
  });
});

describe("claiming a batch of tasks", () => {
  let t: TestTaskManager;
  const looseVideo = { type: "object", required: ["video_id"], properties: { video_id: { type: "string" } } };
  before(async () => {
    t = await startTestTaskManager({ workerId: "task-types-batch", retry: false, register: registerAll });
    await t.client.registerTaskType({ name: YouTube.Video.name, version: "0.9.0", paramSchema: looseVideo });
  });
  after(async () => {
    await t.close();
  });

  it("claims good tasks with typed params in one request and fails the bad ones in one request, then none is left", async () => {
    const good = [];
    for (const id of ["dQw4w9WgXcQ", "9bZkp7q19f0", "kJQP7kiw5Fk"]) good.push((await YouTube.Video.create(t.client, { video_id: id })).id);
    const bad = [(await t.client.createTask(YouTube.Video.name, { video_id: "short" })).id, (await t.client.createTask(YouTube.Video.name, { video_id: "x", extra: 1 })).id];
    const routes: string[] = [];
    const client = new TaskManagerClient({ baseUrl: t.server.url, apiKey: t.key, workerId: "youtube-processor-b", retry: false, onRequest: (r) => routes.push(`${r.method} ${r.route}`) });
    try {
      const invalid: InvalidTask[] = [];
      const claimed = await YouTube.Video.claimBatch(client, { limit: 50, onInvalid: (e) => invalid.push(e) });
      assert.deepEqual(claimed.map((c) => c.id), good);
      assert.deepEqual(claimed[0]?.params, { video_id: "dQw4w9WgXcQ" });
      assert.deepEqual(invalid.map((i) => i.task.id), bad);
      for (const id of bad) {
        const task = await t.client.getTask(id);
        assert.equal(task?.status, "failed");
        assert.match(task?.errorMessage ?? "", /^Invalid params for PrismQ\.IdeaInspiration\.YouTube\.Video 1\.0\.0: /);
      }
      assert.deepEqual(await YouTube.Video.claimBatch(client, { limit: 50 }), []);
      assert.deepEqual(routes.filter((r) => r.startsWith("POST")), ["POST /tasks/claim", "POST /tasks/settle", "POST /tasks/claim"]);
    } finally {
      await client.close();
    }
  });
});

describe("cross-module tasks and the hop count against our server", () => {
  let t: TestTaskManager;
  before(async () => {
    t = await startTestTaskManager({ workerId: "task-types-test", retry: false, register: registerAll });
  });
  after(async () => {
    await t.close();
  });

  it("follows YouTube Video -> Reddit Search (1) -> Reddit Post (1) -> YouTube Video (2) and stops there", async () => {
    const videoId = "aaaaaaaaaaa";
    await YouTube.Video.create(t.client, { video_id: videoId });

    const video0 = await YouTube.Video.claim(t.client);
    assert.deepEqual(video0?.params, { video_id: videoId });
    const search = await createCrossModule(t.client, Reddit.Search, video0.params, { query: "video aaaaaaaaaaa" });
    assert.equal(search?.deduplicated, false);

    const search1 = await Reddit.Search.claim(t.client);
    assert.deepEqual(search1?.params, { hops: 1, query: "video aaaaaaaaaaa" });
    assert.ok(search1);
    const post = await createCrossModule(t.client, Reddit.Post, search1.params, { post_id: "p1" }, { edge: "same-platform" });
    assert.ok(post);

    const post1 = await Reddit.Post.claim(t.client);
    assert.deepEqual(post1?.params, { hops: 1, post_id: "p1" });
    assert.ok(post1);
    const video = await createCrossModule(t.client, YouTube.Video, post1.params, { video_id: videoId });
    assert.equal(video?.deduplicated, false, "the same video at a higher hop is a new task");

    const video2 = await YouTube.Video.claim(t.client);
    assert.deepEqual(video2?.params, { hops: MAX_HOPS, video_id: videoId });
    assert.ok(video2);
    assert.equal(await createCrossModule(t.client, Reddit.Search, video2.params, { query: "video aaaaaaaaaaa" }), null);
    assert.equal((await tasksOf(t.client, Reddit.Search.name)).length, 1);

    // A second post linking the same video reaches it at the same hop: it collapses into the existing task.
    const again = await createCrossModule(t.client, YouTube.Video, { hops: 1 }, { video_id: videoId });
    assert.equal(again?.deduplicated, true);
    assert.equal(again?.id, video?.id);
    const copies = (await tasksOf(t.client, YouTube.Video.name)).filter((x) => (x.params as { video_id: string }).video_id === videoId);
    assert.deepEqual(copies.map((x) => (x.params as { hops?: number }).hops ?? 0).sort(), [0, 2]);
    assert.ok(copies.length <= MAX_HOPS + 1);
  });

  it("repeats of a target from the same hop collapse into one task", async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createCrossModule(t.client, Reddit.Search, { hops: 0 }, { query: "same target", limit: 10 }));
    assert.deepEqual(created.map((c) => c?.deduplicated), [false, true, true, true, true]);
    assert.equal(new Set(created.map((c) => c?.id)).size, 1);
  });

  it("replaces a hop count the caller passed in params", async () => {
    const created = await createCrossModule(t.client, Reddit.Post, { hops: 1 }, { post_id: "p9", hops: 0 } as { post_id: string });
    assert.ok(created);
    assert.deepEqual((await t.client.getTask(created.id))?.params, { hops: 2, post_id: "p9" });
  });

  it("validates before creating, like create()", async () => {
    await assert.rejects(createCrossModule(t.client, YouTube.Video, {}, { video_id: "nope" }), TaskParamsError);
  });
});
