import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { platformSet, type AnyPlatformDescriptor, type PlatformSet } from "@prismq/worker-kit";
import { ManagedProcess, type StopResult } from "./process.js";
import type { SandboxHostSpec } from "./sandbox-host.js";

/** The offline APIs of a run: one process serving the sandbox of each listed platform. */
export interface SandboxOptions {
  /** The platforms served by their sandbox. @defaultValue every listed platform whose descriptor has one */
  platforms?: readonly string[];
  /** Added to every API answer, in ms. @defaultValue 0 */
  latencyMs?: number;
  /** Share of API answers that are a 503, 0..1. @defaultValue 0 */
  errorRate?: number;
  /** Requests per minute per client, where the API limits them; the apps of such a platform get its `limitsEnv` of it. @defaultValue 100 */
  rpm?: number;
  /** Advance the sandbox world's clock every this many ms; 0 = never. @defaultValue 0 */
  tickMs?: number;
}

/** What {@link System.start} starts. */
export interface SystemOptions {
  /** The platforms of the system: their apps, task types and sandboxes. */
  platforms: readonly AnyPlatformDescriptor[];
  /** Where the data of the run lives: databases, sources files, each app's `DATA_DIR`. Created 0700. */
  dataDir: string;
  /** The repository (or deploy) root holding `apps/<app>/dist/index.js`; sandbox modules resolve from here. @defaultValue the root of this repository */
  root?: string;
  /** When set, each process appends its output to `<logDir>/<name>.log` (directory 0700, files 0600). */
  logDir?: string;
  /** Characters of output each process keeps in memory per run. @defaultValue Infinity */
  keepChars?: number;
  /** Called with each complete line a process writes. */
  onLine?: (process: string, line: string) => void;
  /** Another TaskManager to use instead of starting ours. */
  taskManager?: { url: string; apiKey: string };
  /** The key of our TaskManager. @defaultValue a random one */
  apiKey?: string;
  /** Our TaskManager's port. @defaultValue 0 (any free port; it keeps it across restarts) */
  port?: number;
  /** Extra variables of our TaskManager (`LOG_LEVEL` defaults to `info`). */
  serverEnv?: Record<string, string | undefined>;
  /** The offline APIs; `false`: none (the apps talk to the APIs their variables name). @defaultValue `{}` */
  sandbox?: SandboxOptions | false;
  /** Sources file text (YAML) per platform name, given to its discovery app as `<PLATFORM>_SOURCES` (see `demoSources`). */
  sources?: Record<string, string>;
  /** Variables for every app, after the system's own and the sandboxes'. */
  env?: Record<string, string | undefined>;
  /** Variables per app name, last. */
  perApp?: Record<string, Record<string, string | undefined>>;
  /** Redis for hybrid mode; direct mode without. */
  redisUrl?: string;
  /** The apps' `QUEUE_PREFIX`. @defaultValue `prismq-<random>` */
  queuePrefix?: string;
  /** How long each process may take to say it is ready, in ms. @defaultValue 60000 */
  readyTimeoutMs?: number;
  /** `NODE_OPTIONS` of the server and the apps; `""` for Node's own defaults. @defaultValue {@link SERVICE_NODE_OPTIONS} */
  nodeOptions?: string;
}

/**
 * The V8 settings every service runs with, here and in the Docker image (its `ENV NODE_OPTIONS`).
 * A young generation of 1 MB semi-spaces instead of V8's 16 MB: the services hold little between
 * requests, so the larger nursery only grows resident memory (about 25 MB less per process in
 * `pnpm bench:pipeline`, which runs both settings side by side).
 */
export const SERVICE_NODE_OPTIONS = "--max-semi-space-size=1";

/** The outcome of {@link System.stop} for one process. */
export interface StoppedProcess extends StopResult {
  name: string;
}

/** The sandboxes' default request rate (per minute per client), as the real Reddit's. */
const SANDBOX_RPM = 100;
const here = fileURLToPath(new URL("../../..", import.meta.url));
const HEALTH_LINE = /"health":"([^"]+)"/;
const SERVER_LINE = /TaskManager API: (\S+)/;

/**
 * The whole system on one machine, built from a list of platform descriptors:
 * the sandbox process (the offline API of each platform), our TaskManager
 * server, and each platform's apps, each its own process as deployed.
 */
