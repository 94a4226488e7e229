/** Stable error codes; callers branch on `code`, never on message text. */
export type TaskManagerErrorCode =
  | "TM_ERR_AUTH"
  | "TM_ERR_NOT_FOUND"
  | "TM_ERR_VALIDATION"
  | "TM_ERR_CONFLICT"
  | "TM_ERR_RATE_LIMITED"
  | "TM_ERR_SERVER"
  | "TM_ERR_NETWORK"
  | "TM_ERR_TIMEOUT"
  | "TM_ERR_ABORTED"
  | "TM_ERR_PROTOCOL"
  | "TM_ERR_CONFIG";

/** Base of every error this package throws. */
export class TaskManagerError extends Error {
  /** Whether repeating the same call may succeed (network, timeout, 429, 5xx). @defaultValue `false` */
  readonly retryable: boolean;
  constructor(
    readonly code: TaskManagerErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; status?: number; body?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.body = options.body;
  }
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The answer's parsed body (or text), when there was one. */
  readonly body: unknown;
}

/** 401: missing or wrong API key. */
export class AuthError extends TaskManagerError {
  constructor(message: string, status: number, body: unknown) {
    super("TM_ERR_AUTH", message, { status, body });
  }
}

/**
 * What a 404 says does not exist: `task`, `task_type`, `endpoint` (the server has no such route:
 * the hosted service lacks our operator endpoints), `no_task` (nothing to claim), or `other`.
 */
export type NotFoundResource = "task" | "task_type" | "endpoint" | "no_task" | "other";

/** 404 (or the hosted service's empty `items`): the task, type or route does not exist. */
export class NotFoundError extends TaskManagerError {
  constructor(
    message: string,
    status: number | undefined,
    body: unknown,
    /** What does not exist; callers branch on it, never on the message. @defaultValue `"other"` */
    readonly resource: NotFoundResource = "other",
  ) {
    super("TM_ERR_NOT_FOUND", message, { status, body });
  }
}

/** 400 (or 413 for a body too large): the request was refused; `details` lists the server's reasons. */
export class ValidationError extends TaskManagerError {
  constructor(
    message: string,
    readonly details: string[],
    status: number,
    body: unknown,
  ) {
    super("TM_ERR_VALIDATION", message, { status, body });
  }
}

/** Progress/complete on a task this worker no longer holds. */
export class ConflictError extends TaskManagerError {
  constructor(
    message: string,
    /** `not_claimed`: the task is not claimed (400); `other_worker`: another worker holds it (403). */
    readonly reason: "not_claimed" | "other_worker",
    status: number,
    body: unknown,
  ) {
    super("TM_ERR_CONFLICT", message, { status, body });
  }
}

/** 429: wait `retryAfterMs` (from `Retry-After` or `retry_after`) before the next call. */
export class RateLimitError extends TaskManagerError {
  constructor(
    message: string,
    /** How long to wait, in ms. */
    readonly retryAfterMs: number,
    status: number,
    body: unknown,
  ) {
    super("TM_ERR_RATE_LIMITED", message, { retryable: true, status, body });
  }
}

/**
 * What a server error says happened: `no_task` (the hosted service's 500 for "nothing to claim"),
 * `rolled_back` (a deadlock or serialization failure: nothing happened), or `other`.
 */
export type ServerErrorReason = "no_task" | "rolled_back" | "other";

/** 5xx (retryable), or another status outside the protocol. */
export class ServerError extends TaskManagerError {
  constructor(
    message: string,
    status: number,
    body: unknown,
    retryable: boolean,
    /** Callers branch on it, never on the message or body. @defaultValue `"other"` */
    readonly reason: ServerErrorReason = "other",
  ) {
    super("TM_ERR_SERVER", message, { status, body, retryable });
  }
}

/** The connection failed or broke. `sent` is false when the request surely never reached the server. */
export class NetworkError extends TaskManagerError {
  constructor(
    message: string,
    readonly sent: boolean,
    cause: unknown,
  ) {
    super("TM_ERR_NETWORK", message, { retryable: true, cause });
  }
}

/** No complete answer within `timeoutMs`. */
export class TimeoutError extends TaskManagerError {
  constructor(message: string, cause?: unknown) {
    super("TM_ERR_TIMEOUT", message, { retryable: true, cause });
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends TaskManagerError {
  constructor(cause?: unknown) {
    super("TM_ERR_ABORTED", "The call was aborted", { cause });
  }
}

/** The server answered something that is not the TaskManager protocol. */
export class ProtocolError extends TaskManagerError {
  constructor(message: string, status: number, body: unknown) {
    super("TM_ERR_PROTOCOL", message, { status, body });
  }
}

/** Bad client options or environment. */
export class ClientConfigError extends TaskManagerError {
  constructor(message: string) {
    super("TM_ERR_CONFIG", message);
  }
}
