import type { YouTubeChannelParams, YouTubeMostPopularParams, YouTubeSearchParams } from "@prismq/task-types";
import type { Budget, Logger, RunOutcome } from "@prismq/worker-kit";
import { QuotaExhaustedError, YouTubeError } from "@prismq/youtube-source";
import type { YouTubeDiscovery } from "./discovery.js";

/**
 * Remembers that the day's quota is spent, so discovery pauses (schedules skip,
 * no discovery task is claimed) until the quota returns: the quota day ends,
 * or the shared budget has units again (its window turned over on another
 * replica's clock, or the daily quota was raised). One log line when it
 * pauses and one when it resumes.
 */
export class QuotaGate {
  private until = 0;
  private refused: YouTubeError | undefined;
  constructor(
    private readonly logger: Logger,
    /** The budget that says when units are back; without it, only the clock does. */
    private readonly budget?: Pick<Budget, "state">,
    private readonly now: () => number = Date.now,
  ) {}
  async paused(): Promise<boolean> {
    if (this.refused) return true;
    if (!this.until) return false;
    if (this.now() >= this.until) return this.resume("YouTube quota day turned over: discovery resumes");
    if (this.budget && (await this.budget.state()).remaining > 0) return this.resume("YouTube quota has units again: discovery resumes");
    return true;
  }
  pause(err: QuotaExhaustedError): void {
    if (this.until < err.resetAt) {
      if (!this.until) this.logger.warn({ resetAt: new Date(err.resetAt).toISOString(), source: err.source }, "YouTube quota spent: discovery paused until the quota returns");
      this.until = err.resetAt;
    }
  }
  /**
   * The API refused the key itself (`keyInvalid`, `accessNotConfigured`...):
   * every call with it fails the same way, so discovery stops for good (until
   * the key is fixed and the app restarted), with one error line.
   */
  rejectKey(err: YouTubeError): void {
    if (this.refused) return;
    this.refused = err;
    this.logger.error({ reason: err.reason, status: err.status }, `YouTube refused the API key (${err.reason ?? "unknown"}): discovery stopped; fix YOUTUBE_API_KEY (or enable the YouTube Data API for its project) and restart`);
  }
  /** The key error that stopped discovery, if any. */
  get keyRefused(): YouTubeError | undefined {
    return this.refused;
  }
  private resume(message: string): false {
    this.until = 0;
    this.logger.info(message);
    return false;
  }
}

/** A source to run, with the priority its items are created at (none: the server's 0). */
export type SourceParams = (
  | { kind: "channel"; params: YouTubeChannelParams }
  | { kind: "search"; params: YouTubeSearchParams }
  | { kind: "most_popular"; params: YouTubeMostPopularParams }
) & { priority?: number };


/**
 * Runs one source (a scheduled one or a claimed task) and turns every error
 * into an outcome: quota spent pauses the gate (retryable), a channel that does
 * not exist or a request the API refuses is not retryable, the rest is.
 */
export async function runSource(discovery: YouTubeDiscovery, gate: QuotaGate, source: SourceParams, logger: Logger, signal?: AbortSignal): Promise<RunOutcome> {
  if (gate.keyRefused) return { ok: false, error: `YouTube refused the API key (${gate.keyRefused.reason ?? "unknown"})`, retryable: false };
  if (await gate.paused()) return { ok: false, error: "YouTube quota spent for today", retryable: true };
  try {
    const report =
      source.kind === "channel"
        ? await discovery.channel(source.params, signal, source.priority)
        : source.kind === "search"
          ? await discovery.search(source.params, signal, source.priority)
          : await discovery.mostPopular(source.params, signal, source.priority);
    logger.info(report, "discovery run done");
    return { ok: true, report };
  } catch (err) {
    if (err instanceof QuotaExhaustedError) {
      gate.pause(err);
      return { ok: false, error: err.message, retryable: true };
    }
    if (err instanceof YouTubeError && err.keyRejected) {
      // Not retried: the same key would be refused the same way, forever.
      gate.rejectKey(err);
      return { ok: false, error: err.message, retryable: false };
    }
    const retryable = !(err instanceof YouTubeError) || err.retryable || err.code === "YT_ERR_AUTH";
    logger.error({ err }, "discovery run failed");
    return { ok: false, error: err instanceof Error ? err.message : String(err), retryable };
  }
}
