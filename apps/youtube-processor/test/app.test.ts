import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openIdeaStore } from "@prismq/idea-store";
import { startYouTubeSandbox, type YouTubeSandbox } from "@prismq/sandbox";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { Reddit, YouTube, registerAll } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { dropRedisKeys, startAppProcess, until } from "@prismq/worker-kit/testing";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe("youtube-processor as a process", () => {
  const dir = mkdtempSync(join(tmpdir(), "ytp-app-"));
  let tm: TestTaskManager;
  let sandbox: YouTubeSandbox;
  let client: TaskManagerClient;
  before(async () => {
    tm = await startTestTaskManager({ register: registerAll });
    client = tm.client;
    sandbox = await startYouTubeSandbox({ world: { seed: "processor-app" } });
  });
  after(async () => {
    await tm.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a bad environment with one message naming each bad variable (exit 2)", async () => {
    const app = startAppProcess({ TASKMANAGER_API_URL: tm.server.url, TASKMANAGER_API_KEY: tm.key, BATCH_SIZE: "500", CROSS_MODULE: "perhaps" });
    assert.equal(await app.exited, 2);
    assert.match(app.stderr(), /YOUTUBE_API_KEY: is required/);
    assert.match(app.stderr(), /BATCH_SIZE: must be at most 50/);
    assert.match(app.stderr(), /CROSS_MODULE: must be true or false/);
  });

  for (const mode of ["direct", "hybrid"] as const) {
    it(`processes waiting Video tasks into ideas in ${mode} mode, creates Reddit searches, and stops cleanly`, async () => {
      const ids = sandbox.data.videoIds().slice(mode === "direct" ? 0 : 100, mode === "direct" ? 60 : 160);
      const taskIds: number[] = [];
      for (const id of ids) taskIds.push((await YouTube.Video.create(client, { video_id: id })).id);
      const ideasDir = join(dir, `ideas-${mode}`);
      const prefix = `test-ytp-${mode}-${Date.now()}`;
      const app = startAppProcess({
        TASKMANAGER_API_URL: tm.server.url,
        TASKMANAGER_API_KEY: tm.key,
        YOUTUBE_API_KEY: `key-${mode}`,
        YOUTUBE_API_ROOT_URL: sandbox.rootUrl,
        DATA_DIR: ideasDir,
        LOG_LEVEL: "warn",
        ...(mode === "hybrid" ? { REDIS_URL, QUEUE_PREFIX: prefix } : {}),
      });
      try {
        await until(async () => {
          const statuses = await Promise.all(taskIds.map(async (id) => (await client.getTask(id))?.status));
          return statuses.every((s) => s === "completed");
        }, 30_000, "every Video task completed");
        assert.equal(sandbox.quota(`key-${mode}`).calls["videos.list"], 2, "60 videos: two batches, one lookup each");
        let searches = 0;
        for await (const t of client.listTasks({ type: Reddit.Search.name })) if (t) searches++;
        assert.ok(searches > 0, "cross-module Reddit searches were created");
        app.child.kill("SIGTERM");
        assert.equal(await app.exited, 0, app.stderr());
        const store = await openIdeaStore({ dataDir: ideasDir });
        assert.equal(await store.count({ platform: "youtube" }), 60);
        await store.close();
        assert.doesNotMatch(app.stdout(), new RegExp(tm.key), "the API key is never logged");
      } finally {
        app.child.kill("SIGKILL");
        if (mode === "hybrid") await dropRedisKeys(REDIS_URL, prefix);
      }
    });
  }
});
