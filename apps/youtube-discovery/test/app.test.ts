import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { YouTube } from "@prismq/task-types";
import { Rig, uid } from "./helpers.js";
import { dropRedisKeys, startAppProcess, until } from "@prismq/worker-kit/testing";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe("youtube-discovery as a process", () => {
  const rig = new Rig();
  before(() => rig.start());
  after(() => rig.stop());

  const baseEnv = (extra: Record<string, string> = {}) => ({
    TASKMANAGER_API_URL: rig.tm.server.url,
    TASKMANAGER_API_KEY: rig.tm.key,
    YOUTUBE_API_KEY: `app-${uid()}`,
    YOUTUBE_API_ROOT_URL: rig.sandbox.rootUrl,
    DATA_DIR: join(rig.dir, `data-${uid()}`),
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ...extra,
  });

  it("refuses a bad environment and a bad sources file with one message naming each problem (exit 2)", async () => {
    const sources = join(rig.dir, "bad-sources.json");
    writeFileSync(sources, JSON.stringify({ sources: [{ kind: "channel", channel: "no-at-sign" }, { kind: "search", query: "x", every: "soon" }, { kind: "podcast" }] }));
    const bad = startAppProcess({ TASKMANAGER_API_URL: "http://127.0.0.1:1/nope", YOUTUBE_API_KEY: "k" });
    assert.equal(await bad.exited, 2);
    assert.match(bad.stderr(), /TASKMANAGER_API_URL: must end in \/api/);
    assert.match(bad.stderr(), /TASKMANAGER_API_KEY: is required/);
    const badSources = startAppProcess(baseEnv({ YOUTUBE_SOURCES: sources }));
    assert.equal(await badSources.exited, 2);
    const text = badSources.stderr();
    assert.match(text, /sources\[0\]: .*channel_id/);
    assert.match(text, /sources\[1\]\.every: must be like "90s"/);
    assert.match(text, /sources\[2\]/);
  });

  for (const mode of ["direct", "hybrid"] as const) {
    it(`runs its sources in ${mode} mode, creating one Video task per upload, and stops cleanly on SIGTERM`, async () => {
      const channel = rig.sandbox.data.channel(mode === "direct" ? 4 : 5);
      const uploads = rig.sandbox.data.uploads(channel.index);
      const sources = join(rig.dir, `sources-${mode}.yaml`);
      writeFileSync(sources, `sources:\n  - kind: channel\n    channel: "${channel.handle}"\n    max_videos: 500\n    every: 1h\n`);
      const prefix = `test-ytd-${uid()}`;
      const app = startAppProcess(baseEnv({ YOUTUBE_SOURCES: sources, ...(mode === "hybrid" ? { REDIS_URL, QUEUE_PREFIX: prefix } : {}) }));
      try {
        const wanted = new Set(uploads);
        await until(async () => {
          let n = 0;
          for await (const t of rig.client.listTasks({ type: YouTube.Video.name })) {
            const full = await rig.client.getTask(t.id);
            if (wanted.has((full?.params as { video_id: string }).video_id)) n++;
          }
          return n === wanted.size;
        }, 20_000, `${wanted.size} Video tasks`);
        assert.ok(app.lines.some((l) => String(l.msg).startsWith(`${mode} mode`)), "says its mode once at start");
        const running = app.lines.find((l) => l.msg === "youtube-discovery running");
        const health = await fetch(`${String(running?.health)}/metrics`);
        assert.match(await health.text(), /prismq_api_calls_total\{api="youtube",method="playlistItems.list",outcome="ok"/);
        app.child.kill("SIGTERM");
        assert.equal(await app.exited, 0, app.stderr());
        assert.doesNotMatch(JSON.stringify(app.lines), new RegExp(rig.tm.key), "the API key is never logged");
      } finally {
        app.child.kill("SIGKILL");
        if (mode === "hybrid") await dropRedisKeys(REDIS_URL, prefix);
      }
    });
  }
});
