import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_HOPS, nextHop } from "../src/index.js";

describe("nextHop", () => {
  it("keeps the hop on a same-platform edge and adds 1 on a cross-platform edge", () => {
    assert.equal(nextHop({}, "same-platform"), 0);
    assert.equal(nextHop({ hops: 1 }, "same-platform"), 1);
    assert.equal(nextHop({ hops: MAX_HOPS }, "same-platform"), MAX_HOPS);
    assert.equal(nextHop({}, "cross-platform"), 1);
    assert.equal(nextHop({ hops: 1 }, "cross-platform"), 2);
  });

  it("returns null once a cross-platform edge would pass MAX_HOPS", () => {
    assert.equal(nextHop({ hops: MAX_HOPS }, "cross-platform"), null);
  });

  it("lets maxHops lower the limit but never raise it past what the schemas allow", () => {
    assert.equal(nextHop({}, "cross-platform", 0), null);
    assert.equal(nextHop({ hops: 1 }, "cross-platform", 1), null);
    assert.equal(nextHop({ hops: 1 }, "same-platform", 1), 1);
    assert.equal(nextHop({ hops: MAX_HOPS }, "cross-platform", 10), null);
  });

  it("throws on a parent hop count that is not a whole number 0 or more", () => {
    for (const hops of [-1, 1.5, Number.NaN, "1" as unknown as number]) {
      assert.throws(() => nextHop({ hops }, "cross-platform"), RangeError);
    }
  });
});
