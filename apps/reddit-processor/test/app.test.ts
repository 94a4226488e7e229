import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openIdeaStore } from "@prismq/idea-store";
import { DEFAULT_REDDIT_CLIENT, startRedditSandbox, type RedditSandbox } from "@prismq/sandbox";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { Reddit, YouTube, registerAll } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { UA, uid } from "./helpers.js";
import { dropRedisKeys, startAppProcess, until } from "@prismq/worker-kit/testing";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe("reddit-processor as a process", () => {
  const dir = mkdtempSync(join(tmpdir(), "rdp-app-"));
  // An OAuth app per mode, with secrets no other string in the test shares.
  const apps = {
    direct: { clientId: `rdp-direct-${uid()}`, clientSecret: `rdp-secret-${uid()}${uid()}`, refreshTokens: [`rdp-refresh-${uid()}${uid()}`] },
    hybrid: { clientId: `rdp-hybrid-${uid()}`, clientSecret: `rdp-secret-${uid()}${uid()}`, refreshTokens: [`rdp-refresh-${uid()}${uid()}`] },
  };
  let tm: TestTaskManager;
  let sandbox: RedditSandbox;
  let client: TaskManagerClient;
  before(async () => {
    tm = await startTestTaskManager({ register: registerAll });
    client = tm.client;
    sandbox = await startRedditSandbox({ world: { seed: "processor-app" }, clients: [DEFAULT_REDDIT_CLIENT, apps.direct, apps.hybrid], rateLimit: { requests: 100_000, windowMs: 60_000 } });
  });
  after(async () => {
    await tm.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a bad environment with one message naming each bad variable (exit 2), never echoing a secret", async () => {
    const app = startAppProcess({
      TASKMANAGER_API_URL: tm.server.url,
      TASKMANAGER_API_KEY: tm.key,
      REDDIT_CLIENT_SECRET: "do-not-echo-this-secret",
      REDDIT_USER_AGENT: "python-requests/2.31",
      BATCH_SIZE: "500",
      REDDIT_COMMENTS_PER_POST: "-1",
      CROSS_MODULE: "perhaps",
    });
    assert.equal(await app.exited, 2);
    const text = app.stderr();
    assert.match(text, /REDDIT_CLIENT_ID: is required/);
    assert.match(text, /REDDIT_USER_AGENT: must look like/);
    assert.match(text, /BATCH_SIZE: must be at most 100/);
    assert.match(text, /REDDIT_COMMENTS_PER_POST: must be at least 0/);
    assert.match(text, /CROSS_MODULE: must be true or false/);
    assert.doesNotMatch(text + app.stdout(), /do-not-echo-this-secret/);
  });

  it(
    "refuses a username without a password as a configuration error (exit 2), naming the missing variable, before any request",
    async () => {
      const app = startAppProcess({
        TASKMANAGER_API_URL: tm.server.url,
        TASKMANAGER_API_KEY: tm.key,
        REDDIT_CLIENT_ID: DEFAULT_REDDIT_CLIENT.clientId,
        REDDIT_CLIENT_SECRET: DEFAULT_REDDIT_CLIENT.clientSecret,
        REDDIT_USERNAME: "sandbox",
        REDDIT_USER_AGENT: UA,
        REDDIT_API_URL: sandbox.url,
        DATA_DIR: join(dir, `ideas-${uid()}`),
      });
      const code = await app.exited;
      assert.match(app.stderr(), /REDDIT_PASSWORD: is required/);
      assert.equal(code, 2);
      assert.doesNotMatch(app.stderr(), /failed to start/);
      assert.equal(sandbox.stats().requests.byClient[DEFAULT_REDDIT_CLIENT.clientId], undefined, "Reddit was never asked");
    },
  );

  for (const mode of ["direct", "hybrid"] as const) {
    it(`processes waiting Post tasks into ideas in ${mode} mode, one /api/info request a batch, creates YouTube Video tasks, and stops cleanly`, async () => {
      const oauth = apps[mode];
      const all = sandbox.data.postIds();
      const ids = mode === "direct" ? all.slice(0, 120) : all.slice(200, 320);
      const commented = ids.filter((id) => sandbox.data.post(sandbox.data.postIndex(id) as number).num_comments > 0).length;
      const taskIds: number[] = [];
      for (const id of ids) taskIds.push((await Reddit.Post.create(client, { post_id: id })).id);
      const videosBefore = new Set<number>();
      for await (const t of client.listTasks({ type: YouTube.Video.name, pageSize: 1000 })) videosBefore.add(t.id);
      const endpointsBefore = sandbox.stats().requests.byEndpoint;
      const ideasDir = join(dir, `ideas-${mode}`);
      const prefix = `test-rdp-${mode}-${uid()}`;
      const app = startAppProcess({
        TASKMANAGER_API_URL: tm.server.url,
        TASKMANAGER_API_KEY: tm.key,
        REDDIT_CLIENT_ID: oauth.clientId,
        REDDIT_CLIENT_SECRET: oauth.clientSecret,
        REDDIT_REFRESH_TOKEN: oauth.refreshTokens[0] as string,
        REDDIT_USER_AGENT: UA,
        REDDIT_API_URL: sandbox.url,
        // 120 posts with comments are about 100 requests: above the default 90 a minute.
        REDDIT_REQUESTS_PER_MINUTE: "1000",
        DATA_DIR: ideasDir,
        LOG_LEVEL: "info",
        SHUTDOWN_TIMEOUT_MS: "5000",
        ...(mode === "hybrid" ? { REDIS_URL, QUEUE_PREFIX: prefix } : {}),
      });
      try {
        await until(
          async () => {
            const statuses = await Promise.all(taskIds.map(async (id) => (await client.getTask(id))?.status));
            return statuses.every((s) => s === "completed");
          },
          30_000,
          "every Post task completed",
        );
        const stats = sandbox.stats().requests;
        assert.equal(stats.byEndpoint.info - endpointsBefore.info, 2, "120 posts: two batches, one /api/info lookup each");
        assert.equal(stats.byEndpoint.comments - endpointsBefore.comments, commented, "one comments request per post with comments");
        assert.equal(stats.byClient[oauth.clientId], 1 + 2 + commented, "all of it (and one token request) by the app's own OAuth app");
        let videos = 0;
        for await (const t of client.listTasks({ type: YouTube.Video.name, pageSize: 1000 })) if (!videosBefore.has(t.id)) videos++;
        assert.ok(videos > 0, "YouTube Video tasks were created for linked videos");
        app.child.kill("SIGTERM");
        assert.equal(await app.exited, 0, app.stderr());
        const store = await openIdeaStore({ dataDir: ideasDir });
        assert.equal(await store.count({ platform: "reddit" }), 120);
        await store.close();
        const everything = app.stdout() + app.stderr();
        assert.ok(everything.includes("reddit-processor running"), "it logged that it runs");
        assert.ok(!everything.includes(tm.key), "the TaskManager API key is never logged");
        assert.ok(!everything.includes(oauth.clientSecret), "the Reddit secret is never logged");
        assert.ok(!everything.includes(oauth.refreshTokens[0] as string), "the refresh token is never logged");
      } finally {
        app.child.kill("SIGKILL");
        if (mode === "hybrid") await dropRedisKeys(REDIS_URL, prefix);
      }
    });
  }
});
