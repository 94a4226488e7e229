import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Batcher } from "../src/store/batcher.js";

/** A batcher over doubling, recording each batch it ran and each call it ran alone. */
function doubling(options: { windowMs: number; max: number }, failMany = false) {
  const batches: number[][] = [];
  const alone: number[] = [];
  const batcher = new Batcher<number, number>(
    options,
    async (inputs) => {
      batches.push(inputs);
      if (failMany) throw new Error("batch failed");
      return inputs.map((n) => (n === 13 ? Promise.reject(new Error("thirteen")) : n * 2));
    },
    async (n) => {
      alone.push(n);
      if (n === 7) throw new Error("seven");
      return n * 2;
    },
    (n) => String(n % 100),
  );
  return { batcher, batches, alone };
}

describe("Batcher (group commit)", () => {
  it("runs the calls of one turn as one batch and answers each caller its own result", async () => {
    const { batcher, batches, alone } = doubling({ windowMs: 0, max: 100 });
    const answers = await Promise.all([1, 2, 3, 4].map((n) => batcher.run("k", n)));
    assert.deepEqual(answers, [2, 4, 6, 8]);
    assert.deepEqual(batches, [[1, 2, 3, 4]]);
    assert.deepEqual(alone, []);
  });

  it("keeps keys apart, runs a lone call alone, and starts a new batch when one is full", async () => {
    const { batcher, batches, alone } = doubling({ windowMs: 5, max: 3 });
    const answers = await Promise.all([batcher.run("a", 1), batcher.run("a", 2), batcher.run("b", 3), batcher.run("a", 4), batcher.run("a", 5), batcher.run("a", 6)]);
    assert.deepEqual(answers, [2, 4, 6, 8, 10, 12]);
    assert.deepEqual(batches, [[1, 2, 4], [5, 6]]);
    assert.deepEqual(alone, [3]);
  });

  it("never puts two calls on one item in a batch", async () => {
    const { batcher, batches } = doubling({ windowMs: 0, max: 100 });
    await Promise.all([1, 2, 101, 3].map((n) => batcher.run("k", n)));
    assert.deepEqual(batches, [[1, 2], [101, 3]]);
  });

  it("fails only the answer whose own promise fails", async () => {
    const { batcher } = doubling({ windowMs: 0, max: 100 });
    const answers = await Promise.allSettled([1, 13, 2].map((n) => batcher.run("k", n)));
    assert.deepEqual(answers.map((a) => a.status), ["fulfilled", "rejected", "fulfilled"]);
  });

  it("runs each call alone when its batch fails, so each caller gets its own answer or error", async () => {
    const { batcher, batches, alone } = doubling({ windowMs: 0, max: 100 }, true);
    const answers = await Promise.allSettled([1, 7, 2].map((n) => batcher.run("k", n)));
    assert.deepEqual(batches, [[1, 7, 2]]);
    assert.deepEqual(alone.sort(), [1, 2, 7]);
    assert.deepEqual(answers.map((a) => (a.status === "fulfilled" ? a.value : (a.reason as Error).message)), [2, "seven", 4]);
  });

  it("runs every call alone when the batch size is 1", async () => {
    const { batcher, batches, alone } = doubling({ windowMs: 0, max: 1 });
    assert.deepEqual(await Promise.all([1, 2].map((n) => batcher.run("k", n))), [2, 4]);
    assert.deepEqual(batches, []);
    assert.deepEqual(alone, [1, 2]);
  });
});
