import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { startYouTubeSandbox, type YouTubeSandbox, type YouTubeSandboxOptions } from "@prismq/sandbox";
import type { ClaimedTask, Task, TaskManagerClient, TaskSummary } from "@prismq/taskmanager-client";
import { YouTube, registerAll, type InvalidTask, type YouTubeVideoParams } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { DirectOutbox, WorkerLoop, createLogger, type Logger } from "@prismq/worker-kit";
import { YouTubeApi, type YouTubeApiOptions } from "@prismq/youtube-source";
import { YouTubeProcessor, type ProcessorDeps, type VideoTask } from "../src/processor.js";

export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "youtube-processor-test", level: "silent" });

export interface RigOptions {
  processor?: Partial<Omit<ProcessorDeps, "api" | "ideas" | "outbox" | "logger">>;
  api?: Partial<YouTubeApiOptions>;
  batchSize?: number;
  /** The sandbox's strictness. Default: strict but without random garbage answers (tests about processing use one attempt per call). */
  strict?: YouTubeSandboxOptions["strict"];
  /** Where the processor logs. Default: nowhere. */
  logger?: Logger;
}

/**
 * A real TaskManager server (own temp SQLite file and key, catalog registered),
 * a YouTube sandbox, an idea store on a temp SQLite dir, a DirectOutbox, and the
 * processor wired to them; all torn down when the test ends.
 */
export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), "ytp-"));
  readonly ytKey = `ytp-yt-${uid()}`;
  readonly workerId = `ytp-${uid()}`;
  tm!: TestTaskManager;
  client!: TaskManagerClient;
  sandbox!: YouTubeSandbox;
  store!: IdeaStore;
  outbox!: DirectOutbox;
  api!: YouTubeApi;
  processor!: YouTubeProcessor;
  /** Every batch `handle` was given, as video ids. */
  readonly handled: string[][] = [];
  /** Tasks the claim helper failed for bad params. */
  readonly invalid: InvalidTask[] = [];

  static async start(t: TestContext, options: RigOptions = {}): Promise<Rig> {
    const rig = new Rig();
    t.after(() => rig.stop());
    await rig.init(options);
    return rig;
  }

  private async init(options: RigOptions): Promise<void> {
    this.tm = await startTestTaskManager({ workerId: this.workerId, retry: false, register: registerAll });
    this.client = this.tm.client;
    this.sandbox = await startYouTubeSandbox({ world: { seed: "processor-tests" }, strict: options.strict ?? { garbageRate: 0 } });
    this.store = await openIdeaStore({ dataDir: join(this.dir, "ideas") });
    this.outbox = new DirectOutbox({ client: this.client, logger: silent });
    this.api = new YouTubeApi({ apiKey: this.ytKey, rootUrl: this.sandbox.rootUrl, attempts: 1, logger: silent, ...options.api });
    this.processor = new YouTubeProcessor({
      api: this.api,
      ideas: this.store,
      outbox: this.outbox,
      logger: options.logger ?? silent,
      // The sandbox's world clock, so video ages are what the sandbox's statistics mean.
      now: () => this.sandbox.world.clock.now(),
      ...options.processor,
    });
  }

  /** A WorkerLoop as the app builds it: claim with the typed helper, handle with the processor. */
  worker(batchSize = 50): WorkerLoop<VideoTask> {
    return new WorkerLoop<VideoTask>({
      name: YouTube.Video.name,
      client: this.client,
      batchSize,
      outbox: this.outbox,
      workerId: this.workerId,
      logger: silent,
      claim: (signal) => YouTube.Video.claim(this.client, { workerId: this.workerId, signal, onInvalid: (e) => this.invalid.push(e) }),
      handle: (batch, signal) => {
        this.handled.push(batch.map((task) => task.params.video_id));
        return this.processor.handle(batch, signal);
      },
    });
  }

  /** Creates one Video task per id; answers the task id of each. */
  async createVideos(ids: readonly string[], hops?: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const video_id of ids) {
      const created = await YouTube.Video.create(this.client, hops === undefined ? { video_id } : { video_id, hops });
      if (created.deduplicated) throw new Error(`task for ${video_id} already existed`);
      out.set(video_id, created.id);
    }
    return out;
  }

  tasks(type: string, status?: Task["status"]): Promise<TaskSummary[]> {
    return this.tm.tasks(type, status);
  }

  task(id: number): Promise<Task> {
    return this.tm.task(id);
  }

  /** Video tasks as if claimed, to hand to `processor.handle` directly. */
  fakeClaims(ids: readonly string[], firstId = 1_000_000): Array<ClaimedTask<YouTubeVideoParams>> {
    return ids.map((video_id, k) => ({ id: firstId + k, type: YouTube.Video.name, params: { video_id }, attempts: 1, priority: 0 }));
  }

  /** The sandbox's index of a video id. */
  index(id: string): number {
    const i = this.sandbox.data.videoIndex(id);
    if (i === undefined) throw new Error(`unknown video ${id}`);
    return i;
  }

  async stop(): Promise<void> {
    await this.tm?.close();
    await this.store?.close();
    await this.sandbox?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
