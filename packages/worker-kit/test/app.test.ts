import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, SourcesError, loadOrExit, runMain } from "../src/index.js";

/** Runs `fn` with process.stderr.write captured; answers what was written. */
async function stderrOf(fn: () => Promise<void>): Promise<string> {
  const write = process.stderr.write;
  let text = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
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
    assert.deepEqual(await loadOrExit(() => ({ port: 1 }), exit), { port: 1 });
  });

  for (const err of [new ConfigError("svc: invalid configuration:\n  - PORT: must be a number", ["PORT"]), new SourcesError("svc: sources[0].kind: bad", ["sources[0]"])]) {
    it(`writes a ${err.name}'s message to stderr and exits 2`, async () => {
      let exited: unknown;
      const text = await stderrOf(async () => {
        exited = await loadOrExit(() => Promise.reject(err), exit).catch((e: unknown) => e);
      });
      assert.ok(exited instanceof Exited && exited.code === 2, String(exited));
      assert.equal(text, `${err.message}\n`);
    });
  }

  it("lets any other error through, to end as a crash", async () => {
    await assert.rejects(loadOrExit(() => Promise.reject(new TypeError("boom")), exit), /boom/);
  });
});

describe("runMain", () => {
  it("writes the service and the error's stack to stderr and exits 1 when main fails", async () => {
    const codes: number[] = [];
    const text = await stderrOf(async () => {
      runMain("svc", () => Promise.reject(new Error("no database")), (code) => codes.push(code));
      await new Promise((r) => setImmediate(r));
    });
    assert.deepEqual(codes, [1]);
    assert.match(text, /^svc failed to start: Error: no database\n {4}at /);
  });

  it("does not exit when main resolves", async () => {
    const codes: number[] = [];
    runMain("svc", async () => {}, (code) => codes.push(code));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(codes, []);
  });
});
