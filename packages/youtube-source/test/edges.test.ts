import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HOP_PRIORITY_STEP, MAX_HOPS, Reddit, crossModuleTasks } from "@prismq/task-types";
import { platform, redditQuery, toRedditSearch } from "../src/index.js";

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
