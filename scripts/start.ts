/**
 * `pnpm start`: the whole system on one machine with embedded defaults, built
 * from the list of platform descriptors below. The TaskManager (SQLite), each
 * platform's offline API (unless its real credentials are set) and its apps,
 * each its own process as deployed, discovering the descriptor's demo sources.
 * Hybrid mode when Redis answers at REDIS_URL, direct mode otherwise; the Redis
 * key prefix belongs to the data dir. A live status view in the terminal.
 *
 * Ctrl-C: the children run in process groups of their own, so the terminal's
 * SIGINT reaches only this script, which sends each app one SIGTERM, waits for
 * them (each hands back or finishes its work), then stops the sandbox and the
 * TaskManager, and exits 0. A second Ctrl-C kills what is left and exits 130.
 *
 * `pnpm start --once`: processes what the sources yield, waits until nothing is
 * left to do, prints a summary and exits 0. `--taskmanager URL` uses another
 * TaskManager instead of starting ours. `--help` prints the options.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { platform as reddit } from "@prismq/reddit-source";
import { System, demoEnv, demoSources, platformEnv, usesRealApi, type ManagedProcess } from "@prismq/system";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { redisReachable, safeRedisUrl } from "@prismq/worker-kit";
import { platform as youtube } from "@prismq/youtube-source";
import { parseStartArgs, usage, type StartOptions } from "./start/args.js";
import { placesText, render, StatusReader, type Places } from "./start/status.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const parsed = parseStartArgs(process.argv.slice(2), process.env, join(root, "data", "demo"));
if (parsed.kind === "help") {
  process.stdout.write(usage("data/demo"));
  process.exit(0);
}
if (parsed.kind === "error") {
  process.stderr.write(`pnpm start: ${parsed.message}\n\n${usage("data/demo")}`);
  process.exit(2);
}
const opts: StartOptions = parsed.options;
const DATA = resolve(opts.dataDir);
const ONCE = opts.once;
/** The platforms the demo runs: each one's apps, task types, offline API and demo sources come from its descriptor. */
const PLATFORMS = [youtube, reddit];
/** Requests per minute the sandboxes allow in the demo: enough that a demo run takes a minute, not an hour. */
const SANDBOX_RPM = 6_000;

const out = (s: string) => process.stdout.write(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The running system, once `main` made it. */
let system: System | undefined;
/** Items the APIs' listing and search caps hid from discovery, by app, from the apps' cap warnings. */
const hiddenByCaps = new Map<string, { runs: number; items: number }>();
function noteCapWarning(app: string, line: string): void {
  if (!line.includes('"unreachable"')) return;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; unreachable?: unknown };
    if (typeof entry.unreachable !== "number" || typeof entry.msg !== "string" || !entry.msg.includes("cap")) return;
    const seen = hiddenByCaps.get(app) ?? { runs: 0, items: 0 };
    seen.runs++;
    seen.items += entry.unreachable;
    hiddenByCaps.set(app, seen);
  } catch {
    // Not a log line of ours.
  }
}

/** One line for the summary: what the caps hid, or that none was reached. */
function capsLine(): string {
  if (hiddenByCaps.size === 0) return "API caps: none reached (every listing and search was walked to the items already known).";
  const parts = [...hiddenByCaps].map(([app, c]) => `${app} hit a cap ${c.runs} time(s), about ${c.items} item(s) not reachable`);
  return `API caps: ${parts.join("; ")}.`;
}

/** Closed at the stop when opened. */
const resources: Array<{ close: () => Promise<void> }> = [];
let stopping: Promise<void> | null = null;

/**
 * The graceful stop: one SIGTERM to each app, which hands back or finishes its work
 * and exits; then, once every app is gone, the offline APIs and the TaskManager
 * (`@prismq/system` kills what outlives its grace period).
 * Exits with `code`, or 1 when a process did not exit 0 on its SIGTERM.
 */
function stopAll(code: number): Promise<void> {
  if (stopping) return stopping;
  stopping = (async () => {
    let clean = true;
    const whileStarting: string[] = [];
    const stopped = system ? await system.stop(30_000, 15_000) : [];
    for (const r of stopped) {
      if (r.killed) out(`${r.name} did not stop within ${system?.apps.has(r.name) ? 30 : 15} s: killed it.\n`);
      if (r.code === 0 && !r.killed) continue;
      if (r.code === null && r.signal === null) continue; // never started
      // Stopped while starting: ended by the SIGTERM before its handlers were in place, holding no work.
      if (r.whileStarting) {
        whileStarting.push(r.name);
        continue;
      }
      clean = false;
      const how = r.code === null ? `ended by ${r.signal}` : `exited with ${r.code}`;
      const proc = system?.processes.find((p) => p.name === r.name);
      out(`${r.name} ${how} on SIGTERM. Last lines:\n${proc?.tail(5) ?? ""}\n`);
    }
    for (const r of resources) await r.close().catch(() => undefined);
    if (code === 0 && clean) out(`Stopped: every process ${whileStarting.length ? `ended cleanly (${whileStarting.join(", ")} while starting)` : "exited 0"}. Data and logs stay in ${DATA}.\n`);
    process.exit(code === 0 && !clean ? 1 : code);
  })();
  return stopping;
}

