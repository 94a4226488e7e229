import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { FileState, RedisState, Runtime, type AppState } from "../src/index.js";
import { KEY, REDIS_URL, dropPrefix, silent, testPrefix, uid } from "./helpers.js";

/** A RangeError whose message quotes the bad name. */
const badName = (name: string) => (err: unknown) => err instanceof RangeError && err.message.includes(`"${name}"`);

interface Backend {
  before(): Promise<void>;
  after(): Promise<void>;
  /** A state of a new app (or of `app`) on the backend's store. */
  open(app: string): AppState;
  /** Everything stored for `app`: Redis keys with their contents, or files with their text. */
  stored(app: string): Promise<Record<string, unknown>>;
}

function redisBackend(): Backend {
  const prefix = testPrefix();
  let redis: Redis;
  return {
    async before() {
      redis = new Redis(REDIS_URL);
    },
    async after() {
      await redis.quit();
      await dropPrefix(prefix);
    },
    open: (app) => new RedisState(redis, prefix, app),
    async stored(app) {
      const keys = (await redis.keys(`${prefix}:state:${app}:*`)).sort();
      const out: Record<string, unknown> = {};
      for (const k of keys) out[k] = (await redis.type(k)) === "set" ? (await redis.smembers(k)).sort() : await redis.hgetall(k);
      return out;
    },
  };
}

function fileBackend(): Backend {
  let dir = "";
  return {
    async before() {
      dir = await mkdtemp(join(tmpdir(), "wk-state-"));
    },
    async after() {
      await rm(dir, { recursive: true, force: true });
    },
    open: (app) => new FileState(dir, app),
    async stored(app) {
      const out: Record<string, unknown> = {};
      for (const f of (await readdir(dir)).sort()) if (f.startsWith(`${app}.`)) out[f] = await readFile(join(dir, f), "utf8");
      return out;
    },
  };
}

/** The behaviour every AppState has, whatever it stores in. */
function behaves(name: string, backend: Backend) {
  describe(`${name}: AppState behaviour`, () => {
    before(() => backend.before());
    after(() => backend.after());
    const app = () => `app-${uid()}`;

    it("answers unseen with the ids not marked, in the order given, each duplicate once", async () => {
      const s = backend.open(app());
      assert.deepEqual(await s.unseen("videos", ["c", "a", "b", "a", "c"]), ["c", "a", "b"]);
      await s.markSeen("videos", ["a"]);
      assert.deepEqual(await s.unseen("videos", ["d", "a", "c", "d", "b"]), ["d", "c", "b"]);
      assert.deepEqual(await s.unseen("videos", []), []);
    });

    it("excludes from unseen the ids marked seen, and marking again changes nothing", async () => {
      const s = backend.open(app());
      await s.markSeen("videos", ["v1", "v2", "v2"]);
      await s.markSeen("videos", ["v2", "v3"]);
      await s.markSeen("videos", []);
      assert.deepEqual(await s.unseen("videos", ["v1", "v2", "v3", "v4"]), ["v4"]);
      assert.equal(await s.seenCount("videos"), 3);
    });

    it("keeps sets independent of each other", async () => {
      const s = backend.open(app());
      await s.markSeen("videos", ["x", "y"]);
      await s.markSeen("channels", ["y", "z"]);
      assert.deepEqual(await s.unseen("videos", ["x", "y", "z"]), ["z"]);
      assert.deepEqual(await s.unseen("channels", ["x", "y", "z"]), ["x"]);
      assert.deepEqual(await s.unseen("other", ["x", "y", "z"]), ["x", "y", "z"]);
    });

    it("counts the distinct ids of a set, 0 for a set never used", async () => {
      const s = backend.open(app());
      assert.equal(await s.seenCount("videos"), 0);
      await s.markSeen("videos", ["a", "b", "a"]);
      await s.markSeen("videos", ["b", "c"]);
      await s.markSeen("other", ["d"]);
      assert.equal(await s.seenCount("videos"), 3);
      assert.equal(await s.seenCount("other"), 1);
    });

    it("gets, sets and overwrites cursors; an unset cursor is undefined", async () => {
      const s = backend.open(app());
      assert.equal(await s.getCursor("search.publishedAfter"), undefined);
      await s.setCursor("search.publishedAfter", "2024-01-01T00:00:00Z");
      await s.setCursor("page:token", "abc");
      assert.equal(await s.getCursor("search.publishedAfter"), "2024-01-01T00:00:00Z");
      await s.setCursor("search.publishedAfter", "2024-02-01T00:00:00Z");
      assert.equal(await s.getCursor("search.publishedAfter"), "2024-02-01T00:00:00Z");
      assert.equal(await s.getCursor("page:token"), "abc");
      await s.setCursor("page:token", "");
      assert.equal(await s.getCursor("page:token"), "", "an empty value is a value");
    });

    it("refuses a bad set or cursor name with a RangeError naming it, and writes nothing", async () => {
      const a = app();
      const s = backend.open(a);
      await assert.rejects(s.markSeen("bad name!", ["a"]), badName("bad name!"));
      await assert.rejects(s.unseen("bad name!", ["a"]), badName("bad name!"));
      await assert.rejects(s.setCursor("bad name!", "v"), badName("bad name!"));
      await assert.rejects(s.markSeen("", ["a"]), badName(""));
      await assert.rejects(s.markSeen("x".repeat(201), ["a"]), RangeError);
      await assert.rejects(s.setCursor("a/b", "v"), badName("a/b"));
      assert.deepEqual(await backend.stored(a), {});
      // Names at the edge of the rule are fine.
      await s.markSeen("x".repeat(200), ["a"]);
      await s.setCursor("A-z_0.9:@", "v");
      assert.equal(await s.getCursor("A-z_0.9:@"), "v");
    });

    it("refuses a bad set name in every seen method, even with no ids (the same in both modes)", async () => {
      const a = app();
      const s = backend.open(a);
      await assert.rejects(s.unseen("bad name!", []), badName("bad name!"), "unseen with no ids");
      await assert.rejects(s.markSeen("bad name!", []), badName("bad name!"), "markSeen with no ids");
      await assert.rejects(s.seenCount("bad name!"), badName("bad name!"), "seenCount");
      assert.deepEqual(await backend.stored(a), {});
    });

    it("refuses a bad app name", () => {
      assert.throws(() => backend.open("bad app!"), badName("bad app!"));
    });
  });
}

