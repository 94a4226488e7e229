import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, SourcesError, loadOrExit, runMain } from "../src/index.js";

/** An io whose stderr is kept in `text`. */
function capture(exit: (code: number) => never) {
  const io = { text: "", exit, stderr: (t: string) => void (io.text += t) };
  return io;
}

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
const exit = (code: number): never => {
  throw new Exited(code);
};

describe("loadOrExit", () => {
  it("answers what the load gives", async () => {
    assert.deepEqual(await loadOrExit(() => ({ port: 1 }), capture(exit)), { port: 1 });
  });

  for (const err of [new ConfigError("svc: invalid configuration:\n  - PORT: must be a number", ["PORT"]), new SourcesError("svc: sources[0].kind: bad", ["sources[0]"])]) {
    it(`writes a ${err.name}'s message to stderr and exits 2`, async () => {
      const io = capture(exit);
      const exited = await loadOrExit(() => Promise.reject(err), io).catch((e: unknown) => e);
      assert.ok(exited instanceof Exited && exited.code === 2, String(exited));
      assert.equal(io.text, `${err.message}\n`);
    });
  }

  it("lets any other error through, to end as a crash", async () => {
    await assert.rejects(loadOrExit(() => Promise.reject(new TypeError("boom")), capture(exit)), /boom/);
  });
});

describe("runMain", () => {
  it("writes the service and the error's stack to stderr and exits 1 when main fails", async () => {
    const codes: number[] = [];
    let text = "";
    runMain("svc", () => Promise.reject(new Error("no database")), { exit: (code) => codes.push(code), stderr: (t) => (text += t) });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(codes, [1]);
    assert.match(text, /^svc failed to start: Error: no database\n {4}at /);
  });

  it("does not exit when main resolves", async () => {
    const codes: number[] = [];
    runMain("svc", async () => {}, { exit: (code) => codes.push(code), stderr: () => assert.fail("nothing to write") });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(codes, []);
  });
});
