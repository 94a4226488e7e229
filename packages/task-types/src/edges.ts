import type { Platform, TaskTypeDef } from "./define.js";
import { MAX_HOPS, nextHop, nextPriority, type HopEdge, type HopParams } from "./hops.js";

/** What a processed item offers the edges that leave its platform. */
export interface EdgeSource {
  /** The idea's keywords, strongest first. */
  keywords: readonly string[];
  /** The item's texts to look for links in (its URL, body, top comments). */
  texts: readonly string[];
}

/**
 * One edge of the cross-module graph, as data: items of platform `from` spawn
 * tasks of type `to`, one per target `targets` finds in an item, one hop
 * further (`hop`).
 * @typeParam P - the params of `to`.
 */
export interface CrossModuleEdge<P extends HopParams = HopParams> {
  /** The platform whose processed items spawn the tasks. */
  readonly from: Platform;
  /** The task type spawned (usually another platform's). */
  readonly to: TaskTypeDef<P>;
  /** The hop rule: `cross-platform` adds 1 to the hop count and lowers the priority. @defaultValue `"cross-platform"` */
  readonly hop?: HopEdge;
  /** The params (without `hops`) of each task to spawn for one item; empty for none. */
  targets(source: EdgeSource): ReadonlyArray<Omit<P, "hops">>;
}

/** A {@link CrossModuleEdge} whatever its params: the form kept in lists and graphs. */
export interface AnyCrossModuleEdge {
  readonly from: Platform;
  readonly to: TaskTypeDef<HopParams>;
  readonly hop?: HopEdge;
  targets(source: EdgeSource): ReadonlyArray<object>;
}

/**
 * Checks an edge and erases its params type, so edges of different types sit
 * in one list.
 * @throws {TypeError} when a cross-platform edge leads to its own platform.
 */
export function defineEdge<P extends HopParams>(edge: CrossModuleEdge<P>): AnyCrossModuleEdge {
  if ((edge.hop ?? "cross-platform") === "cross-platform" && edge.to.platform === edge.from) {
    throw new TypeError(`edge ${edge.from} -> ${edge.to.name}: a cross-platform edge must lead to another platform`);
  }
  return Object.freeze({ ...edge }) as unknown as AnyCrossModuleEdge;
}

/** A task an edge asks for: create `type` with `params` at `priority`. */
export interface SpawnedTask {
  /** The task type name. */
  type: string;
  /** Canonical params, validated, with the hop count. */
  params: HopParams;
  /** The priority per {@link nextPriority}. */
  priority: number;
  /** The edge that spawned it. */
  edge: AnyCrossModuleEdge;
}

/** Options of {@link crossModuleTasks}. */
export interface SpawnOptions {
  /** The hop limit, a count of cross-platform steps; may only lower {@link MAX_HOPS}. @defaultValue {@link MAX_HOPS} (2) */
  maxHops?: number;
  /** Priority points a cross-platform hop lowers a task by. @defaultValue {@link HOP_PRIORITY_STEP} (10) */
  priorityStep?: number;
}

/**
 * The tasks the edges leaving platform `from` spawn for one processed item:
 * the parent task's `params` (for its hop count) and `priority`, and what the
 * item offers. Edges whose hop would pass the limit spawn nothing; a target
 * found twice is spawned once.
 * @throws {TaskParamsError} when an edge gives params its type's schema refuses.
 */
export function crossModuleTasks(
  edges: readonly AnyCrossModuleEdge[],
  from: Platform,
  parent: { params: HopParams; priority?: number },
  source: EdgeSource,
  options: SpawnOptions = {},
): SpawnedTask[] {
  const out: SpawnedTask[] = [];
  const seen = new Set<string>();
  for (const edge of edges) {
    if (edge.from !== from) continue;
    const hop = edge.hop ?? "cross-platform";
    const hops = nextHop(parent.params, hop, options.maxHops ?? MAX_HOPS);
    if (hops === null) continue;
    const priority = nextPriority(parent.priority ?? 0, hop, options.priorityStep);
    for (const target of edge.targets(source)) {
      const params = edge.to.params({ ...target, hops });
      const key = `${edge.to.name}\n${JSON.stringify(params)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ type: edge.to.name, params, priority, edge });
    }
  }
  return out;
}
