// The status view of `pnpm start` and `pnpm start --taskmanager URL`: counts from one GET /stats
// on our server; on a TaskManager without /stats (as the hosted one), open tasks from one page of
// GET /tasks per status, said once; the places (dashboard, key file, logs) stay in the view.
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openIdeaStore } from "@prismq/idea-store";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { Reddit, YouTube } from "@prismq/task-types";
import { registerAll } from "@prismq/task-types";
import { startTestTaskManager } from "@prismq/taskmanager-server/testing";
import { startAppProcess } from "@prismq/worker-kit/testing";
import { placesText, render, StatusReader } from "../../../scripts/start/status.js";
import { dropPrefix } from "./start-run.js";
import { REDIS_URL, root } from "./system.js";

/** A proxy in front of a TaskManager that records every request; with `noStats`, /api/stats is a 404 as on a server without it. */
async function proxy(target: string, noStats: boolean): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const to = new URL(target);
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (noStats && req.url?.startsWith("/api/stats")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: false, error: "Endpoint not found" }));
      return;
    }
    const up = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/api`,
    seen,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `vid${String(from + i).padStart(8, "0")}`);

describe("pnpm start's status view", () => {
  it("reads task counts from one GET /stats per refresh (no task list) and keeps the dashboard and key-file lines", async () => {
    const tm = await startTestTaskManager({ register: registerAll });
    const p = await proxy(tm.server.url, false);
    const client = new TaskManagerClient({ baseUrl: p.url, apiKey: tm.key });
    try {
      for (const video_id of ids(3)) await tm.client.createTask(YouTube.Video.name, { video_id });
      await tm.client.createTask(Reddit.Post.name, { post_id: "abc123" });
      const reader = new StatusReader({ baseUrl: p.url, apiKey: tm.key, client, apps: new Map(), ideas: async () => ({ youtube: 2 }) });
      const s = await reader.read();
      assert.equal(s.source, "stats");
      assert.equal(s.byTypeStatus.get(YouTube.Video.name)?.get("pending"), 3);
      assert.equal(s.byTypeStatus.get(Reddit.Post.name)?.get("pending"), 1);
      assert.equal(s.open, 4);
      assert.equal(reader.note(), undefined, "nothing to say on a server with /stats");
      assert.deepEqual(p.seen, ["GET /api/stats"], "one request, and no listing of tasks");

      const places = { mode: "hybrid", taskManager: p.url, ours: true, keyFile: "/data/api-key", logs: "/data/logs" };
      const view = render(s, Date.now(), places, 0);
      assert.ok(view.includes(`Dashboard: ${p.url}/dashboard  (API key in /data/api-key)`), view);
      assert.ok(view.includes(`TaskManager API: ${p.url}`), view);
      assert.ok(view.includes("Logs: /data/logs"), view);
      assert.ok(view.includes(placesText(places)), "the view begins with the lines printed at start");
      assert.match(view, /Video\s+3\s+0\s+0\s+0/);
    } finally {
      await client.close();
      await p.close();
      await tm.close();
    }
  });

  it("on a TaskManager without /stats: open tasks from one page of GET /tasks per status, said once, never every task", async () => {
    const tm = await startTestTaskManager({ register: registerAll });
    const p = await proxy(tm.server.url, true);
    const client = new TaskManagerClient({ baseUrl: p.url, apiKey: tm.key });
    try {
      for (const video_id of ids(3)) await tm.client.createTask(YouTube.Video.name, { video_id });
      const claimed = await tm.client.claimTask({ taskType: YouTube.Video.name });
      assert.ok(claimed);
      const reader = new StatusReader({ baseUrl: p.url, apiKey: tm.key, client, apps: new Map(), ideas: async () => ({}) });
      const first = await reader.read();
      assert.equal(first.source, "list");
      assert.equal(first.byTypeStatus.get(YouTube.Video.name)?.get("pending"), 2);
      assert.equal(first.byTypeStatus.get(YouTube.Video.name)?.get("claimed"), 1);
      assert.equal(first.open, 3);
      assert.match(reader.note() ?? "", /has no GET \/stats/);
      assert.equal(reader.note(), undefined, "said once");
      p.seen.length = 0;
      await reader.read();
      assert.equal(reader.note(), undefined, "still said only once");
      assert.ok(!p.seen.includes("GET /api/stats"), "/stats is not asked again");
      for (const r of p.seen) assert.match(r, /^GET \/api\/tasks\?.*status=(pending|claimed)/, `only open tasks are listed: ${r}`);
      const view = render(first, Date.now(), { mode: "direct", taskManager: p.url, ours: false, logs: "/data/logs" }, 0);
      assert.match(view, /given with --taskmanager; key from TASKMANAGER_API_KEY/);
      assert.match(view, /no \/stats/);
    } finally {
      await client.close();
      await p.close();
      await tm.close();
    }
  });
});

describe("pnpm start --taskmanager URL", () => {
  it("runs the pipeline against a TaskManager it did not start, one without /stats, and settles every task", { timeout: 300_000 }, async () => {
    const tm = await startTestTaskManager();
    const p = await proxy(tm.server.url, true);
    const dir = mkdtempSync(join(tmpdir(), "e2e-start-tm-"));
    try {
      const run = startAppProcess({ REDIS_URL, TASKMANAGER_API_KEY: tm.key, HOME: process.env.HOME }, "scripts/start.ts", {
        args: ["--once", "--quiet", "--taskmanager", p.url, "--data-dir", dir, "--timeout", "240"],
        cwd: root,
      });
      const code = await run.exited;
      const output = run.stdout() + run.stderr();
      assert.equal(code, 0, output.slice(-3000));
      assert.match(output, /Done: every task is settled/);
      assert.match(output, /given with --taskmanager; none is started here/);
      assert.equal(output.match(/has no GET \/stats/g)?.length, 1, "said once");
      assert.ok(!readdirSync(join(dir, "logs")).includes("taskmanager-server.log"), "no TaskManager started");
      assert.ok(!output.includes(tm.key), "the key is never printed");
      const listAll = p.seen.filter((r) => r.startsWith("GET /api/tasks?") && !/status=(pending|claimed)/.test(r));
      assert.deepEqual(listAll, [], "the status view never lists every task");

      const videos = await tm.tasks(YouTube.Video.name);
      const posts = await tm.tasks(Reddit.Post.name);
      assert.ok(videos.length > 0 && posts.length > 0, "both discoveries created tasks on the given TaskManager");
      assert.deepEqual((await tm.tasks()).filter((t) => t.status === "pending" || t.status === "claimed"), [], "nothing left open");
      const ideas = await openIdeaStore({ url: `sqlite:${join(dir, "ideas.sqlite")}` });
      try {
        const by = await ideas.countBy("platform");
        assert.ok((by.youtube ?? 0) > 0 && (by.reddit ?? 0) > 0, JSON.stringify(by));
      } finally {
        await ideas.close();
      }
    } finally {
      await dropPrefix(REDIS_URL, dir);
      rmSync(dir, { recursive: true, force: true });
      await p.close();
      await tm.close();
    }
  });
});
