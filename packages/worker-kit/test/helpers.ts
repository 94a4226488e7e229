import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { pino } from "pino";
import { startServer, type RunningServer } from "@prismq/taskmanager-server";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { until } from "../src/testing.js";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const KEY = "worker-kit-test-key-0123456789";
export const uid = (): string => randomBytes(5).toString("hex");
export const silent = pino({ level: "silent" });
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A key prefix of this test's own; every key under it is deleted by `dropPrefix`. */
export function testPrefix(): string {
  return `test-wk-${uid()}`;
}

export async function dropPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}

/** `until` of the testing subpath, polling every 25 ms. */
export const waitFor = (check: () => boolean | Promise<boolean>, ms = 10_000, what = "condition"): Promise<void> => until(check, ms, what, 25);

/** A real TaskManager server on a temp SQLite file, restartable on the same port and file. */
export class TestServer {
  readonly dir = mkdtempSync(join(tmpdir(), "wk-"));
  private running: RunningServer | undefined;
  port = 0;

  /** `claimTimeoutSeconds`: the server's claim timeout (its default when unset). */
  constructor(private readonly claimTimeoutSeconds?: number) {}

  async start(): Promise<this> {
    this.running = await startServer({
      storage: { kind: "sqlite", path: join(this.dir, "tm.sqlite") },
      apiKeys: [KEY],
      port: this.port,
      ...(this.claimTimeoutSeconds === undefined ? {} : { claimTimeoutSeconds: this.claimTimeoutSeconds }),
    });
    this.port = this.running.port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }
  async stop(): Promise<void> {
    await this.running?.close();
    this.running = undefined;
  }
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
  client(workerId = `wk-${uid()}`, timeoutMs = 2_000): TaskManagerClient {
    return new TaskManagerClient({ baseUrl: this.url, apiKey: KEY, workerId, timeoutMs, retry: false });
  }
}
