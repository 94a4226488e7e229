import type { SettleStatus } from "./status.js";

/**
 * What a server may offer beyond the hosted contract, as our server lists them in `GET /health`
 * (`data.capabilities`). The hosted service sends no such field: a client then uses single calls.
 */
export const CAPABILITIES = Object.freeze({
  /** `POST /tasks/claim` takes `limit` and answers `{items, count}`. */
  claimBatch: "claim-batch",
  /** `POST /tasks/settle` completes or fails many tasks in one request. */
  settleBatch: "settle-batch",
} as const);

/** One of {@link CAPABILITIES}. */
export type Capability = (typeof CAPABILITIES)[keyof typeof CAPABILITIES];

/** Most tasks one batch claim asks for, and most items one batch settle carries. */
export const MAX_BATCH = 100;

/** One claimed task as both claim answers carry it (the single answer adds `message`). */
export interface ClaimedTaskWire {
  id: number;
  type: string;
  params: unknown;
  attempts: number;
  priority: number;
}

/** `data` of `POST /tasks/claim` with `limit`: up to `limit` tasks, none when nothing is waiting. */
export interface BatchClaimAnswer {
  items: ClaimedTaskWire[];
  count: number;
}

/** One item of `POST /tasks/settle`: a complete (`result`) or a fail (`error`, `retryable`). */
export type SettleItemWire =
  | { id: number; status: "completed"; result?: unknown }
  | { id: number; status: "failed"; error?: string; retryable?: boolean };

/** Body of `POST /tasks/settle`: every item settled for `worker_id`, each on its own. */
export interface SettleBatchRequest {
  worker_id: string;
  items: SettleItemWire[];
}

/**
 * One item's answer in `POST /tasks/settle`: `ok` with the status the single complete would
 * answer, or the HTTP status and error text the single complete would have answered
 * (404 `Task not found`, 400 `Task is not in claimed state`, 403 `Task is claimed by another worker`).
 */
export type SettleItemAnswer =
  | { id: number; ok: true; status: SettleStatus }
  | { id: number; ok: false; http_status: number; error: string };

/** `data` of `POST /tasks/settle`: one answer per item, in the order sent. */
export interface SettleBatchAnswer {
  items: SettleItemAnswer[];
  count: number;
}
