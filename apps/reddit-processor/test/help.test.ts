import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { envRows, envTable, readmeEnvTable } from "@prismq/worker-kit";
import { startAppProcess } from "@prismq/worker-kit/testing";
import { shape } from "../src/config.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("reddit-processor --help and README", () => {
  it("--help prints every variable with its default and meaning, and exits 0 without starting", { timeout: 30_000 }, async () => {
    const app = startAppProcess({}, "src/index.ts", { args: ["--help"] });
    assert.equal(await app.exited, 0, app.stderr());
    assert.ok(app.stdout().startsWith("reddit-processor: claims Reddit Post tasks in ba"), app.stdout());
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

  it("refuses an IDEA_DATABASE_URL the idea store cannot open in the config check (exit 2), before anything starts", { timeout: 30_000 }, async () => {
    for (const url of ["mysql://x", "sqlite:"]) {
      const app = startAppProcess(
        {
          TASKMANAGER_API_URL: "http://127.0.0.1:9/api",
          TASKMANAGER_API_KEY: "k",
          REDDIT_CLIENT_ID: "id",
          REDDIT_USER_AGENT: "node:prismq-test:0.1.0 (by /u/prismq)",
          IDEA_DATABASE_URL: url,
        },
        "src/index.ts",
      );
      assert.equal(await app.exited, 2, `${url}: ${app.stderr()}`);
      assert.match(app.stderr(), /^reddit-processor: invalid configuration:\n {2}- IDEA_DATABASE_URL: /, url);
      assert.equal(app.lines.length, 0, "nothing started");
    }
  });
});
