export { TaskManagerClient, createWorkerId } from "./client.js";
export type { ClaimOptions, ClientLogger, RequestTiming, TaskManagerClientOptions, WorkerCallOptions } from "./client.js";
export { TaskWorker, SHUTDOWN_MESSAGE } from "./worker.js";
export type { TaskContext, TaskHandler, TaskWorkerOptions, WorkerHooks } from "./worker.js";
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
export type { NotFoundResource, ServerErrorReason, TaskManagerErrorCode } from "./errors.js";
export { backoffMs, retryAfterMs, DEFAULT_RETRY } from "./retry.js";
export type { RetryOptions } from "./retry.js";
export type {
  CallOptions,
  ClaimStrategy,
  ClaimedTask,
  CreatedTask,
  HistoryEntry,
  ListTasksFilter,
  OperatorResult,
  RegisteredTaskType,
  SettleResult,
  Stats,
  Task,
  TaskStatus,
  TaskSummary,
  TaskType,
} from "./types.js";
