import { RedditAuthError } from "./snoowrap-adapter.js";

/** Stable codes of the errors `RedditApi` throws; callers branch on `code`, never on the message. */
export type RedditErrorCode =
  | "RD_ERR_NOT_FOUND"
  | "RD_ERR_AUTH"
  | "RD_ERR_BAD_REQUEST"
  | "RD_ERR_UNAVAILABLE"
  /** A 200 that is not what the call returns (an HTML page, `{}`, a body too large): a transient upstream fault, retryable. */
  | "RD_ERR_BAD_ANSWER"
  /** 403 `reason: private`: a private subreddit. Not retryable, not an auth problem. */
  | "RD_ERR_PRIVATE"
  /** 403 `reason: quarantined`. */
  | "RD_ERR_QUARANTINED"
  /** 403 `reason: gated` (a content advisory the account has not accepted). */
  | "RD_ERR_GATED"
  /** 404 `reason: banned`: a banned subreddit. */
  | "RD_ERR_BANNED"
  /** Any other 403: Reddit refuses this one resource (not the credentials). */
  | "RD_ERR_FORBIDDEN";

/** The codes that refuse one subreddit (or a post in it): per source, never the credentials. */
export const SUBREDDIT_REFUSALS: ReadonlySet<RedditErrorCode> = new Set<RedditErrorCode>(["RD_ERR_PRIVATE", "RD_ERR_QUARANTINED", "RD_ERR_GATED", "RD_ERR_BANNED", "RD_ERR_FORBIDDEN"]);

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
  if (body === "" && typeof e?.statusCode === "number") return "empty body";
  return (e?.message ?? String(raw)).slice(0, 300);
}

/** Reddit's `reason` of a refusal (`private`, `quarantined`, `gated`, `banned`), if the body has one. */
function reasonOf(raw: unknown): string | undefined {
  const body = (raw as ErrorShape | null)?.error;
  const reason = body !== null && typeof body === "object" ? (body as { reason?: unknown }).reason : undefined;
  return typeof reason === "string" ? reason : undefined;
}

const REFUSALS: Record<string, RedditErrorCode> = { private: "RD_ERR_PRIVATE", quarantined: "RD_ERR_QUARANTINED", gated: "RD_ERR_GATED", banned: "RD_ERR_BANNED" };

/**
 * Turns what snoowrap threw into a {@link RedditError}: a refusal with
 * Reddit's `reason` `RD_ERR_PRIVATE` / `RD_ERR_QUARANTINED` / `RD_ERR_GATED`
 * (403) or `RD_ERR_BANNED` (404); another 403 `RD_ERR_FORBIDDEN`; 404
 * `RD_ERR_NOT_FOUND`; 401 (and a refused token grant) `RD_ERR_AUTH`; other
 * 4xx `RD_ERR_BAD_REQUEST`; 5xx, 429 and no answer at all
 * `RD_ERR_UNAVAILABLE` (retryable). Only `RD_ERR_AUTH` is about the
 * credentials.
 */
export function toRedditError(raw: unknown, method: string): RedditError {
  if (raw instanceof RedditError) return raw;
  const status = statusOf(raw);
  const text = `Reddit ${method} failed${status !== undefined ? ` (HTTP ${status})` : ""}: ${describe(raw)}`;
  if (status === undefined) {
    if ((raw as { code?: unknown } | null)?.code === "ETOOLARGE") return new RedditError("RD_ERR_BAD_ANSWER", text, { retryable: true, cause: raw });
    // snoowrap reports a refused refresh token or password as a plain Error.
    if (/invalid grant|invalid_grant/i.test(describe(raw))) return new RedditError("RD_ERR_AUTH", text, { cause: raw });
    return new RedditError("RD_ERR_UNAVAILABLE", text, { retryable: true, cause: raw });
  }
  const refusal = status === 403 || status === 404 ? REFUSALS[reasonOf(raw) ?? ""] : undefined;
  if (refusal && (status === 404) === (refusal === "RD_ERR_BANNED")) return new RedditError(refusal, text, { status, cause: raw });
  if (status === 404) return new RedditError("RD_ERR_NOT_FOUND", text, { status, cause: raw });
  if (status === 403) return new RedditError("RD_ERR_FORBIDDEN", text, { status, cause: raw });
  if (status === 401) return new RedditError("RD_ERR_AUTH", text, { status, cause: raw });
  if (status === 429 || status >= 500) return new RedditError("RD_ERR_UNAVAILABLE", text, { status, retryable: true, cause: raw });
  return new RedditError("RD_ERR_BAD_REQUEST", text, { status, cause: raw });
}

/**
 * True when Reddit refused the credentials, so waiting or asking again
 * cannot help: a sign-in refused (`RedditAuthError` with `refused`) or a call
 * refused as `RD_ERR_AUTH`. The one check both Reddit apps use.
 */
export function isFatalAuthError(err: unknown): boolean {
  return err instanceof RedditAuthError ? err.refused : err instanceof RedditError && err.code === "RD_ERR_AUTH";
}

/**
 * The reason a Reddit app's start ends at once, for `WorkerApp.dependency`:
 * refused credentials name the variables to fix; another error Reddit will
 * answer the same way again is its own message. Undefined (keep waiting) for
 * the rest: no answer, 429, 5xx.
 */
export function redditStartFailure(err: unknown): string | undefined {
  if (isFatalAuthError(err)) {
    return `Reddit refused the credentials (${(err as Error).message}): fix REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET, and REDDIT_REFRESH_TOKEN or REDDIT_USERNAME with REDDIT_PASSWORD (none of them: app-only access)`;
  }
  return err instanceof RedditError && !err.retryable ? err.message : undefined;
}
