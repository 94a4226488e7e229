import type { TaskStatus, TaskSummaryOf } from "@prismq/taskmanager-protocol";

/** Task status as stored (the protocol's). `pending (retry)` exists only in the complete answer. */
export type { TaskStatus };

/** Columns a claim may order by, as the hosted `sort_by` allows. */
export type SortBy = "created_at" | "priority" | "id" | "attempts";
export type SortOrder = "ASC" | "DESC";

/** All times are integer milliseconds since the epoch; the HTTP layer formats them. */
export interface TaskTypeRow {
  id: number;
  name: string;
  version: string;
  paramSchema: string;
  isActive: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A task's summary as stored: the protocol's fields, times in epoch milliseconds. */
export type TaskSummaryRow = TaskSummaryOf<number>;

export interface TaskRow extends TaskSummaryRow {
  params: string;
  result: string | null;
  errorMessage: string | null;
  progressMessage: string | null;
  claimedAt: number | null;
  updatedAt: number;
  dedupeKey: string;
}

export interface HistoryRow {
  id: number;
  taskId: number;
  statusChange: string;
  workerId: string | null;
  message: string | null;
  createdAt: number;
}

export interface ClaimedTask {
  id: number;
  params: string;
  attempts: number;
  priority: number;
  /** The claim took the task over from a worker whose claim had timed out. */
  tookOver: boolean;
}

export interface RegisterInput {
  name: string;
  version: string;
  paramSchema: string;
  now: number;
}

export interface CreateInput {
  typeId: number;
  params: string;
  dedupeKey: string;
  priority: number;
  now: number;
}

export interface ListFilter {
  status?: TaskStatus;
  /**
   * Only tasks of these type ids; `undefined` for every type. The HTTP layer resolves a type name
   * or LIKE pattern to ids itself (in linear time), so no pattern ever reaches the database.
   */
  typeIds?: readonly number[];
  limit: number;
  offset: number;
}

/** A page of task types, by name. */
export interface TypeListInput {
  activeOnly: boolean;
  /** Rows in the page, 1-1000. */
  limit: number;
  /** Rows skipped before the page. */
  offset: number;
}

export interface ClaimInput {
  typeId: number;
  workerId: string;
  sortBy: SortBy;
  sortOrder: SortOrder;
  now: number;
  /** Claims older than this (ms) may be taken over. */
  expiredBefore: number;
  /**
   * Claims a task may have. A timed-out claim of a task that already had this many is not taken
   * over: the task fails for good (`claim timed out N times`), with a history row, in the same
   * transaction as the claim.
   */
  maxAttempts: number;
}

/** A claim of up to `limit` tasks at once, each as {@link ClaimInput} would claim it. */
export interface ClaimManyInput extends ClaimInput {
  /** Most tasks claimed, 1-100. */
  limit: number;
}

export interface ProgressInput {
  id: number;
  workerId: string;
  progress: number;
  message: string | null;
  now: number;
}

export interface CompleteInput {
  id: number;
  workerId: string;
  success: boolean;
  result: string | null;
  error: string | null;
  maxAttempts: number;
  now: number;
}

/** Many completes or fails by one worker, each settled on its own as {@link CompleteInput} would be. */
export interface SettleManyInput {
  workerId: string;
  items: Array<Pick<CompleteInput, "id" | "success" | "result" | "error" | "maxAttempts">>;
  now: number;
}

/** Why a progress or complete was refused, in the order the contract checks them. */
export type Refusal = "not_found" | "not_claimed" | "other_worker";

export type CompleteOutcome = { ok: true; status: "completed" | "failed" | "pending (retry)" } | { ok: false; refusal: Refusal };
export type ProgressOutcome = { ok: true } | { ok: false; refusal: Refusal };

/** What an operator may do to a task: put it back in the queue, or fail it for good. */
export interface RequeueInput {
  id: number;
  /** Written to the history row; `null` for the default text. */
  reason: string | null;
  now: number;
}

export interface FailInput {
  id: number;
  /** Stored as the task's `error_message` and written to the history row. */
  error: string;
  now: number;
}

/** Why an operator action was refused: no such task, or its status does not allow it (the status is given). */
export type OperatorOutcome =
  | { ok: true; status: "pending" | "failed" }
  | { ok: false; refusal: "not_found" }
  | { ok: false; refusal: "wrong_status"; status: TaskStatus };

export interface StatsInput {
  /** History rows at or after this time (ms) count towards throughput. */
  since: number;
  /** Task ids listed per worker. */
  tasksPerWorker: number;
  /** Failed tasks listed. */
  failures: number;
  /** Workers listed (those holding the most claimed tasks). */
  workers: number;
}

/** Counts behind `GET /api/stats`, straight from GROUP BY queries. */
export interface StatsRows {
  byTypeStatus: Array<{ type: string; status: TaskStatus; count: number }>;
  /**
   * The `workers` workers holding the most `claimed` tasks, most first, ties by worker id in code
   * point order; `taskIds` holds at most `tasksPerWorker`, lowest first.
   */
  workers: Array<{ workerId: string; claimed: number; taskIds: number[] }>;
  /** Every worker holding a `claimed` task, listed or not. */
  workersTotal: number;
  /** Failed tasks, newest `completed_at` first. */
  failures: Array<{ id: number; type: string; errorMessage: string | null; attempts: number; completedAt: number | null }>;
  /** History rows since `since`, by minute (ms / 60000) and kind. */
  minutes: Array<{ minute: number; created: number; completed: number; failed: number }>;
}

/**
 * The storage behind the API. Each method is one atomic unit: a claim, a
 * create or a complete either happens whole (with its history row) or not at all.
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  registerTaskType(input: RegisterInput): Promise<{ id: number; created: boolean }>;
  getTaskType(name: string): Promise<TaskTypeRow | undefined>;
  getTaskTypeById(id: number): Promise<TaskTypeRow | undefined>;
  /** One page of task types, by name. */
  listTaskTypes(input: TypeListInput): Promise<TaskTypeRow[]>;
  /** Every task type's id and name (for matching LIKE patterns in JavaScript). */
  taskTypeNames(): Promise<Array<{ id: number; name: string }>>;
  /** Inserts unless the dedupe key exists; then answers the existing task. */
  createTask(input: CreateInput): Promise<{ id: number; status: TaskStatus; deduplicated: boolean }>;
  listTasks(filter: ListFilter): Promise<TaskSummaryRow[]>;
  getTask(id: number): Promise<TaskRow | undefined>;
  claimTask(input: ClaimInput): Promise<ClaimedTask | undefined>;
  /** Up to `limit` tasks in one transaction, in claim order; none when nothing is claimable. */
  claimTasks(input: ClaimManyInput): Promise<ClaimedTask[]>;
  progress(input: ProgressInput): Promise<ProgressOutcome>;
  complete(input: CompleteInput): Promise<CompleteOutcome>;
  /**
   * Settles many tasks in one transaction, each item on its own (one refused item leaves the
   * others as they are): one outcome per item, in order, as {@link complete} would answer it.
   */
  settleMany(input: SettleManyInput): Promise<CompleteOutcome[]>;
  /** Operator: a `claimed` or `failed` task back to `pending` (claim cleared, attempts kept), with a history row. */
  requeue(input: RequeueInput): Promise<OperatorOutcome>;
  /** Operator: a `pending` or `claimed` task to `failed` for good, with a history row. */
  fail(input: FailInput): Promise<OperatorOutcome>;
  /** Counts for the dashboard, read as one consistent snapshot. */
  stats(input: StatsInput): Promise<StatsRows>;
  /** `undefined` when the task does not exist. */
  history(taskId: number): Promise<HistoryRow[] | undefined>;
  close(): Promise<void>;
}
