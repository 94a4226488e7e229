import { createHash } from "node:crypto";
import { Reddit, type RedditPostParams, type RedditSearchParams, type RedditSubredditParams } from "@prismq/task-types";
import { DiscoverySink, type AppState, type Logger, type Outbox, type RunReport, type SpawnOrigin, type WorkerMetrics } from "@prismq/worker-kit";
import { RedditError, isFatalAuthError, type Page, type RedditApi, type RedditPost } from "@prismq/reddit-source";

export interface DiscoveryDeps {
  api: RedditApi;
  outbox: Outbox;
  state: AppState;
  logger: Logger;
  /** Most posts a run walks when its params name no limit. Default 100. */
  defaultLimit?: number;
  /** Where the cap counters go (`prismq_listing_cap_hits_total`, `prismq_listing_unreachable_total`, shared with every platform). */
  metrics?: WorkerMetrics;
  /**
   * How far a newest-first walk goes on past the first post it already
   * knows, in seconds of `created_utc`, to catch posts a moderator approved
   * late (they appear at their creation time, below posts already seen).
   * Default 3,600.
   */
  overlapSeconds?: number;
}

/** A discovery run's report: the common fields, and what only Reddit walks have. Extra fields are present only when they apply. */
export interface RedditRunReport extends RunReport {
  /** True when the run stopped at its limit with older new posts left: the next run continues there first. */
  backlog?: boolean;
  /** True when the listing ended (Reddit keeps about 1,000 items per listing or search) before the walk reached the posts it knew. */
  capReached?: boolean;
  /** With `capReached`: about how many posts lay between the last one reachable and the ones known (estimated from the posting rate). */
  unreachable?: number;
  /** Listed entries that could not be mapped but had an id: sent as tasks all the same (the processor reads them again). */
  invalid?: number;
}

const ALL_POSTS = "posts";
/** Pages a walk reads past the first known post at most, when dates cannot bound the overlap. */
const MAX_OVERLAP_PAGES = 3;

/** Where a resumable backlog continues: after this post, down to the newest post known when the gap opened. */
interface Backlog {
  after: string;
  until: Mark | null;
}
/** A post's id and `created_utc` (seconds). */
interface Mark {
  id: string;
  created: number;
}

interface WalkResult {
  fresh: RedditPost[];
  /** Ids of entries that could not be mapped (sent as tasks all the same). */
  invalid: string[];
  pages: number;
  /** Tasks created (posts new to this app). */
  sent: number;
  sawKnown: boolean;
  /** The walk stopped because it reached the limit. */
  hitLimit: boolean;
  /** The listing ended (no `after`) before the walk met a known post. */
  ended: boolean;
  /** The name (`t3_...`) of the last post handled, to continue after. */
  last: string | null;
  /** `created_utc` of the first and last posts handled (0 when unknown). */
  newest: Mark | null;
  oldestCreated: number;
  count: number;
}

/**
 * Subreddit listings and searches, 100 posts a request. A newest-first walk
 * (`new`, or a search sorted by `new`) takes new posts until it meets posts it
 * already knows, goes on for an overlap window past them (late approvals),
 * and keeps a resumable backlog cursor in the app state when it stops at its
 * limit: the next run finishes that backlog before it takes newer posts, so
 * nothing between "newest seen" and "limit" is lost (a source's first run
 * takes the newest `limit` posts and keeps no backlog of older history). When Reddit's listing cap
 * (about 1,000 items) hides part of a backlog, the report and the metrics say
 * so, with an estimate of how many posts it hid. Other orders walk to the
 * limit and skip known posts. Each new post becomes a `Post` task through the
 * outbox. An authentication failure stops every later run of this instance
 * (one error line) until it is restarted with working credentials.
 */
export class RedditDiscovery {
  private authFailure: RedditError | undefined;
  private readonly sink: DiscoverySink<RedditPostParams>;
  constructor(private readonly deps: DiscoveryDeps) {
    this.sink = new DiscoverySink({ outbox: deps.outbox, state: deps.state, task: Reddit.Post, params: (post_id, hops) => ({ post_id, hops }), seenSet: ALL_POSTS });
  }

  /** The authentication failure that stopped discovery, if any. */
  get stoppedBy(): RedditError | undefined {
    return this.authFailure;
  }

