/**
 * `pnpm start`: the whole system on one machine with embedded defaults. The
 * TaskManager (SQLite), the offline YouTube and Reddit APIs (unless real
 * credentials are set), and the four apps, each its own process as deployed.
 * Hybrid mode when Redis answers at REDIS_URL, direct mode otherwise. A live
 * status view in the terminal; Ctrl-C stops everything gracefully.
 *
 * `pnpm start --once`: processes what the sources yield, waits until nothing is
 * left to do, prints a summary and exits 0.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, existsSync, fchmodSync, openSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { readMetric, redisReachable, safeRedisUrl } from "@prismq/worker-kit";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values: opts } = parseArgs({
  options: {
    once: { type: "boolean", default: false },
    "data-dir": { type: "string", default: join(root, "data", "demo") },
    port: { type: "string", default: process.env.PORT ?? "8080" },
    timeout: { type: "string", default: "600" },
    quiet: { type: "boolean", default: false },
    latency: { type: "string", default: "0" },
  },
});
const DATA = resolve(opts["data-dir"] as string);
const ONCE = opts.once === true;
const APPS = ["youtube-discovery", "youtube-processor", "reddit-discovery", "reddit-processor"] as const;
type App = (typeof APPS)[number];
/** Requests per minute the Reddit sandbox allows in the demo: enough that a demo run takes a minute, not an hour. */
const SANDBOX_RPM = 6_000;

const out = (s: string) => process.stdout.write(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  lines: string[];
}
const children: Child[] = [];

/**
 * Starts a process, keeping its output in `<data>/logs/<name>.log` and the first lines in memory.
 * The logs directory is 0700 and each log 0600 (also when an earlier run left them wider): logs
 * hold task params, errors and worker ids.
 */
