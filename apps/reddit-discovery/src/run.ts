import type { RedditSearchParams, RedditSubredditParams } from "@prismq/task-types";
import type { Logger, RunOutcome } from "@prismq/worker-kit";
import { RedditError } from "@prismq/reddit-source";
import type { RedditDiscovery } from "./discovery.js";

/** A source to run, with the priority its items are created at (none: the server's 0). */
export type SourceParams = ({ kind: "subreddit"; params: RedditSubredditParams } | { kind: "search"; params: RedditSearchParams }) & { priority?: number };

/**
 * Runs one source (scheduled or claimed) and turns errors into an outcome: a
 * subreddit that does not exist or a request Reddit refuses is not retryable;
 * the rest (5xx, network) is. Rate limits never surface here: the API waits.
 */
export async function runSource(discovery: RedditDiscovery, source: SourceParams, logger: Logger, signal?: AbortSignal): Promise<RunOutcome> {
  try {
    const report = source.kind === "subreddit" ? await discovery.subreddit(source.params, signal, source.priority) : await discovery.search(source.params, signal, source.priority);
    logger.info(report, "discovery run done");
    return { ok: true, report };
  } catch (err) {
    // Arguments refused before any request (RangeError, TypeError) fail the same way every time.
    const retryable = err instanceof RedditError ? err.retryable : !(err instanceof RangeError || err instanceof TypeError);
    logger.error({ err }, "discovery run failed");
    return { ok: false, error: err instanceof Error ? err.message : String(err), retryable };
  }
}
