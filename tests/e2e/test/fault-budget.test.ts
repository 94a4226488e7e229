import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RedditData, World, YouTubeData } from "@prismq/sandbox";
import { REDIS_URL, System, exec, sleep } from "./system.js";

const ADVANCE_MS = 3 * 86_400_000;

describe("fault: the YouTube quota and the Reddit rate limit run out in the middle of a run (hybrid mode)", () => {
  it("discovery pauses without calling the API, resumes when the budget returns, and finds what was published meanwhile", { timeout: 300_000 }, async () => {
    const sys = await System.start({ mode: "hybrid", sandbox: { latencyMs: 50 }, every: "10s" });
    try {
      const discovery = sys.app("youtube-discovery");
      await sys.midRun();

      // The APIs say their budgets are spent, and new uploads and posts appear while they are.
      await sys.youtubeSandbox("quota", { key: sys.youtubeKey, spent: 10_000 });
      // A limit of 0 holds until it is lifted below: spending one window's budget would end at the next minute, maybe before any app asked.
      await sys.redditSandbox("ratelimit", { clientId: "sandbox-client", limit: 0 });
      await sys.youtubeSandbox("advance", { ms: ADVANCE_MS });

      await sys.until(() => /YouTube quota spent: discovery paused/.test(discovery.current), "youtube-discovery to pause", 30_000);
      await sys.until(() => /Reddit answered 429|waiting for the rate-limit reset|X-Ratelimit-Reset/i.test(sys.app("reddit-discovery").current + sys.app("reddit-processor").current), "a Reddit app to wait for the rate limit");
      // Paused means no call at all: a whole schedule period (10 s) and more without one.
      const calls = await sys.metric("youtube-discovery", "prismq_api_calls_total", { api: "youtube" });
      await sleep(12_000);
      assert.equal(await sys.metric("youtube-discovery", "prismq_api_calls_total", { api: "youtube" }), calls, "no YouTube call while paused");
      assert.doesNotMatch(discovery.current, /discovery resumes/);

      // The quota day ends: the API has units again and the shared budget's window key is gone.
      await sys.youtubeSandbox("quota", { key: sys.youtubeKey, spent: 0 });
      const keys = (await exec("redis-cli", ["-u", REDIS_URL, "--scan", "--pattern", `${sys.prefix}:budget:youtube-quota:*`])).stdout.split("\n").filter(Boolean);
      assert.ok(keys.length > 0, "the shared quota lives in Redis");
      assert.equal((await exec("redis-cli", ["-u", REDIS_URL, "del", ...keys])).code, 0);
      await sys.until(() => /discovery resumes/.test(discovery.current), "youtube-discovery to resume", 30_000);
      // Reddit's window comes back too.
      await sys.redditSandbox("ratelimit", { clientId: "sandbox-client", limit: 100_000 });

      await sys.settled(200_000);
      await sys.verify();
      const world = new World();
      world.clock.advance(ADVANCE_MS);
      const ideas = await sys.ideas();
      try {
        for (const id of new YouTubeData(world).uploads(sys.scope.channel.index).slice(0, 3)) assert.ok(await ideas.get("youtube", id), `new upload ${id} found after the pause`);
        for (const id of new RedditData(world).postIds(sys.scope.subreddit.name).slice(0, sys.scope.subreddit.limit)) assert.ok(await ideas.get("reddit", id), `new post ${id} found after the wait`);
      } finally {
        await ideas.close();
      }
    } finally {
      await sys.close();
    }
  });
});
