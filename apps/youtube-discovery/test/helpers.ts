import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startYouTubeSandbox, type YouTubeSandbox } from "@prismq/sandbox";
import { TaskManagerClient, type TaskSummary } from "@prismq/taskmanager-client";
import { startServer, type RunningServer } from "@prismq/taskmanager-server";
import { registerAll } from "@prismq/task-types";
import { createLogger, type Logger } from "@prismq/worker-kit";

export const KEY = "yt-discovery-test-key-0123456789";
export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "test", level: "silent" });

/** A real TaskManager (temp SQLite), a YouTube sandbox and a temp data dir, torn down together. */
export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), "ytd-"));
  server!: RunningServer;
  sandbox!: YouTubeSandbox;
  client!: TaskManagerClient;
  readonly apiKey = `yt-key-${uid()}`;

  async start(options: { dailyQuota?: number; videos?: number } = {}): Promise<this> {
    this.server = await startServer({ storage: { kind: "sqlite", path: join(this.dir, "tm.sqlite") }, apiKeys: [KEY] });
    this.sandbox = await startYouTubeSandbox({ world: { seed: "discovery-tests", channels: 6, videos: options.videos ?? 1_500 }, dailyQuota: options.dailyQuota });
    this.client = new TaskManagerClient({ baseUrl: this.server.url, apiKey: KEY, workerId: `ytd-${uid()}` });
    await registerAll(this.client);
    return this;
  }
  async tasks(type: string): Promise<TaskSummary[]> {
    const all: TaskSummary[] = [];
    for await (const t of this.client.listTasks({ type })) all.push(t);
    return all;
  }
  async stop(): Promise<void> {
    await this.client.close();
    await this.sandbox.close();
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