behaves("RedisState", redisBackend());
behaves("FileState", fileBackend());

describe("RedisState: shared state", () => {
  const prefix = testPrefix();
  let redis: Redis;
  let other: Redis;
  before(() => {
    redis = new Redis(REDIS_URL);
    other = new Redis(REDIS_URL);
  });
  after(async () => {
    await redis.quit();
    await other.quit();
    await dropPrefix(prefix);
  });

  it("shares seen ids and cursors between instances (replicas) of one app, not with another app", async () => {
    const app = `app-${uid()}`;
    const replicaA = new RedisState(redis, prefix, app);
    const replicaB = new RedisState(other, prefix, app);
    const otherApp = new RedisState(redis, prefix, `${app}-other`);
    await replicaA.markSeen("videos", ["v1", "v2"]);
    await replicaA.setCursor("after", "2024");
    assert.deepEqual(await replicaB.unseen("videos", ["v1", "v2", "v3"]), ["v3"]);
    assert.equal(await replicaB.seenCount("videos"), 2);
    assert.equal(await replicaB.getCursor("after"), "2024");
    await replicaB.markSeen("videos", ["v3"]);
    assert.deepEqual(await replicaA.unseen("videos", ["v1", "v2", "v3"]), []);
    assert.deepEqual(await otherApp.unseen("videos", ["v1", "v2", "v3"]), ["v1", "v2", "v3"]);
    assert.equal(await otherApp.seenCount("videos"), 0);
    assert.equal(await otherApp.getCursor("after"), undefined);
  });

  it("keeps its keys under <prefix>:state:<app>:", async () => {
    const app = `app-${uid()}`;
    const s = new RedisState(redis, prefix, app);
    await s.markSeen("videos", ["v1"]);
    await s.setCursor("after", "x");
    const keys = await redis.keys(`${prefix}:*`);
    assert.ok(keys.length >= 2);
    const mine = keys.filter((k) => k.includes(`:${app}:`));
    assert.equal(mine.length, 2);
    for (const k of mine) assert.ok(k.startsWith(`${prefix}:state:${app}:`), k);
  });
});