export class System {
  readonly set: PlatformSet;
  readonly dataDir: string;
  readonly root: string;
  readonly apiKey: string;
  readonly queuePrefix: string;
  /** Our TaskManager server; undefined when another is used. */
  readonly server: ManagedProcess | undefined;
  /** The sandbox process; undefined without sandboxes. */
  readonly sandbox: ManagedProcess | undefined;
  /** Every app, by name, in start order (per platform: discovery first). */
  readonly apps = new Map<string, ManagedProcess>();
  /** The sandbox base URL per platform name. */
  readonly sandboxUrls = new Map<string, string>();
  /** Each app's health URL, once it is ready. */
  readonly health = new Map<string, string>();
  /** The TaskManager's URL (ours once it is ready). */
  taskManagerUrl = "";
  private stopping: Promise<StoppedProcess[]> | undefined;
  private readonly onExit = () => {
    for (const p of this.processes) p.kill();
  };

  constructor(readonly options: SystemOptions) {
    this.set = platformSet(options.platforms);
    this.dataDir = options.dataDir;
    this.root = options.root ?? here;
    this.apiKey = options.taskManager?.apiKey ?? options.apiKey ?? `tm-${randomBytes(18).toString("hex")}`;
    this.queuePrefix = options.queuePrefix ?? `prismq-${randomBytes(4).toString("hex")}`;
    if (options.taskManager) this.taskManagerUrl = options.taskManager.url;
    const nodeOptions = options.nodeOptions ?? SERVICE_NODE_OPTIONS;
    const proc = (name: string, entry: string, env: Record<string, string | undefined>, args: string[] = []) =>
      new ManagedProcess({ name, entry: join(this.root, entry), args, env: { ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...env }, cwd: this.root, logDir: options.logDir, keepChars: options.keepChars, onLine: options.onLine && ((l) => options.onLine?.(name, l)) });
    if (!options.taskManager) {
      this.server = proc("taskmanager-server", "apps/taskmanager-server/dist/index.js", {
        PORT: String(options.port ?? 0),
        API_KEYS: this.apiKey,
        SQLITE_PATH: join(this.dataDir, "taskmanager.sqlite"),
        LOG_LEVEL: "info",
        ...options.serverEnv,
      });
    }
    const sb = options.sandbox === false ? undefined : (options.sandbox ?? {});
    const sandboxed = sb ? this.set.platforms.filter((p) => p.sandbox && (sb.platforms ?? this.set.platforms.map((q) => q.name)).includes(p.name)) : [];
    if (sb && sandboxed.length) {
      const spec: SandboxHostSpec = {
        sandboxes: sandboxed.map((p) => ({ platform: p.name, module: p.sandbox?.module ?? "", factory: p.sandbox?.factory ?? "" })),
        options: { latencyMs: sb.latencyMs, errorRate: sb.errorRate, rpm: sb.rpm, tickMs: sb.tickMs },
        resolveFrom: this.root,
      };
      this.sandbox = new ManagedProcess({
        name: "sandbox",
        // From dist and from src (tests run the sources): the built script.
        entry: fileURLToPath(new URL("../dist/sandbox-host.js", import.meta.url)),
        args: [JSON.stringify(spec)],
        env: {},
        cwd: this.root,
        logDir: options.logDir,
        keepChars: options.keepChars,
        onLine: options.onLine && ((l) => options.onLine?.("sandbox", l)),
      });
    }
    for (const platform of this.set.platforms) {
      const roleOf = (app: string) => platform.taskTypes.some((t) => t.claimedBy === app && t.role === "discovery");
      const apps = [...new Set(platform.taskTypes.map((t) => t.claimedBy))].sort((a, b) => Number(roleOf(b)) - Number(roleOf(a)));
      for (const app of apps) this.apps.set(app, proc(app, `apps/${app}/dist/index.js`, {}));
    }
  }

