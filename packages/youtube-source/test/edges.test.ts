import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { HOP_PRIORITY_STEP, MAX_HOPS, Reddit, YouTube, crossModuleTasks } from "@prismq/task-types";
import { LocalBudget } from "@prismq/worker-kit";
import { QUOTA_TIME_ZONE, QuotaExhaustedError, YouTubeApi, platform, redditQuery, toRedditSearch, videoToIdea } from "../src/index.js";

describe("redditQuery", () => {
  test("takes the first single words of 3+ letters, tags first, up to the number of terms", () => {
    assert.equal(redditQuery(["sourdough", "bread", "ramen", "curry"], 3), "sourdough bread ramen");
    assert.equal(redditQuery(["two words", "ab", "-dash", "#tag", "ramen", "k-pop", "3d", "über", "curry"], 3), "ramen k-pop über");
    assert.equal(redditQuery(["ramen"], 3), "ramen");
  });

  test("gives null when no keyword qualifies", () => {
    assert.equal(redditQuery([], 3), null);
    assert.equal(redditQuery(["ab", "two words", "x"], 3), null);
  });
});

describe("the YouTube -> Reddit Search edge", () => {
  test("spawns one Reddit search for a video's strongest two terms, one hop further and one priority step lower", () => {
    const spawned = crossModuleTasks(platform.edges, "youtube", { params: { hops: 0 }, priority: 5 }, { keywords: ["ab", "sourdough", "bread", "ramen"], texts: [] });
    assert.deepEqual(
      spawned.map(({ type, params, priority }) => ({ type, params, priority })),
      [{ type: Reddit.Search.name, params: { hops: 1, limit: 25, query: "sourdough bread", sort: "relevance", time_filter: "month" }, priority: 5 - HOP_PRIORITY_STEP }],
    );
    assert.equal(spawned[0]?.edge, toRedditSearch);
  });

  test("spawns nothing without a usable keyword or past the hop limit", () => {
    assert.deepEqual(crossModuleTasks([toRedditSearch], "youtube", { params: {} }, { keywords: ["ab"], texts: [] }), []);
    assert.deepEqual(crossModuleTasks([toRedditSearch], "youtube", { params: { hops: MAX_HOPS } }, { keywords: ["ramen"], texts: [] }), []);
  });
});

describe("the YouTube platform descriptor", () => {
  const config = { YOUTUBE_API_KEY: "descriptor-key", YOUTUBE_API_ROOT_URL: "http://127.0.0.1:9/", YOUTUBE_DAILY_QUOTA: 500 };

  test("holds the YouTube task types, the quota budget of the apps and the video mapping", () => {
    assert.equal(platform.name, "youtube");
    assert.deepEqual(platform.taskTypes, Object.values(YouTube));
    assert.deepEqual(platform.budget(config), { name: "youtube-quota", limit: 500, window: { kind: "daily", timeZone: QUOTA_TIME_ZONE } });
    assert.equal(platform.toIdea, videoToIdea);
    assert.deepEqual(Object.keys(platform.config), ["YOUTUBE_API_KEY", "YOUTUBE_API_ROOT_URL", "YOUTUBE_DAILY_QUOTA"]);
    assert.deepEqual(platform.sandbox?.env("http://127.0.0.1:8091"), { YOUTUBE_API_ROOT_URL: "http://127.0.0.1:8091/", YOUTUBE_API_KEY: "sandbox-key" });
  });

  test("createApi makes a client that spends the budget it is given", async () => {
    const budget = new LocalBudget(platform.budget({ ...config, YOUTUBE_DAILY_QUOTA: 1 }));
    const api = await platform.createApi(config, { budget, logger: pino({ level: "silent" }) });
    assert.ok(api instanceof YouTubeApi);
    await budget.trySpend(1);
    // The quota is spent: the call is refused before any request (the root above answers nothing).
    await assert.rejects(api.videos(["dQw4w9WgXcQ"]), QuotaExhaustedError);
  });
});
