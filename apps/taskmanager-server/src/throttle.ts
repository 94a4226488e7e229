/**
 * A budget of refused requests per API key. A request the server refuses as malformed, invalid or
 * too large (400 or 413 on a POST) still costs it the work of reading, parsing and checking the
 * body; a client that keeps sending such requests (hostile, or stuck in a bug) would take the
 * event loop from every other client. Each key may spend `perSecond` units a second, in bursts of
 * up to `burst`; a refusal costs one unit, plus one per {@link REFUSAL_UNIT_BYTES} of body the
 * server read for it, so the budget follows the work spent. Past it, the key's POSTs are answered
 * 429 with `Retry-After` before their body is read, until the budget refills (a large refusal may
 * leave the key in debt: it waits that much longer). Reads (GET) are not counted; a request that
 * succeeds never costs anything.
 */

/** Body bytes read for a refused request that cost one more unit of the budget. */
export const REFUSAL_UNIT_BYTES = 16 * 1024;
export interface RefusalBudgetOptions {
  /** Units (refused POSTs, more for large bodies) a key may spend per second, sustained; 0 turns the budget off. */
  perSecond: number;
  /** Units a key may spend at once, before the rate applies. At least 1. */
  burst: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** The answer for a key whose budget is spent: how long until one more refusal is allowed. */
export interface Throttled {
  retryAfterSeconds: number;
  /** Epoch seconds at which the budget is full again. */
  resetAt: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets, one per key that has been refused; a full bucket is dropped, so the map holds only keys refused lately. */
export class RefusalBudget {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly options: RefusalBudgetOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.perSecond > 0;
  }

  get limit(): number {
    return this.options.burst;
  }

  private refill(key: string): Bucket | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    const t = this.now();
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.options.perSecond);
    bucket.at = t;
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }

  /** Units `key` may still spend now (the full burst when it has spent none lately; 0 when in debt). */
  remaining(key: string): number {
    if (!this.enabled) return this.options.burst;
    return Math.max(0, Math.floor(this.refill(key)?.tokens ?? this.options.burst));
  }

  /** `undefined` when `key` may send a POST now; otherwise how long it must wait. */
  check(key: string): Throttled | undefined {
    if (!this.enabled) return undefined;
    const bucket = this.refill(key);
    if (!bucket || bucket.tokens >= 1) return undefined;
    const { perSecond, burst } = this.options;
    return {
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)),
      // `refill` has just set `at` to now.
      resetAt: Math.ceil((bucket.at + ((burst - bucket.tokens) / perSecond) * 1000) / 1000),
    };
  }

  /** Counts one refused request against `key`, for which the server read `bodyBytes` of body. */
  charge(key: string, bodyBytes = 0): void {
    if (!this.enabled) return;
    const bucket = this.refill(key) ?? { tokens: this.options.burst, at: this.now() };
    bucket.tokens -= 1 + Math.floor(bodyBytes / REFUSAL_UNIT_BYTES);
    this.buckets.set(key, bucket);
  }
}
