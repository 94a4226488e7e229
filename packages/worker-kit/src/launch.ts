import type { z } from "zod";
import type { EnvShape } from "@prismq/env-help";
import { registerAll, type RegisterAllResult } from "@prismq/task-types";
import { WorkerApp, exitOnHelp, loadOrExit, runMain, type AppConfig, type ProcessIo } from "./app.js";
import type { Budget } from "./budget.js";
import { parseConfig, type Env } from "./config.js";
import { platformTaskTypes, type AnyPlatformDescriptor } from "./platform.js";

/**
 * What an app's composition root lends the start: its command line, its
 * environment, its exit and its output streams. The library reads the
 * environment and exits only through these.
 */
export interface HostProcess {
  /** The arguments after the script, `process.argv.slice(2)`. */
  argv: readonly string[];
  env: Env;
  exit(code: number): never;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * A worker app as its start needs it: name, `--help` summary, variables, their
 * parse, what else to read before anything starts, and the platform whose
 * task types it registers.
 */
export interface WorkerAppSpec<C, P = undefined> {
  service: string;
  /** What the app does, first line of `--help`. */
  summary: string;
  /** Every variable of the app, declared once: `--help` and the README table are generated from it. */
  shape: EnvShape;
  /** Parses the environment once; throws a `ConfigError` naming every bad variable. */
  load(env: Env): C;
  /** Reads what the app needs besides its variables (a discovery app's sources file); a `ConfigError` or `SourcesError` exits 2. */
  prepare?(config: C): P | Promise<P>;
  platform: AnyPlatformDescriptor;
}

/**
 * The spec of an app whose config is `shape` parsed by `parseConfig`, then
 * `check`ed for what the shape cannot say (e.g. a variable needing another;
 * it throws a `ConfigError`).
 */
export function workerAppSpec<S extends EnvShape, P = undefined>(spec: {
  service: string;
  summary: string;
  shape: S;
  platform: AnyPlatformDescriptor;
  check?: (config: z.infer<z.ZodObject<S>>) => unknown;
  prepare?: (config: z.infer<z.ZodObject<S>>) => P | Promise<P>;
}): WorkerAppSpec<z.infer<z.ZodObject<S>>, P> & { shape: S } {
  return {
    ...spec,
    load: (env) => {
      const config = parseConfig(spec.service, spec.shape, env);
      spec.check?.(config);
      return config;
    },
  };
}

/** What `launchWorkerApp` hands the app's own start. */
export interface Launched<C, P> {
  app: WorkerApp;
  config: C;
  /** What the spec's `prepare` answered (a discovery app's sources). */
  prepared: P;
  /** The platform's task types as `registerAll` left them. */
  registered: RegisterAllResult;
  /** The budget the platform's API calls spend (`runtime.budget` of the platform's options: shared in Redis in hybrid mode). */
  budget: Budget;
}

/** The app's own closers, intake first: `closeInOrder` runs them before what every app closes. */
export type Closers = Array<[string, () => Promise<void> | void]>;

/**
 * Starts a worker app the way every app starts: answers `--help`, parses the
 * config and runs the spec's `prepare` (bad ones exit 2), builds the `WorkerApp`,
 * waits for the TaskManager (and Redis), registers the platform's task types,
 * then runs `main`, which starts the app's work and answers its closers; then
 * serves health and metrics and registers the closers. Anything thrown ends
 * the app with exit 1 (`runMain`).
 */
export function launchWorkerApp<C extends AppConfig, P>(spec: WorkerAppSpec<C, P>, host: HostProcess, main: (started: Launched<C, P>) => Promise<Closers>): void {
  const io: ProcessIo = { exit: (code) => host.exit(code), stdout: (text) => void host.stdout.write(text), stderr: (text) => void host.stderr.write(text) };
  runMain(
    spec.service,
    async () => {
      exitOnHelp(host.argv, spec.service, spec.summary, spec.shape, io);
      const config = await loadOrExit(() => spec.load(host.env), io);
      // Without a `prepare`, P is its default, undefined.
      const prepared = (spec.prepare ? await loadOrExit(() => spec.prepare!(config), io) : undefined) as P;
      const app = new WorkerApp(spec.service, config, io.exit);
      await app.ready();
      const registered = await registerAll(app.client, platformTaskTypes(spec.platform));
      const budget = app.runtime.budget(spec.platform.budget(config));
      const closers = await main({ app, config, prepared, registered, budget });
      await app.serve();
      app.closeInOrder(closers);
    },
    io,
  );
}
