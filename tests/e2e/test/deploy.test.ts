/**
 * Each service deployed alone: `pnpm --filter @prismq/<svc> deploy --prod <dir>` into a temp folder
 * outside the repository, then run there with plain `node --env-file=.env dist/index.js`, against
 * the sandbox and a TaskManager server started from its own deploy folder.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { openIdeaStore } from "@prismq/idea-store";
import { TaskManagerClient, type TaskSummary } from "@prismq/taskmanager-client";
import { Reddit, YouTube } from "@prismq/task-types";
import { startAppProcess, until, type AppProcess } from "@prismq/worker-kit/testing";
import { SERVICES, deploySteps, holds, insideRepo, linksOutside, pnpm, storeEntries, writeEnvFile, type Service } from "./deploy.js";
import { APPS, REDIS_URL, root, type App } from "./system.js";

const dir = mkdtempSync(join(tmpdir(), "prismq-deploy-"));
const out = (svc: Service) => join(dir, svc);
const deployed = new Map<Service, { code: number | null; output: string; ms: number }>();

/**
 * The processors store ideas, so they hold the idea store and its drivers. The discovery apps hold the
 * idea store for its classifier (through their platform package) but not its drivers, which are
 * optional peers: no native module. (pg reaches them only as BullMQ's optional peer, never opened.)
 */
const STORES_IDEAS: readonly App[] = ["youtube-processor", "reddit-processor"];
/** What only the server may hold. */
const SERVER_ONLY = ["@prismq/taskmanager-server", "fastify"];
/** Test-only packages no deploy may hold. */
const TEST_ONLY = ["@prismq/sandbox", "tsx", "typescript", "playwright-core"];

