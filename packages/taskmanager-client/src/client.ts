import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Pool, type Dispatcher } from "undici";
import {
  CAPABILITIES,
  CLAIM_ORDERS,
  MAX_BATCH,
  canonicalize,
  dataOf,
  dedupeKey,
  errorFromAnswer,
  paramsJson,
  type BatchClaimAnswer,
  type Capability,
  type Json,
  type SettleBatchAnswer,
  type WireAnswer,
} from "@prismq/taskmanager-protocol";
import {
  AbortedError,
  ClientConfigError,
  ConflictError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TaskManagerError,
  TimeoutError,
} from "@prismq/taskmanager-protocol";
import { DEFAULT_RETRY, backoffMs, retryAfterMs, sleep, type RetryOptions } from "./retry.js";
import type {
  CallOptions,
  ClaimStrategy,
  ClaimedTask,
  CreatedTask,
  HistoryEntry,
  ListTasksFilter,
  OperatorResult,
  RegisteredTaskType,
  SettleItem,
  SettleItemResult,
  SettleResult,
  Stats,
  Task,
  TaskStatus,
  TaskSummary,
  TaskType,
} from "./types.js";

/** The least of a pino logger that the client uses (warnings only: it never writes to the console). */
export interface ClientLogger {
  warn(obj: object, msg: string): void;
}

export interface TaskManagerClientOptions {
  /** Base URL ending in `/api`, e.g. `http://127.0.0.1:8080/api`. */
  baseUrl: string;
  /** Sent as `X-API-Key`. */
  apiKey: string;
  /** This process's worker id for claims and completes. Default `createWorkerId("worker")`. */
  workerId?: string;
  /** Whole-call timeout per attempt, in ms. Default 30,000. */
  timeoutMs?: number;
  /** Retry policy for calls that are safe to repeat. `false` disables retries. */
  retry?: RetryOptions | false;
  /** An undici dispatcher (a MockAgent in tests, a shared Agent). Default: an owned keep-alive Pool. */
  dispatcher?: Dispatcher;
  /** Connections of the owned Pool. Default 16. */
  connections?: number;
  /** Where warnings go (lost claim answers, settled retries). Default: nowhere. */
  logger?: ClientLogger;
  /** Told of every HTTP request attempt when it ends (for a latency histogram). Default: nobody. */
  onRequest?: (request: RequestTiming) => void;
}

/** One HTTP request attempt as {@link TaskManagerClientOptions.onRequest} sees it. */
export interface RequestTiming {
  /** `GET`, `POST`. */
  method: string;
  /** The path below the base URL with ids replaced by `:id`, e.g. `/tasks/:id/complete`. */
  route: string;
  /** The HTTP status; 0 when no answer came (network error, timeout, abort). */
  status: number;
  /** From sending to the whole body read, in ms. */
  durationMs: number;
}

/** Per-call options of the calls that act as a worker. */
export interface WorkerCallOptions extends CallOptions {
  /** Default: the client's `workerId`. */
  workerId?: string;
}

export interface ClaimOptions extends WorkerCallOptions {
  /** Task type name; its id is resolved by name once and cached. */
  taskType: string;
  /** Default `fifo`. */
  strategy?: ClaimStrategy;
  /** LIKE pattern the type name must match (hosted `type_pattern`). */
  typePattern?: string;
}

export interface ClaimManyOptions extends ClaimOptions {
  /** Most tasks claimed, 1-100. */
  limit: number;
}

/** Largest body of one batch settle request, in bytes: larger batches are split (the server's own cap is 1 MiB by default). */
const SETTLE_BODY_BYTES = 256 * 1024;

/** `<name>-<host>-<random>`: unique per process, as the claim protocol requires. */
export function createWorkerId(name: string): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, "").slice(0, 64) || "host";
  return `${name}-${host}-${randomBytes(4).toString("hex")}`;
}

/** How a call may be repeated: `safe` (idempotent), `claim` (only when nothing can have been claimed), `none`. */
type RetryMode = "safe" | "claim" | "none";

