import { z } from "zod";
import type { ClaimStrategy } from "@prismq/taskmanager-client";
import { IdeaStoreError, openIdeaStore, resolveStorage, type IdeaStore } from "@prismq/idea-store";
import type { AppConfig, WorkerApp } from "./app.js";
import { claimOrder } from "./claim-order.js";
import { env } from "./config.js";
import { launchWorkerApp, type Closers, type HostProcess, type Launched, type WorkerAppSpec } from "./launch.js";

/** What the idea store would refuse at start: another scheme, an empty sqlite: path, a postgres URL that does not parse. */
function ideaStoreUrl(url: string): void {
  const where = resolveStorage({ url });
  if (where.kind === "postgres") new URL(url);
}

/** The variables every processor app shares (where its ideas go); spread into its config shape. */
export const processorEnv = {
  IDEA_DATABASE_URL: env
    .checked(ideaStoreUrl)
    .optional()
    .describe("Idea store: postgres://... (several processors on several machines) or sqlite:<path>. Default: SQLite at <DATA_DIR>/ideas.sqlite."),
  DATA_DIR: z.string().min(1).default("./data").describe("Directory of the default SQLite idea store."),
};

/** The parsed `processorEnv`. */
export interface ProcessorEnv {
  IDEA_DATABASE_URL?: string;
  DATA_DIR: string;
}

/**
 * The variables every discovery app shares, spread into its config shape: its
 * sources file (named `sourcesVariable`, e.g. `YOUTUBE_SOURCES`) and where
 * direct mode keeps what it has seen.
 */
export function discoveryEnv<N extends string>(sourcesVariable: N): { [K in N]: z.ZodOptional<z.ZodString> } & { DATA_DIR: z.ZodDefault<z.ZodString> } {
  // A computed key widens to `string`: the declared return type names it again.
  return {
    [sourcesVariable]: z.string().min(1).optional().describe("Sources file (JSON or YAML, see sources.example.yaml). Unset: only claimed discovery tasks are run."),
    DATA_DIR: z.string().min(1).default("./data").describe("Where direct mode keeps what it has seen (hybrid mode keeps it in Redis)."),
  } as { [K in N]: z.ZodOptional<z.ZodString> } & { DATA_DIR: z.ZodDefault<z.ZodString> };
}

/**
 * Opens a processor's idea store as one of the app's dependencies: waited
 * for until the start-up deadline, except an `IDEA_DATABASE_URL` the store
 * cannot use, which ends the start at once; `/readyz` checks it as `ideas`.
 */
export async function openIdeasDependency(app: WorkerApp, config: ProcessorEnv): Promise<IdeaStore> {
  const ideas: IdeaStore = await app.dependency(
    "ideas",
    () => openIdeaStore({ url: config.IDEA_DATABASE_URL, dataDir: config.DATA_DIR }),
    (err) => (err instanceof IdeaStoreError && err.code === "IDEA_ERR_CONFIG" ? `IDEA_DATABASE_URL: ${err.message}` : undefined),
    async (): Promise<boolean> => (await ideas.count()) >= 0,
  );
  return ideas;
}

/** What `launchProcessor` hands a processor's own start, besides what every app gets. */
export interface LaunchedProcessor<C, P> extends Launched<C, P> {
  /** The idea store, a dependency of the app (closed after the app's own closers). */
  ideas: IdeaStore;
  /** The claim order for this TaskManager (`claimOrder`). */
  strategy: ClaimStrategy;
}

/**
 * `launchWorkerApp` for a processor: before `main` it picks the claim order
 * (said once in the log) and opens the idea store as a dependency
 * (`openIdeasDependency`); the store closes after `main`'s closers.
 */
export function launchProcessor<C extends AppConfig & ProcessorEnv, P>(spec: WorkerAppSpec<C, P>, host: HostProcess, main: (started: LaunchedProcessor<C, P>) => Promise<Closers>): void {
  launchWorkerApp(spec, host, async (started) => {
    // Highest priority first where the server keeps priorities, oldest first on the hosted service.
    const strategy = await claimOrder(started.app.client, started.app.logger);
    const ideas = await openIdeasDependency(started.app, started.config);
    return [...(await main({ ...started, ideas, strategy })), ["idea store", () => ideas.close()]];
  });
}
