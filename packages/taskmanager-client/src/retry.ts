/**
 * The one backoff of the project: the client's HTTP retries, the worker loop's
 * idle and error waits, the outbox's delivery retries and start-up's waits for
 * dependencies all draw their waits from {@link backoffMs}.
 */

/** How waits grow: the ceiling doubles per attempt from `baseDelayMs` up to `maxDelayMs`. */
export interface BackoffPolicy {
  /** Ceiling of the first wait, in ms. */
  baseDelayMs: number;
  /** Largest ceiling, in ms. */
  maxDelayMs: number;
  /**
   * `full`: a uniform wait in [0, ceiling) (spreads many callers best: retries).
   * `equal`: a uniform wait in [ceiling / 2, ceiling) (never much shorter than the ceiling: polling, start-up waits).
   * @defaultValue "full"
   */
  jitter?: "full" | "equal";
}

/** Retry policy for calls that are safe to repeat. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @defaultValue 5
   */
  attempts?: number;
  /**
   * First backoff ceiling in ms.
   * @defaultValue 200
   */
  baseDelayMs?: number;
  /**
   * Largest backoff ceiling in ms (and largest Retry-After honoured).
   * @defaultValue 10000
   */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

/**
 * The wait before attempt `attempt + 1` (0-based `attempt`: 0 is the wait after
 * the first failure), in whole ms: exponential backoff, capped, with jitter
 * (see {@link BackoffPolicy.jitter}).
 */
export function backoffMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  // The exponent is capped so that a long streak cannot overflow to Infinity.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const floor = policy.jitter === "equal" ? ceiling / 2 : 0;
  return Math.floor(floor + random() * (ceiling - floor));
}

/** Parses `Retry-After` (seconds or an HTTP date) into ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