  /** Every process, in start order. */
  get processes(): ManagedProcess[] {
    return [...(this.server ? [this.server] : []), ...(this.sandbox ? [this.sandbox] : []), ...this.apps.values()];
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /** The app of that name. @throws {Error} when the system has none. */
  app(name: string): ManagedProcess {
    const p = this.apps.get(name);
    if (!p) throw new Error(`no app ${name} in this system (${[...this.apps.keys()].join(", ")})`);
    return p;
  }

  /**
   * Starts everything in order and waits for each to be ready: our TaskManager,
   * the sandbox, then each app (one at a time). On a failure stops what started
   * and rethrows.
   */
  async start(): Promise<void> {
    process.on("exit", this.onExit);
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    try {
      if (this.server) await this.startServer();
      if (this.sandbox) await this.startSandbox();
      this.configureApps();
      for (const app of this.apps.keys()) {
        if (this.stopping) return;
        await this.startApp(app);
      }
    } catch (err) {
      if (this.stopping) return;
      await this.stop(5_000);
      throw err;
    }
  }

  /** Starts our TaskManager (again, on its port and database file) and waits for its URL. */
  async startServer(): Promise<void> {
    if (!this.server) throw new Error("this system uses another TaskManager");
    this.server.start();
    this.taskManagerUrl = await this.server.line(SERVER_LINE, this.options.readyTimeoutMs);
    // Restarts come back on the same port: the apps keep their URL.
    this.server.env.PORT = new URL(this.taskManagerUrl).port;
  }

  private async startSandbox(): Promise<void> {
    const sandbox = this.sandbox as ManagedProcess;
    sandbox.start();
    await sandbox.line(/(SANDBOXES READY)/, this.options.readyTimeoutMs);
    for (const m of sandbox.current.matchAll(/^SANDBOX (\S+) (\S+)$/gm)) this.sandboxUrls.set(m[1] as string, m[2] as string);
  }

  private configureApps(): void {
    const o = this.options;
    const sandboxEnv: Record<string, string> = {};
    const rpm = (o.sandbox === false ? undefined : o.sandbox?.rpm) ?? SANDBOX_RPM;
    for (const [name, url] of this.sandboxUrls) {
      const sandbox = this.set.platform(name)?.sandbox;
      Object.assign(sandboxEnv, sandbox?.env(url), sandbox?.limitsEnv?.(rpm));
    }
    const sourcesEnv = new Map<string, Record<string, string>>();
    for (const platform of this.set.platforms) {
      const text = o.sources?.[platform.name];
      if (text === undefined) continue;
      const file = join(this.dataDir, `${platform.name}-sources.yaml`);
      writeFileSync(file, text);
      for (const t of platform.taskTypes) if (t.role === "discovery") sourcesEnv.set(t.claimedBy, { [`${platform.name.toUpperCase().replace(/-/g, "_")}_SOURCES`]: file });
    }
    for (const [name, p] of this.apps) {
      Object.assign(p.env, {
        TASKMANAGER_API_URL: this.taskManagerUrl,
        TASKMANAGER_API_KEY: this.apiKey,
        REDIS_URL: o.redisUrl,
        QUEUE_PREFIX: this.queuePrefix,
        LOG_LEVEL: "info",
        HEALTH_PORT: "0",
        IDEA_DATABASE_URL: `sqlite:${join(this.dataDir, "ideas.sqlite")}`,
        ...sandboxEnv,
        ...o.env,
        DATA_DIR: join(this.dataDir, name),
        ...sourcesEnv.get(name),
        ...o.perApp?.[name],
      });
    }
  }

  /** The variables an app runs with. */
  envOf(name: string): Readonly<Record<string, string | undefined>> {
    return this.app(name).env;
  }

  /** Starts an app (again) and waits until it serves its health endpoint. */
  async startApp(name: string): Promise<void> {
    const p = this.app(name).start();
    this.health.set(name, await p.line(HEALTH_LINE, this.options.readyTimeoutMs));
  }

  /** POSTs `body` to a platform sandbox's control endpoint `/_sandbox/<path>`; answers its JSON. @throws {Error} on a non-200 answer. */
  async sandboxControl(platform: string, path: string, body: object): Promise<unknown> {
    const base = this.sandboxUrls.get(platform);
    if (!base) throw new Error(`no sandbox for ${platform}`);
    const r = await fetch(`${base}/_sandbox/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json: unknown = await r.json();
    if (r.status !== 200) throw new Error(`${base}/_sandbox/${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  }

  /**
   * The graceful stop: SIGTERM to each app (each hands back or finishes its
   * work), SIGKILL to those still running after `graceMs`; then the same for
   * the sandbox and our TaskManager. Idempotent. Answers how each process ended.
   */
  stop(graceMs = 30_000, restGraceMs = 15_000): Promise<StoppedProcess[]> {
    this.stopping ??= (async () => {
      const group = (ps: ManagedProcess[], ms: number) => Promise.all(ps.map(async (p) => ({ name: p.name, ...(await p.stop("SIGTERM", ms)) })));
      const apps = await group([...this.apps.values()], graceMs);
      const rest = await group([this.sandbox, this.server].filter((p): p is ManagedProcess => p !== undefined), restGraceMs);
      process.off("exit", this.onExit);
      return [...apps, ...rest];
    })();
    return this.stopping;
  }

  /** SIGKILL to every process left. */
  kill(): void {
    this.onExit();
  }
}
