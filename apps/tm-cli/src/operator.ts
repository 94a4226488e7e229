// Calls the client has no method for: our server's operator endpoints (requeue, fail, stats).
import {
  AuthError,
  NetworkError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
  retryAfterMs,
} from "@prismq/taskmanager-client";
import { UnsupportedError, isEndpointNotFound } from "./errors.js";

/** Where the TaskManager is and how to authenticate; the key is sent only as `X-API-Key`. */
export interface Connection {
  /** Base URL ending in `/api`. */
  baseUrl: string;
  apiKey: string;
  /** Whole-call timeout in ms. */
  timeoutMs: number;
}

/** What `POST /tasks/{id}/requeue` and `POST /tasks/{id}/fail` answer in `data`. */
export interface OperatorResult {
  id: number;
  status: string;
  message: string;
}

/** `data` of `GET /stats` (our server); fields beyond these are kept as they come. */
export interface Stats {
  tasks: { total: number; byTypeStatus: Array<{ type: string; status: string; count: number }> };
  /** The workers holding the most claimed tasks (our server lists at most 50). */
  workers: Array<{ worker_id: string; claimed: number; task_ids: number[] }>;
  /** Every worker holding a claimed task, listed or not (absent from older servers). */
  workersTotal?: number;
  /** The newest final failures (our server lists at most 20). */
  recentFailures: unknown[];
  /** Every failed task, listed or not (absent from older servers). */
  failuresTotal?: number;
  throughput: unknown[];
  ideas: null | { total: number; byPlatform: unknown; byCategory: unknown };
  [more: string]: unknown;
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * One API call with the global `fetch`, no retries (requeue and fail change
 * state). Errors are the client's typed errors, so one mapping to exit codes
 * serves both; a 404 `Endpoint not found` becomes {@link UnsupportedError}.
 */
export async function operatorCall(conn: Connection, method: "GET" | "POST", path: string, body?: object): Promise<unknown> {
  const endpoint = `${method} ${new URL(conn.baseUrl).pathname.replace(/\/+$/, "")}${path}`;
  const url = conn.baseUrl.replace(/\/+$/, "") + path;
  const headers: Record<string, string> = { "x-api-key": conn.apiKey, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(conn.timeoutMs) });
    text = await res.text();
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "TimeoutError" || name === "AbortError") throw new TimeoutError(`${endpoint}: no answer within ${conn.timeoutMs} ms`, err);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? "";
    throw new NetworkError(`${endpoint}: ${cause?.message ?? (err as Error).message}`, !CONNECT_CODES.has(code), err);
  }
  let parsed: unknown;
  try {
    parsed = text.length ? JSON.parse(text) : text;
  } catch {
    parsed = text;
  }
  const obj = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  const error = obj ? String(obj.error ?? obj.message ?? "") : "";
  if (res.status === 200) {
    if (obj?.success === true && "data" in obj) return obj.data;
    throw new ProtocolError(`${endpoint}: answer is not a TaskManager envelope`, res.status, parsed);
  }
  if (res.status === 404 && isEndpointNotFound(parsed)) throw new UnsupportedError(endpoint);
  if (res.status === 401) throw new AuthError(`Unauthorized: ${obj ? String(obj.message ?? obj.error ?? "") : "invalid or missing API key"}`, res.status, parsed);
  if (res.status === 404) throw new NotFoundError(error || "Not found", res.status, parsed);
  if (res.status === 429) {
    const wait = retryAfterMs(res.headers.get("retry-after") ?? undefined) ?? 1000;
    throw new RateLimitError(`Rate limited: retry after ${wait} ms`, wait, res.status, parsed);
  }
  if (res.status >= 400 && res.status < 500) {
    const details = Array.isArray(obj?.details) ? (obj.details as unknown[]).map(String) : [];
    throw new ValidationError(error || `HTTP ${res.status}`, details, res.status, parsed);
  }
  throw new ServerError(`Server error ${res.status}: ${error || text.slice(0, 200) || "empty answer"}`, res.status, parsed, res.status >= 500);
}

const toResult = (d: unknown, id: number): OperatorResult => {
  const r = (d ?? {}) as Record<string, unknown>;
  return { id: r.id === undefined ? id : Number(r.id), status: String(r.status ?? ""), message: String(r.message ?? "") };
};

/** `POST /tasks/{id}/requeue`: puts a task back to `pending` (our server only). */
export async function requeueTask(conn: Connection, id: number, reason?: string): Promise<OperatorResult> {
  return toResult(await operatorCall(conn, "POST", `/tasks/${id}/requeue`, reason === undefined ? {} : { reason }), id);
}

/** `POST /tasks/{id}/fail`: fails a task for good with the operator's error text (our server only). */
export async function failTask(conn: Connection, id: number, error: string): Promise<OperatorResult> {
  return toResult(await operatorCall(conn, "POST", `/tasks/${id}/fail`, { error }), id);
}

/** `GET /stats`: counts by type and status, workers, recent failures, throughput, ideas (our server only). */
export async function getStats(conn: Connection): Promise<Stats> {
  return (await operatorCall(conn, "GET", "/stats")) as Stats;
}