function start(name: string, script: string, args: string[], env: Record<string, string | undefined>): Child {
  const logs = join(DATA, "logs");
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  chmodSync(logs, 0o700);
  const file = join(logs, `${name}.log`);
  const fd = openSync(file, "a", 0o600);
  fchmodSync(fd, 0o600);
  const log = createWriteStream(file, { fd });
  const proc = spawn(process.execPath, [join(root, script), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const child: Child = { name, proc, lines: [], exited: new Promise((r) => proc.on("exit", (code) => r(code))) };
  const keep = (d: Buffer) => {
    log.write(d);
    if (child.lines.length < 200) child.lines.push(...d.toString().split("\n").filter(Boolean));
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, get: () => T | undefined | Promise<T | undefined>, child?: Child, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (child && child.proc.exitCode !== null) throw new Error(`${child.name} exited (${child.proc.exitCode}) before ${what}:\n${child.lines.slice(-15).join("\n")}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const lineMatch = (c: Child, re: RegExp) => () => {
  for (const l of c.lines) {
    const m = re.exec(l);
    if (m) return m[1] as string;
  }
  return undefined;
};

/** A process's peak resident memory (VmHWM), in MB; "n/a" where /proc does not tell. */
function peakRssMb(pid: number | undefined): string {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? (Number(kb) / 1024).toFixed(0) : "n/a";
  } catch {
    return "n/a";
  }
}

function demoKey(): string {
  const file = join(DATA, "api-key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = randomBytes(24).toString("base64url");
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

function writeSources(): { youtube: string; reddit: string } {
  const every = ONCE ? "1d" : "5m";
  const youtube = join(DATA, "youtube-sources.yaml");
  writeFileSync(
    youtube,
    `# Written by pnpm start: what the demo discovers.\nsources:\n` +
      `  - kind: channel\n    channel: "@tech0"\n    max_videos: 100\n    every: ${every}\n` +
      `  - kind: channel\n    channel: "@cooking2"\n    max_videos: 100\n    every: ${every}\n` +
      `  - kind: most_popular\n    region: US\n    max_results: 50\n    every: ${ONCE ? "1d" : "30m"}\n`,
  );
  const reddit = join(DATA, "reddit-sources.yaml");
  writeFileSync(
    reddit,
    `# Written by pnpm start: what the demo discovers.\nsources:\n` +
      `  - kind: subreddit\n    subreddit: technology\n    sort: new\n    limit: 100\n    every: ${every}\n` +
      `  - kind: subreddit\n    subreddit: Cooking\n    sort: new\n    limit: 100\n    every: ${every}\n`,
  );
  return { youtube, reddit };
}

/** A metric of an app's /metrics text, summed per value of label `by` (or all under "" without). */
function metric(text: string, name: string, by?: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, value } of readMetric(text, name)) {
    const label = by ? (labels[by] ?? "") : "";
    sums.set(label, (sums.get(label) ?? 0) + value);
  }
  return sums;
}

interface Snapshot {
  byTypeStatus: Map<string, Map<string, number>>;
  open: number;
  total: number;
  ideas: Record<string, number>;
  crossModule: number;
  budgets: Map<string, number>;
  outbox: number;
  completed: number;
}

async function snapshot(client: TaskManagerClient, health: Map<App, string>, ideas: IdeaStore): Promise<Snapshot> {
  const byTypeStatus = new Map<string, Map<string, number>>();
  let open = 0;
  let total = 0;
  let completed = 0;
  for await (const t of client.listTasks({ pageSize: 1000 })) {
    const m = byTypeStatus.get(t.type) ?? new Map<string, number>();
    m.set(t.status, (m.get(t.status) ?? 0) + 1);
    byTypeStatus.set(t.type, m);
    total++;
    if (t.status === "pending" || t.status === "claimed") open++;
    if (t.status === "completed") completed++;
  }
  let crossModule = 0;
  let outbox = 0;
  const budgets = new Map<string, number>();
  for (const [app, url] of health) {
    const text = await fetch(`${url}/metrics`).then((r) => r.text(), () => "");
    if (app.endsWith("processor")) {
      const created = metric(text, "prismq_tasks_created_total", "type");
      for (const [type, n] of created) if (!type.includes(app.startsWith("youtube") ? ".YouTube." : ".Reddit.")) crossModule += n;
    }
    for (const [, n] of metric(text, "prismq_outbox_depth")) outbox += n;
    for (const [name, n] of metric(text, "prismq_budget_remaining", "budget")) budgets.set(name, n);
  }
  return { byTypeStatus, open, total, ideas: await ideas.countBy("platform"), crossModule, budgets, outbox, completed };
}

function render(s: Snapshot, started: number, mode: string, urls: { tm: string; dashboard: string }, rate: number): string {
  const statuses = ["pending", "claimed", "completed", "failed"];
  const rows = [...s.byTypeStatus.entries()].sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(10, ...rows.map(([t]) => t.replace("PrismQ.IdeaInspiration.", "").length));
  const lines = [
    `PrismQ Workers (${mode} mode) up ${Math.round((Date.now() - started) / 1000)} s   TaskManager ${urls.tm}   dashboard ${urls.dashboard}`,
    "",
    `${"task type".padEnd(w)}  ${statuses.map((x) => x.padStart(9)).join(" ")}`,
    ...rows.map(([type, m]) => `${type.replace("PrismQ.IdeaInspiration.", "").padEnd(w)}  ${statuses.map((x) => String(m.get(x) ?? 0).padStart(9)).join(" ")}`),
    "",
    `ideas: ${Object.entries(s.ideas).map(([p, n]) => `${p} ${n}`).join(", ") || "none yet"}   cross-module tasks: ${s.crossModule}   outbox: ${s.outbox}   completed/s: ${rate.toFixed(1)}`,
    `budgets left: ${[...s.budgets.entries()].map(([b, n]) => `${b} ${n}`).join(", ") || "-"}`,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  // The data directory holds the key, the databases and the logs: its owner's only when created here.
  mkdirSync(DATA, { recursive: true, mode: 0o700 });
  const key = demoKey();
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const hybrid = await redisReachable(redisUrl);
  const mode = hybrid ? "hybrid" : "direct";
  out(hybrid ? `Redis answers at ${safeRedisUrl(redisUrl)}: hybrid mode (BullMQ schedules, outbox, shared budgets).\n` : `No Redis at ${safeRedisUrl(redisUrl)}: direct mode.\n`);

  const tm = start("taskmanager-server", "apps/taskmanager-server/dist/index.js", [], {
    PORT: opts.port as string,
    API_KEYS: key,
    SQLITE_PATH: join(DATA, "taskmanager.sqlite"),
    IDEA_DATABASE_URL: `sqlite:${join(DATA, "ideas.sqlite")}`,
    LOG_LEVEL: "warn",
  });
  const tmUrl = await waitFor("the TaskManager", lineMatch(tm, /TaskManager API: (\S+)/), tm);

  const realYouTube = !!process.env.YOUTUBE_API_KEY && !process.env.YOUTUBE_API_ROOT_URL;
  const realReddit = !!process.env.REDDIT_CLIENT_ID && !process.env.REDDIT_API_URL;
  let ytRoot = process.env.YOUTUBE_API_ROOT_URL;
  let redditUrl = process.env.REDDIT_API_URL;
  if (!realYouTube || !realReddit) {
    const sandbox = start("sandbox", "packages/sandbox/dist/cli.js", ["--youtube-port", "0", "--reddit-port", "0", "--rpm", String(SANDBOX_RPM), "--latency", String(opts.latency), ...(ONCE ? [] : ["--tick", "10000"])], {});
    const root = await waitFor("the sandbox", lineMatch(sandbox, /YOUTUBE_API_ROOT_URL=(\S+)/), sandbox);
    const reddit = await waitFor("the sandbox", lineMatch(sandbox, /REDDIT_API_URL=(\S+)/), sandbox);
    if (!realYouTube) ytRoot = root;
    if (!realReddit) redditUrl = reddit;
  }
  out(`YouTube: ${realYouTube ? "the real API (YOUTUBE_API_KEY is set)" : `the offline sandbox at ${ytRoot}`}. Reddit: ${realReddit ? "the real API (REDDIT_CLIENT_ID is set)" : `the offline sandbox at ${redditUrl}`}.\n`);

  const sources = writeSources();
  const prefix = ONCE ? `prismq-once-${randomBytes(3).toString("hex")}` : "prismq-demo";
  const common = {
    TASKMANAGER_API_URL: tmUrl,
    TASKMANAGER_API_KEY: key,
    REDIS_URL: hybrid ? redisUrl : undefined,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "info",
    HEALTH_PORT: "0",
    IDEA_DATABASE_URL: `sqlite:${join(DATA, "ideas.sqlite")}`,
    YOUTUBE_API_KEY: realYouTube ? process.env.YOUTUBE_API_KEY : "sandbox-key",
    YOUTUBE_API_ROOT_URL: realYouTube ? undefined : ytRoot,
    REDDIT_CLIENT_ID: realReddit ? process.env.REDDIT_CLIENT_ID : "sandbox-client",
    REDDIT_CLIENT_SECRET: realReddit ? process.env.REDDIT_CLIENT_SECRET : "sandbox-secret",
    REDDIT_REFRESH_TOKEN: realReddit ? process.env.REDDIT_REFRESH_TOKEN : "sandbox-refresh",
    REDDIT_USERNAME: realReddit ? process.env.REDDIT_USERNAME : undefined,
    REDDIT_PASSWORD: realReddit ? process.env.REDDIT_PASSWORD : undefined,
    REDDIT_USER_AGENT: process.env.REDDIT_USER_AGENT ?? "node:prismq-workers:0.1.0 (by /u/prismq)",
    REDDIT_API_URL: realReddit ? undefined : redditUrl,
    // The sandbox's limit is ours to set; against the real Reddit the apps keep their default (90/min).
    REDDIT_REQUESTS_PER_MINUTE: realReddit ? process.env.REDDIT_REQUESTS_PER_MINUTE : String(SANDBOX_RPM - 100),
  };
  const health = new Map<App, string>();
  for (const app of APPS) {
    const c = start(app, `apps/${app}/dist/index.js`, [], {
      ...common,
      DATA_DIR: join(DATA, app),
      YOUTUBE_SOURCES: app === "youtube-discovery" ? sources.youtube : undefined,
      REDDIT_SOURCES: app === "reddit-discovery" ? sources.reddit : undefined,
    });
    health.set(app, await waitFor(`${app} to run`, lineMatch(c, /"health":"([^"]+)"/), c));
  }
  const client = new TaskManagerClient({ baseUrl: tmUrl, apiKey: key });
  const ideas = await openIdeaStore({ url: `sqlite:${join(DATA, "ideas.sqlite")}` });
  const urls = { tm: tmUrl, dashboard: `${tmUrl}/dashboard` };
  out(`\nTaskManager API: ${tmUrl}\nDashboard: ${urls.dashboard}  (API key in ${join(DATA, "api-key")})\nLogs: ${join(DATA, "logs")}\n\n`);

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of [...children].reverse()) c.proc.kill("SIGTERM");
    const exits = await Promise.race([Promise.all(children.map((c) => c.exited)), sleep(20_000).then(() => null)]);
    if (exits === null) for (const c of children) c.proc.kill("SIGKILL");
    await ideas.close();
    await client.close();
    process.exit(code);
  };
  process.once("SIGINT", () => void stopAll(0));
  process.once("SIGTERM", () => void stopAll(0));
  for (const c of children) void c.exited.then((code) => {
    if (!stopping) {
      out(`\n${c.name} exited with ${code}; stopping everything. Last lines:\n${c.lines.slice(-10).join("\n")}\n`);
      void stopAll(1);
    }
  });

  const started = Date.now();
  const deadline = started + Number(opts.timeout) * 1000;
  let quietChecks = 0;
  let last = { at: Date.now(), completed: 0 };
  let lastPrint = 0;
  for (;;) {
    await sleep(1_000);
    const s = await snapshot(client, health, ideas);
    const rate = ((s.completed - last.completed) * 1000) / Math.max(1, Date.now() - last.at);
    last = { at: Date.now(), completed: s.completed };
    const view = render(s, started, mode, urls, rate);
    if (process.stdout.isTTY && !opts.quiet) out(`\x1b[H\x1b[2J${view}\n\n${ONCE ? "Running once: waits until nothing is left to do." : "Ctrl-C stops everything."}\n`);
    else if (Date.now() - lastPrint > 10_000) {
      lastPrint = Date.now();
      out(`[${Math.round((Date.now() - started) / 1000)} s] tasks ${s.total} (open ${s.open}), ideas ${Object.entries(s.ideas).map(([p, n]) => `${p} ${n}`).join(", ") || 0}, cross-module ${s.crossModule}, outbox ${s.outbox}\n`);
    }
    if (!ONCE) continue;
    // Done when nothing is open, nothing is waiting in an outbox, and that held for 5 checks (discovery may still be between pages).
    quietChecks = s.total > 0 && s.open === 0 && s.outbox === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 5) {
      const stored = Object.values(s.ideas).reduce((a, b) => a + b, 0);
      // The quiet checks at the end are not work: leave them out of the rate.
      const seconds = (Date.now() - started) / 1000 - quietChecks;
      out(`\n${view}\n\nIdeas stored: ${stored} in ${seconds.toFixed(1)} s (${(stored / seconds).toFixed(1)} ideas/s)\n`);
      out(`Peak RSS: ${children.map((c) => `${c.name} ${peakRssMb(c.proc.pid)} MB`).join(", ")}\n`);
      out(`\nDone: every task is settled. Summary above; logs in ${join(DATA, "logs")}.\n`);
      await stopAll(0);
    }
    if (Date.now() > deadline) {
      out(`\n${view}\n\nGave up after ${opts.timeout} s with ${s.open} task(s) still open.\n`);
      await stopAll(1);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pnpm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  for (const c of children) c.proc.kill("SIGTERM");
  process.exit(1);
});
