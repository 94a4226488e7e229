/**
 * Test helpers for the adapters' tests against the sandbox (`@prismq/sandbox/testing`).
 * Never imported by the sandbox itself.
 */
import assert from "node:assert/strict";

/** Runs `fn`, which must throw (reject), and returns the error; fails the test when it does not. */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return assert.fail("expected the call to throw");
}
