// The orchestrator on the real parts: our TaskManager server, the sandbox of
// each platform (from its descriptor), and the four built apps (`pnpm build` first).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { platform as reddit } from "@prismq/reddit-source";
import { platform as youtube } from "@prismq/youtube-source";
import { System, demoEnv, demoSources, platformEnv, usesRealApi } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "system-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("usesRealApi / platformEnv", () => {
  it("a platform runs against its real API when its credentials are set and no API URL is", () => {
    assert.equal(usesRealApi(youtube, {}), false);
    assert.equal(usesRealApi(youtube, { YOUTUBE_API_KEY: "k" }), true);
    assert.equal(usesRealApi(youtube, { YOUTUBE_API_KEY: "k", YOUTUBE_API_ROOT_URL: "http://127.0.0.1:1/" }), false);
    assert.equal(usesRealApi(reddit, { REDDIT_CLIENT_ID: "c" }), true);
    assert.equal(usesRealApi(reddit, { REDDIT_CLIENT_ID: "c", REDDIT_API_URL: "http://127.0.0.1:1" }), false);
  });
  it("platformEnv picks the platform's own variables", () => {
    assert.deepEqual(platformEnv(youtube, { YOUTUBE_API_KEY: "k", REDDIT_CLIENT_ID: "c", PATH: "/bin" }), { YOUTUBE_API_KEY: "k" });
  });
});

describe("demoSources / demoEnv", () => {
  it("the demo's sources and variables come from each platform's descriptor", () => {
    const sources = demoSources([youtube, reddit], "5m");
    assert.deepEqual(Object.keys(sources), ["youtube", "reddit"]);
    assert.match(sources.youtube ?? "", /channel: "@tech0"[^]*every: 5m[^]*kind: most_popular[^]*every: 30m/, "the chart at most every half hour");
    assert.match(demoSources([youtube], "1d").youtube ?? "", /most_popular[^]*every: 1d/);
    assert.match(sources.reddit ?? "", /subreddit: technology[^]*every: 5m/);
    assert.deepEqual(demoSources([{ ...youtube, demo: undefined }], "5m"), {}, "a platform without a demo discovers nothing");
    assert.match(demoEnv([youtube, reddit], {}).REDDIT_USER_AGENT ?? "", /^node:prismq-workers:/);
    assert.equal(demoEnv([reddit], { REDDIT_USER_AGENT: "node:mine:1 (by /u/me)" }).REDDIT_USER_AGENT, "node:mine:1 (by /u/me)", "the environment's value wins");
  });
});

describe("System", () => {
  it("starts the sandboxes, the server and every platform's apps from the descriptors, wires their variables, and stops them all cleanly", { timeout: 180_000 }, async () => {
    const dataDir = join(dir, "run");
    const sys = new System({
      platforms: [youtube, reddit],
      dataDir,
      logDir: join(dataDir, "logs"),
      queuePrefix: "system-test",
      sandbox: { rpm: 100_000 },
      sources: {
        youtube: `sources:\n  - kind: channel\n    channel: "@tech0"\n    max_videos: 5\n    every: 1d\n`,
        reddit: `sources:\n  - kind: subreddit\n    subreddit: technology\n    sort: new\n    limit: 5\n    every: 1d\n`,
      },
      env: demoEnv([reddit], {}),
    });
    assert.deepEqual([...sys.apps.keys()], ["youtube-discovery", "youtube-processor", "reddit-discovery", "reddit-processor"], "per platform, discovery first");
    let stopped: Awaited<ReturnType<System["stop"]>>;
    try {
      await sys.start();
      assert.match(sys.taskManagerUrl, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
      assert.deepEqual([...sys.sandboxUrls.keys()], ["youtube", "reddit"]);
      assert.deepEqual([...sys.health.keys()].sort(), [...sys.apps.keys()].sort());
      for (const p of sys.processes) assert.equal(p.running, true, p.name);

      const env = sys.envOf("youtube-discovery");
      assert.equal(env.TASKMANAGER_API_URL, sys.taskManagerUrl);
      assert.equal(env.TASKMANAGER_API_KEY, sys.apiKey);
      assert.equal(env.YOUTUBE_API_ROOT_URL, `${sys.sandboxUrls.get("youtube")}/`, "the descriptor's sandbox variables");
      assert.equal(env.REDDIT_API_URL, sys.sandboxUrls.get("reddit"));
      assert.equal(env.YOUTUBE_SOURCES, join(dataDir, "youtube-sources.yaml"));
      assert.equal(env.DATA_DIR, join(dataDir, "youtube-discovery"));
      assert.equal(sys.envOf("youtube-processor").YOUTUBE_SOURCES, undefined, "only discovery gets the sources");
      assert.equal(sys.envOf("reddit-discovery").REDDIT_SOURCES, join(dataDir, "reddit-sources.yaml"));
      assert.equal(sys.envOf("reddit-processor").REDDIT_REQUESTS_PER_MINUTE, "90000", "the descriptor's limits of a sandbox allowing 100000 a minute");

      const stats = (await sys.sandboxControl("reddit", "ratelimit", { clientId: "sandbox-client", limit: 100_000 })) as object;
      assert.equal(typeof stats, "object");

      // The server comes back on its port: the apps keep their URL.
      const url = sys.taskManagerUrl;
      assert.equal((await sys.server?.stop())?.code, 0);
      await sys.startServer();
      assert.equal(sys.taskManagerUrl, url);

      assert.equal(statSync(join(dataDir, "logs")).mode & 0o777, 0o700);
      for (const p of sys.processes) assert.equal(statSync(join(dataDir, "logs", `${p.name}.log`)).mode & 0o777, 0o600, p.name);
    } finally {
      stopped = await sys.stop(30_000);
    }
    assert.deepEqual(
      stopped.map((s) => `${s.name} ${s.code} ${s.killed}`),
      ["youtube-discovery", "youtube-processor", "reddit-discovery", "reddit-processor", "sandbox", "taskmanager-server"].map((n) => `${n} 0 false`),
      "apps first, then the sandbox and the server; each exits 0 on its SIGTERM",
    );
    for (const p of sys.processes) assert.equal(p.running, false);
  });
});
