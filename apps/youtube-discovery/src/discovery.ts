import { YouTube, nextHop, type YouTubeChannelParams, type YouTubeMostPopularParams, type YouTubeSearchParams } from "@prismq/task-types";
import type { AppState, Logger, Outbox, RunReport, WorkerMetrics } from "@prismq/worker-kit";
import type { ResolvedChannel, UploadItem, YouTubeApi } from "@prismq/youtube-source";

export interface DiscoveryDeps {
  api: YouTubeApi;
  outbox: Outbox;
  state: AppState;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
}

/** Seen-set of every video this app sent, whatever the source. */
const ALL_VIDEOS = "videos";
const DEFAULT_MAX_VIDEOS = 500;
const DEFAULT_MAX_RESULTS = 50;

/**
 * The three ways to find new videos, each as cheap in quota as the API allows:
 * channel uploads through the uploads playlist (1 unit per 50 videos, stopping at
 * the first known video), search (100 units per page of 50, `publishedAfter`
 * moving forward between runs), and most popular (1 unit per 50). Each new video
 * becomes a `Video` task through the outbox; the seen-set keeps known videos from
 * being sent again.
 */
export class YouTubeDiscovery {
  private readonly channels = new Map<string, ResolvedChannel>();
  constructor(private readonly deps: DiscoveryDeps) {}

  /** Walks a channel's uploads newest first, to `max_videos` or the first video this channel already gave. */
  async channel(params: YouTubeChannelParams, signal?: AbortSignal): Promise<RunReport> {
    const ch = await this.resolve(params.channel_id, signal);
    const perChannel = `channel:${ch.channelId}`;
    const limit = params.max_videos ?? DEFAULT_MAX_VIDEOS;
    const report: RunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    let pageToken: string | undefined;
    do {
      const page = await this.deps.api.playlistPage(ch.uploadsPlaylistId, pageToken, signal);
      report.pages++;
      const items = page.items.slice(0, limit - report.listed);
      const fresh = new Set(await this.deps.state.unseen(perChannel, items.map((i) => i.videoId)));
      const firstKnown = items.findIndex((i) => !fresh.has(i.videoId));
      const newOnes = firstKnown === -1 ? items : items.slice(0, firstKnown);
      report.listed += newOnes.length;
      report.sent += await this.send(newOnes, params.hops);
      await this.deps.state.markSeen(perChannel, newOnes.map((i) => i.videoId));
      if (firstKnown !== -1) {
        report.stoppedAtKnown = true;
        break;
      }
      pageToken = page.nextPageToken;
    } while (pageToken && report.listed < limit);
    return report;
  }

  /** Searches newest first, only after the newest video an earlier run of the same query found. */
  async search(params: YouTubeSearchParams, signal?: AbortSignal): Promise<RunReport> {
    const cursorKey = `search:${Buffer.from(params.query).toString("base64url").slice(0, 150)}`;
    const cursor = await this.deps.state.getCursor(cursorKey);
    const after = [params.published_after, cursor].filter((v): v is string => !!v).sort().at(-1);
    const limit = params.max_results ?? DEFAULT_MAX_RESULTS;
    const report: RunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    let newest = cursor ?? "";
    let pageToken: string | undefined;
    do {
      const page = await this.deps.api.search({ q: params.query, order: "date", publishedAfter: after, maxResults: Math.min(50, limit - report.listed), pageToken }, signal);
      report.pages++;
      const items = page.items.slice(0, limit - report.listed);
      report.listed += items.length;
      report.sent += await this.send(items, params.hops);
      for (const it of items) if (it.publishedAt > newest) newest = it.publishedAt;
      pageToken = page.nextPageToken;
    } while (pageToken && report.listed < limit);
    if (newest && newest !== cursor) await this.deps.state.setCursor(cursorKey, newest);
    return report;
  }

  /** The most popular videos of a region (and category), `max_results` of them. */
  async mostPopular(params: YouTubeMostPopularParams, signal?: AbortSignal): Promise<RunReport> {
    const limit = params.max_results ?? DEFAULT_MAX_RESULTS;
    const report: RunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    let pageToken: string | undefined;
    do {
      const page = await this.deps.api.mostPopular({ regionCode: params.region_code, categoryId: params.category_id, pageToken, maxResults: Math.min(50, limit - report.listed) }, signal);
      report.pages++;
      const items = page.items.slice(0, limit - report.listed).flatMap((v) => (v.id ? [{ videoId: v.id, publishedAt: v.snippet?.publishedAt ?? "" }] : []));
      report.listed += items.length;
      report.sent += await this.send(items, params.hops);
      pageToken = page.nextPageToken;
    } while (pageToken && report.listed < limit);
    return report;
  }

  private async resolve(idOrHandle: string, signal?: AbortSignal): Promise<ResolvedChannel> {
    const key = idOrHandle.toLowerCase();
    let ch = this.channels.get(key);
    if (!ch) {
      const cached = await this.deps.state.getCursor(`channel:${key}`);
      ch = cached ? (JSON.parse(cached) as ResolvedChannel) : await this.deps.api.resolveChannel(idOrHandle, signal);
      if (!cached) await this.deps.state.setCursor(`channel:${key}`, JSON.stringify(ch));
      this.channels.set(key, ch);
    }
    return ch;
  }

  /** Creates a Video task for each video not sent before; returns how many. The hop count is the source's (a same-platform edge). */
  private async send(items: readonly UploadItem[], hops: number | undefined): Promise<number> {
    const fresh = await this.deps.state.unseen(ALL_VIDEOS, items.map((i) => i.videoId));
    const hop = nextHop({ hops }, "same-platform") ?? 0;
    for (const videoId of fresh) {
      await this.deps.outbox.create(YouTube.Video.name, YouTube.Video.params({ video_id: videoId, hops: hop }));
      // Recorded per video, right after its create went out: a crash loses no video, at worst repeats one (deduped).
      await this.deps.state.markSeen(ALL_VIDEOS, [videoId]);
    }
    return fresh.length;
  }
}
