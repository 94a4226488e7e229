/** The command line of `pnpm start`: options, their checks and the usage text. */
import { parseArgs } from "node:util";
import { SERVICE_NODE_OPTIONS } from "@prismq/system";

/** What `pnpm start --help` prints. */
export function usage(defaultDataDir: string): string {
  return `Usage: pnpm start [options]

Runs the whole system on this machine, each part its own process: the TaskManager (SQLite),
the offline YouTube and Reddit APIs, and the four apps, with a live status view. Hybrid mode
when Redis answers at REDIS_URL (default redis://127.0.0.1:6379), direct mode otherwise.
Ctrl-C stops everything gracefully (apps first, each hands back or finishes its work);
a second Ctrl-C forces.

Options:
  --once               process what the sources yield, print a summary and exit
                       (0 when every task is settled, 1 past --timeout)
  --data-dir DIR       data, logs, the API key and the Redis key prefix of this run
                       (default ${defaultDataDir}); a new folder starts from scratch,
                       the same folder resumes where it stopped
  --port N             port of the TaskManager started here (default PORT or 8080; 0: any free)
  --taskmanager URL    use the TaskManager at URL (its API base, ending in /api), the hosted
                       one included, instead of starting ours; its key from TASKMANAGER_API_KEY
  --timeout SECONDS    with --once: give up after this long (default 600)
  --latency MS         the offline APIs answer every call this late (default 0)
  --quiet              no live view: one line every 10 s
  --node-options=FLAGS NODE_OPTIONS of the server and the apps (default ${SERVICE_NODE_OPTIONS},
                       as in the Docker image; "" for Node's own defaults)
  -h, --help           print this text

Real APIs instead of the offline ones: set YOUTUBE_API_KEY, or REDDIT_CLIENT_ID with
REDDIT_CLIENT_SECRET and REDDIT_REFRESH_TOKEN (or REDDIT_USERNAME and REDDIT_PASSWORD).
`;
}

export interface StartOptions {
  once: boolean;
  dataDir: string;
  /** Port of our TaskManager; 0 picks a free one. */
  port: number;
  /** A TaskManager to use instead of starting ours (API base URL). */
  taskManager?: string;
  /** With `once`: seconds before giving up. */
  timeoutSeconds: number;
  /** Extra latency of every sandbox answer, in ms. */
  latencyMs: number;
  quiet: boolean;
  /** NODE_OPTIONS of the services; `""` for Node's defaults. */
  nodeOptions: string;
}

/** The outcome of parsing: options, a request for help, or one line saying what is wrong. */
export type Parsed = { kind: "run"; options: StartOptions } | { kind: "help" } | { kind: "error"; message: string };

function integer(name: string, raw: string, min: number, max: number): number | string {
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= min && n <= max ? n : `--${name} must be a whole number from ${min} to ${max}, not "${raw}"`;
}

/** Parses `argv` (without node and the script); never throws. */
export function parseStartArgs(argv: string[], env: Record<string, string | undefined>, defaultDataDir: string): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        once: { type: "boolean" },
        "data-dir": { type: "string" },
        port: { type: "string" },
        taskmanager: { type: "string" },
        timeout: { type: "string" },
        latency: { type: "string" },
        quiet: { type: "boolean" },
        "node-options": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    // parseArgs's own sentences on one line, without its hints on "--" and "=" (which mean nothing here).
    const message = (err as Error).message.replace(/\s+/g, " ").replace(/ ?To specify .*$/, "").trim();
    return { kind: "error", message };
  }
  if (values.help) return { kind: "help" };
  const port = integer("port", (values.port as string | undefined) ?? env.PORT ?? "8080", 0, 65_535);
  const timeout = integer("timeout", (values.timeout as string | undefined) ?? "600", 1, 86_400);
  const latency = integer("latency", (values.latency as string | undefined) ?? "0", 0, 60_000);
  for (const v of [port, timeout, latency]) if (typeof v === "string") return { kind: "error", message: v };
  const taskManager = values.taskmanager as string | undefined;
  if (taskManager !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(taskManager);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) return { kind: "error", message: `--taskmanager must be an http(s) URL (the API base, ending in /api), not "${taskManager}"` };
    if (!env.TASKMANAGER_API_KEY) return { kind: "error", message: "--taskmanager needs the TaskManager's key in TASKMANAGER_API_KEY" };
  }
  const dataDir = values["data-dir"] as string | undefined;
  if (dataDir === "") return { kind: "error", message: "--data-dir must not be empty" };
  return {
    kind: "run",
    options: {
      once: values.once === true,
      dataDir: dataDir ?? defaultDataDir,
      port: port as number,
      taskManager: taskManager?.replace(/\/+$/, ""),
      timeoutSeconds: timeout as number,
      latencyMs: latency as number,
      quiet: values.quiet === true,
      nodeOptions: (values["node-options"] as string | undefined) ?? SERVICE_NODE_OPTIONS,
    },
  };
}