/**
 * One Ctrl-C can arrive twice: from the terminal, and passed on by pnpm (which runs this
 * script), a few ms apart. SIGINTs this close to the first are the same key press.
 */
const SAME_PRESS_MS = 500;
// Installed before anything starts: a Ctrl-C during start-up stops what has started.
let signals = 0;
let firstSignalAt = 0;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (signals > 0 && signal === "SIGINT" && Date.now() - firstSignalAt < SAME_PRESS_MS) return;
    signals++;
    if (signals === 1) {
      firstSignalAt = Date.now();
      out(`\n${signal === "SIGINT" ? "Ctrl-C" : signal}: stopping the apps first (each hands back or finishes its work), then the offline APIs and the TaskManager. Ctrl-C again forces.\n`);
      void stopAll(0);
      return;
    }
    out(`\n${signal === "SIGINT" ? "Ctrl-C" : signal} again: forced, killing every process that is left.\n`);
    system?.kill();
    process.exit(130);
  });
}

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

/**
 * The Redis key prefix of the data dir: made up on first use and kept in `<data>/redis-prefix`,
 * so a new data dir starts from scratch on a Redis that other runs used (no schedules, seen-sets
 * or budgets of theirs), and the same data dir resumes where it stopped.
 */
function redisPrefix(): string {
  const file = join(DATA, "redis-prefix");
  if (existsSync(file)) {
    const prefix = readFileSync(file, "utf8").trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new Error(`${file} must hold 1-64 letters, digits, _ . - (delete it to start from scratch)`);
    return prefix;
  }
  const prefix = `prismq-${randomBytes(4).toString("hex")}`;
  writeFileSync(file, `${prefix}\n`);
  return prefix;
}

