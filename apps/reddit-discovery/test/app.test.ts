import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { Redis } from "ioredis";
import { DEFAULT_REDDIT_CLIENT } from "@prismq/sandbox";
import { Reddit } from "@prismq/task-types";
import { Rig, UA, uid } from "./helpers.js";
import { dropRedisKeys, startAppProcess, until } from "@prismq/worker-kit/testing";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const WEEK_S = 604_800;

/** An OAuth app of the sandbox with secrets no other string in the test shares. */
const appClient = () => ({ clientId: `rdd-app-${uid()}`, clientSecret: `rdd-secret-${uid()}${uid()}`, refreshTokens: [`rdd-refresh-${uid()}${uid()}`] });

async function rigFor(t: TestContext, client: ReturnType<typeof appClient>): Promise<Rig> {
  return Rig.start(t, { sandbox: { clients: [DEFAULT_REDDIT_CLIENT, client] } });
}

function envFor(rig: Rig, client: ReturnType<typeof appClient>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TASKMANAGER_API_URL: rig.tm.server.url,
    TASKMANAGER_API_KEY: rig.tm.key,
    REDDIT_CLIENT_ID: client.clientId,
    REDDIT_CLIENT_SECRET: client.clientSecret,
    REDDIT_REFRESH_TOKEN: client.refreshTokens[0] as string,
    REDDIT_USER_AGENT: UA,
    REDDIT_API_URL: rig.sandbox.url,
    DATA_DIR: join(rig.dir, `data-${uid()}`),
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ...extra,
  };
}

