import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startAppProcess } from "../src/testing.js";

test("startAppProcess passes nodeArgs to node before the entry, e.g. --env-file, and args after it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wk-testing-"));
  try {
    writeFileSync(join(dir, "entry.js"), "process.stdout.write(JSON.stringify({ from: process.env.FROM_FILE, set: process.env.SET, args: process.argv.slice(2) }) + '\\n');\n");
    writeFileSync(join(dir, ".env"), "FROM_FILE=file\nSET=file\n");
    const p = startAppProcess({ SET: "env" }, "entry.js", { cwd: dir, nodeArgs: ["--env-file=.env"], args: ["--x", "1"] });
    assert.equal(await p.exited, 0, p.stderr());
    // The environment given wins over the file, as node's --env-file does.
    assert.deepEqual(p.lines, [{ from: "file", set: "env", args: ["--x", "1"] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
