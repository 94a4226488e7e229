/** Stable codes of the errors this package throws; callers branch on `code`. */
export type YouTubeErrorCode = "YT_ERR_QUOTA" | "YT_ERR_NOT_FOUND" | "YT_ERR_BAD_REQUEST" | "YT_ERR_AUTH" | "YT_ERR_UNAVAILABLE";

/** The base error of `@prismq/youtube-source`. `reason` is the API's own reason, e.g. `videoNotFound`. */
export class YouTubeError extends Error {
  readonly code: YouTubeErrorCode;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  /** True when the same call may succeed later (5xx, network, rate limits, garbage answers). */
  readonly retryable: boolean;
  /**
   * True when the API key itself is refused (`keyInvalid`, `keyExpired`,
   * `accessNotConfigured`, a missing key): every call with this key will fail
   * the same way, so callers stop using it instead of retrying.
   */
  readonly keyRejected: boolean;
  constructor(code: YouTubeErrorCode, message: string, options: { status?: number; reason?: string; retryable?: boolean; keyRejected?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.reason = options.reason;
    this.retryable = options.retryable ?? false;
    this.keyRejected = options.keyRejected ?? false;
  }
}

/** The day's quota is spent: by our shared budget (before calling) or by the API's own 403 `quotaExceeded`. */
export class QuotaExhaustedError extends YouTubeError {
  /** When the quota day ends (midnight Pacific), ms since the epoch. */
  readonly resetAt: number;
  /** `budget`: our budget refused first; `api`: the API answered `quotaExceeded`. */
  readonly source: "budget" | "api";
  constructor(source: "budget" | "api", resetAt: number, method: string, cause?: unknown) {
    super("YT_ERR_QUOTA", `YouTube quota spent (${source === "budget" ? "our daily budget" : "the API said quotaExceeded"}) before ${method}; resumes at ${new Date(resetAt).toISOString()}`, {
      status: source === "api" ? 403 : undefined,
      reason: "quotaExceeded",
      cause,
    });
    this.resetAt = resetAt;
    this.source = source;
  }
}
