import {
  PLATFORM_NAME,
  buildCatalog,
  type AnyCrossModuleEdge,
  type AnyTaskTypeDef,
  type Catalog,
  type Platform,
} from "@prismq/task-types";
import type { EnvShape } from "@prismq/env-help";
import type { Budget, BudgetOptions } from "./budget.js";
import type { Logger } from "./logger.js";
import type { WorkerMetrics } from "./metrics.js";

/** What a platform's API factory is given by the app that runs it. */
export interface PlatformPorts {
  /** The platform's budget, made by the app from {@link PlatformDescriptor.budget}. */
  budget: Budget;
  logger: Logger;
  metrics?: WorkerMetrics;
}

/**
 * Where a platform's offline API lives: a package export that starts it on
 * loopback, and the variables that point an app at it. A reference (not the
 * function) so that the platform's production install does not take the
 * sandbox; the orchestrator imports it only when it starts one.
 */
export interface SandboxRef {
  /** The package to import, e.g. `@prismq/sandbox`. */
  module: string;
  /**
   * Its export: `(options: { port?: number; latencyMs?: number; errorRate?: number; rpm?: number; tickMs?: number; shared?: object }) => Promise<{ url: string; close(): Promise<void> }>`
   * (`PlatformSandboxOptions` of `@prismq/sandbox`; `shared` is one object for every sandbox of one run).
   * `@prismq/system` runs it in its sandbox process.
   */
  factory: string;
  /** The variables that point the platform's apps at a sandbox listening at `url`. */
  env(url: string): Record<string, string>;
  /**
   * The variables that keep the platform's apps within a sandbox allowing `rpm`
   * requests per minute per client, when the platform limits its own request rate.
   * `@prismq/system` sets them for each platform it serves from a sandbox.
   */
  limitsEnv?(rpm: number): Record<string, string>;
}