describe("FileState: persistence", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wk-state-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const app = () => `app-${uid()}`;
  const seenFile = (a: string) => join(dir, `${a}.seen.jsonl`);
  const cursorFile = (a: string) => join(dir, `${a}.cursors.json`);

  it("gives a new instance on the same dir the seen ids and cursors of the earlier one, and nothing of another app", async () => {
    const a = app();
    const first = new FileState(dir, a);
    await first.markSeen("videos", ["v1", "v2"]);
    await first.markSeen("channels", ["c1"]);
    await first.setCursor("after", "2024-01-01");
    await first.setCursor("after", "2024-02-01");
    const second = new FileState(dir, a);
    assert.deepEqual(await second.unseen("videos", ["v1", "v2", "v3"]), ["v3"]);
    assert.equal(await second.seenCount("channels"), 1);
    assert.equal(await second.getCursor("after"), "2024-02-01");
    const stranger = new FileState(dir, app());
    assert.equal(await stranger.seenCount("videos"), 0);
    assert.equal(await stranger.getCursor("after"), undefined);
  });

  it("creates its dir when missing", async () => {
    const nested = join(dir, `nested-${uid()}`, "deeper");
    const a = app();
    await new FileState(nested, a).markSeen("videos", ["v1"]);
    assert.deepEqual(await new FileState(nested, a).unseen("videos", ["v1", "v2"]), ["v2"]);
  });

  it("ignores a torn last line in the seen file and keeps the other ids known", async () => {
    const a = app();
    const first = new FileState(dir, a);
    await first.markSeen("videos", ["v1", "v2"]);
    await appendFile(seenFile(a), '["videos","v3'); // the crash came mid-write
    const second = new FileState(dir, a);
    assert.deepEqual(await second.unseen("videos", ["v1", "v2", "v3"]), ["v3"]);
    assert.equal(await second.seenCount("videos"), 2);
  });

  it("keeps ids marked after a torn last line known to the next instance", async () => {
    const a = app();
    await new FileState(dir, a).markSeen("videos", ["v1"]);
    await appendFile(seenFile(a), '["videos","v2'); // torn line, no newline
    const second = new FileState(dir, a);
    await second.markSeen("videos", ["v3"]);
    const third = new FileState(dir, a);
    assert.deepEqual(await third.unseen("videos", ["v1", "v2", "v3"]), ["v2"], "v3 was marked after the crash and must stay seen");
  });

  it("persists every id of concurrent markSeen calls, each id once", async () => {
    const a = app();
    const s = new FileState(dir, a);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.markSeen("videos", [`v${i}`, "shared"])));
    const ids = [...Array.from({ length: 20 }, (_, i) => `v${i}`), "shared"];
    assert.deepEqual(await new FileState(dir, a).unseen("videos", [...ids, "new"]), ["new"]);
    const lines = (await readFile(seenFile(a), "utf8")).split("\n").filter(Boolean);
    assert.equal(lines.length, 21);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as [string, string])[1]).sort(), [...ids].sort());
  });

  it("replaces the cursor file atomically: always valid JSON, last values win, no temp file left", async () => {
    const a = app();
    const s = new FileState(dir, a);
    await s.setCursor("k0", "start");
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const text = await readFile(cursorFile(a), "utf8");
        assert.doesNotThrow(() => JSON.parse(text), `a reader saw ${JSON.stringify(text)}`);
        reads++;
      }
    })();
    const writes: Array<Promise<void>> = [];
    for (let round = 0; round < 10; round++) for (let k = 0; k < 20; k++) writes.push(s.setCursor(`k${k}`, `r${round}-${"x".repeat(200)}`));
    await Promise.all(writes);
    reading = false;
    await reader;
    assert.ok(reads > 0);
    const expected = Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`k${k}`, `r9-${"x".repeat(200)}`]));
    assert.deepEqual(JSON.parse(await readFile(cursorFile(a), "utf8")), expected);
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith(`${a}.`) && f.endsWith(".tmp")), []);
    assert.equal(await new FileState(dir, a).getCursor("k7"), `r9-${"x".repeat(200)}`);
  });

  it("keeps writing after one write failed", async () => {
    const a = app();
    const s = new FileState(dir, a);
    await s.setCursor("after", "1");
    await mkdir(seenFile(a)); // the seen file cannot be appended to now
    await assert.rejects(s.markSeen("videos", ["v1"]));
    await s.setCursor("after", "2");
    assert.deepEqual(JSON.parse(await readFile(cursorFile(a), "utf8")), { after: "2" });
  });
});

describe("Runtime.state()", () => {
  const client = new TaskManagerClient({ baseUrl: "http://127.0.0.1:1/api", apiKey: KEY, workerId: "state-test", retry: false });
  const prefix = testPrefix();
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wk-state-"));
  });
  after(async () => {
    await client.close();
    await rm(dir, { recursive: true, force: true });
    await dropPrefix(prefix);
  });

  it("keeps app state in Redis in hybrid mode, under the service's name", async () => {
    const service = `svc-${uid()}`;
    const rt = new Runtime({ service, client, logger: silent, redisUrl: REDIS_URL, prefix });
    try {
      const s = rt.state(dir);
      assert.ok(s instanceof RedisState);
      await s.markSeen("videos", ["v1"]);
      assert.deepEqual(await new RedisState(rt.redis as Redis, prefix, service).unseen("videos", ["v1", "v2"]), ["v2"]);
      assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith(service)), []);
    } finally {
      await rt.close();
    }
  });

  it("keeps app state in files under dataDir in direct mode, under the service's name", async () => {
    const service = `svc-${uid()}`;
    const rt = new Runtime({ service, client, logger: silent });
    try {
      const s = rt.state(dir);
      assert.ok(s instanceof FileState);
      await s.markSeen("videos", ["v1"]);
      assert.deepEqual(await new FileState(dir, service).unseen("videos", ["v1", "v2"]), ["v2"]);
    } finally {
      await rt.close();
    }
  });
});
