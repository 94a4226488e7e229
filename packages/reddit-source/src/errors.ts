/** Stable codes of the errors `RedditApi` throws; callers branch on `code`, never on the message. */
export type RedditErrorCode = "RD_ERR_NOT_FOUND" | "RD_ERR_AUTH" | "RD_ERR_BAD_REQUEST" | "RD_ERR_UNAVAILABLE";

/**
 * The base error of `@prismq/reddit-source`'s API calls. `status` is the HTTP
 * status when Reddit answered one; `cause` is what snoowrap threw (a
 * `StatusCodeError` or `RequestError` of the adapter).
 */
export class RedditError extends Error {
  readonly code: RedditErrorCode;
  readonly status: number | undefined;
  /** True when the same call may succeed later (5xx, 429, network). */
  readonly retryable: boolean;
  constructor(code: RedditErrorCode, message: string, options: { status?: number; retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

interface ErrorShape {
  name?: string;
  message?: string;
  statusCode?: unknown;
  error?: unknown;
}

/** The HTTP status of what snoowrap threw (the adapter's `StatusCodeError`), or undefined when there was no answer. */
export function statusOf(raw: unknown): number | undefined {
  const status = (raw as ErrorShape | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

function describe(raw: unknown): string {
  const e = raw as ErrorShape | null;
  const body = e?.error;
  if (body !== null && typeof body === "object") {
    const b = body as { message?: unknown; reason?: unknown; error?: unknown };
    const text = [b.message, b.reason].filter((v) => typeof v === "string" && v !== "").join(": ");
    if (text) return text;
  }
  return e?.message ?? String(raw);
}

/**
 * Turns what snoowrap threw into a {@link RedditError}: 404 `RD_ERR_NOT_FOUND`,
 * 401/403 (and a refused token grant) `RD_ERR_AUTH`, other 4xx
 * `RD_ERR_BAD_REQUEST`, 5xx, 429 and no answer at all `RD_ERR_UNAVAILABLE`
 * (retryable).
 */
export function toRedditError(raw: unknown, method: string): RedditError {
  if (raw instanceof RedditError) return raw;
  const status = statusOf(raw);
  const text = `Reddit ${method} failed${status !== undefined ? ` (HTTP ${status})` : ""}: ${describe(raw)}`;
  if (status === undefined) {
    // snoowrap reports a refused refresh token or password as a plain Error.
    if (/invalid grant|invalid_grant/i.test(describe(raw))) return new RedditError("RD_ERR_AUTH", text, { cause: raw });
    return new RedditError("RD_ERR_UNAVAILABLE", text, { retryable: true, cause: raw });
  }
  if (status === 404) return new RedditError("RD_ERR_NOT_FOUND", text, { status, cause: raw });
  if (status === 401 || status === 403) return new RedditError("RD_ERR_AUTH", text, { status, cause: raw });
  if (status === 429 || status >= 500) return new RedditError("RD_ERR_UNAVAILABLE", text, { status, retryable: true, cause: raw });
  return new RedditError("RD_ERR_BAD_REQUEST", text, { status, cause: raw });
}