before(async () => {
  assert.equal(insideRepo(dir), null, `${dir} lies outside the repository`);
  // One deploy per service, shared by every test below; the commands are the Dockerfile's last step.
  for (const svc of SERVICES) {
    const started = Date.now();
    const steps = deploySteps(svc, out(svc));
    const result = await pnpm(steps[steps.length - 1] as string[]);
    deployed.set(svc, { ...result, ms: Date.now() - started });
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("pnpm deploy of each service", () => {
  for (const svc of SERVICES) {
    test(`${svc}: deploys with no extra flags into a self-contained folder with its example files`, (t) => {
      const d = deployed.get(svc);
      assert.ok(d);
      t.diagnostic(`deploy took ${d.ms} ms`);
      assert.equal(d.code, 0, `pnpm deploy failed:\n${d.output}`);
      for (const file of ["package.json", "dist/index.js", ".env.example", "README.md"]) assert.ok(existsSync(join(out(svc), file)), `${svc} deploy holds ${file}`);
      if (svc === "youtube-discovery" || svc === "reddit-discovery") assert.ok(existsSync(join(out(svc), "sources.example.yaml")), "the example sources ship");
      assert.deepEqual(linksOutside(out(svc)), [], "no link of the deploy points outside it (into the repository)");
    });
  }

  test("no app's deploy holds the server, fastify or a test-only package; only the apps that store ideas hold the SQLite driver", () => {
    const server = storeEntries(out("taskmanager-server"));
    for (const name of ["fastify", "better-sqlite3", "pg", "@prismq/idea-store"]) assert.ok(holds(server, name), `the server's deploy holds ${name}`);
    for (const svc of SERVICES) {
      const entries = storeEntries(out(svc));
      assert.ok(entries.length > 0, `${svc} has a virtual store`);
      for (const name of TEST_ONLY) assert.ok(!holds(entries, name), `${svc} holds the test-only ${name}`);
      if (svc === "taskmanager-server") continue;
      for (const name of SERVER_ONLY) assert.ok(!holds(entries, name), `${svc} holds ${name}`);
      if (STORES_IDEAS.includes(svc)) {
        for (const name of ["@prismq/idea-store", "better-sqlite3", "pg"]) assert.ok(holds(entries, name), `${svc} stores ideas: it holds ${name}`);
      } else {
        assert.ok(!holds(entries, "better-sqlite3"), `${svc} stores no ideas: it holds no SQLite driver (no native module)`);
      }
    }
  });
});

test("in a discovery app's deploy the idea store loads, and opening a store says which driver is missing", async () => {
  assert.equal(deployed.get("youtube-discovery")?.code, 0, "youtube-discovery deployed");
  const store = join(out("youtube-discovery"), "node_modules", ".pnpm");
  const entry = readdirSync(store).find((n) => n.startsWith("@prismq+idea-store@"));
  assert.ok(entry, "the idea store ships (its model is used)");
  assert.ok(readdirSync(store).some((n) => n.startsWith("@prismq+idea-scoring@")), "the classifier ships");
  const index = pathToFileURL(join(store, entry, "node_modules", "@prismq", "idea-store", "dist", "index.js")).href;
  const script = `const m = await import(${JSON.stringify(index)}); await m.openIdeaStore({ url: "sqlite::memory:" }).then(() => console.log("opened"), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: out("youtube-discovery"), env: { PATH: process.env.PATH ?? "" } });
  const answer = JSON.parse(stdout) as { code: string; message: string };
  assert.equal(answer.code, "IDEA_ERR_CONFIG");
  assert.match(answer.message, /better-sqlite3 driver is not installed/);
});

describe("the deployed services run outside the repository with node and a .env file", () => {
  const procs = new Map<Service | "sandbox", AppProcess>();
  const key = `deploy-${randomBytes(16).toString("hex")}`;
  const prefix = `deploy-${randomBytes(4).toString("hex")}`;
  let client: TaskManagerClient | undefined;

  const line = async (name: Service | "sandbox", re: RegExp): Promise<string> => {
    const p = procs.get(name) as AppProcess;
    let match: RegExpExecArray | null = null;
    const text = () => p.stdout() + p.stderr();
    await until(() => (match = re.exec(text())) !== null || p.ended, 30_000, `${name} to print ${re}`, 50).catch((err: Error) => {
      throw new Error(`${err.message}:\n${text().slice(-3000)}`);
    });
    if (!match) throw new Error(`${name} exited before printing ${re}:\n${text().slice(-3000)}`);
    return (match as RegExpExecArray)[1] as string;
  };
  /** `node --env-file=.env dist/index.js` in the deploy folder, with nothing but PATH in the environment. */
  const run = (svc: Service) => {
    const p = startAppProcess({}, "dist/index.js", { cwd: out(svc), nodeArgs: ["--env-file=.env"] });
    procs.set(svc, p);
    return p;
  };

  after(async () => {
    const order: Array<Service | "sandbox"> = [...APPS, "sandbox", "taskmanager-server"];
    for (const name of order) await procs.get(name)?.stop("SIGTERM", 20_000);
    await client?.close();
  });

  test("the server, then the four apps, process tasks and store ideas", { timeout: 240_000 }, async () => {
    for (const svc of SERVICES) assert.equal(deployed.get(svc)?.code, 0, `${svc} deployed`);

    // The sandbox of both APIs is test infrastructure: it runs from the repository.
    procs.set("sandbox", startAppProcess({}, join(root, "packages/sandbox/dist/cli.js"), { args: ["--youtube-port", "0", "--reddit-port", "0", "--rpm", "100000"] }));
    const youtubeRoot = await line("sandbox", /YOUTUBE_API_ROOT_URL=(\S+)/);
    const redditUrl = await line("sandbox", /REDDIT_API_URL=(\S+)/);

    // The server on its defaults: SQLite under ./data of its deploy folder.
    writeEnvFile(out("taskmanager-server"), { PORT: "0", API_KEYS: key });
    run("taskmanager-server");
    const tmUrl = await line("taskmanager-server", /TaskManager API: (\S+)/);
    assert.equal((await fetch(`${tmUrl}/health`)).status, 200);
    assert.ok(existsSync(join(out("taskmanager-server"), "data", "taskmanager.sqlite")), "the server keeps its SQLite file in its own folder");

    // Each app on its .env.example with the addresses and keys put in; the discovery apps keep
    // YOUTUBE_SOURCES / REDDIT_SOURCES=./sources.example.yaml, the file shipped with them.
    const common = {
      TASKMANAGER_API_URL: tmUrl,
      TASKMANAGER_API_KEY: key,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      HEALTH_PORT: "0",
      YOUTUBE_API_KEY: `yt-${randomBytes(8).toString("hex")}`,
      YOUTUBE_API_ROOT_URL: youtubeRoot,
      REDDIT_CLIENT_ID: "sandbox-client",
      REDDIT_CLIENT_SECRET: "sandbox-secret",
      REDDIT_REFRESH_TOKEN: "sandbox-refresh",
      REDDIT_API_URL: redditUrl,
      REDDIT_REQUESTS_PER_MINUTE: "90000",
    };
    const health = new Map<App, string>();
    for (const app of APPS) {
      writeEnvFile(out(app), common);
      run(app);
      health.set(app, await line(app, /"health":"([^"]+)"/));
    }
    for (const app of ["youtube-discovery", "reddit-discovery"] as const) assert.equal(await line(app, /"sources":(\d+)/), "3", `${app} scheduled the 3 example sources`);

    client = new TaskManagerClient({ baseUrl: tmUrl, apiKey: key });
    const tm = client;
    const done = async (type: string) => {
      const all: TaskSummary[] = [];
      for await (const t of tm.listTasks({ type, status: "completed", pageSize: 1000 })) all.push(t);
      return all.length;
    };
    const stored = async (app: App, platform: string) => {
      const ideas = await openIdeaStore({ url: `sqlite:${join(out(app), "data", "ideas.sqlite")}` });
      try {
        return (await ideas.query({ platform, limit: 1000 })).length;
      } catch {
        return 0;
      } finally {
        await ideas.close();
      }
    };
    const tails = () => [...procs].map(([n, p]) => `--- ${n}:\n${(p.stdout() + p.stderr()).split("\n").slice(-6).join("\n")}`).join("\n");
    const want = 20;
    await until(
      async () =>
        (await done(YouTube.Video.name)) >= want &&
        (await done(Reddit.Post.name)) >= want &&
        (await stored("youtube-processor", "youtube")) >= want &&
        (await stored("reddit-processor", "reddit")) >= want,
      150_000,
      `${want} videos and ${want} posts processed and stored`,
      1_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${tails()}`);
    });
    assert.ok((await done(Reddit.Search.name)) > 0 || (await done(YouTube.Search.name)) > 0, "cross-module or source searches ran");

    for (const app of APPS) {
      assert.equal((await fetch(`${health.get(app)}/healthz`)).status, 200, `${app} /healthz`);
      assert.ok(!procs.get(app)?.ended, `${app} still runs`);
    }
    // SIGTERM stops each deployed app cleanly.
    for (const app of APPS) assert.deepEqual(await procs.get(app)?.stop("SIGTERM", 30_000), { code: 0, killed: false }, `${app} exits 0 on SIGTERM`);
  });
});
