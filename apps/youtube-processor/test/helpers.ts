import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { startYouTubeSandbox, type YouTubeSandbox, type YouTubeSandboxOptions } from "@prismq/sandbox";
import { YouTube, registerAll, type YouTubeVideoParams } from "@prismq/task-types";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import { createLogger, type Logger } from "@prismq/worker-kit";
import { ItemRig, startRig, type ItemType } from "@prismq/worker-kit/testing";
import { YouTubeApi, type YouTubeApiOptions } from "@prismq/youtube-source";
import { YouTubeProcessor, type ProcessorDeps } from "../src/processor.js";

export const uid = (): string => randomBytes(5).toString("hex");
export const silent: Logger = createLogger({ service: "youtube-processor-test", level: "silent" });

const VIDEO: ItemType<YouTubeVideoParams> = { type: YouTube.Video, params: (video_id, hops) => (hops === undefined ? { video_id } : { video_id, hops }), idOf: (p) => p.video_id };

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
export class Rig extends ItemRig<YouTubeVideoParams, TestTaskManager> {
  readonly ytKey = `ytp-yt-${uid()}`;
  sandbox!: YouTubeSandbox;
  api!: YouTubeApi;
  processor!: YouTubeProcessor;

  constructor() {
    super({ item: VIDEO, batchSize: 50, prefix: "ytp-", startTaskManager: (workerId) => startTestTaskManager({ workerId, retry: false, register: registerAll }) });
  }

  static start = (t: TestContext, options: RigOptions = {}): Promise<Rig> => startRig(t, new Rig(), (rig) => rig.init(options));

  private async init(options: RigOptions): Promise<void> {
    await this.startBase();
    this.sandbox = await startYouTubeSandbox({ world: { seed: "processor-tests" }, strict: options.strict ?? { garbageRate: 0 } });
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

  /** The sandbox's index of a video id. */
  index(id: string): number {
    const i = this.sandbox.data.videoIndex(id);
    if (i === undefined) throw new Error(`unknown video ${id}`);
    return i;
  }
}
