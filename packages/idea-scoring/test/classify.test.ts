import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CATEGORIES, MIN_CATEGORY_SCORE, classify, extractTerms, tokenize } from "../src/index.js";

describe("classify: the transparent keyword classifier", () => {
  it("puts a sourdough video in food, with recipes as its strongest subcategory", () => {
    const c = classify({ title: "The ultimate sourdough guide", tags: ["sourdough", "bread", "baking"], description: "A simple recipe for bread at home." });
    assert.equal(c.category, "food");
    assert.deepEqual(Object.keys(c.subcategoryRelevance), ["recipes", "technique"]);
    assert.ok((c.subcategoryRelevance.recipes ?? 0) > (c.subcategoryRelevance.technique ?? 0));
  });

  it("weighs the title above tags, tags above the description, the description above the content", () => {
    // One word of each category, placed in a different field each time: the field's weight decides.
    const byField = (field: "title" | "tags" | "description" | "content") =>
      classify({ title: field === "title" ? "guitar" : "x", tags: field === "tags" ? ["guitar"] : [], description: field === "description" ? "guitar" : "", content: field === "content" ? "guitar" : "" });
    assert.equal(byField("title").category, "music");
    assert.equal(byField("tags").category, "music");
    assert.equal(byField("description").category, "music");
    assert.equal(byField("content").category, "uncategorized", "one word in the content alone stays below MIN_CATEGORY_SCORE");
    const mixed = classify({ title: "marathon", description: "guitar guitar" });
    assert.equal(mixed.category, "fitness", "3 x 2 (title) beats 2 x 1 x 2 (description)");
  });

  it("gives contextual category shares that sum to about 1, highest first", () => {
    const c = classify({ title: "Rocket launch and telescope review", description: "laptop camera" });
    const shares = Object.values(c.contextualCategoryScores);
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 0.01);
    assert.deepEqual(shares, [...shares].sort((a, b) => b - a));
    assert.equal(c.category, Object.keys(c.contextualCategoryScores)[0]);
  });

  it("leaves text with no evidence uncategorized, with empty scores", () => {
    assert.deepEqual(classify({ title: "hello there", description: "nothing to see" }), { category: "uncategorized", contextualCategoryScores: {}, subcategoryRelevance: {} });
  });

  it("is deterministic and breaks ties by name", () => {
    const t = { title: "guitar marathon" };
    assert.deepEqual(classify(t), classify(t));
    // guitar (music 2) and marathon (fitness 2) tie: fitness comes first alphabetically.
    assert.equal(classify(t).category, "fitness");
  });

  it("every word list has positive weights and the threshold is documented", () => {
    for (const [category, subs] of Object.entries(CATEGORIES)) {
      for (const [sub, words] of Object.entries(subs)) {
        for (const [w, weight] of Object.entries(words)) assert.ok(weight > 0 && w === w.toLowerCase(), `${category}.${sub}.${w}`);
      }
    }
    assert.equal(MIN_CATEGORY_SCORE, 2);
  });
});

describe("terms", () => {
  it("tokenizes lower-case words and drops URLs", () => {
    assert.deepEqual(tokenize("Watch THIS: https://youtu.be/abcdefghijk it's Mike's 4K guide!"), ["watch", "this", "it", "mike", "4k", "guide"]);
  });
  it("puts tags first, then the strongest words, without stopwords or numbers, to the limit", () => {
    const terms = extractTerms({ title: "Sourdough sourdough starter 2026", tags: ["Bread"], description: "the starter and the flour" }, 4);
    assert.deepEqual(terms, ["bread", "sourdough", "starter", "flour"]);
  });
});
