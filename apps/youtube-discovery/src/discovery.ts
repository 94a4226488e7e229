import { YouTube, type YouTubeChannelParams, type YouTubeMostPopularParams, type YouTubeSearchParams, type YouTubeVideoParams } from "@prismq/task-types";
import { DiscoverySink, type AppState, type SpawnOrigin, type Logger, type Outbox, type RunReport, type WorkerMetrics } from "@prismq/worker-kit";
import { YouTubeError, parseChannelRef, type ResolvedChannel, type UploadItem, type YouTubeApi } from "@prismq/youtube-source";

export interface DiscoveryDeps {
  api: YouTubeApi;
  outbox: Outbox;
  state: AppState;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  /**
   * How far back a new search window reaches behind the newest video an earlier
   * run found, ms: search indexes videos minutes to hours after they are
   * published, so the last hours are asked again (the seen-set drops repeats).
   * Default 6 hours.
   */
  searchOverlapMs?: number;
}

/** A discovery run's summary: the common report plus what the API's caps and the run's limit left. */
export interface YouTubeRunReport extends RunReport {
  /** New items found but left for the next run, which takes them before newer ones. Present when > 0. */
  backlog?: number;
  /** True when a search hit the API's result cap (about 500 per query). Present when true. */
  capped?: boolean;
  /** Items the capped queries could not list (the API's estimate); the window cursor walks them by narrowing `publishedBefore`. Present when capped. */
  unreachable?: number;
}

/** A search window still to walk: `[after, before]`, newest first. */
interface SearchWindow {
  after?: string;
  before?: string;
  /** True for a window carried over from an earlier run (the backlog). */
  carried?: boolean;
}

/** Where a channel's uploads are known down to: every upload at or before it was sent. */
interface UploadsFloor {
  videoId: string;
  publishedAt: string;
}

