import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { itDocumentsItsVariables, startAppProcess } from "@prismq/worker-kit/testing";
import { shape } from "../src/config.js";

describe("reddit-processor --help and README", () => {
  itDocumentsItsVariables({ shape, summaryStart: "reddit-processor: claims Reddit Post tasks in ba", readme: new URL("../README.md", import.meta.url) });

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
