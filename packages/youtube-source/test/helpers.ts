import { Writable } from "node:stream";
import type { TestContext } from "node:test";
import { pino, type Logger } from "pino";
import { startYouTubeSandbox, type YouTubeSandbox, type YouTubeSandboxOptions } from "@prismq/sandbox";
import { YouTubeApi, type Video, type YouTubeApiOptions } from "../src/index.js";

export const DAY = 86_400_000;

/** A YouTube sandbox closed when the test ends. */
export async function sandbox(t: TestContext, options: YouTubeSandboxOptions = {}): Promise<YouTubeSandbox> {
  const sb = await startYouTubeSandbox(options);
  t.after(() => sb.close());
  return sb;
}

/** The adapter on the sandbox with `key`: one attempt, 1 ms backoff, unless `options` say otherwise. */
export function api(sb: YouTubeSandbox, key: string, options: Partial<YouTubeApiOptions> = {}): YouTubeApi {
  return new YouTubeApi({ apiKey: key, rootUrl: sb.rootUrl, attempts: 1, baseDelayMs: 1, ...options });
}

/** A pino logger that keeps its lines in memory and calls `onLine` for each (synchronously, as it is written). */
export function memoryLogger(onLine: (line: Record<string, unknown>) => void = () => {}): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString("utf8").split("\n")) {
        if (!text) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        onLine(line);
      }
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

interface CounterLike {
  get(): Promise<{ values: Array<{ labels: Partial<Record<string, string | number>>; value: number }> }>;
}

/** The value of one labelled series of a prom-client counter (0 when the series does not exist). */
export async function counterValue(metric: CounterLike, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value ?? 0;
}

/** A video resource as the API sends it, with just the fields given. */
export function fakeVideo(fields: {
  id?: string;
  views?: string | null;
  likes?: string | null;
  comments?: string | null;
  publishedAt?: string;
  title?: string;
  description?: string;
  tags?: string[];
  duration?: string;
  channelTitle?: string;
  channelId?: string;
  categoryId?: string;
}): Video {
  return {
    id: fields.id ?? "abcdefghijk",
    snippet: {
      title: fields.title ?? "A video",
      description: fields.description ?? "",
      tags: fields.tags,
      publishedAt: fields.publishedAt,
      channelTitle: fields.channelTitle,
      channelId: fields.channelId,
      categoryId: fields.categoryId,
    },
    statistics: { viewCount: fields.views, likeCount: fields.likes, commentCount: fields.comments },
    contentDetails: { duration: fields.duration },
  };
}