/** Results of one query after which search stops paging (the API's documented cap is about 500). */
export const SEARCH_CAP_MIN = 400;
const DEFAULT_OVERLAP_MS = 6 * 3_600_000;

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
  private readonly sink: DiscoverySink<YouTubeVideoParams>;
  constructor(private readonly deps: DiscoveryDeps) {
    this.sink = new DiscoverySink({ outbox: deps.outbox, state: deps.state, task: YouTube.Video, params: (video_id, hops) => ({ video_id, hops }), seenSet: ALL_VIDEOS });
  }

  /**
   * Walks a channel's uploads newest first down to its floor (the point below
   * which every upload was sent), skipping uploads already sent, and sends at
   * most `max_videos`: the oldest of the gap first, so a backlog left by a run
   * that stopped at its limit is finished before newer uploads, and nothing
   * between the floor and the newest upload is ever skipped. The first run of a
   * channel takes its newest `max_videos` and sets the floor there. A channel
   * with no uploads (404 `playlistNotFound` for its uploads playlist) gives 0.
   */
  async channel(params: YouTubeChannelParams, signal?: AbortSignal, priority?: number): Promise<YouTubeRunReport> {
    const { api, state } = this.deps;
    const ch = await this.resolve(params.channel_id, signal);
    const perChannel = `channel:${ch.channelId}`;
    const floorKey = `uploads:${ch.channelId}`;
    const limit = params.max_videos ?? DEFAULT_MAX_VIDEOS;
    const report: YouTubeRunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    const floorText = await state.getCursor(floorKey);
    const floor = floorText ? (JSON.parse(floorText) as UploadsFloor) : undefined;
    const gap: UploadItem[] = [];
    let top: UploadItem | undefined;
    let walkedAll = false;
    let pageToken: string | undefined;
    walk: for (;;) {
      let page;
      try {
        page = await api.playlistPage(ch.uploadsPlaylistId, pageToken, signal);
      } catch (err) {
        // The real API has no uploads playlist for a channel without uploads: nothing new, not "not found".
        if (err instanceof YouTubeError && err.reason === "playlistNotFound" && report.pages === 0) return report;
        throw err;
      }
      report.pages++;
      top ??= page.items[0];
      const fresh = new Set(await state.unseen(perChannel, page.items.map((i) => i.videoId)));
      for (const it of page.items) {
        const belowFloor = floor !== undefined && (it.videoId === floor.videoId || (it.publishedAt !== "" && it.publishedAt < floor.publishedAt));
        // Without a floor (a state from before floors), the first known upload ends the walk, as it always did.
        if (belowFloor || (floor === undefined && !fresh.has(it.videoId))) {
          report.stoppedAtKnown = true;
          walkedAll = true;
          break walk;
        }
        if (!fresh.has(it.videoId)) continue;
        gap.push(it);
        if (floor === undefined && gap.length >= limit) break walk;
      }
      pageToken = page.nextPageToken;
      if (!pageToken) {
        walkedAll = true;
        break;
      }
    }
    // The gap is newest first; with a floor, its oldest part goes first (the backlog), else the newest part.
    const chosen = floor === undefined ? gap.slice(0, limit) : gap.slice(Math.max(0, gap.length - limit));
    report.listed = chosen.length;
    report.sent = await this.send(chosen, { hops: params.hops, priority });
    await state.markSeen(perChannel, chosen.map((i) => i.videoId));
    const left = gap.length - chosen.length;
    if (left > 0) report.backlog = left;
    // Move the floor: to the newest upload when the whole gap went out, else to the newest upload sent
    // (everything older is known now); a first run that stopped at its limit sets its horizon at the oldest sent.
    let next: UploadItem | undefined;
    if (walkedAll && left === 0) next = top;
    else if (floor !== undefined) next = chosen[0];
    else next = chosen.at(-1);
    if (next && (next.videoId !== floor?.videoId || next.publishedAt !== floor.publishedAt)) {
      await state.setCursor(floorKey, JSON.stringify({ videoId: next.videoId, publishedAt: next.publishedAt } satisfies UploadsFloor));
    }
    return report;
  }

  /**
   * Searches newest first in a window `[after, before]`. A new window starts
   * `searchOverlapMs` behind the newest video an earlier run found (late
   * indexing); a run that stops at `max_results` keeps the rest of its window
   * (`before` = the oldest video listed) and the next run walks it before a new
   * window; a query the API cuts off at its cap (about 500 results) is narrowed
   * the same way and asked again, and the run reports `capped` with the number
   * of results the cut-off query could not reach.
   */
  async search(params: YouTubeSearchParams, signal?: AbortSignal, priority?: number): Promise<YouTubeRunReport> {
    const { api, state, metrics } = this.deps;
    const key = Buffer.from(params.query).toString("base64url").slice(0, 150);
    const cursorKey = `search:${key}`;
    const windowKey = `search-window:${key}`;
    const limit = params.max_results ?? DEFAULT_MAX_RESULTS;
    const overlap = this.deps.searchOverlapMs ?? DEFAULT_OVERLAP_MS;
    const report: YouTubeRunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    const cursor = await state.getCursor(cursorKey);
    let newest = cursor ?? "";
    // "none" marks a walked window (a cursor cannot be removed).
    const saved = await state.getCursor(windowKey);
    const pending = saved && saved !== "none" ? saved : undefined;
    const freshWindow = (): SearchWindow => {
      const since = newest ? new Date(Date.parse(newest) - overlap).toISOString().replace(".000Z", "Z") : undefined;
      const after = [params.published_after, since].filter((v): v is string => !!v).sort().at(-1);
      return after ? { after } : {};
    };
    let win: SearchWindow = pending ? { ...(JSON.parse(pending) as SearchWindow), carried: true } : freshWindow();
    let windowOpen = true;
    while (report.listed < limit) {
      let inQuery = 0;
      let oldest: string | undefined;
      let total: number | undefined;
      let pageToken: string | undefined;
      do {
        const page = await api.search(
          { q: params.query, order: "date", publishedAfter: win.after, publishedBefore: win.before, maxResults: Math.min(50, limit - report.listed), pageToken },
          signal,
        );
        report.pages++;
        total ??= page.totalResults;
        const items = page.items.slice(0, limit - report.listed);
        report.listed += items.length;
        inQuery += items.length;
        report.sent += await this.send(items, { hops: params.hops, priority });
        for (const it of items) {
          if (it.publishedAt === "") continue;
          if (it.publishedAt > newest) newest = it.publishedAt;
          if (oldest === undefined || it.publishedAt < oldest) oldest = it.publishedAt;
        }
        pageToken = page.nextPageToken;
      } while (pageToken && report.listed < limit);
      // No next page after about 500 results: the API's cap, whatever its (estimated) total says. If it was
      // really the end, the narrowed query costs one more page and finds nothing new.
      const cut = !pageToken && inQuery >= SEARCH_CAP_MIN;
      if (cut) {
        const hidden = Math.max(0, (total ?? 0) - inQuery);
        report.capped = true;
        report.unreachable = (report.unreachable ?? 0) + hidden;
        metrics?.listingCapHits.inc({ api: "youtube" });
        if (hidden > 0) metrics?.listingUnreachable.inc({ api: "youtube" }, hidden);
        this.deps.logger.warn({ query: params.query, unreachable: hidden }, "YouTube's search cap (about 500 results) ended a page walk: the window is narrowed and walked again; some videos may not be reachable");
      }
      if ((pageToken || cut) && oldest !== undefined && oldest !== win.before) {
        // Stopped at the limit or the cap: the rest of the window is older than the oldest video listed.
        win = { ...win, before: oldest };
        continue;
      }
      // The window is walked (or cannot move on): a carried-over window makes room for a new one.
      windowOpen = false;
      if (win.carried && report.listed < limit) {
        win = freshWindow();
        windowOpen = true;
        continue;
      }
      break;
    }
    if (windowOpen && win.before !== undefined) await state.setCursor(windowKey, JSON.stringify({ after: win.after, before: win.before } satisfies SearchWindow));
    else if (pending) await state.setCursor(windowKey, "none");
    if (newest && newest !== cursor) await state.setCursor(cursorKey, newest);
    return report;
  }

  /** The most popular videos of a region (and category), `max_results` of them. */
  async mostPopular(params: YouTubeMostPopularParams, signal?: AbortSignal, priority?: number): Promise<RunReport> {
    const limit = params.max_results ?? DEFAULT_MAX_RESULTS;
    const report: RunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    let pageToken: string | undefined;
    do {
      const page = await this.deps.api.mostPopular({ regionCode: params.region_code, categoryId: params.category_id, pageToken, maxResults: Math.min(50, limit - report.listed) }, signal);
      report.pages++;
      const items = page.items.slice(0, limit - report.listed).flatMap((v) => (typeof v.id === "string" && v.id ? [{ videoId: v.id, publishedAt: typeof v.snippet?.publishedAt === "string" ? v.snippet.publishedAt : "" }] : []));
      report.listed += items.length;
      report.sent += await this.send(items, { hops: params.hops, priority });
      pageToken = page.nextPageToken;
    } while (pageToken && report.listed < limit);
    return report;
  }

  private async resolve(idOrHandle: string, signal?: AbortSignal): Promise<ResolvedChannel> {
    // Cached under the id or `@name`, whatever form (URL included) named the channel.
    const ref = parseChannelRef(idOrHandle);
    const key = (ref ? (ref.kind === "id" ? ref.value : `${ref.kind === "handle" ? "@" : `${ref.kind}:`}${ref.value}`) : idOrHandle).toLowerCase().replace(/[^a-z0-9_.:@-]/g, "_");
    let ch = this.channels.get(key);
    if (!ch) {
      const cached = await this.deps.state.getCursor(`channel:${key}`);
      ch = cached ? (JSON.parse(cached) as ResolvedChannel) : await this.deps.api.resolveChannel(idOrHandle, signal);
      if (!cached) await this.deps.state.setCursor(`channel:${key}`, JSON.stringify(ch));
      this.channels.set(key, ch);
    }
    return ch;
  }

  /** Creates a Video task for each video not sent before, at the source's hop count and priority; returns how many. */
  private send(items: readonly UploadItem[], origin: SpawnOrigin): Promise<number> {
    return this.sink.send(items.map((i) => i.videoId), origin);
  }

}
