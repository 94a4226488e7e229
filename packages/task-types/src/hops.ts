import type { CallOptions, CreatedTask, TaskManagerClient } from "@prismq/taskmanager-client";
import type { TaskTypeDef } from "./define.js";

/** The highest hop count a task may carry: at most this many cross-platform steps from the original discovery. */
export const MAX_HOPS = 2;

/** Params that carry a hop count (every catalog type does). */
export interface HopParams {
  /** Cross-platform steps from the original discovery; omitted when 0. Integer, 0..{@link MAX_HOPS}. */
  hops?: number;
}

/**
 * How a task was spawned from its parent. `same-platform`: a discovery
 * task (Search, Channel, Subreddit, ...) producing its own items.
 * `cross-platform`: a task of one platform creating one of the other.
 */
export type HopEdge = "same-platform" | "cross-platform";

/**
 * The hop count of a task spawned from `parentParams` over `edge`:
 * same-platform keeps the parent's hop, cross-platform adds 1. Returns
 * `null` when that would exceed `maxHops`: the caller then creates nothing.
 * @param maxHops - the hop limit; a larger value than {@link MAX_HOPS} is capped at it, since the schemas allow no more. @defaultValue maxHops: {@link MAX_HOPS} (2)
 * @throws {RangeError} when the parent's `hops` is not an integer 0 or more.
 */
export function nextHop(parentParams: HopParams, edge: HopEdge, maxHops: number = MAX_HOPS): number | null {
  const hop = parentParams.hops ?? 0;
  if (!Number.isInteger(hop) || hop < 0) throw new RangeError(`parent hops must be an integer >= 0, got ${String(hop)}`);
  const next = edge === "cross-platform" ? hop + 1 : hop;
  return next > Math.min(maxHops, MAX_HOPS) ? null : next;
}

/** How much lower a task's priority is than its parent's, per cross-platform hop. */
export const HOP_PRIORITY_STEP = 10;

/**
 * The priority of a task spawned from a parent of `parentPriority` over `edge`:
 * same-platform keeps it (a discovery task's items are as urgent as the
 * discovery), cross-platform lowers it by `step`, so the further a task is from
 * what was asked for, the later the `priority` claim strategy takes it.
 * @param step - priority points per cross-platform hop, 0 or more. @defaultValue step: {@link HOP_PRIORITY_STEP} (10)
 */
export function nextPriority(parentPriority: number, edge: HopEdge, step: number = HOP_PRIORITY_STEP): number {
  if (!Number.isInteger(parentPriority)) throw new RangeError(`parent priority must be an integer, got ${String(parentPriority)}`);
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`priority step must be an integer >= 0, got ${String(step)}`);
  return edge === "cross-platform" ? parentPriority - step : parentPriority;
}

/** Options of {@link createCrossModule}. */
export interface CrossModuleOptions extends CallOptions {
  /** The hop rule. Use `same-platform` only for a discovery task creating its own items. @defaultValue `"cross-platform"` */
  edge?: HopEdge;
  /** The hop limit, a count of cross-platform steps; may only lower {@link MAX_HOPS}. @defaultValue {@link MAX_HOPS} (2) */
  maxHops?: number;
  /** Task priority, an integer (our server only). @defaultValue `nextPriority(parentPriority, edge)` */
  priority?: number;
  /** The parent task's priority, an integer, for the default `priority`. @defaultValue 0 */
  parentPriority?: number;
}

/**
 * Creates a task spawned from another task, carrying the hop count that
 * {@link nextHop} gives (any `hops` in `params` is replaced) and, unless
 * `priority` is given, the parent's priority lowered per hop ({@link nextPriority}). Returns `null`
 * (and creates nothing) when the hop limit is reached.
 * @throws {TaskParamsError} when the params break the type's schema.
 */
export async function createCrossModule<P extends HopParams>(
  client: TaskManagerClient,
  def: TaskTypeDef<P>,
  parentParams: HopParams,
  params: Omit<P, "hops">,
  options: CrossModuleOptions = {},
): Promise<CreatedTask | null> {
  const { edge = "cross-platform", maxHops = MAX_HOPS, parentPriority = 0, priority, ...createOptions } = options;
  const hops = nextHop(parentParams, edge, maxHops);
  if (hops === null) return null;
  return def.create(client, { ...params, hops } as P, { ...createOptions, priority: priority ?? nextPriority(parentPriority, edge) });
}