/** A request path as a route: no query, ids and type names replaced, so a metric's labels stay few. */
function routeOf(path: string): string {
  const bare = path.split("?", 1)[0] ?? path;
  return bare.replace(/\/\d+(?=\/|$)/g, "/:id").replace(/^\/task-types\/(?!register$)[^/]+$/, "/task-types/:name");
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);

type Raw = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === "string" && v !== "" ? Number(v) : (v as number));
const nullableNum = (v: unknown): number => (v === null || v === undefined ? 0 : num(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toSummary(r: Raw): TaskSummary {
  return {
    id: num(r.id),
    type: String(r.type),
    status: r.status as TaskStatus,
    priority: nullableNum(r.priority),
    progress: nullableNum(r.progress),
    attempts: nullableNum(r.attempts),
    claimedBy: str(r.claimed_by),
    createdAt: str(r.created_at),
    completedAt: str(r.completed_at),
  };
}

/** The largest page both servers answer. */
const MAX_PAGE = 1000;

/** A task's creation second as a sortable string (`YYYY-MM-DD HH:MM:SS`; missing sorts oldest). */
const second = (t: TaskSummary): string => t.createdAt ?? "";

function toTaskType(item: Raw): TaskType {
  return {
    id: num(item.id),
    name: String(item.name),
    version: String(item.version),
    paramSchema: parseJsonField(item.param_schema) as Record<string, unknown>,
    isActive: item.is_active === true || num(item.is_active) === 1,
    createdAt: str(item.created_at),
    updatedAt: str(item.updated_at),
  };
}

function toClaimed<P>(d: Raw, taskType: string): ClaimedTask<P> {
  return {
    id: num(d.id),
    type: String(d.type ?? taskType),
    params: parseJsonField(d.params) as P,
    attempts: nullableNum(d.attempts),
    priority: nullableNum(d.priority),
  };
}

/** Batch settle items on the wire, split so that no request holds more than 100 items or (past its first item) 256 KiB of JSON. */
function settleChunks(items: readonly SettleItem[]): Array<Array<Raw & { id: number }>> {
  const chunks: Array<Array<Raw & { id: number }>> = [];
  let chunk: Array<Raw & { id: number }> = [];
  let bytes = 0;
  for (const item of items) {
    const wire: Raw & { id: number } =
      item.status === "completed"
        ? { id: item.id, status: "completed", result: canonicalize(item.result ?? {}) }
        : { id: item.id, status: "failed", error: item.error, ...(item.retryable === false ? { retryable: false } : {}) };
    const size = Buffer.byteLength(paramsJson(wire)) + 1;
    if (chunk.length > 0 && (chunk.length >= MAX_BATCH || bytes + size > SETTLE_BODY_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(wire);
    bytes += size;
  }
  chunks.push(chunk);
  return chunks;
}

function toOperatorResult(d: unknown, id: number): OperatorResult {
  const r = (d ?? {}) as Raw;
  return { id: r.id === undefined ? id : num(r.id), status: String(r.status ?? ""), message: String(r.message ?? "") };
}

function parseJsonField(v: unknown): unknown {
  // Some hosted versions send params/result as JSON text instead of objects.
  if (typeof v === "string") {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * The TaskManager API client: typed calls, the hosted service's quirks
 * absorbed, typed errors with stable codes, and retries (exponential
 * backoff, full jitter, `Retry-After` honoured) on the calls that are safe
 * to repeat. One instance per process; `close()` when done.
 */
export class TaskManagerClient {
  readonly workerId: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly logger: ClientLogger | undefined;
  private readonly onRequest: ((request: RequestTiming) => void) | undefined;
  private readonly typeIds = new Map<string, number>();
  /** The server's capabilities, read once from `GET /health`; the hosted service lists none. */
  private capabilityRead: Promise<ReadonlySet<string>> | undefined;

  constructor(options: TaskManagerClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new ClientConfigError(`baseUrl is not a URL: ${options.baseUrl}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new ClientConfigError("baseUrl must be http(s)");
    if (!options.apiKey) throw new ClientConfigError("apiKey is required");
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.workerId = options.workerId ?? createWorkerId("worker");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = options.retry === false ? { ...DEFAULT_RETRY, attempts: 1 } : { ...DEFAULT_RETRY, ...options.retry };
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Pool(this.origin, { connections: options.connections ?? 16, keepAliveTimeout: 30_000 });
    this.logger = options.logger;
    this.onRequest = options.onRequest;
  }

  /** Builds a client from `TASKMANAGER_API_URL` and `TASKMANAGER_API_KEY` (the original workers' names). */
  static fromEnv(env: Record<string, string | undefined>, options: Partial<TaskManagerClientOptions> = {}): TaskManagerClient {
    const missing = ["TASKMANAGER_API_URL", "TASKMANAGER_API_KEY"].filter((k) => !env[k]);
    if (missing.length) throw new ClientConfigError(`missing environment variable(s): ${missing.join(", ")}`);
    return new TaskManagerClient({ baseUrl: env.TASKMANAGER_API_URL as string, apiKey: env.TASKMANAGER_API_KEY as string, ...options });
  }

  /** Closes the owned connection pool (an injected dispatcher is left open). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  // ---- calls -------------------------------------------------------------

  /** `GET /health`. */
  async health(options: CallOptions = {}): Promise<{ status: string; database: string; timestamp: number; capabilities: string[] }> {
    const d = (await this.call("GET", "/health", undefined, "safe", options.signal)) as Raw;
    const capabilities = Array.isArray(d.capabilities) ? d.capabilities.map(String) : [];
    return { status: String(d.status), database: String(d.database), timestamp: num(d.timestamp), capabilities };
  }

  /**
   * Whether the server offers a call beyond the hosted contract (see `CAPABILITIES`), read once
   * from `GET /health` and cached; the hosted service lists none. A failed read is not cached
   * and answers `false`, so the caller uses the single calls this time.
   */
  async supports(capability: Capability, options: CallOptions = {}): Promise<boolean> {
    this.capabilityRead ??= this.health(options).then((h) => new Set(h.capabilities));
    try {
      return (await this.capabilityRead).has(capability);
    } catch {
      this.capabilityRead = undefined;
      return false;
    }
  }

  /** A server that advertised a batch call but has no such route (an older node behind the same address): single calls from now on. */
  private forget(err: unknown): boolean {
    if (!(err instanceof NotFoundError) || err.resource !== "endpoint") return false;
    this.capabilityRead = Promise.resolve(new Set());
    return true;
  }

  /**
   * Checks that the server accepts this client's key (`GET /health` needs none): one
   * authenticated read of a single task row. @throws {AuthError} when the key is wrong.
   */
  async verifyKey(options: CallOptions = {}): Promise<void> {
    await this.call("GET", "/tasks?limit=1", undefined, "safe", options.signal);
  }

  // ---- operator calls (our server; the hosted service answers NotFoundError, resource `endpoint`)

  /**
   * `POST /tasks/{id}/requeue`: puts a task back to `pending` (one stuck with a dead worker, or a
   * failed one worth another try), recording `reason` in its history. Not retried: it changes state.
   */
  async requeueTask(id: number, options: CallOptions & { reason?: string } = {}): Promise<OperatorResult> {
    const body = options.reason === undefined ? {} : { reason: options.reason };
    return toOperatorResult(await this.call("POST", `/tasks/${id}/requeue`, body, "none", options.signal), id);
  }

  /** `POST /tasks/{id}/fail`: fails a task for good with the operator's `error` text, whatever its attempts. Not retried. */
  async forceFailTask(id: number, error: string, options: CallOptions = {}): Promise<OperatorResult> {
    return toOperatorResult(await this.call("POST", `/tasks/${id}/fail`, { error }, "none", options.signal), id);
  }

  /** `GET /stats`: counts by type and status, workers holding tasks, recent failures, throughput, ideas. */
  async getStats(options: CallOptions = {}): Promise<Stats> {
    return (await this.call("GET", "/stats", undefined, "safe", options.signal)) as Stats;
  }

  /** Registers (or updates) a task type; caches its id for claims. */
  async registerTaskType(
    input: { name: string; version: string; paramSchema: object },
    options: CallOptions = {},
  ): Promise<RegisteredTaskType> {
    const d = (await this.call(
      "POST",
      "/task-types/register",
      { name: input.name, version: input.version, param_schema: input.paramSchema },
      "safe",
      options.signal,
    )) as Raw;
    const id = num(d.id);
    this.typeIds.set(input.name, id);
    return { id, name: String(d.name), version: String(d.version), created: d.created === true };
  }

  /** One task type by name, or `null` (404, or the hosted 200 with empty `items`). */
  async getTaskType(name: string, options: CallOptions = {}): Promise<TaskType | null> {
    const item = await this.getItem(`/task-types/${encodeURIComponent(name)}`, options.signal);
    if (!item) return null;
    const t = toTaskType(item);
    this.typeIds.set(t.name, t.id);
    return t;
  }

  /**
   * All task types, by name. Our server answers them in pages (`limit`, `offset`; 50 by default):
   * this asks for `pageSize` at a time (default 1000, the server's largest page) until a page comes
   * back short. A server that ignores paging answers everything at once, and that is kept as is.
   * (Always a 500 on the hosted service: use `getTaskType` there.)
   */
  async listTaskTypes(options: CallOptions & { activeOnly?: boolean; pageSize?: number } = {}): Promise<TaskType[]> {
    const pageSize = options.pageSize ?? 1000;
    const all: TaskType[] = [];
    const seen = new Set<number>();
    for (let offset = 0; ; offset += pageSize) {
      const query = new URLSearchParams({ limit: String(pageSize), offset: String(offset) });
      if (options.activeOnly) query.set("active_only", "true");
      const d = (await this.call("GET", `/task-types?${query.toString()}`, undefined, "safe", options.signal)) as Raw;
      const page = ((d.items as Raw[]) ?? []).map(toTaskType);
      const fresh = page.filter((t) => !seen.has(t.id));
      for (const t of fresh) {
        seen.add(t.id);
        all.push(t);
      }
      // Short page: the end. No new type: a server that does not page answered the same list again.
      if (page.length < pageSize || fresh.length === 0) return all;
    }
  }

  /**
   * Creates a task. Params are canonicalised (keys sorted recursively), so
   * one logical task always has one dedupe key; a repeat answers the
   * existing task with `deduplicated: true`. Safe to retry for that reason.
   */
  async createTask(type: string, params: object, options: CallOptions & { priority?: number } = {}): Promise<CreatedTask> {
    const canonical = canonicalize(params);
    const body: Raw = { type, params: canonical };
    if (options.priority !== undefined) body.priority = options.priority;
    const d = (await this.call("POST", "/tasks", body, "safe", options.signal)) as Raw;
    return {
      id: num(d.id),
      status: String(d.status) as TaskStatus,
      deduplicated: d.deduplicated === true,
      dedupeKey: typeof d.dedupe_key === "string" ? d.dedupe_key : dedupeKey(type, canonical),
    };
  }

  /** One task, or `null` when it does not exist. */
  async getTask<P = Record<string, Json>>(id: number, options: CallOptions = {}): Promise<Task<P> | null> {
    const item = await this.getItem(`/tasks/${id}`, options.signal);
    if (!item) return null;
    return {
      ...toSummary(item),
      params: parseJsonField(item.params) as P,
      result: (parseJsonField(item.result) ?? null) as Json | null,
      errorMessage: str(item.error_message),
      claimedAt: str(item.claimed_at),
    };
  }

  /**
   * Every task matching the filter, newest first, each exactly once, fetched a page at a time.
   *
   * The hosted service orders `GET /tasks` only by `created_at` (one-second resolution, no
   * tie-break) and pages by offset, so tasks created in the same second come in another order
   * in each page, and plain offset paging repeats some and skips others. Here a page yields only
   * the tasks of the seconds it holds completely (those newer than its last row's second); the
   * next page starts one row before the first row of that last second, so it holds the whole
   * second again, and that one re-read row must be newer (else rows before it left the listing,
   * e.g. a status filter, and the window moves back). A page that holds a single second is asked
   * again twice as large, up to 1000 rows. Ids are deduplicated, so tasks created meanwhile (at
   * the newest end) shift pages without being repeated. Tasks that start to match the filter
   * during the listing may or may not be seen; more than 1000 tasks of one second cannot be told
   * apart by offset and are returned as the server pages them (a warning is logged).
   */
  async *listTasks(filter: ListTasksFilter = {}, options: CallOptions = {}): AsyncGenerator<TaskSummary> {
    let limit = filter.pageSize ?? 100;
    const seen = new Set<number>();
    let offset = 0;
    // When set, the row at `offset` was read before and must be newer than this second.
    let newerThan: string | undefined;
    for (;;) {
      const items = await this.tasksPage(filter, offset, limit, options.signal);
      if (newerThan !== undefined && !(items[0] && second(items[0]) > newerThan)) {
        // Rows before the window left the listing: move back and read that part again.
        offset = Math.max(0, offset - limit);
        if (offset === 0) newerThan = undefined;
        continue;
      }
      const fresh = (list: TaskSummary[]) => list.filter((t) => !seen.has(t.id) && seen.add(t.id));
      if (items.length < limit) {
        yield* fresh(items);
        return;
      }
      const last = second(items[items.length - 1] as TaskSummary);
      const cut = items.findIndex((t) => second(t) <= last);
      // The second this window is for did not end inside it (or the page is one second only): ask for more rows.
      if (newerThan === undefined ? cut === 0 : last >= newerThan) {
        if (limit < MAX_PAGE) {
          limit = Math.min(MAX_PAGE, limit * 2);
          continue;
        }
        this.logger?.warn({ createdAt: last, offset }, "more tasks created in one second than one page holds: the listing may repeat or skip some of them");
        yield* fresh(items);
        offset += items.length;
        newerThan = undefined;
        continue;
      }
      yield* fresh(items.slice(0, cut));
      offset += cut - 1;
      newerThan = last;
    }
  }

  private async tasksPage(filter: ListTasksFilter, offset: number, limit: number, signal: AbortSignal | undefined): Promise<TaskSummary[]> {
    const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    if (filter.status) q.set("status", filter.status);
    if (filter.type) q.set("type", filter.type);
    const d = (await this.call("GET", `/tasks?${q}`, undefined, "safe", signal)) as Raw;
    return ((d.items as Raw[]) ?? []).map(toSummary);
  }

  /**
   * A task's audit trail (our server only: the hosted service keeps one but has no endpoint to
   * read it, and answers NotFoundError with resource `endpoint`).
   */
  async getTaskHistory(id: number, options: CallOptions = {}): Promise<HistoryEntry[]> {
    const d = (await this.call("GET", `/tasks/${id}/history`, undefined, "safe", options.signal)) as Raw;
    return ((d.items as Raw[]) ?? []).map((h) => ({
      id: num(h.id),
      taskId: num(h.task_id),
      statusChange: String(h.status_change),
      workerId: str(h.worker_id),
      message: str(h.message),
      createdAt: str(h.created_at),
    }));
  }

  /** Resolves a type name to its id (cached; the hosted list endpoint is broken, so by name). */
  async taskTypeId(name: string, options: CallOptions = {}): Promise<number> {
    const cached = this.typeIds.get(name);
    if (cached !== undefined) return cached;
    const t = await this.getTaskType(name, options);
    if (!t) throw new NotFoundError(`Task type not registered: ${name}`, undefined, undefined);
    return t.id;
  }

  /**
   * Claims the next task of a type, or `null` when there is none (404, or
   * the hosted 500 "There is no active transaction"). Retried only when no
   * claim can have happened (connection refused, 429, a rolled-back
   * deadlock). When an answer is lost after the request was sent, the call
   * throws and logs a warning: a task the server did claim is not lost, it
   * returns to the queue after the claim timeout.
   */
  async claimTask<P = Record<string, Json>>(options: ClaimOptions): Promise<ClaimedTask<P> | null> {
    const d = await this.claimCall(options, {});
    return d === null ? null : toClaimed<P>(d, options.taskType);
  }

  /** `POST /tasks/claim` with `extra` fields: its `data`, or null for "no task" (404, or the hosted 500). */
  private async claimCall(options: ClaimOptions, extra: Raw): Promise<Raw | null> {
    const typeId = await this.taskTypeId(options.taskType, options);
    const body: Raw = { worker_id: options.workerId ?? this.workerId, task_type_id: typeId, ...CLAIM_ORDERS[options.strategy ?? "fifo"], ...extra };
    if (options.typePattern) body.type_pattern = options.typePattern;
    try {
      return (await this.call("POST", "/tasks/claim", body, "claim", options.signal)) as Raw;
    } catch (err) {
      if (err instanceof NotFoundError) {
        if (err.resource === "task_type") this.typeIds.delete(options.taskType);
        return null;
      }
      if (err instanceof ServerError && err.reason === "no_task") return null;
      if (err instanceof TimeoutError || (err instanceof NetworkError && err.sent)) {
        this.logger?.warn(
          { err, taskType: options.taskType, workerId: body.worker_id },
          "claim answer lost: a task claimed by it returns to the queue after the claim timeout",
        );
      }
      throw err;
    }
  }

  /**
   * Claims up to `limit` tasks (1-100) of a type: none when nothing is waiting. Where the server
   * advertises `claim-batch` this is one request; elsewhere (the hosted service) single claims
   * until `limit` or none is left; a failed single claim then ends the batch with the tasks in
   * hand (logged), and throws only when there are none. Retried as {@link claimTask} is.
   */
  async claimTasks<P = Record<string, Json>>(options: ClaimManyOptions): Promise<Array<ClaimedTask<P>>> {
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BATCH) throw new RangeError(`limit must be a whole number from 1 to ${MAX_BATCH}, got ${limit}`);
    if (await this.supports(CAPABILITIES.claimBatch, options)) {
      const d = await this.claimCall(options, { limit });
      if (d === null) return [];
      if (Array.isArray(d.items)) return (d as unknown as BatchClaimAnswer).items.map((t) => toClaimed<P>(t as unknown as Raw, options.taskType));
      // A node that ignores `limit` (an older one behind the same address) answered one task: single claims from now on.
      this.capabilityRead = Promise.resolve(new Set());
      return [toClaimed<P>(d, options.taskType)];
    }
    const tasks: Array<ClaimedTask<P>> = [];
    while (tasks.length < limit) {
      let task: ClaimedTask<P> | null;
      try {
        task = await this.claimTask<P>(options);
      } catch (err) {
        if (tasks.length === 0) throw err;
        this.logger?.warn({ err, taskType: options.taskType, claimed: tasks.length }, "claim failed: answering the tasks claimed so far");
        break;
      }
      if (!task) break;
      tasks.push(task);
    }
    return tasks;
  }

  /** Reports progress (0-100). On our server it also renews the claim. Safe to retry (it sets a value). */
  async reportProgress(id: number, percent: number, message?: string, options: WorkerCallOptions = {}): Promise<void> {
    const body: Raw = { worker_id: options.workerId ?? this.workerId, progress: Math.max(0, Math.min(100, Math.round(percent))) };
    if (message !== undefined) body.message = message;
    await this.call("POST", `/tasks/${id}/progress`, body, "safe", options.signal);
  }

  /** Completes a claimed task with its result. See {@link settle} for why a retry is safe. */
  async completeTask(id: number, result: object = {}, options: WorkerCallOptions = {}): Promise<SettleResult> {
    return this.settle(id, { success: true, result: canonicalize(result) }, options);
  }

  /**
   * Fails a claimed task. The server returns it to `pending` while attempts
   * last; with `retryable: false` our server fails it for good at once (the
   * hosted service ignores the flag and retries while attempts last).
   */
  async failTask(id: number, error: string, options: WorkerCallOptions & { retryable?: boolean } = {}): Promise<SettleResult> {
    const body: Raw = { success: false, error };
    if (options.retryable === false) body.retryable = false;
    return this.settle(id, body, options);
  }

  /**
   * Complete and fail are retried like idempotent calls: when a retry is
   * answered "not in claimed state", an earlier attempt reached the server,
   * so the task is read back: completed (or failed with our error) by this
   * worker means the settle happened, and it is reported as done.
   */
  private async settle(id: number, fields: Raw, options: WorkerCallOptions): Promise<SettleResult> {
    const workerId = options.workerId ?? this.workerId;
    let tried = false;
    const d = (await this.call("POST", `/tasks/${id}/complete`, { worker_id: workerId, ...fields }, "safe", options.signal, async (err) => {
      if (!tried) {
        tried = true;
        return undefined;
      }
      return (await this.alreadySettled(id, err, fields, workerId, options)) ?? undefined;
    })) as Raw;
    return { id: num(d.id ?? id), status: String(d.status) as SettleResult["status"] };
  }

  /**
   * After a retried settle is answered "not in claimed state": the task read back, and the
   * settle reported as done when an earlier attempt of it (by this worker, with this error) went through.
   */
  private async alreadySettled(id: number, err: TaskManagerError, fields: Raw, workerId: string, options: CallOptions): Promise<SettleResult | null> {
    if (!(err instanceof ConflictError) || err.reason !== "not_claimed") return null;
    const t = await this.getTask(id, options);
    if (!t) return null;
    if (fields.success === true && t.status === "completed" && t.claimedBy === workerId) {
      this.logger?.warn({ taskId: id }, "complete retried: the first attempt had already completed the task");
      return { id, status: "completed" };
    }
    if (fields.success === false && t.errorMessage === fields.error && (t.status === "failed" || t.status === "pending")) {
      this.logger?.warn({ taskId: id }, "fail retried: the first attempt had already failed the task");
      return { id, status: t.status === "failed" ? "failed" : "pending (retry)" };
    }
    return null;
  }

  /**
   * Completes or fails many claimed tasks, each on its own, and answers what became of each, in
   * order: the status, or the typed error the single call throws for it (never throws for one
   * item). Where the server advertises `settle-batch` this is one request per 100 items (or per
   * 256 KiB of body); elsewhere (the hosted service) one `completeTask`/`failTask` per item, all
   * at once. Retried like the single settle: an item a retried request finds already settled by
   * this worker is reported as done. Results are canonicalised as `completeTask` does.
   */
  async settleTasks(items: readonly SettleItem[], options: WorkerCallOptions = {}): Promise<SettleItemResult[]> {
    if (items.length === 0) return [];
    if (await this.supports(CAPABILITIES.settleBatch, options)) {
      try {
        const out: SettleItemResult[] = [];
        for (const chunk of settleChunks(items)) out.push(...(await this.settleBatch(chunk, options)));
        return out;
      } catch (err) {
        if (!this.forget(err)) throw err;
      }
    }
    return Promise.all(
      items.map(async (item): Promise<SettleItemResult> => {
        try {
          const r =
            item.status === "completed"
              ? await this.completeTask(item.id, item.result ?? {}, options)
              : await this.failTask(item.id, item.error, { ...options, retryable: item.retryable });
          return { id: item.id, ok: true, status: r.status };
        } catch (err) {
          if (!(err instanceof TaskManagerError)) throw err;
          return { id: item.id, ok: false, error: err };
        }
      }),
    );
  }

  /** One `POST /tasks/settle`; an error of the whole request (after retries) is every item's error. */
  private async settleBatch(items: ReadonlyArray<Raw & { id: number }>, options: WorkerCallOptions): Promise<SettleItemResult[]> {
    const workerId = options.workerId ?? this.workerId;
    let retried = false;
    let d: SettleBatchAnswer;
    try {
      d = (await this.call("POST", "/tasks/settle", { worker_id: workerId, items }, "safe", options.signal, async () => {
        retried = true;
        return undefined;
      })) as SettleBatchAnswer;
    } catch (err) {
      if (!(err instanceof TaskManagerError) || (err instanceof NotFoundError && err.resource === "endpoint")) throw err;
      return items.map((i) => ({ id: i.id, ok: false, error: err }));
    }
    return Promise.all(
      items.map(async (item, i): Promise<SettleItemResult> => {
        const a = d.items[i];
        if (a?.ok === true) return { id: item.id, ok: true, status: a.status };
        const error = errorFromAnswer({ status: a?.http_status ?? 500, body: { success: false, error: a?.error ?? "no answer for this item" }, text: "" });
        if (retried) {
          const fields = { success: item.status === "completed", error: item.error };
          const done = await this.alreadySettled(item.id, error, fields, workerId, options);
          if (done) return { id: item.id, ok: true, status: done.status };
        }
        return { id: item.id, ok: false, error };
      }),
    );
  }

  // ---- transport -----------------------------------------------------------

  private async getItem(path: string, signal: AbortSignal | undefined): Promise<Raw | null> {
    try {
      const d = (await this.call("GET", path, undefined, "safe", signal)) as Raw;
      const items = d.items as Raw[] | undefined;
      return items?.[0] ?? null;
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  /**
   * One API call with retries. `recover` may turn an error after the first
   * attempt into an answer (used by settle); it is called once per failed attempt.
   */
  private async call(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    mode: RetryMode,
    signal: AbortSignal | undefined,
    recover?: (err: TaskManagerError) => Promise<unknown>,
  ): Promise<unknown> {
    const payload = body === undefined ? undefined : paramsJson(body);
    for (let attempt = 0; ; attempt++) {
      let err: TaskManagerError;
      try {
        const answer = await this.send(method, path, payload, signal);
        return dataOf(answer);
      } catch (e) {
        if (!(e instanceof TaskManagerError)) throw e;
        err = e;
      }
      if (recover) {
        const recovered = await recover(err);
        if (recovered !== undefined) return recovered;
      }
      const retryable =
        mode === "safe"
          ? err.retryable
          : mode === "claim"
            ? err instanceof RateLimitError || (err instanceof NetworkError && !err.sent) || (err instanceof ServerError && err.reason === "rolled_back")
            : false;
      if (!retryable || attempt + 1 >= this.retry.attempts) throw err;
      const wait =
        err instanceof RateLimitError
          ? Math.min(this.retry.maxDelayMs, err.retryAfterMs)
          : backoffMs(attempt, this.retry);
      try {
        await sleep(wait, signal);
      } catch (cause) {
        throw new AbortedError(cause);
      }
    }
  }

  private async send(method: string, path: string, payload: string | undefined, signal: AbortSignal | undefined): Promise<WireAnswer> {
    if (signal?.aborted) throw new AbortedError(signal.reason);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { "x-api-key": this.apiKey, accept: "application/json" };
    if (payload !== undefined) headers["content-type"] = "application/json";
    const started = performance.now();
    let status = 0;
    try {
      const res = await this.dispatcher.request({
        origin: this.origin,
        path: this.basePath + path,
        method,
        headers,
        body: payload,
        signal: combined,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const text = await res.body.text();
      status = res.statusCode;
      let parsed: unknown = text;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: res.statusCode, body: parsed, text, retryAfterMs: retryAfterMs(res.headers["retry-after"]) };
    } catch (err) {
      if (signal?.aborted) throw new AbortedError(signal.reason);
      if (timeout.aborted) throw new TimeoutError(`${method} ${path}: no answer within ${this.timeoutMs} ms`, err);
      const code = (err as { code?: string }).code ?? "";
      if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
        throw new TimeoutError(`${method} ${path}: no answer within ${this.timeoutMs} ms`, err);
      }
      const causeCode = (err as { cause?: { code?: string } }).cause?.code ?? "";
      const sent = !CONNECT_CODES.has(code) && !CONNECT_CODES.has(causeCode);
      throw new NetworkError(`${method} ${path}: ${(err as Error).message || code}`, sent, err);
    } finally {
      this.onRequest?.({ method, route: routeOf(path), status, durationMs: performance.now() - started });
    }
  }
}
