export { TaskManagerClient, createWorkerId } from "./client.js";
export type { ClaimManyOptions, ClaimOptions, ClientLogger, RequestTiming, TaskManagerClientOptions, WorkerCallOptions } from "./client.js";
export { canonicalize, dedupeKey, paramsJson } from "./canonical.js";
export type { Json } from "./canonical.js";
// The error classes and codes are the protocol module's, re-exported as the client always had them.
export { AbortedError, AuthError, ClientConfigError, ConflictError, NetworkError, NotFoundError } from "@prismq/taskmanager-protocol";
export { ProtocolError, RateLimitError, ServerError, TaskManagerError, TimeoutError, ValidationError } from "@prismq/taskmanager-protocol";
export { NonRetryableError } from "./errors.js";
export type { NotFoundResource, ServerErrorReason, TaskManagerErrorCode } from "@prismq/taskmanager-protocol";
export { backoffMs, retryAfterMs, sleep, DEFAULT_RETRY } from "./retry.js";
export type { BackoffPolicy, RetryOptions } from "./retry.js";
// Every type of the client's data model (tasks, task types, options, results).
export type * from "./types.js";