/** What `pnpm start` runs of a platform: its demo. */
export interface PlatformDemo {
  /**
   * The demo's sources file (YAML) for the platform's discovery app, each source
   * run every `every` (a duration such as `5m`; `1d` for a single run). A source
   * whose content changes slowly may run less often.
   */
  sources(every: string): string;
  /** Variables the demo's apps need whatever the API (e.g. a user agent); the environment's own values win. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * One platform as a plug-in: everything the shared code needs to know of it.
 * Exported by the platform's `*-source` package as `platform`.
 * @typeParam C - its parsed configuration (the variables of {@link config}).
 * @typeParam A - its API client.
 * @typeParam I - one fetched item (a video, a post).
 * @typeParam R - what is fetched with an item (its top comments).
 * @typeParam D - the idea an item maps to.
 */
export interface PlatformDescriptor<C = unknown, A = unknown, I = unknown, R = unknown, D = unknown> {
  /** The platform's name: the task types' `platform` and the ideas' `sourcePlatform`. */
  readonly name: Platform;
  /** Every task type of the platform (its item types and discovery types). */
  readonly taskTypes: readonly AnyTaskTypeDef[];
  /** The platform's variables (credentials, API root, limits), spread into its apps' config shapes. */
  readonly config: EnvShape;
  /** The budget its API calls spend, from the parsed variables. */
  budget(config: C): Omit<BudgetOptions, "metrics" | "now">;
  /** A ready API client (authenticated where the platform signs in; a refused sign-in rejects here). */
  createApi(config: C, ports: PlatformPorts): Promise<A>;
  /** One fetched item and what came with it, as an idea, at `now` (ms since the epoch). */
  toIdea(item: I, related: readonly R[], now: number): D;
  /** The cross-module edges leaving this platform (see `crossModuleTasks` of `@prismq/task-types`). */
  readonly edges: readonly AnyCrossModuleEdge[];
  /** The offline API for tests and the demo, when the platform has one. */
  readonly sandbox?: SandboxRef;
  /** What `pnpm start` discovers on the platform; a platform without one runs no discovery there. */
  readonly demo?: PlatformDemo;
}

/** A descriptor whatever its type parameters: the form kept in lists. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the descriptors of a list differ in every type parameter.
export type AnyPlatformDescriptor = PlatformDescriptor<any, any, any, any, any>;

/**
 * Checks a descriptor and freezes it.
 * @throws {TypeError} when the name is not a platform name, a task type belongs to another platform, or an edge leaves another platform.
 */
export function definePlatform<C, A, I, R, D>(descriptor: PlatformDescriptor<C, A, I, R, D>): PlatformDescriptor<C, A, I, R, D> {
  const { name } = descriptor;
  if (!PLATFORM_NAME.test(name)) throw new TypeError(`platform ${name}: the name must be 1-32 of [a-z0-9-], starting with a letter`);
  for (const def of descriptor.taskTypes) if (def.platform !== name) throw new TypeError(`platform ${name}: task type ${def.name} belongs to ${def.platform}`);
  for (const edge of descriptor.edges) if (edge.from !== name) throw new TypeError(`platform ${name}: an edge to ${edge.to.name} leaves ${edge.from}`);
  return Object.freeze({ ...descriptor });
}

/**
 * The task types a platform's apps claim or create: its own, then those its
 * edges spawn on other platforms. What each of its apps passes to `registerAll`.
 */
export function platformTaskTypes(descriptor: AnyPlatformDescriptor): readonly AnyTaskTypeDef[] {
  return [...new Set([...descriptor.taskTypes, ...descriptor.edges.map((e) => e.to)])];
}

/** One edge of the cross-module graph as plain data: for logs, docs and checks. */
export interface GraphEdge {
  from: Platform;
  /** The task type spawned. */
  to: string;
  /** The platform of that type. */
  toPlatform: Platform;
  hop: "same-platform" | "cross-platform";
}

/** The system the descriptors make: one catalog, one graph, the apps that serve it. */
export interface PlatformSet {
  readonly platforms: readonly AnyPlatformDescriptor[];
  /** Every platform's task types: what `registerAll` registers. */
  readonly catalog: Catalog;
  /** Every platform's edges into a listed platform. */
  readonly edges: readonly AnyCrossModuleEdge[];
  /** The cross-module graph as data. */
  readonly graph: readonly GraphEdge[];
  /** The apps that claim the catalog's types (their `claimedBy`), in catalog order. */
  readonly apps: readonly string[];
  /** The descriptor of that name, or `undefined`. */
  platform(name: Platform): AnyPlatformDescriptor | undefined;
}

/**
 * The system of a list of descriptors. Edges into a platform that is not
 * listed are left out.
 * @throws {TypeError} when two descriptors share a name, two types share a name, or an edge leads to a type its platform does not list.
 */
export function platformSet(descriptors: readonly AnyPlatformDescriptor[]): PlatformSet {
  const byName = new Map<Platform, AnyPlatformDescriptor>();
  for (const d of descriptors) {
    if (byName.has(d.name)) throw new TypeError(`platform ${d.name} is listed twice`);
    byName.set(d.name, d);
  }
  const catalog = buildCatalog(descriptors.flatMap((d) => d.taskTypes));
  // An edge into a platform that is not listed has no app to take its tasks: it is left out.
  const edges = Object.freeze(descriptors.flatMap((d) => d.edges).filter((e) => byName.has(e.to.platform)));
  for (const e of edges) {
    if (catalog.byName(e.to.name) !== e.to) throw new TypeError(`edge ${e.from} -> ${e.to.name}: ${e.to.platform} does not list that type`);
  }
  const graph = Object.freeze(edges.map((e) => Object.freeze({ from: e.from, to: e.to.name, toPlatform: e.to.platform, hop: e.hop ?? "cross-platform" })));
  return Object.freeze({
    platforms: Object.freeze([...descriptors]),
    catalog,
    edges,
    graph,
    apps: Object.freeze([...new Set(catalog.types.map((d) => d.claimedBy))]),
    platform: (name: Platform) => byName.get(name),
  });
}
