import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startYouTubeSandbox, type YouTubeSandbox, type YouTubeSandboxOptions } from "@prismq/sandbox";
import type { TaskManagerClient, TaskSummary } from "@prismq/taskmanager-client";
import { registerAll } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { createLogger, type Logger } from "@prismq/worker-kit";

export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "test", level: "silent" });

/** A real TaskManager (temp SQLite, catalog registered), a YouTube sandbox and a temp data dir, torn down together. */
export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), "ytd-"));
  tm!: TestTaskManager;
  sandbox!: YouTubeSandbox;
  client!: TaskManagerClient;
  readonly apiKey = `yt-key-${uid()}`;

  async start(options: { dailyQuota?: number; videos?: number; channels?: number; visibleFraction?: number; strict?: YouTubeSandboxOptions["strict"] } = {}): Promise<this> {
    this.tm = await startTestTaskManager({ workerId: `ytd-${uid()}`, register: registerAll });
    this.client = this.tm.client;
    this.sandbox = await startYouTubeSandbox({
      world: { seed: "discovery-tests", channels: options.channels ?? 6, videos: options.videos ?? 1_500, ...(options.visibleFraction !== undefined ? { visibleFraction: options.visibleFraction } : {}) },
      dailyQuota: options.dailyQuota,
      ...(options.strict !== undefined ? { strict: options.strict } : {}),
    });
    return this;
  }
  tasks(type: string): Promise<TaskSummary[]> {
    return this.tm.tasks(type);
  }
  async stop(): Promise<void> {
    await this.tm.close();
    await this.sandbox.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
