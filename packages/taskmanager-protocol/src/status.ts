/** A task's status, the same on both servers. */
export type TaskStatus = "pending" | "claimed" | "completed" | "failed";

/** Every {@link TaskStatus}, in the order a task usually goes through them. */
export const TASK_STATUSES: readonly TaskStatus[] = Object.freeze(["pending", "claimed", "completed", "failed"]);

/**
 * A task's summary, the same fields on both sides: the server's stored row writes
 * times as epoch milliseconds (`Time` = `number`), the client's as the server's
 * UTC text (`string | null`).
 */
export interface TaskSummaryOf<Time> {
  id: number;
  type: string;
  status: TaskStatus;
  priority: number;
  progress: number;
  attempts: number;
  claimedBy: string | null;
  createdAt: Time;
  completedAt: Time | null;
}

/** What a complete call answers in `data.status`: a failed attempt with attempts left goes back to pending. */
export type SettleStatus = "completed" | "failed" | "pending (retry)";

/** Claim order. `fifo` oldest first (default), `lifo` newest first, `priority` highest first, `fewest-attempts`. */
export type ClaimStrategy = "fifo" | "lifo" | "priority" | "fewest-attempts";

/** The `sort_by`/`sort_order` of `POST /tasks/claim` for each {@link ClaimStrategy}. */
export const CLAIM_ORDERS: Readonly<Record<ClaimStrategy, { sort_by: string; sort_order: "ASC" | "DESC" }>> = Object.freeze({
  fifo: { sort_by: "created_at", sort_order: "ASC" },
  lifo: { sort_by: "created_at", sort_order: "DESC" },
  priority: { sort_by: "priority", sort_order: "DESC" },
  "fewest-attempts": { sort_by: "attempts", sort_order: "ASC" },
});
