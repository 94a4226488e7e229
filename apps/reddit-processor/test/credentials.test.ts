import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEFAULT_REDDIT_CLIENT, startRedditSandbox, type RedditSandbox } from "@prismq/sandbox";
import { registerAll } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { startAppProcess } from "@prismq/worker-kit/testing";

// Both Reddit apps sign in the same way (reddit-source's check decides): each is started here.
const APPS = { "reddit-processor": "src/index.ts", "reddit-discovery": new URL("../../reddit-discovery/src/index.ts", import.meta.url).pathname };

describe("the Reddit apps with credentials Reddit refuses", () => {
  const dir = mkdtempSync(join(tmpdir(), "rdp-cred-"));
  let tm: TestTaskManager;
  let sandbox: RedditSandbox;
  before(async () => {
    tm = await startTestTaskManager({ register: registerAll });
    sandbox = await startRedditSandbox({ world: { seed: "processor-credentials" } });
  });
  after(async () => {
    await tm.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const wrong = { "a wrong client secret (401)": { REDDIT_CLIENT_SECRET: "not-the-secret" }, "a wrong refresh token (invalid_grant)": { REDDIT_REFRESH_TOKEN: "not-the-token" } };
  const cases = Object.entries(APPS).flatMap(([service, entry]) => Object.entries(wrong).map(([what, change]) => ({ service, entry, what, change })));
  for (const { service, entry, what, change } of cases) {
    it(`${service} ends its start at once with ${what}, naming the variables to fix (exit 1), after one sign-in try`, async () => {
      const tokensBefore = sandbox.stats().requests.byEndpoint.token;
      const env = {
        TASKMANAGER_API_URL: tm.server.url,
        TASKMANAGER_API_KEY: tm.key,
        REDDIT_CLIENT_ID: DEFAULT_REDDIT_CLIENT.clientId,
        REDDIT_CLIENT_SECRET: DEFAULT_REDDIT_CLIENT.clientSecret,
        REDDIT_REFRESH_TOKEN: DEFAULT_REDDIT_CLIENT.refreshTokens?.[0],
        REDDIT_USER_AGENT: "node:prismq-reddit-test:0.1.0 (by /u/prismq)",
        REDDIT_API_URL: sandbox.url,
        DATA_DIR: join(dir, `${service}-${what.replace(/\W+/g, "-")}`),
        // Short, so the old behaviour (waiting until the deadline) ends the test soon too.
        STARTUP_TIMEOUT_SECONDS: "5",
      };
      const app = startAppProcess({ ...env, ...change }, entry);
      assert.equal(await app.exited, 1, app.stderr());
      assert.match(app.stderr(), new RegExp(`^${service} failed to start: Reddit refused the credentials .*REDDIT_CLIENT_ID.*REDDIT_CLIENT_SECRET`, "m"));
      assert.doesNotMatch(app.stderr(), /still unreachable/);
      assert.equal(sandbox.stats().requests.byEndpoint.token - tokensBefore, 1, "one sign-in try, no waiting");
    });
  }
});
