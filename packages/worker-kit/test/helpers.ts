import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { pino } from "pino";
import { TestServer as BaseTestServer } from "@prismq/taskmanager-server/testing";
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
export class TestServer extends BaseTestServer {
  /** `claimTimeoutSeconds`: the server's claim timeout (its default when unset). */
  constructor(claimTimeoutSeconds?: number) {
    super({ apiKey: KEY, dirPrefix: "wk-", ...(claimTimeoutSeconds === undefined ? {} : { claimTimeoutSeconds }) });
  }
  client(workerId = `wk-${uid()}`, timeoutMs = 2_000): TaskManagerClient {
    return new TaskManagerClient({ baseUrl: this.url, apiKey: KEY, workerId, timeoutMs, retry: false });
  }
}
