import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openIdeaStore, type IdeaInput } from "@prismq/idea-store";
import { pino } from "pino";
import { buildApp, ConfigError, loadConfig, SqliteStore, type RunningServer } from "../src/server.js";
import { API_KEY, anySchema, api, backends, call, newType, start, taskIn, uid, type Backend } from "./helpers.js";

interface Stats {
  tasks: { total: number; byTypeStatus: Array<{ type: string; status: string; count: number }> };
  workers: Array<{ worker_id: string; claimed: number; task_ids: number[] }>;
  recentFailures: Array<{ id: number; type: string; error_message: string | null; attempts: number; completed_at: string | null }>;
  throughput: Array<{ minute: string; created: number; completed: number; failed: number }>;
  ideas: null | { total: number; byPlatform: Record<string, number>; byCategory: Record<string, number> };
}

async function stats(base: string): Promise<Stats> {
  const r = await api(base).get("/stats");
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.success, true);
  return r.json.data as Stats;
}

const idea = (platform: string, sourceId: string, category: string | null): IdeaInput => ({
  title: `Idea ${sourceId}`,
  sourceId,
  sourcePlatform: platform,
  category,
});

/** Tasks counted per type and status from GET /tasks, the way a client sees them. */
async function countedFromList(base: string) {
  const list = (await api(base).get("/tasks?limit=1000")).json.data;
  const counts = new Map<string, number>();
  for (const t of list.items as Array<{ type: string; status: string }>) {
    const key = `${t.type}|${t.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { total: list.count as number, counts };
}

for (const backend of backends()) {
  describe(`GET /api/stats on ${backend.name}`, () => {
    const servers: RunningServer[] = [];
    const dirs: string[] = [];
    const open = async (options: Parameters<typeof start>[1] = {}) => {
      const s = await start(backend.storage(), options);
      servers.push(s);
      return s;
    };
    const tempDir = () => {
      const d = mkdtempSync(join(tmpdir(), "tm-stats-"));
      dirs.push(d);
      return d;
    };
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await (backend as Backend).cleanup();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it("answers zero counts, 60 empty minutes and ideas null on an empty store without an idea store", async () => {
      const s = await open();
      const data = await stats(s.url);
      assert.deepEqual(data.tasks, { total: 0, byTypeStatus: [] });
      assert.deepEqual(data.workers, []);
      assert.deepEqual(data.recentFailures, []);
      assert.equal(data.ideas, null);
      assert.equal(data.throughput.length, 60);
      for (const m of data.throughput) {
        assert.match(m.minute, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
        assert.deepEqual({ ...m, minute: "" }, { minute: "", created: 0, completed: 0, failed: 0 });
      }
      assert.equal(s.ideas, null);
    });

    it("counts tasks by type and status exactly as GET /tasks lists them", async () => {
      const s = await open();
      const a = await newType(s.url, anySchema);
      const b = await newType(s.url, anySchema);
      for (const state of ["pending", "pending", "claimed", "completed", "completed", "failed", "retry"] as const) await taskIn(s.url, a, state);
      for (const state of ["claimed", "failed", "pending"] as const) await taskIn(s.url, b, state);
      const data = await stats(s.url);
      const listed = await countedFromList(s.url);
      assert.equal(data.tasks.total, listed.total);
      assert.equal(data.tasks.total, 10);
      const fromStats = new Map(data.tasks.byTypeStatus.map((r) => [`${r.type}|${r.status}`, r.count]));
      assert.deepEqual(fromStats, listed.counts);
      assert.deepEqual(
        data.tasks.byTypeStatus.filter((r) => r.type === a.name).map((r) => [r.status, r.count]),
        [["claimed", 1], ["completed", 2], ["failed", 1], ["pending", 3]],
      );
      // Sorted by type, then status; every count a number.
      const sorted = [...data.tasks.byTypeStatus].sort((x, y) => (x.type === y.type ? (x.status < y.status ? -1 : 1) : x.type < y.type ? -1 : 1));
      assert.deepEqual(data.tasks.byTypeStatus, sorted);
      assert.ok(data.tasks.byTypeStatus.every((r) => typeof r.count === "number"));
    });

    it("lists workers by claimed_by with what each holds (at most 20 ids), and forgets a worker once it is done", async () => {
      const s = await open();
      const t = await newType(s.url, anySchema);
      const busy: number[] = [];
      for (let i = 0; i < 23; i++) busy.push(await taskIn(s.url, t, "claimed", "busy-worker"));
      const one = await taskIn(s.url, t, "claimed", "one-task-worker");
      await taskIn(s.url, t, "completed", "finished-worker");
      let data = await stats(s.url);
      assert.deepEqual(data.workers, [
        { worker_id: "busy-worker", claimed: 23, task_ids: busy.slice(0, 20) },
        { worker_id: "one-task-worker", claimed: 1, task_ids: [one] },
      ]);
      const done = await api(s.url).post(`/tasks/${one}/complete`, { worker_id: "one-task-worker", success: true });
      assert.equal(done.status, 200);
      data = await stats(s.url);
      assert.deepEqual(data.workers.map((w) => w.worker_id), ["busy-worker"]);
      const claimedList = (await api(s.url).get("/tasks?status=claimed&limit=1000")).json.data.count;
      assert.equal(data.workers.reduce((n, w) => n + w.claimed, 0), claimedList);
    });

    it("lists the 20 newest final failures, newest first, with error and attempts; retries are not failures", async () => {
      let clock = Date.UTC(2031, 4, 6, 7, 8, 9);
      const s = await open({ now: () => clock, maxAttempts: 2 });
      const t = await newType(s.url, anySchema);
      const failed: number[] = [];
      for (let i = 0; i < 22; i++) {
        clock += 1000;
        failed.push(await taskIn(s.url, t, "failed"));
      }
      clock += 1000;
      await taskIn(s.url, t, "retry");
      const data = await stats(s.url);
      assert.equal(data.recentFailures.length, 20);
      assert.deepEqual(data.recentFailures.map((f) => f.id), failed.slice(2).reverse());
      const newest = data.recentFailures[0];
      assert.deepEqual(newest, {
        id: failed[21],
        type: t.name,
        error_message: `worker error for ${failed[21]}`,
        attempts: 1,
        completed_at: new Date(Date.UTC(2031, 4, 6, 7, 8, 9) + 22_000).toISOString().slice(0, 19).replace("T", " "),
      });
    });

    it("buckets created, completed and failed history rows by UTC minute over the last 60 minutes", async () => {
      const t0 = Date.UTC(2030, 0, 1, 12, 0, 30);
      let clock = t0 - 2 * 3600_000;
      const s = await open({ now: () => clock, maxAttempts: 3 });
      const t = await newType(s.url, anySchema);
      await taskIn(s.url, t, "completed"); // two hours ago: outside the window
      clock = t0 - 5 * 60_000;
      const pending = [await taskIn(s.url, t, "pending"), await taskIn(s.url, t, "pending"), await taskIn(s.url, t, "pending")];
      clock = t0 - 3 * 60_000;
      const tm = api(s.url);
      for (let i = 0; i < 2; i++) {
        const c = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: t.id });
        await tm.post(`/tasks/${c.json.data.id}/complete`, { worker_id: "w", success: true });
      }
      clock = t0 - 60_000;
      const c = await tm.post("/tasks/claim", { worker_id: "w", task_type_id: t.id });
      assert.equal(c.json.data.id, pending[2]);
      await tm.post(`/tasks/${pending[2]}/complete`, { worker_id: "w", success: false, error: "retry me" }); // a retry: not counted
      await tm.post("/tasks/claim", { worker_id: "w", task_type_id: t.id });
      await tm.post(`/tasks/${pending[2]}/complete`, { worker_id: "w", success: false, error: "final", retryable: false });
      clock = t0;
      await taskIn(s.url, t, "pending");
      const data = await stats(s.url);
      assert.equal(data.throughput.length, 60);
      assert.equal(data.throughput[0]?.minute, "2030-01-01 11:01");
      assert.equal(data.throughput[59]?.minute, "2030-01-01 12:00");
      const nonZero = data.throughput.filter((m) => m.created + m.completed + m.failed > 0);
      assert.deepEqual(nonZero, [
        { minute: "2030-01-01 11:55", created: 3, completed: 0, failed: 0 },
        { minute: "2030-01-01 11:57", created: 0, completed: 2, failed: 0 },
        { minute: "2030-01-01 11:59", created: 0, completed: 0, failed: 1 },
        { minute: "2030-01-01 12:00", created: 1, completed: 0, failed: 0 },
      ]);
      // Minutes are consecutive, oldest first.
      for (let i = 1; i < 60; i++) {
        const prev = Date.parse(`${data.throughput[i - 1]?.minute.replace(" ", "T")}:00Z`);
        assert.equal(Date.parse(`${data.throughput[i]?.minute.replace(" ", "T")}:00Z`) - prev, 60_000);
      }
    });

    it("counts ideas by platform and category from a real idea store, and closes it with the server", async () => {
      const dir = tempDir();
      const s = await open({ ideas: await openIdeaStore({ dataDir: dir }) });
      assert.ok(s.ideas);
      const writer = await openIdeaStore({ dataDir: dir });
      try {
        await writer.upsertMany([
          idea("youtube", "v1", "Technology"),
          idea("youtube", "v2", "Technology"),
          idea("youtube", "v3", null),
          idea("reddit", "p1", "Gaming"),
          idea("reddit", "p2", "Technology"),
        ]);
        await writer.upsert(idea("youtube", "v1", "Technology")); // the same source item: still five ideas
      } finally {
        await writer.close();
      }
      const data = await stats(s.url);
      assert.deepEqual(data.ideas, {
        total: 5,
        byPlatform: { reddit: 2, youtube: 3 },
        byCategory: { Gaming: 1, Technology: 3, uncategorized: 1 },
      });
      await s.close();
      // Closed: the store answers no more.
      await assert.rejects(s.ideas.count());
    });
  });
}

describe("IDEA_DATABASE_URL", () => {
  it("is optional, takes postgres:// and sqlite: URLs, and names itself when bad", () => {
    assert.equal(loadConfig({}).ideaDatabaseUrl, undefined);
    assert.equal(loadConfig({ IDEA_DATABASE_URL: "" }).ideaDatabaseUrl, undefined);
    assert.equal(loadConfig({ IDEA_DATABASE_URL: "postgres://u@h/ideas" }).ideaDatabaseUrl, "postgres://u@h/ideas");
    assert.equal(loadConfig({ IDEA_DATABASE_URL: "sqlite:/var/lib/ideas.sqlite" }).ideaDatabaseUrl, "sqlite:/var/lib/ideas.sqlite");
    for (const bad of ["mysql://x/y", "sqlite:", "/plain/path"]) {
      assert.throws(
        () => loadConfig({ IDEA_DATABASE_URL: bad }),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith("IDEA_DATABASE_URL: ")),
        bad,
      );
    }
  });
});

describe("stats edge cases", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("answers ideas null (and the task counts) when the idea store fails, and logs why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-stats-"));
    dirs.push(dir);
    const store = new SqliteStore(join(dir, "t.sqlite"));
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (l: string) => lines.push(l) });
    const app = buildApp({
      store,
      apiKeys: [API_KEY],
      logger,
      ideas: {
        count: async () => {
          throw new Error("idea database down");
        },
        countBy: async () => ({}),
      },
    });
    try {
      const r = await app.inject({ method: "GET", url: "/api/stats", headers: { "x-api-key": API_KEY } });
      assert.equal(r.statusCode, 200);
      const body = r.json();
      assert.equal(body.data.ideas, null);
      assert.equal(body.data.tasks.total, 0);
      assert.ok(lines.some((l) => /idea store unavailable/.test(l) && /idea database down/.test(l)));
    } finally {
      await app.close();
      await store.close();
    }
  });

  it("needs the API key, answers 401 without it, and stays out of the way of the other routes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-stats-"));
    dirs.push(dir);
    const s = await start({ kind: "sqlite", path: join(dir, "t.sqlite") });
    try {
      for (const headers of [{}, { "X-API-Key": "wrong-key-wrong-key" }] as Array<Record<string, string>>) {
        const r = await call(s.url, "GET", "/stats", undefined, headers);
        assert.equal(r.status, 401);
        assert.equal(r.json.error, "Unauthorized");
      }
      assert.equal((await call(s.url, "POST", "/stats", "{}")).status, 404);
    } finally {
      await s.close();
    }
  });

  it("opens the idea store named by IDEA_DATABASE_URL in the real process, and reports null without it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-stats-proc-"));
    dirs.push(dir);
    const ideasFile = join(dir, "ideas", "ideas.sqlite");
    const writer = await openIdeaStore({ url: `sqlite:${ideasFile}` });
    await writer.upsertMany([idea("youtube", `v-${uid()}`, "Music"), idea("reddit", `p-${uid()}`, null)]);
    await writer.close();
    const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));
    for (const [env, expected] of [
      [{ IDEA_DATABASE_URL: `sqlite:${ideasFile}` }, { total: 2, byPlatform: { reddit: 1, youtube: 1 }, byCategory: { Music: 1, uncategorized: 1 } }],
      [{ IDEA_DATABASE_URL: "" }, null],
    ] as const) {
      const child = spawn(process.execPath, ["--import", "tsx", entry], {
        env: { ...process.env, PORT: "0", LOG_LEVEL: "silent", DATA_DIR: dir, API_KEYS: API_KEY, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stderr.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /TaskManager API: (\S+)/.exec(out);
            if (m) resolve(m[1] as string);
          });
          child.on("exit", (code) => reject(new Error(`exited ${code}`)));
        });
        const data = await stats(url);
        assert.deepEqual(data.ideas, expected);
      } finally {
        const exited = new Promise((resolve) => child.on("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    }
  });
});