  async subreddit(params: RedditSubredditParams, signal?: AbortSignal, priority?: number): Promise<RedditRunReport> {
    const key = `r:${params.subreddit.toLowerCase()}:${params.sort}`;
    return this.guard(() =>
      this.walk(
        (after, limit) => this.deps.api.listing(params.subreddit, params.sort, { t: params.time_filter, limit, after }, signal),
        params.limit,
        params.sort === "new",
        { hops: params.hops, priority },
        key,
      ),
    );
  }

  async search(params: RedditSearchParams, signal?: AbortSignal, priority?: number): Promise<RedditRunReport> {
    // A search's seen-set is named by a hash: queries may be long and hold any character.
    const key = createHash("sha256")
      .update(JSON.stringify([params.query, params.subreddit?.toLowerCase() ?? null, params.time_filter ?? null]))
      .digest("base64url")
      .slice(0, 32);
    return this.guard(() =>
      this.walk(
        (after, limit) => this.deps.api.search({ query: params.query, subreddit: params.subreddit, sort: params.sort, t: params.time_filter, limit, after }, signal),
        params.limit,
        params.sort === "new",
        { hops: params.hops, priority },
        params.sort === "new" ? `search:${key}` : undefined,
      ),
    );
  }

  /** Runs a walk unless the credentials failed before; an auth failure is logged once and stops later runs. */
  private async guard(run: () => Promise<RedditRunReport>): Promise<RedditRunReport> {
    if (this.authFailure) throw this.authFailure;
    try {
      return await run();
    } catch (err) {
      if (err instanceof RedditError && isFatalAuthError(err)) {
        this.authFailure = err;
        this.deps.logger.error({ err }, "Reddit refused the credentials: discovery stops for this client until it is restarted with working ones");
      }
      throw err;
    }
  }

  private async walk(
    page: (after: string | undefined, limit: number) => Promise<Page<RedditPost>>,
    limitParam: number | undefined,
    newestFirst: boolean,
    origin: SpawnOrigin,
    seenSet: string | undefined,
  ): Promise<RedditRunReport> {
    const limit = limitParam ?? this.deps.defaultLimit ?? 100;
    const report: RedditRunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    if (!newestFirst || !seenSet) {
      const r = await this.walkFrom(page, undefined, limit, undefined, origin, undefined);
      this.add(report, r);
      return report;
    }
    const { state } = this.deps;
    const backlogKey = `backlog:${seenSet}`;
    const newestKey = `newest:${seenSet}`;
    let budget = limit;

    // 1. An unfinished backlog first.
    const backlog = parse<Backlog>(await state.getCursor(backlogKey));
    if (backlog) {
      const r = await this.walkFrom(page, backlog.after, budget, seenSet, origin, backlog.until);
      this.add(report, r);
      budget -= r.fresh.length + r.invalid.length;
      if (r.hitLimit && r.last) {
        await state.setCursor(backlogKey, JSON.stringify({ after: r.last, until: backlog.until } satisfies Backlog));
        report.backlog = true;
        return report;
      }
      await state.setCursor(backlogKey, "");
      if (r.ended && !r.sawKnown && backlog.until) this.capReached(report, r, backlog.until, seenSet);
    }
    if (budget <= 0) return report;

    // 2. The newest posts, down to the known ones.
    const known = parse<Mark>(await state.getCursor(newestKey));
    const r = await this.walkFrom(page, undefined, budget, seenSet, origin, known);
    this.add(report, r);
    if (r.newest && (!known || r.newest.created >= known.created)) await state.setCursor(newestKey, JSON.stringify(r.newest));
    // A source's first run (nothing known yet) takes the newest `limit` posts and keeps no backlog of older history.
    if (r.hitLimit && r.last && known) {
      await state.setCursor(backlogKey, JSON.stringify({ after: r.last, until: known } satisfies Backlog));
      report.backlog = true;
    } else if (r.ended && !r.sawKnown && known) {
      this.capReached(report, r, known, seenSet);
    }
    return report;
  }

  private add(report: RedditRunReport, r: WalkResult): void {
    report.listed += r.fresh.length + r.invalid.length;
    report.pages += r.pages;
    report.sent += r.sent;
    report.stoppedAtKnown ||= r.sawKnown;
    if (r.invalid.length) report.invalid = (report.invalid ?? 0) + r.invalid.length;
  }

