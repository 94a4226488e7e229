// The error classes and codes live in the protocol module (one mapping from the wire to codes);
// this file keeps the client's import paths and adds the worker's own error.
export {
  AbortedError,
  AuthError,
  ClientConfigError,
  ConflictError,
  NetworkError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
  TaskManagerError,
  TimeoutError,
  ValidationError,
} from "@prismq/taskmanager-protocol";
export type { NotFoundResource, ServerErrorReason, TaskManagerErrorCode } from "@prismq/taskmanager-protocol";

/**
 * Throw it from a task handler when retrying cannot help (bad params, a
 * deleted video): the worker fails the task as final. Our server then marks
 * it failed at once; the hosted service, which has no such flag, retries it
 * while its attempts last (3 by default), and each retry fails the same way.
 */
export class NonRetryableError extends Error {
  readonly code = "TM_ERR_NON_RETRYABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}
