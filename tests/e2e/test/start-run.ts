// `pnpm start` run as a terminal runs it, for the tests of the dev server: pnpm itself (its build
// step is cached after `pnpm build`), in a process group of its own as a terminal's foreground job,
// so that a test can send SIGINT to the whole group as Ctrl-C does (pnpm then passes it on too).
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { TaskManagerClient, type TaskSummary } from "@prismq/taskmanager-client";
import { startServer } from "@prismq/taskmanager-server";
import { root } from "./system.js";

export interface StartRun {
  child: ChildProcess;
  output: () => string;
  /** Exit code and signal of pnpm. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to the whole process group, as a terminal does. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Every process below pnpm, now (from /proc). */
  descendants(): number[];
}

/** Starts `pnpm start <args>` in a process group of its own. */
export function runStart(args: string[], env: Record<string, string | undefined>): StartRun {
  const child = spawn("pnpm", ["start", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    signalGroup: (signal) => process.kill(-(child.pid as number), signal),
    descendants: () => descendantsOf(child.pid as number),
  };
}

/** The pids of every process below `pid`, from /proc (Linux). */
export function descendantsOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** True while `pid` is a live process (a zombie counts as gone). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Every task in a data dir's TaskManager database, read through a server of the test's own on that file. */
export async function tasksIn(dataDir: string): Promise<TaskSummary[]> {
  const key = readFileSync(join(dataDir, "api-key"), "utf8").trim();
  const server = await startServer({ storage: { kind: "sqlite", path: join(dataDir, "taskmanager.sqlite") }, apiKeys: [key] });
  const client = new TaskManagerClient({ baseUrl: server.url, apiKey: key });
  try {
    const tasks: TaskSummary[] = [];
    for await (const t of client.listTasks({ pageSize: 1000 })) tasks.push(t);
    return tasks;
  } finally {
    await client.close();
    await server.close();
  }
}

/** Deletes the Redis keys of a data dir's prefix (when the run wrote one). */
export async function dropPrefix(redisUrl: string, dataDir: string): Promise<void> {
  let prefix: string;
  try {
    prefix = readFileSync(join(dataDir, "redis-prefix"), "utf8").trim();
  } catch {
    return;
  }
  if (!prefix) return;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
