import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { envRows, envTable, readmeEnvTable } from "@prismq/worker-kit";
import { startAppProcess } from "@prismq/worker-kit/testing";
import { shape } from "../src/config.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("reddit-discovery --help and README", () => {
  it("--help prints every variable with its default and meaning, and exits 0 without starting", { timeout: 30_000 }, async () => {
    const app = startAppProcess({}, "src/index.ts", { args: ["--help"] });
    assert.equal(await app.exited, 0, app.stderr());
    assert.ok(app.stdout().startsWith("reddit-discovery: finds Reddit posts (subreddit "), app.stdout());
    for (const row of envRows(shape)) {
      assert.match(app.stdout(), new RegExp(`^ {2}${row.name} +${escape(row.default || "-")} +`, "m"), row.name);
      assert.ok(app.stdout().includes(row.meaning), `${row.name}'s meaning`);
    }
    assert.equal(app.lines.length, 0, "nothing started");
  });

  it("the README's table of variables is the one generated from the config schema", () => {
    const table = readmeEnvTable(readFileSync(new URL("../README.md", import.meta.url), "utf8"));
    assert.equal(table, envTable(shape), `paste this between the env-table markers of README.md (pnpm docs:env):\n${envTable(shape)}`);
  });
});
