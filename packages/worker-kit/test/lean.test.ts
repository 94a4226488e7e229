// Issue 18, lean services: a direct-mode app loads neither BullMQ nor ioredis, and an app that reads no
// sources file loads neither the YAML nor the cron parser. On the code before, importing worker-kit loaded
// all four (about 23 MB resident for BullMQ and ioredis alone).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { REDIS_URL, dropPrefix, testPrefix } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/loaded-libraries.ts", import.meta.url));

/** The optional libraries a fresh process loaded doing what `mode` does. */
function loaded(mode: string, ...args: string[]): string[] {
  const out = execFileSync(process.execPath, ["--import", "tsx", FIXTURE, mode, ...args], { encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out) as string[];
}

describe("optional libraries load only when their mode uses them", () => {
  it("importing worker-kit loads none of them", () => {
    assert.deepEqual(loaded("import"), []);
  });

  it("a direct-mode runtime with a budget loads neither BullMQ nor ioredis", () => {
    assert.deepEqual(loaded("direct"), []);
  });

  it("a hybrid-mode runtime loads BullMQ and ioredis (BullMQ takes its own cron parser), not the YAML parser", async () => {
    const prefix = testPrefix();
    try {
      const libs = loaded("hybrid", REDIS_URL, prefix);
      assert.ok(libs.includes("bullmq") && libs.includes("ioredis"), libs.join(", "));
      assert.ok(!libs.includes("yaml"), libs.join(", "));
    } finally {
      await dropPrefix(prefix);
    }
  });

  it("reading a YAML sources file and checking a cron schedule loads the two parsers", () => {
    assert.deepEqual(loaded("sources"), ["cron-parser", "yaml"]);
  });
});
