import assert from "node:assert/strict";
import { test } from "node:test";
import { Reddit } from "@prismq/task-types";
import { LocalBudget, createLogger } from "@prismq/worker-kit";
import { DEFAULT_REDDIT_CLIENT, startRedditSandbox } from "../../sandbox/src/index.js";
import { RedditApi, RedditAuthError, platform, postToIdea, type RedditEnv } from "../src/index.js";

const UA = "node:prismq-descriptor-test:0.1.0 (by /u/prismq)";
const silent = () => createLogger({ service: "reddit-descriptor-test", level: "silent" });

test("the Reddit descriptor holds the Reddit task types, the shared per-client budget and the post mapping", () => {
  const config: RedditEnv = { REDDIT_CLIENT_ID: "my app/1", REDDIT_USER_AGENT: UA, REDDIT_REQUESTS_PER_MINUTE: 90 };
  assert.equal(platform.name, "reddit");
  assert.deepEqual(platform.taskTypes, Object.values(Reddit));
  assert.deepEqual(platform.budget(config), { name: "reddit-requests.my_app_1", limit: 90, window: { kind: "fixed", ms: 60_000 } });
  assert.equal(platform.toIdea, postToIdea);
  assert.ok(Object.keys(platform.config).includes("REDDIT_CLIENT_ID"));
});

test("the descriptor's sandbox variables sign in to the sandbox, and createApi answers a client on the given budget", async (t) => {
  const sb = await startRedditSandbox();
  t.after(() => sb.close());
  const env = platform.sandbox?.env(sb.url);
  assert.ok(env);
  assert.equal(env.REDDIT_CLIENT_ID, DEFAULT_REDDIT_CLIENT.clientId);
  const config: RedditEnv = { REDDIT_CLIENT_ID: env.REDDIT_CLIENT_ID ?? "", REDDIT_CLIENT_SECRET: env.REDDIT_CLIENT_SECRET, REDDIT_REFRESH_TOKEN: env.REDDIT_REFRESH_TOKEN, REDDIT_API_URL: env.REDDIT_API_URL, REDDIT_USER_AGENT: UA, REDDIT_REQUESTS_PER_MINUTE: 2 };
  const budget = new LocalBudget(platform.budget(config));
  const api = await platform.createApi(config, { budget, logger: silent() });
  assert.ok(api instanceof RedditApi);
  const page = await api.listing("technology", "new", { limit: 5 });
  assert.ok(page.items.length > 0);
  assert.equal((await budget.state()).spent, 1, "the call spent the budget it was given");
});

test("createApi rejects refused credentials at once", async (t) => {
  const sb = await startRedditSandbox();
  t.after(() => sb.close());
  const config: RedditEnv = { REDDIT_CLIENT_ID: "nobody", REDDIT_CLIENT_SECRET: "wrong", REDDIT_API_URL: sb.url, REDDIT_USER_AGENT: UA, REDDIT_REQUESTS_PER_MINUTE: 90 };
  await assert.rejects(platform.createApi(config, { budget: new LocalBudget(platform.budget(config)), logger: silent() }), RedditAuthError);
});
