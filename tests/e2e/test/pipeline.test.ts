import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { openIdeaStore } from "@prismq/idea-store";
import { RedditData, World, YouTubeData } from "@prismq/sandbox";
import { TaskManagerClient, type TaskSummary } from "@prismq/taskmanager-client";
import { startServer } from "@prismq/taskmanager-server";
import { Reddit, YouTube } from "@prismq/task-types";
import { dropPrefix } from "./start-run.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Runs `pnpm start --once` as a user would (the script behind it), in its own data dir. */
function runOnce(dataDir: string, redisUrl: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", "--once", "--quiet", "--data-dir", dataDir, "--port", "0", "--timeout", "240"], {
    cwd: root,
    env: { PATH: process.env.PATH, REDIS_URL: redisUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
}

/** What the demo's sources must find in the sandbox's world (same seed, same data): the newest 100 of each. */
function expected() {
  const world = new World();
  const yt = new YouTubeData(world);
  const rd = new RedditData(world);
  const videos = [...yt.uploads(0).slice(0, 100), ...yt.uploads(2).slice(0, 100)];
  const posts = [...rd.postIds("technology").slice(0, 100), ...rd.postIds("Cooking").slice(0, 100)];
  return { videos, posts };
}

for (const mode of ["hybrid", "direct"] as const) {
  describe(`the whole pipeline, pnpm start --once, ${mode} mode`, () => {
    it("stores every expected video and post exactly once, crosses modules both ways, leaves nothing open, exits 0", { timeout: 300_000 }, async () => {
      // A data directory that pnpm start creates itself (a temp dir would be 0700 already).
      const parent = mkdtempSync(join(tmpdir(), `e2e-${mode}-`));
      const dir = join(parent, "demo");
      try {
        const { code, output } = await runOnce(dir, mode === "hybrid" ? REDIS_URL : "redis://127.0.0.1:1");
        assert.equal(code, 0, output);

        // What pnpm start and the TaskManager create is their owner's only.
        const modeOf = (path: string) => statSync(path).mode & 0o777;
        assert.equal(modeOf(dir), 0o700, "the data directory");
        assert.equal(modeOf(join(dir, "logs")), 0o700, "the logs directory");
        const logs = readdirSync(join(dir, "logs"));
        assert.ok(logs.includes("taskmanager-server.log"), logs.join(", "));
        for (const log of logs) assert.equal(modeOf(join(dir, "logs", log)), 0o600, log);
        for (const file of ["api-key", "taskmanager.sqlite"]) assert.equal(modeOf(join(dir, file)), 0o600, file);
        assert.match(output, mode === "hybrid" ? /hybrid mode/ : /direct mode/);
        assert.match(output, /Done: every task is settled/);
        assert.match(output, /^API caps: (none reached|.*hit a cap \d+ time)/m, "the summary says what the APIs' caps hid");

        const ideas = await openIdeaStore({ url: `sqlite:${join(dir, "ideas.sqlite")}` });
        const want = expected();
        for (const id of want.videos) assert.ok(await ideas.get("youtube", id), `video ${id} stored`);
        for (const id of want.posts) assert.ok(await ideas.get("reddit", id), `post ${id} stored`);
        const byPlatform = await ideas.countBy("platform");
        assert.ok((byPlatform.youtube ?? 0) >= new Set(want.videos).size && (byPlatform.reddit ?? 0) >= new Set(want.posts).size, JSON.stringify(byPlatform));
        await ideas.close();

        // The TaskManager's own record, read back through its API on the same database file.
        const key = readFileSync(join(dir, "api-key"), "utf8").trim();
        const server = await startServer({ storage: { kind: "sqlite", path: join(dir, "taskmanager.sqlite") }, apiKeys: [key] });
        const client = new TaskManagerClient({ baseUrl: server.url, apiKey: key });
        try {
          const tasks: TaskSummary[] = [];
          for await (const t of client.listTasks({ pageSize: 1000 })) tasks.push(t);
          assert.deepEqual(tasks.filter((t) => t.status === "pending" || t.status === "claimed"), [], "no task left pending or claimed");
          const searches = tasks.filter((t) => t.type === Reddit.Search.name);
          assert.ok(searches.length > 0 && searches.every((t) => t.status === "completed"), "YouTube -> Reddit: cross-module searches created and processed");
          let videosFromReddit = 0;
          for (const t of tasks.filter((x) => x.type === YouTube.Video.name)) {
            const full = await client.getTask<{ video_id: string; hops?: number }>(t.id);
            if ((full?.params.hops ?? 0) >= 1) {
              videosFromReddit++;
              assert.ok(full?.status === "completed" || full?.status === "failed", `video task ${t.id} settled`);
            }
          }
          assert.ok(videosFromReddit > 0, "Reddit -> YouTube: linked videos became Video tasks and were processed");
        } finally {
          await client.close();
          await server.close();
        }
      } finally {
        await dropPrefix(REDIS_URL, dir);
        rmSync(parent, { recursive: true, force: true });
      }
    });
  });
}