describe("reddit-discovery as a process", () => {
  it("refuses a bad environment with one message naming each bad variable (exit 2), never echoing a secret", async (t) => {
    const rig = await Rig.start(t);
    const app = startAppProcess({
      TASKMANAGER_API_URL: rig.tm.server.url,
      TASKMANAGER_API_KEY: rig.tm.key,
      REDDIT_CLIENT_SECRET: "do-not-echo-this-secret",
      REDDIT_USER_AGENT: "curl/8.0",
      REDDIT_REQUESTS_PER_MINUTE: "500000",
      DEFAULT_LIMIT: "0",
    });
    assert.equal(await app.exited, 2);
    const text = app.stderr();
    assert.match(text, /REDDIT_CLIENT_ID: is required/);
    assert.match(text, /REDDIT_USER_AGENT: must look like "node:prismq-reddit:0\.1\.0 \(by \/u\/yourname\)"/);
    assert.match(text, /REDDIT_REQUESTS_PER_MINUTE: must be at most 100000/);
    assert.match(text, /DEFAULT_LIMIT: must be at least 1/);
    assert.doesNotMatch(text + app.stdout(), /do-not-echo-this-secret/);
  });

  it(
    "refuses a username without a password as a configuration error (exit 2), naming the missing variable, before any request",
    async (t) => {
      const client = appClient();
      const rig = await rigFor(t, client);
      const env = envFor(rig, client, { REDDIT_USERNAME: "sandbox" });
      delete env.REDDIT_REFRESH_TOKEN;
      const app = startAppProcess(env);
      const code = await app.exited;
      assert.match(app.stderr(), /REDDIT_PASSWORD: is required/);
      assert.equal(code, 2);
      assert.doesNotMatch(app.stderr(), /failed to start/);
      assert.equal(rig.sandbox.stats().requests.byClient[client.clientId], undefined, "Reddit was never asked");
    },
  );

  it("refuses a bad sources file with one message naming each bad entry (exit 2)", async (t) => {
    const client = appClient();
    const rig = await rigFor(t, client);
    const sources = join(rig.dir, "bad-sources.json");
    writeFileSync(
      sources,
      JSON.stringify({
        sources: [{ kind: "subreddit" }, { kind: "subreddit", subreddit: "Cooking", sort: "best" }, { kind: "search", query: "soup", every: "soon" }, { kind: "podcast" }, { kind: "subreddit", subreddit: "r/Cooking" }],
      }),
    );
    const app = startAppProcess(envFor(rig, client, { REDDIT_SOURCES: sources }));
    assert.equal(await app.exited, 2);
    const text = app.stderr();
    assert.match(text, /sources\[0\]\.subreddit/);
    assert.match(text, /sources\[1\]: sort must be one of .*\(got "best"\)/);
    assert.match(text, /sources\[2\]\.every: must be like "90s"/);
    assert.match(text, /sources\[3\]\.kind/);
    assert.match(text, /sources\[4\]: subreddit must match pattern .*\(got "r\/Cooking"\)/);
    const asked = rig.sandbox.stats().requests;
    assert.equal(asked.byClient[client.clientId], undefined, "the app asked nothing of Reddit");
    assert.equal(asked.byEndpoint.listing + asked.byEndpoint.search, 0);

    const missing = startAppProcess(envFor(rig, client, { REDDIT_SOURCES: join(rig.dir, "no-such-file.yaml") }));
    assert.equal(await missing.exited, 2);
    assert.match(missing.stderr(), /no-such-file\.yaml/);
  });

  for (const mode of ["direct", "hybrid"] as const) {
    it(`runs its sources file in ${mode} mode, creating one Post task per post found, serves its metrics, never logs a secret, and stops with exit 0 on SIGTERM`, async (t) => {
      const client = appClient();
      const rig = await rigFor(t, client);
      const newSub = rig.subredditWith(200, 400);
      const topSub = rig.subredditWith(100, 199);
      const searchSub = rig.subredditWith(301, 999);
      const word = rig.titleWords(rig.sandbox.data.postIds(searchSub)[0] as string).find((w) => w.length >= 5) as string;
      const expected = new Set([...rig.sandbox.data.postIds(newSub), ...rig.postsWithin(WEEK_S, topSub), ...rig.postsTitled(word, searchSub)]);
      const sources = join(rig.dir, `sources-${mode}.yaml`);
      writeFileSync(
        sources,
        [
          "sources:",
          "  - kind: subreddit",
          `    subreddit: ${newSub}`,
          "    sort: new",
          "    limit: 1000",
          "    every: 1h",
          "    priority: 5",
          "  - kind: subreddit",
          `    subreddit: ${topSub}`,
          "    sort: top",
          "    time_filter: week",
          "    limit: 1000",
          "    every: 1h",
          "  - kind: search",
          `    query: ${word}`,
          `    subreddit: ${searchSub}`,
          "    sort: new",
          "    limit: 1000",
          "    every: 1h",
          "",
        ].join("\n"),
      );
      const prefix = `test-rdd-${uid()}`;
      const dataDir = join(rig.dir, `data-${mode}`);
      const app = startAppProcess(envFor(rig, client, { REDDIT_SOURCES: sources, DATA_DIR: dataDir, ...(mode === "hybrid" ? { REDIS_URL, QUEUE_PREFIX: prefix } : {}) }));
      try {
        await until(
          async () => {
            let n = 0;
            for await (const s of rig.client.listTasks({ type: Reddit.Post.name, pageSize: 1000 })) if (s) n++;
            return n >= expected.size;
          },
          30_000,
          `${expected.size} Post tasks`,
        );
        await until(() => app.lines.filter((l) => l.msg === "discovery run done").length === 3, 10_000, "three runs done");
        const ids = await rig.postIds();
        assert.equal(ids.length, expected.size, "one task per post");
        assert.deepEqual(new Set(ids), expected);
        // The source's priority is on the tasks it created; the sources without one created at 0.
        const newPosts = new Set(rig.sandbox.data.postIds(newSub));
        for (const task of await rig.postTasks()) assert.equal(task.priority, newPosts.has(task.params.post_id) ? 5 : 0, task.params.post_id);
        assert.ok((rig.sandbox.stats().requests.byClient[client.clientId] ?? 0) > 0, "the app used its own OAuth app");
        assert.ok(app.lines.some((l) => String(l.msg).startsWith(`${mode} mode`)), "says its mode at start");
        // What it sent is remembered where the mode keeps state: Redis in hybrid mode, a file in DATA_DIR in direct mode.
        if (mode === "hybrid") {
          const r = new Redis(REDIS_URL);
          try {
            assert.equal(await r.scard(`${prefix}:state:reddit-discovery:seen:posts`), expected.size);
          } finally {
            r.disconnect();
          }
        } else {
          const seen = readFileSync(join(dataDir, "reddit-discovery.seen.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as [string, string]);
          assert.deepEqual(new Set(seen.filter(([set]) => set === "posts").map(([, id]) => id)), expected);
        }

        const running = app.lines.find((l) => l.msg === "reddit-discovery running");
        assert.ok(running, "logs that it runs");
        const metrics = await (await fetch(`${String(running.health)}/metrics`)).text();
        assert.match(metrics, /prismq_api_calls_total\{api="reddit",method="listing",outcome="ok"[^}]*\} [1-9]/);
        assert.match(metrics, /prismq_api_calls_total\{api="reddit",method="search",outcome="ok"[^}]*\} [1-9]/);

        app.child.kill("SIGTERM");
        assert.equal(await app.exited, 0, app.stderr());
        const everything = app.stdout() + app.stderr();
        assert.ok(!everything.includes(rig.tm.key), "the TaskManager API key is never logged");
        assert.ok(!everything.includes(client.clientSecret), "the Reddit secret is never logged");
        assert.ok(!everything.includes(client.refreshTokens[0] as string), "the refresh token is never logged");
      } finally {
        app.child.kill("SIGKILL");
        if (mode === "hybrid") await dropRedisKeys(REDIS_URL, prefix);
      }
    });
  }

  it("runs Subreddit and Search tasks other apps create, completing each with its report and carrying its hops", async (t) => {
    const client = appClient();
    const rig = await rigFor(t, client);
    const sub = rig.subredditWith(100, 199);
    const newest = rig.sandbox.data.postIds(sub).slice(0, 20);
    const other = rig.subredditWith(301, 999);
    const word = rig.titleWords(rig.sandbox.data.postIds(other)[0] as string).find((w) => w.length >= 5) as string;
    const found = rig.postsTitled(word, other).slice(0, 3);
    const listing = await Reddit.Subreddit.create(rig.client, { subreddit: sub, sort: "new", limit: 20, hops: 1 });
    const search = await Reddit.Search.create(rig.client, { query: word, subreddit: other, sort: "new", limit: 3, hops: 1 });
    const missing = await Reddit.Subreddit.create(rig.client, { subreddit: "nosuchsubreddit", sort: "new" });
    const app = startAppProcess(envFor(rig, client));
    try {
      await until(
        async () => {
          const a = await rig.client.getTask(listing.id);
          const b = await rig.client.getTask(missing.id);
          const c = await rig.client.getTask(search.id);
          return a?.status === "completed" && b?.status === "failed" && c?.status === "completed";
        },
        20_000,
        "the three discovery tasks settled",
      );
      const done = await rig.client.getTask(listing.id);
      assert.deepEqual(done?.result, { listed: 20, sent: 20, pages: 1, stoppedAtKnown: false });
      assert.deepEqual((await rig.client.getTask(search.id))?.result, { listed: 3, sent: 3, pages: 1, stoppedAtKnown: false });
      const failed = await rig.client.getTask(missing.id);
      assert.equal(failed?.attempts, 1, "not retried");
      assert.match(failed?.errorMessage ?? "", /404|not found/i);
      const tasks = await rig.postTasks();
      assert.deepEqual(new Set(tasks.map((x) => x.params.post_id)), new Set([...newest, ...found]));
      assert.ok(
        tasks.every((x) => x.params.hops === 1),
        "the discovery task's hop",
      );
      app.child.kill("SIGTERM");
      assert.equal(await app.exited, 0, app.stderr());
    } finally {
      app.child.kill("SIGKILL");
    }
  });
});
