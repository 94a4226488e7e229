import { NotFoundError, TaskManagerError } from "@prismq/taskmanager-client";
import { TaskParamsError } from "@prismq/task-types";

/** The process exit codes of `tm`; scripts branch on them. */
export const EXIT = Object.freeze({
  /** The command did what was asked. */
  OK: 0,
  /** The server refused the request (a 4xx: validation, not found, conflict, auth). */
  REFUSED: 1,
  /** Usage or configuration error: nothing (more) was sent. */
  USAGE: 2,
  /** The server could not be reached, timed out, answered 5xx, 429, or not the TaskManager protocol. */
  UNAVAILABLE: 3,
  /** This TaskManager has no such endpoint (the hosted service lacks our operator endpoints). */
  UNSUPPORTED: 4,
});

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Stable codes of this app's own errors; the client's are `TM_ERR_*`. */
export type CliErrorCode = "TM_CLI_USAGE" | "TM_CLI_UNSUPPORTED" | "TM_CLI_NOT_FOUND";

/** Base of the errors this app throws itself. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** Extra lines shown under the message (one per problem). */
    readonly details: string[] = [],
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad command line, bad params, or missing configuration: exit 2, nothing sent. */
export class UsageError extends CliError {
  constructor(message: string, details: string[] = [], options: { cause?: unknown } = {}) {
    super("TM_CLI_USAGE", message, details, options);
  }
}

/** The message for a TaskManager that lacks our operator endpoints (the hosted service). */
export const NO_OPERATOR_ENDPOINTS = "this TaskManager has no operator endpoints (our server has them; the hosted service does not)";

/** The server answered 404 `Endpoint not found` to one of our operator endpoints: exit 4. */
export class UnsupportedError extends CliError {
  constructor(
    /** `METHOD /path` of the call that the server does not know. */
    readonly endpoint: string,
  ) {
    super("TM_CLI_UNSUPPORTED", NO_OPERATOR_ENDPOINTS, [`${endpoint} answered 404 Endpoint not found`]);
  }
}

/** A task or task type the server does not have (from a `null` answer of the client): exit 1. */
export class MissingError extends CliError {
  constructor(message: string) {
    super("TM_CLI_NOT_FOUND", message);
  }
}

/** What `tm` reports about a failure: its exit code and the lines and fields to show. */
export interface Failure {
  exitCode: ExitCode;
  /** `TM_ERR_*`, `TM_CLI_*`, `TASK_ERR_PARAMS`, or `INTERNAL`. */
  code: string;
  message: string;
  details: string[];
  /** HTTP status, when the server answered. */
  status?: number;
  /** One line that says what to do about it, when there is something to say. */
  hint?: string;
}

/** True when the error is the server's 404 for a route it does not have (the protocol's `endpoint` resource). */
export function isEndpointNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError && err.resource === "endpoint";
}

/**
 * Runs one operator call; a server without the endpoint (the hosted service) becomes
 * {@link UnsupportedError} naming `endpoint` (`METHOD /api/path`).
 */
export async function operatorCall<T>(endpoint: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isEndpointNotFound(err)) throw new UnsupportedError(endpoint);
    throw err;
  }
}

/** Maps any error to its exit code and the text to show. Branches on `code`, and on status for the client's errors. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof UsageError) return { exitCode: EXIT.USAGE, code: err.code, message: err.message, details: err.details };
  if (err instanceof UnsupportedError) return { exitCode: EXIT.UNSUPPORTED, code: err.code, message: err.message, details: err.details };
  if (err instanceof CliError) return { exitCode: EXIT.REFUSED, code: err.code, message: err.message, details: err.details };
  if (err instanceof TaskParamsError) {
    return {
      exitCode: EXIT.USAGE,
      code: err.code,
      message: `invalid params for ${err.taskType} (checked locally against the catalog schema; nothing was sent)`,
      details: err.details,
    };
  }
  if (err instanceof TaskManagerError) {
    const base = { code: err.code, message: err.message, details: detailsOf(err), status: err.status };
    switch (err.code) {
      case "TM_ERR_CONFIG":
        return { ...base, exitCode: EXIT.USAGE };
      case "TM_ERR_AUTH":
        return { ...base, exitCode: EXIT.REFUSED, hint: "check TASKMANAGER_API_KEY (or the file given to --key-file)" };
      case "TM_ERR_NOT_FOUND":
        return {
          ...base,
          exitCode: EXIT.REFUSED,
          hint: isEndpointNotFound(err) ? "the server has no such endpoint: does TASKMANAGER_API_URL end in /api?" : undefined,
        };
      case "TM_ERR_VALIDATION":
      case "TM_ERR_CONFLICT":
        return { ...base, exitCode: EXIT.REFUSED };
      case "TM_ERR_PROTOCOL":
        return { ...base, exitCode: EXIT.UNAVAILABLE, hint: "is this a TaskManager? TASKMANAGER_API_URL must end in /api" };
      case "TM_ERR_NETWORK":
      case "TM_ERR_TIMEOUT":
        return { ...base, exitCode: EXIT.UNAVAILABLE, hint: "the TaskManager is unreachable: is it running, and is TASKMANAGER_API_URL right?" };
      case "TM_ERR_RATE_LIMITED":
        return { ...base, exitCode: EXIT.UNAVAILABLE, hint: "rate limited: try again later" };
      case "TM_ERR_SERVER":
      case "TM_ERR_ABORTED":
        return { ...base, exitCode: EXIT.UNAVAILABLE };
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: EXIT.UNAVAILABLE, code: "INTERNAL", message, details: [] };
}

function detailsOf(err: TaskManagerError): string[] {
  const details = (err as { details?: unknown }).details;
  return Array.isArray(details) ? details.map(String) : [];
}