async function main(): Promise<void> {
  // The data directory holds the key, the databases and the logs: its owner's only when created here.
  mkdirSync(DATA, { recursive: true, mode: 0o700 });
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const hybrid = await redisReachable(redisUrl);
  const mode = hybrid ? "hybrid" : "direct";
  const prefix = redisPrefix();
  out(hybrid ? `Redis answers at ${safeRedisUrl(redisUrl)}: hybrid mode (BullMQ schedules, outbox, shared budgets; key prefix ${prefix}).\n` : `No Redis at ${safeRedisUrl(redisUrl)}: direct mode.\n`);

  let taskManager: { url: string; apiKey: string } | undefined;
  if (opts.taskManager) {
    taskManager = { url: opts.taskManager, apiKey: process.env.TASKMANAGER_API_KEY as string };
    // One call that needs the key: a clear line now rather than four apps failing later.
    const probe = new TaskManagerClient({ baseUrl: taskManager.url, apiKey: taskManager.apiKey, retry: false, timeoutMs: 10_000 });
    try {
      await probe.getTaskType(PLATFORMS[0]?.taskTypes[0]?.name ?? "");
    } catch (err) {
      throw new Error(`the TaskManager at ${taskManager.url} cannot be used: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      await probe.close();
    }
    out(`TaskManager: ${taskManager.url} (given with --taskmanager; none is started here).\n`);
  }

  // A platform runs against its real API when its credentials are set (and no API URL); otherwise against its sandbox.
  const real = PLATFORMS.filter((p) => usesRealApi(p, process.env));
  const sandboxed = PLATFORMS.filter((p) => !real.includes(p)).map((p) => p.name);
  const sys = new System({
    platforms: PLATFORMS,
    root,
    dataDir: DATA,
    logDir: join(DATA, "logs"),
    // The first lines of a run are what a failure message shows; the log files hold everything.
    keepChars: 64_000,
    onLine: noteCapWarning,
    taskManager,
    apiKey: taskManager ? undefined : demoKey(),
    port: opts.port,
    serverEnv: { IDEA_DATABASE_URL: `sqlite:${join(DATA, "ideas.sqlite")}`, LOG_LEVEL: "warn" },
    sandbox: { platforms: sandboxed, rpm: SANDBOX_RPM, latencyMs: opts.latencyMs, tickMs: ONCE ? 0 : 10_000 },
    // A single run reads each source once: a day is longer than any run.
    sources: demoSources(PLATFORMS, ONCE ? "1d" : "5m"),
    redisUrl: hybrid ? redisUrl : undefined,
    queuePrefix: prefix,
    nodeOptions: opts.nodeOptions,
    // The sandboxes' request limits come from their descriptors; against a real API the apps keep their defaults.
    env: { ...Object.assign({}, ...real.map((p) => platformEnv(p, process.env))), ...demoEnv(PLATFORMS, process.env) },
  });
  system = sys;
  await sys.start();
  if (stopping) return;
  out(
    `${PLATFORMS.map((p) => `${p.name}: ${real.includes(p) ? "the real API (its credentials are set)" : `the offline sandbox at ${sys.sandboxUrls.get(p.name)}`}`).join(". ")}.\n`,
  );
  const tmUrl = sys.taskManagerUrl;
  const key = sys.apiKey;
  const health = sys.health;
  if (stopping) return;
  const client = new TaskManagerClient({ baseUrl: tmUrl, apiKey: key });
  const ideas: IdeaStore = await openIdeaStore({ url: `sqlite:${join(DATA, "ideas.sqlite")}` });
  resources.push(ideas, client);
  const places: Places = { mode, taskManager: tmUrl, ours: !opts.taskManager, keyFile: join(DATA, "api-key"), logs: join(DATA, "logs") };
  const status = new StatusReader({ baseUrl: tmUrl, apiKey: key, client, apps: health, ideas: () => ideas.countBy("platform") });
  out(`\n${placesText(places)}\n\n`);

  for (const c of sys.processes) void c.exited.then(({ code }) => {
    if (!stopping) {
      out(`\n${c.name} exited with ${code}; stopping everything. Last lines:\n${c.tail(10)}\n`);
      void stopAll(1);
    }
  });

  const live = process.stdout.isTTY && !opts.quiet;
  const started = Date.now();
  const deadline = started + opts.timeoutSeconds * 1000;
  let quietChecks = 0;
  let last = { at: Date.now(), completed: 0 };
  let lastPrint = 0;
  let lastError = "";
  let note: string | undefined;
  for (;;) {
    await sleep(1_000);
    if (stopping) return;
    let s;
    try {
      s = await status.read();
      lastError = "";
    } catch (err) {
      const msg = `status: cannot read the TaskManager: ${err instanceof Error ? err.message : String(err)}`;
      if (msg !== lastError) out(`${msg}\n`);
      lastError = msg;
      continue;
    }
    if (stopping) return;
    const said = status.note();
    if (said) {
      note = said;
      out(`${said}\n`);
    }
    const rate = ((s.completed - last.completed) * 1000) / Math.max(1, Date.now() - last.at);
    last = { at: Date.now(), completed: s.completed };
    const view = render(s, started, places, rate);
    if (live) out(`\x1b[H\x1b[2J${view}\n${note ? `\n${note}\n` : ""}\n${ONCE ? "Running once: waits until nothing is left to do." : "Ctrl-C stops everything; a second Ctrl-C forces."}\n`);
    else if (Date.now() - lastPrint > 10_000) {
      lastPrint = Date.now();
      out(`[${Math.round((Date.now() - started) / 1000)} s] tasks ${s.total}${s.capped ? "+" : ""} (open ${s.open}${s.capped ? "+" : ""}), ideas ${Object.entries(s.ideas).map(([p, n]) => `${p} ${n}`).join(", ") || 0}, cross-module ${s.crossModule}, outbox ${s.outbox}\n`);
    }
    if (!ONCE) continue;
    // Done when nothing is open, nothing is waiting in an outbox, and that held for 5 checks (discovery may still be between pages).
    quietChecks = s.total > 0 && s.open === 0 && s.outbox === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 5) {
      const stored = Object.values(s.ideas).reduce((a, b) => a + b, 0);
      // The quiet checks at the end are not work: leave them out of the rate.
      const seconds = (Date.now() - started) / 1000 - quietChecks;
      out(`\n${view}\n\nIdeas stored: ${stored} in ${seconds.toFixed(1)} s (${(stored / seconds).toFixed(1)} ideas/s)\n`);
      out(`Peak RSS: ${sys.processes.map((c: ManagedProcess) => `${c.name} ${peakRssMb(c.pid)} MB`).join(", ")}\n`);
      out(`${capsLine()}\n`);
      out(`\nDone: every task is settled. Summary above; logs in ${join(DATA, "logs")}.\n`);
      await stopAll(0);
    }
    if (Date.now() > deadline) {
      out(`\n${view}\n\nGave up after ${opts.timeoutSeconds} s with ${s.open} task(s) still open.\n`);
      await stopAll(1);
    }
  }
}

main().catch((err: unknown) => {
  // A Ctrl-C during start-up stops the child being waited for: that is the stop, not a failure.
  if (stopping) return;
  process.stderr.write(`pnpm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  void stopAll(1);
});
