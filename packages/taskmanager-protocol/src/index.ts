export { canonicalize, paramsJson } from "./canonical.js";
export type { Json } from "./canonical.js";
export { dedupeKey, dedupeKeyOfJson } from "./dedupe.js";
export { CLAIM_ORDERS, TASK_STATUSES } from "./status.js";
export type { ClaimStrategy, SettleStatus, TaskStatus, TaskSummaryOf } from "./status.js";
export { WIRE_ERRORS, dataOf, errorEnvelope, errorFromAnswer, successEnvelope, unixNow } from "./envelope.js";
export type { ErrorEnvelope, SuccessEnvelope, WireAnswer } from "./envelope.js";
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
} from "./errors.js";
export type { NotFoundResource, ServerErrorReason, TaskManagerErrorCode } from "./errors.js";
export { CAPABILITIES, MAX_BATCH } from "./batch.js";
export type { BatchClaimAnswer, Capability, ClaimedTaskWire, SettleBatchAnswer, SettleBatchRequest, SettleItemAnswer, SettleItemWire } from "./batch.js";
