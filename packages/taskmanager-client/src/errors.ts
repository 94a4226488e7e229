// The error classes and codes live in @prismq/taskmanager-protocol (one mapping from the wire to
// codes); the client imports them from there. This file keeps the worker loop's import path and
// adds the worker's own error.
export { ConflictError, TaskManagerError } from "@prismq/taskmanager-protocol";

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
