/**
 * Stable error codes; callers branch on these, never on message text.
 *
 * - `IDEA_ERR_INVALID`: an idea, a filter or an argument failed validation; nothing was written.
 * - `IDEA_ERR_CONFIG`: the options given to `openIdeaStore` cannot be used (unknown URL scheme, bad schema name…).
 * - `IDEA_ERR_STORAGE`: the database driver failed; the driver's error is kept as `cause`.
 */
export type IdeaStoreErrorCode = "IDEA_ERR_INVALID" | "IDEA_ERR_CONFIG" | "IDEA_ERR_STORAGE";

/** The one error class this package throws. */
export class IdeaStoreError extends Error {
  /** Stable machine-readable code. */
  readonly code: IdeaStoreErrorCode;
  /** One line per problem, each starting with the field path (e.g. `score: …`, `ideas[3].title: …`). Empty when not a validation error. */
  readonly details: string[];

  /**
   * @param code - stable code, see {@link IdeaStoreErrorCode}
   * @param message - human-readable summary (names every bad field for `IDEA_ERR_INVALID`)
   * @param options - `details` (one line per problem) and `cause` (the wrapped driver error)
   */
  constructor(code: IdeaStoreErrorCode, message: string, options: { details?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IdeaStoreError";
    this.code = code;
    this.details = options.details ?? [];
  }
}

/** An `IDEA_ERR_INVALID` error whose message lists every problem in `details`. */
export const invalid = (what: string, details: string[]): IdeaStoreError =>
  new IdeaStoreError("IDEA_ERR_INVALID", `invalid ${what}: ${details.join("; ")}`, { details });

/** An `IDEA_ERR_CONFIG` error. */
export const configError = (message: string): IdeaStoreError => new IdeaStoreError("IDEA_ERR_CONFIG", message);

/** Wraps a driver error; our own errors pass through unchanged. */
export function storageError(err: unknown, operation: string): IdeaStoreError {
  if (err instanceof IdeaStoreError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new IdeaStoreError("IDEA_ERR_STORAGE", `${operation} failed: ${reason}`, { cause: err });
}
