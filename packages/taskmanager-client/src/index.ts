export { TaskManagerClient, createWorkerId } from "./client.js";
export type { ClaimOptions, ClientLogger, RequestTiming, TaskManagerClientOptions, WorkerCallOptions } from "./client.js";
export { canonicalize, dedupeKey, paramsJson } from "./canonical.js";
export type { Json } from "./canonical.js";
export {
  AbortedError,
  AuthError,
  ClientConfigError,
  ConflictError,
  NetworkError,
  NonRetryableError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
  TaskManagerError,
  TimeoutError,
  ValidationError,
} from "./errors.js";
export type { TaskManagerErrorCode } from "./errors.js";
export { backoffMs, retryAfterMs, sleep, DEFAULT_RETRY } from "./retry.js";
export type { BackoffPolicy, RetryOptions } from "./retry.js";
export type {
  CallOptions,
  ClaimStrategy,
  ClaimedTask,
  CreatedTask,
  HistoryEntry,
  ListTasksFilter,
  RegisteredTaskType,
  SettleResult,
  Task,
  TaskStatus,
  TaskSummary,
  TaskType,
} from "./types.js";
