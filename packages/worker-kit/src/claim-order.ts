import { TaskManagerError, type CallOptions, type ClaimStrategy, type TaskManagerClient } from "@prismq/taskmanager-client";
import type { Logger } from "./logger.js";

/**
 * The claim order a worker should use against the TaskManager of `client`:
 * `priority` (highest first) where the server stores priorities (ours),
 * `fifo` (oldest first) on the hosted service, which keeps every task at
 * priority 0, so ordering by it would leave the order of equal rows to chance.
 * Told apart by one call only our server answers: listing task types (the
 * hosted service answers it with a 500, retried by the client as any 5xx,
 * so the start takes that long there). Says which in one log line.
 * @throws what the client throws for any other failure (a refused key, an unreachable server).
 */
export async function claimOrder(client: TaskManagerClient, logger: Logger, options: CallOptions = {}): Promise<ClaimStrategy> {
  try {
    await client.listTaskTypes(options);
  } catch (err) {
    if (!(err instanceof TaskManagerError && err.code === "TM_ERR_SERVER")) throw err;
    logger.info({ claimOrder: "fifo" }, "this TaskManager keeps no task priorities (the hosted service): claiming oldest first (FIFO)");
    return "fifo";
  }
  logger.info({ claimOrder: "priority" }, "this TaskManager keeps task priorities: claiming highest priority first");
  return "priority";
}
