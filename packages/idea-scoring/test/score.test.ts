import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { foldScore, round, squash } from "../src/index.js";

describe("foldScore: the shared way scores are folded", () => {
  it("squashes each signal by its half and weights it: 0.5 at half, 0 for nothing, NaN and negatives", () => {
    assert.equal(squash(10, 10), 0.5);
    assert.equal(squash(0, 10), 0);
    assert.equal(squash(-3, 10), 0);
    assert.equal(squash(Number.NaN, 10), 0);
    const table = { a: { weight: 0.6, half: 10 }, b: { weight: 0.4, half: 1 } };
    // 100 * (0.6 * 0.5 + 0.4 * 3/4) = 60
    assert.equal(foldScore(table, { a: 10, b: 3 }), 60);
    assert.equal(foldScore(table, { a: 0, b: 0 }), 0);
    assert.ok(foldScore(table, { a: 1e12, b: 1e12 }) <= 100);
  });
  it("reads only the table's signals and rounds to one decimal", () => {
    assert.equal(foldScore({ x: { weight: 1, half: 2 } }, { x: 1, ignored: 99 } as { x: number }), 33.3);
    assert.equal(round(1.23456, 2), 1.23);
  });
});
