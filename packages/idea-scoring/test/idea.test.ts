import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IDEA_KEYWORDS, MAX_TITLE_CHARS, ageIn, classify, extractTerms, ideaText, perAge } from "../src/index.js";

describe("ideaText: the text fields every platform's idea shares", () => {
  it("classifies and picks keywords from the text read, keeps the stored description and content, cuts the title", () => {
    const text = { title: `Sourdough bread at home ${"x".repeat(MAX_TITLE_CHARS)}`, tags: ["baking"], description: "A beginner's guide to flour, water and salt", content: "my starter died twice" };
    const fields = ideaText(text, { description: "stored description", content: "stored content" });
    const { category, contextualCategoryScores, subcategoryRelevance } = classify(text);
    assert.deepEqual(fields, {
      title: text.title.slice(0, MAX_TITLE_CHARS),
      description: "stored description",
      content: "stored content",
      keywords: extractTerms(text, IDEA_KEYWORDS),
      category,
      subcategoryRelevance,
      contextualCategoryScores,
    });
    assert.equal(fields.title.length, MAX_TITLE_CHARS);
    assert.equal(fields.keywords[0], "baking");
  });
});

describe("ageIn and perAge: the age and the rates scores are folded from", () => {
  const HOUR = 3_600_000;
  it("counts units since creation, never below the minimum; an unknown creation time is one unit", () => {
    assert.equal(ageIn(0, 5 * HOUR, HOUR, 1), 5);
    assert.equal(ageIn(4 * HOUR, 5 * HOUR, HOUR, 1), 1);
    assert.equal(ageIn(5 * HOUR, 5 * HOUR, HOUR, 0.5), 0.5);
    assert.equal(ageIn(Number.NaN, 5 * HOUR, HOUR, 0.25), 1);
    assert.equal(ageIn(Number.POSITIVE_INFINITY, 5 * HOUR, HOUR, 0.25), 1);
  });
  it("rates are per unit of age, two decimals", () => {
    assert.equal(perAge(10, 3), 3.33);
    assert.equal(perAge(0, 7), 0);
  });
});
