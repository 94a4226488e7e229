import type { ClaimStrategy, Json, SettleStatus, TaskManagerError, TaskStatus, TaskSummaryOf } from "@prismq/taskmanager-protocol";

export type { ClaimStrategy, TaskStatus };

export interface TaskType {
  id: number;
  name: string;
  version: string;
  paramSchema: Record<string, unknown>;
  isActive: boolean;
  /** UTC, `YYYY-MM-DD HH:MM:SS`, as the server sends it. */
  createdAt: string | null;
  updatedAt: string | null;
}

/** A task as listed: the protocol's summary fields, times as the server's UTC text (`YYYY-MM-DD HH:MM:SS`). */
export type TaskSummary = TaskSummaryOf<string | null>;

export interface Task<P = Record<string, Json>> extends TaskSummary {
  params: P;
  result: Json | null;
  errorMessage: string | null;
  claimedAt: string | null;
}

export interface ClaimedTask<P = Record<string, Json>> {
  id: number;
  type: string;
  params: P;
  attempts: number;
  priority: number;
}

export interface CreatedTask {
  id: number;
  status: TaskStatus;
  /** True when the task already existed (same type and params): nothing new was created. */
  deduplicated: boolean;
  dedupeKey: string;
}

export interface RegisteredTaskType {
  id: number;
  name: string;
  version: string;
  created: boolean;
}

export interface ListTasksFilter {
  status?: TaskStatus;
  /** Exact type name, or a LIKE pattern with `%`. */
  type?: string;
  /** Page size, 1-1000 rows. A page that holds tasks of one second only is asked again twice as large (up to 1000). @defaultValue 100 */
  pageSize?: number;
}

export interface HistoryEntry {
  id: number;
  taskId: number;
  statusChange: string;
  workerId: string | null;
  message: string | null;
  createdAt: string | null;
}

/** What a settle call (complete or fail) ended in. */
export interface SettleResult {
  id: number;
  status: SettleStatus;
}

/** One task for `TaskManagerClient.settleTasks`: a complete with its result, or a fail with its error. */
export type SettleItem =
  | { id: number; status: "completed"; result?: object }
  | {
      id: number;
      status: "failed";
      error: string;
      /** `false` fails the task for good on our server (the hosted service retries while attempts last). @defaultValue true */
      retryable?: boolean;
    };

/**
 * What became of one {@link SettleItem}: the server's answer, or the typed error the single
 * complete throws for it (e.g. a `ConflictError` when the task is no longer this worker's).
 */
export type SettleItemResult = { id: number; ok: true; status: SettleStatus } | { id: number; ok: false; error: TaskManagerError };

export interface CallOptions {
  signal?: AbortSignal;
}

/** What the operator calls `requeueTask` and `forceFailTask` answer. */
export interface OperatorResult {
  id: number;
  status: string;
  /** The server's own text, e.g. `Task requeued`; empty when it sent none. */
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
