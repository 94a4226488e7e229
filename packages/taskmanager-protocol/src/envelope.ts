import {
  AuthError,
  ConflictError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
  ValidationError,
  type NotFoundResource,
  type ServerErrorReason,
  type TaskManagerError,
} from "./errors.js";

/** A successful answer: always HTTP 200 with this body. */
export interface SuccessEnvelope<T = unknown> {
  success: true;
  /** Always `Success`; the handler's own text, where there is one, is `data.message`. */
  message: string;
  data: T;
  /** Unix seconds. */
  timestamp: number;
}

/** An error answer of the envelope shape (the 401/413/429 shape has `error` and `message` instead). */
export interface ErrorEnvelope {
  success: false;
  error: string;
  /** Validation failures only: one reason each. */
  details?: string[];
  /** Unix seconds. */
  timestamp: number;
}

/**
 * The error texts both servers send that carry meaning: each maps to an error code and reason
 * in {@link errorFromAnswer}, so nothing past that function reads an error's text.
 */
export const WIRE_ERRORS = Object.freeze({
  endpointNotFound: "Endpoint not found",
  taskNotFound: "Task not found",
  taskTypeNotFound: "Task type not found",
  /** Our server's 404 when there is nothing to claim. */
  noAvailableTasks: "No available tasks",
  /** The hosted service's 500 when there is nothing to claim (quirk 1). */
  noActiveTransaction: "There is no active transaction",
  notClaimed: "Task is not in claimed state",
  otherWorker: "Task is claimed by another worker",
} as const);

/** Unix seconds now, as envelopes carry them. */
export const unixNow = (): number => Math.floor(Date.now() / 1000);

/**
 * `{"success":true,"message":"Success","data":…,"timestamp":…}`.
 * @param timestamp - unix seconds
 * @defaultValue timestamp: {@link unixNow}()
 */
export function successEnvelope<T>(data: T, timestamp: number = unixNow()): SuccessEnvelope<T> {
  return { success: true, message: "Success", data, timestamp };
}

/**
 * `{"success":false,"error":…,"details"?:[…],"timestamp":…}`.
 * @param details - validation failures, one reason each; left out of the body when absent
 * @param timestamp - unix seconds
 * @defaultValue timestamp: {@link unixNow}()
 */
export function errorEnvelope(error: string, details?: string[], timestamp: number = unixNow()): ErrorEnvelope {
  return details === undefined ? { success: false, error, timestamp } : { success: false, error, details, timestamp };
}

/** One HTTP answer as {@link dataOf} reads it. */
export interface WireAnswer {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
  /** The raw body text. */
  text: string;
  /** The `Retry-After` header in ms, when the answer had a readable one. */
  retryAfterMs?: number;
}

type Raw = Record<string, unknown>;

const NOT_FOUND: ReadonlyMap<string, NotFoundResource> = new Map<string, NotFoundResource>([
  [WIRE_ERRORS.endpointNotFound, "endpoint"],
  [WIRE_ERRORS.taskNotFound, "task"],
  [WIRE_ERRORS.taskTypeNotFound, "task_type"],
  [WIRE_ERRORS.noAvailableTasks, "no_task"],
]);

/** A 500 whose transaction was rolled back (deadlock, serialization failure) leaks its SQL state. */
const ROLLED_BACK = /Deadlock found|SQLSTATE\[40001\]|40P01/i;

function serverReason(body: unknown, error: string): ServerErrorReason {
  if (error === WIRE_ERRORS.noActiveTransaction) return "no_task";
  const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
  return ROLLED_BACK.test(text) ? "rolled_back" : "other";
}

/** The `data` of a success envelope; any other answer throws {@link errorFromAnswer}'s error. */
export function dataOf(a: WireAnswer): unknown {
  const obj = typeof a.body === "object" && a.body !== null ? (a.body as Raw) : undefined;
  if (a.status === 200 && obj?.success === true && "data" in obj) return obj.data;
  throw errorFromAnswer(a);
}

/**
 * The typed error of an answer that is not a success envelope: the one mapping from HTTP status,
 * envelope and the texts of {@link WIRE_ERRORS} to a `TM_ERR_*` code (and its reason).
 */
export function errorFromAnswer(a: WireAnswer): TaskManagerError {
  const obj = typeof a.body === "object" && a.body !== null ? (a.body as Raw) : undefined;
  const error = obj ? String(obj.error ?? obj.message ?? "") : "";
  if (a.status === 200) return new ProtocolError("answer is not a TaskManager envelope", a.status, a.body);
  if (a.status === 401) {
    return new AuthError(`Unauthorized: ${obj ? String(obj.message ?? obj.error ?? "") : "invalid or missing API key"}`, a.status, a.body);
  }
  if (a.status === 429) {
    const fromBody = obj && obj.retry_after !== undefined ? Number(obj.retry_after) * 1000 : undefined;
    const wait = a.retryAfterMs ?? fromBody ?? 1000;
    return new RateLimitError(`Rate limited: retry after ${wait} ms`, wait, a.status, a.body);
  }
  if (a.status === 404) return new NotFoundError(error || "Not found", a.status, a.body, NOT_FOUND.get(error) ?? "other");
  if (a.status === 403) {
    if (error === WIRE_ERRORS.otherWorker) return new ConflictError(error, "other_worker", a.status, a.body);
    return new AuthError(error || "Forbidden", a.status, a.body);
  }
  if (a.status === 400 && error === WIRE_ERRORS.notClaimed) return new ConflictError(error, "not_claimed", a.status, a.body);
  if (a.status === 413) return new ValidationError(`Payload too large: ${error}`, [String(obj?.message ?? error)], a.status, a.body);
  if (a.status >= 400 && a.status < 500) {
    const details = Array.isArray(obj?.details) ? (obj.details as unknown[]).map(String) : [];
    return new ValidationError(error || `HTTP ${a.status}`, details, a.status, a.body);
  }
  const message = a.text.length === 0 ? "empty answer" : error || a.text.slice(0, 200);
  return new ServerError(`Server error ${a.status}: ${message}`, a.status, a.body, a.status >= 500, serverReason(a.body, error));
}
