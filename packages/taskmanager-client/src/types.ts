import type { Json } from "./canonical.js";

export type TaskStatus = "pending" | "claimed" | "completed" | "failed";

/** Claim order. `fifo` oldest first (default), `lifo` newest first, `priority` highest first, `fewest-attempts`. */
export type ClaimStrategy = "fifo" | "lifo" | "priority" | "fewest-attempts";

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

export interface TaskSummary {
  id: number;
  type: string;
  status: TaskStatus;
  priority: number;
  progress: number;
  attempts: number;
  claimedBy: string | null;
  createdAt: string | null;
  completedAt: string | null;
}

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
  /** Page size, 1-1000. Default 100. */
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
  status: "completed" | "failed" | "pending (retry)";
}

export interface CallOptions {
  signal?: AbortSignal;
}
