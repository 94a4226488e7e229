import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { StartupError } from "./errors.js";
import { backoffMs } from "@prismq/taskmanager-client";

export interface WaitOptions {
  /** When to give up: a time in ms since the epoch, shared by every dependency of one start. */
  deadline: number;
  /** The waiting and ready lines go here. */
  logger?: Logger;
  /**
   * Says whether an error is fatal at once (waiting cannot help, e.g. a wrong
   * key): answer the one-line reason, or undefined to keep waiting.
   */
  fatal?: (err: unknown) => string | undefined;
  /** First and largest pause between tries, ms. Default 250 / 5,000 (doubling, with jitter). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Aborts the wait (a stop signal during start-up). */
  signal?: AbortSignal;
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n", 1)[0] ?? "";

/**
 * Tries `probe` until it resolves, backing off between tries, and answers what
 * it resolved. Logs one warn line when the dependency is not there at the
 * first try and one info line when it is (with how long it took), never a line
 * per try. Throws {@link StartupError} (one line, no stack needed) when the
 * deadline passes or `fatal` says an error is final.
 */
export async function waitForDependency<T>(name: string, probe: (signal: AbortSignal) => Promise<T>, options: WaitOptions): Promise<T> {
  const started = Date.now();
  const min = options.minDelayMs ?? 250;
  const max = options.maxDelayMs ?? 5_000;
  let last: string | undefined;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    // A try gets what is left of the deadline (at least 1 s), so a hanging connect cannot overrun it by much.
    const tryTimeout = AbortSignal.timeout(Math.max(1_000, options.deadline - Date.now()));
    const signal = options.signal ? AbortSignal.any([options.signal, tryTimeout]) : tryTimeout;
    try {
      const value = await probe(signal);
      const waitedMs = Date.now() - started;
      options.logger?.info({ dependency: name, waitedMs }, attempt === 0 ? `${name} ready` : `${name} ready after ${(waitedMs / 1000).toFixed(1)} s`);
      return value;
    } catch (err) {
      options.signal?.throwIfAborted();
      const fatal = options.fatal?.(err);
      if (fatal !== undefined) throw new StartupError(name, fatal, { cause: err });
      // A try cut off by the deadline says less than the error before it.
      last = tryTimeout.aborted ? (last ?? "no answer before the deadline") : reason(err);
      if (attempt === 0) {
        const seconds = Math.max(0, Math.round((options.deadline - Date.now()) / 1000));
        options.logger?.warn({ dependency: name, reason: last }, `waiting for ${name}: ${last} (retrying with backoff for up to ${seconds} s)`);
      }
    }
    const wait = backoffMs(attempt, { baseDelayMs: min, maxDelayMs: max, jitter: "equal" });
    if (Date.now() + wait > options.deadline) {
      throw new StartupError(name, `${name} still unreachable after ${((Date.now() - started) / 1000).toFixed(1)} s (STARTUP_TIMEOUT_SECONDS): ${last}`);
    }
    await sleep(wait, undefined, { signal: options.signal });
  }
}