  /** Records a listing cap that hid posts: the report, the metrics and one warning line. */
  private capReached(report: RedditRunReport, r: WalkResult, until: Mark, source: string): void {
    // Posts per second over what the walk saw, times the time between its oldest post and the newest known one.
    const span = (r.newest?.created ?? 0) - r.oldestCreated;
    const rate = r.count > 1 && span > 0 ? (r.count - 1) / span : 0;
    const gap = r.oldestCreated > 0 && until.created > 0 ? r.oldestCreated - until.created : 0;
    const unreachable = Math.max(0, Math.round(rate * gap) - 1);
    report.capReached = true;
    report.unreachable = (report.unreachable ?? 0) + unreachable;
    this.deps.metrics?.listingCapHits.inc({ api: "reddit" });
    if (unreachable > 0) this.deps.metrics?.listingUnreachable.inc({ api: "reddit" }, unreachable);
    this.deps.logger.warn({ source, unreachable }, "Reddit's listing cap (about 1,000 items) ended the walk before the posts already known: some posts could not be reached");
  }

  /**
   * Walks pages from `after` (undefined: the top). With a seen-set it takes
   * fresh posts only, and once it meets a known post it goes on for the
   * overlap window (late approvals), then stops. Sends each fresh post's task
   * page by page and marks it seen.
   */
  private async walkFrom(
    page: (after: string | undefined, limit: number) => Promise<Page<RedditPost>>,
    start: string | undefined,
    limit: number,
    seenSet: string | undefined,
    origin: SpawnOrigin,
    known: Mark | null | undefined,
  ): Promise<WalkResult> {
    const overlap = this.deps.overlapSeconds ?? 3_600;
    const r: WalkResult = { fresh: [], invalid: [], pages: 0, sent: 0, sawKnown: false, hitLimit: false, ended: false, last: null, newest: null, oldestCreated: 0, count: 0 };
    let after = start;
    let stopBelow: number | undefined;
    let pagesPastKnown = 0;
    for (;;) {
      const taken = r.fresh.length + r.invalid.length;
      // Past the first known post the walk reads whole pages: known posts cost nothing of the limit.
      const p = await page(after, r.sawKnown ? 100 : Math.min(100, Math.max(1, limit - taken)));
      r.pages++;
      if (r.sawKnown) pagesPastKnown++;
      const ids = p.items.map((i) => i.id);
      const invalidIds = (p.invalid ?? []).map((i) => i.id).filter((id): id is string => id !== null);
      const fresh = new Set(seenSet ? await this.deps.state.unseen(seenSet, [...ids, ...invalidIds]) : [...ids, ...invalidIds]);
      const batch: RedditPost[] = [];
      let stop = false;
      for (const item of p.items) {
        if (r.fresh.length + r.invalid.length + batch.length >= limit) {
          r.hitLimit = true;
          stop = true;
          break;
        }
        r.count++;
        if (item.createdUtc > 0) {
          if (!r.newest) r.newest = { id: item.id, created: item.createdUtc };
          r.oldestCreated = item.createdUtc;
        }
        r.last = item.name;
        if (seenSet && r.sawKnown && stopBelow !== undefined && item.createdUtc > 0 && item.createdUtc < stopBelow) {
          stop = true;
          break;
        }
        const isKnown = !fresh.has(item.id) || (known !== null && known !== undefined && item.id === known.id);
        if (seenSet && isKnown) {
          if (!r.sawKnown) {
            r.sawKnown = true;
            stopBelow = item.createdUtc > 0 ? item.createdUtc - overlap : undefined;
          }
          continue;
        }
        if (seenSet && known && !r.sawKnown && item.createdUtc > 0 && known.created > 0 && item.createdUtc < known.created - overlap) {
          // Older than the known mark and its overlap: the known posts were passed (e.g. all removed since).
          r.sawKnown = true;
          stop = true;
          break;
        }
        batch.push(item);
      }
      // Entries that could not be mapped but have an id: their tasks are created all the same (the processor reads them again).
      const badFresh = invalidIds.filter((id) => fresh.has(id) && !r.invalid.includes(id));
      r.invalid.push(...badFresh);
      r.fresh.push(...batch);
      r.sent += await this.sink.send([...batch.map((b) => b.id), ...badFresh], origin);
      if (seenSet) await this.deps.state.markSeen(seenSet, [...batch.map((b) => b.id), ...badFresh]);
      if (stop) break;
      if (seenSet && r.sawKnown && (stopBelow === undefined || pagesPastKnown >= MAX_OVERLAP_PAGES)) break;
      if (r.fresh.length + r.invalid.length >= limit) {
        r.hitLimit = p.after !== null;
        r.ended = p.after === null;
        break;
      }
      if (!p.after || p.items.length === 0) {
        r.ended = true;
        break;
      }
      after = p.after;
    }
    return r;
  }
}

function parse<T>(text: string | undefined): T | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
